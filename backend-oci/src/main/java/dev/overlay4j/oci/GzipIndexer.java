package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The first pass over a gzip blob: its uncompressed bytes as a stream, inflated by zlib one
 * deflate block at a time ({@code Z_BLOCK}) so that the block boundaries are seen, and the
 * {@link GzipIndex} of checkpoints it leaves behind once read to its end. Gzip members that
 * follow one another are one stream, as gunzip reads them; bytes after the last member that do
 * not start another are ignored, as gunzip does. zlib checks every member's CRC-32 and length.
 */
final class GzipIndexer extends InputStream {

    /** Uncompressed bytes between checkpoints: a read inflates at most about this much (plus a block). */
    static final int DEFAULT_INTERVAL = 2 << 20;
    /** How far back a deflate back-reference reaches (RFC 1951, 3.2.5). */
    static final int WINDOW = 32 << 10;
    private static final int INPUT = 128 << 10;
    /** Output space after the window of history kept at the front. */
    private static final int OUTPUT = 256 << 10;

    private final Blob blob;
    private final int interval;
    private final Zlib zlib;
    private final MemorySegment in;
    private final MemorySegment out;
    /** The blob position of {@code in}'s first byte, and how many bytes of it are valid. */
    private long inStart;
    private int inLength;
    private int readPos;
    private int writePos;
    private long totalOut;
    private boolean ended;

    private final List<GzipIndex.Checkpoint> checkpoints = new ArrayList<>();
    private final ByteArrayOutputStream windows = new ByteArrayOutputStream();
    private final CRC32 spanCrc = new CRC32();
    /** The checkpoint whose span is being inflated, not yet in the list: its CRC is known at the next one. */
    private long pendingOut = -1;
    private long pendingIn;
    private int pendingBits;
    private long pendingWindowOffset;
    private int pendingWindowLength;

    GzipIndexer(Blob blob, int interval) throws IOException {
        this.blob = blob;
        this.interval = interval;
        this.zlib = new Zlib(Zlib.GZIP);
        this.in = zlib.allocate(INPUT);
        this.out = zlib.allocate(WINDOW + OUTPUT);
        zlib.input(in, 0);
    }

    /** The checkpoints, once the stream has been read to its end. */
    GzipIndex index() {
        if (!ended) {
            throw new IllegalStateException("the gzip stream has not been read to its end");
        }
        return new GzipIndex(totalOut, interval, checkpoints, new GzipIndex.InMemory(windows.toByteArray()));
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (readPos == writePos && !ended) {
            produce();
        }
        if (readPos == writePos) {
            return -1;
        }
        int n = Math.min(len, writePos - readPos);
        MemorySegment.copy(out, ValueLayout.JAVA_BYTE, readPos, b, off, n);
        readPos += n;
        return n;
    }

    /** Skips by inflating (every byte goes through the checkpoints' CRCs), without copying out. */
    @Override
    public long skip(long n) throws IOException {
        long skipped = 0;
        while (skipped < n) {
            while (readPos == writePos && !ended) {
                produce();
            }
            if (readPos == writePos) {
                break;
            }
            int step = (int) Math.min(n - skipped, writePos - readPos);
            readPos += step;
            skipped += step;
        }
        return skipped;
    }

    /** Reads the rest of the stream, so that every member is checked and the index is complete. */
    void drain() throws IOException {
        while (!ended) {
            readPos = writePos;
            produce();
        }
        readPos = writePos;
    }

    /** The blob position of the next byte zlib has not consumed. */
    private long position() {
        return inStart + inLength - zlib.availableInput();
    }

    /** Moves the unconsumed input to the front of the buffer and reads more after it; false at the blob's end. */
    private boolean refill() throws IOException {
        int left = zlib.availableInput();
        int consumed = inLength - left;
        if (left > 0 && consumed > 0) {
            MemorySegment.copy(in, consumed, in, 0, left);
        }
        inStart += consumed;
        int n = blob.read(in.asSlice(left, INPUT - left).asByteBuffer(), inStart + left);
        inLength = left + n;
        zlib.input(in, inLength);
        return n > 0;
    }

    /** Inflates until some output is produced or the stream ends. */
    private void produce() throws IOException {
        if (writePos == WINDOW + OUTPUT) {
            // Keep the last 32 KiB at the front: the window of a checkpoint in what follows.
            MemorySegment.copy(out, writePos - WINDOW, out, 0, WINDOW);
            readPos = writePos = WINDOW;
        }
        zlib.output(out.asSlice(writePos), WINDOW + OUTPUT - writePos);
        while (!ended) {
            if (zlib.availableInput() == 0 && !refill()) {
                throw new EOFException("the gzip stream ends early at byte " + (inStart + inLength) + " of " + blob.describe()
                        + " (a truncated blob?)");
            }
            int before = zlib.availableOutput();
            int ret = zlib.inflate(Zlib.Z_BLOCK);
            zlib.check(ret, "at about byte " + position() + " of " + blob.describe());
            int produced = before - zlib.availableOutput();
            if (produced > 0) {
                spanCrc.update(out.asSlice(writePos, produced).asByteBuffer());
                writePos += produced;
                totalOut += produced;
            }
            if (ret == Zlib.Z_STREAM_END) {
                memberEnded();
            } else {
                int dataType = zlib.dataType();
                if ((dataType & Zlib.AT_BOUNDARY) != 0 && (dataType & Zlib.IN_LAST_BLOCK) == 0
                        && (pendingOut < 0 || totalOut - pendingOut >= interval)) {
                    checkpoint(dataType & 7);
                }
            }
            if (produced > 0 || zlib.availableOutput() == 0) {
                return;
            }
        }
    }

    /** After a member's trailer: another member follows (1f 8b), or the stream is over. */
    private void memberEnded() throws IOException {
        if (zlib.availableInput() < 2) {
            refill();
        }
        if (zlib.availableInput() >= 2) {
            long at = inLength - zlib.availableInput();
            if ((in.get(ValueLayout.JAVA_BYTE, at) & 0xff) == 0x1f && (in.get(ValueLayout.JAVA_BYTE, at + 1) & 0xff) == 0x8b) {
                zlib.reset(Zlib.GZIP);
                return;
            }
        }
        ended = true;
        finishSpan();
    }

    private void checkpoint(int bits) {
        finishSpan();
        int length = (int) Math.min(WINDOW, writePos);
        pendingOut = totalOut;
        pendingIn = position();
        pendingBits = bits;
        pendingWindowOffset = windows.size();
        pendingWindowLength = length;
        byte[] window = new byte[length];
        MemorySegment.copy(out, ValueLayout.JAVA_BYTE, writePos - length, window, 0, length);
        windows.writeBytes(window);
    }

    /** Closes the span of the pending checkpoint: its CRC is now known. */
    private void finishSpan() {
        if (pendingOut >= 0) {
            checkpoints.add(new GzipIndex.Checkpoint(pendingOut, pendingIn, pendingBits, (int) spanCrc.getValue(),
                    pendingWindowOffset, pendingWindowLength));
            pendingOut = -1;
        }
        spanCrc.reset();
    }

    @Override
    public void close() {
        zlib.close();
    }
}
