package dev.overlay4j.oci;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * A gzip archive read at any position through its {@link GzipIndex}: a read inflates the span
 * between two checkpoints that holds its position, from the nearer checkpoint (raw inflate
 * primed with the checkpoint's bits and window), and checks the span's CRC-32 before any of it
 * is returned, so corrupt data is an error, never wrong bytes. The last few spans are kept, so
 * reading a file front to back, or small files one after another, inflates each span once.
 */
final class SeekableGzip implements ArchiveBytes {

    /** Spans kept inflated: a few readers of different files at once, about 2 MiB each. */
    private static final int SPANS_KEPT = 8;
    private static final int INPUT = 128 << 10;

    private final Blob blob;
    private final GzipIndex index;
    private final SpanCache spans = new SpanCache(SPANS_KEPT);
    /** Uncompressed bytes inflated by reads so far: what tests count. */
    final AtomicLong inflated = new AtomicLong();

    SeekableGzip(Blob blob, GzipIndex index) {
        this.blob = blob;
        this.index = index;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position >= index.size()) {
            return -1;
        }
        int total = 0;
        while (dst.hasRemaining() && position < index.size()) {
            int i = index.spanOf(position);
            int n;
            try (SpanCache.Lease lease = spans.get(i, this::inflate)) {
                ByteBuffer span = lease.bytes();
                int offset = (int) (position - index.checkpoints().get(i).out());
                n = Math.min(dst.remaining(), span.limit() - offset);
                dst.put(dst.position(), span, offset, n);
            }
            dst.position(dst.position() + n);
            total += n;
            position += n;
        }
        return total;
    }

    /** Inflates span {@code i} from its checkpoint and checks it. */
    private ByteBuffer inflate(int i, SpanCache arrays) throws IOException {
        GzipIndex.Checkpoint checkpoint = index.checkpoints().get(i);
        int length = Math.toIntExact(index.spanEnd(i) - checkpoint.out());
        // zlib inflates into the stream's own native memory, freed when it closes; the span kept
        // is a heap array, which the collector reclaims once evicted (direct buffers were freed
        // only when a collection happened to run, and a daemon reading 200 MiB grew by as much).
        byte[] span = arrays.array(length);
        String where = "in the span at uncompressed byte " + checkpoint.out() + " of " + blob.describe();
        try (Zlib zlib = new Zlib(Zlib.RAW)) {
            MemorySegment in = zlib.allocate(INPUT);
            if (checkpoint.bits() > 0) {
                ByteBuffer one = ByteBuffer.allocate(1);
                if (blob.read(one, checkpoint.in() - 1) != 1) {
                    throw new IOException("the blob ends before a checkpoint " + where + " (changed since it was indexed?)");
                }
                zlib.prime(checkpoint.bits(), (one.get(0) & 0xff) >> (8 - checkpoint.bits()));
            }
            zlib.dictionary(index.window(checkpoint));
            MemorySegment target = zlib.allocate(length);
            zlib.output(target, length);
            boolean raw = true;
            long next = checkpoint.in(); // the blob position of the next byte to give zlib
            long inStart = next;
            int inLength = 0;
            zlib.input(in, 0);
            while (zlib.availableOutput() > 0) {
                if (zlib.availableInput() == 0) {
                    int n = blob.read(in.asByteBuffer(), next);
                    if (n == 0) {
                        throw new IOException("the gzip stream ends early " + where + " (a truncated blob?)");
                    }
                    inStart = next;
                    inLength = n;
                    next += n;
                    zlib.input(in, n);
                }
                int ret = zlib.inflate(Zlib.Z_NO_FLUSH);
                zlib.check(ret, where);
                if (ret == Zlib.Z_STREAM_END && zlib.availableOutput() > 0) {
                    // The member ends inside the span: the next one starts after its 8-byte trailer,
                    // which raw inflate leaves unread (gzip mode reads and checks it itself).
                    next = inStart + inLength - zlib.availableInput() + (raw ? 8 : 0);
                    raw = false;
                    zlib.reset(Zlib.GZIP);
                    zlib.input(in, 0);
                }
            }
            MemorySegment.copy(target, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, span, 0, length);
        }
        inflated.addAndGet(length);
        CRC32 crc = new CRC32();
        crc.update(span, 0, length);
        if ((int) crc.getValue() != checkpoint.crc()) {
            throw new IOException("corrupt gzip data " + where + ": its CRC-32 differs from the one indexed (the blob is"
                    + " damaged, or changed since it was indexed; delete its index to read it afresh)");
        }
        return ByteBuffer.wrap(span, 0, length).slice();
    }

    @Override
    public void close() throws IOException {
        try {
            index.close();
        } finally {
            blob.close();
        }
    }
}
