package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An eStargz or zstd:chunked layer's files read through its TOC ({@link ChunkIndex}): a read
 * decompresses the chunk that holds its position from the start of the chunk's own gzip member
 * or zstd frame, and checks the chunk's SHA-256 before any of it is returned. Members and frames
 * start afresh (no window, no bit offset), so java.util.zip and aircompressor suffice. The last
 * few chunks are kept.
 */
final class ChunkedArchive implements ArchiveBytes {

    private static final int CHUNKS_KEPT = 8;
    /** Chunks longer than this are not held whole but read forward (eStargz's chunks are 4 MiB by default). */
    static final long LARGEST_KEPT = 16 << 20;
    /** Forward streams kept open over such chunks, each with a few positions of its own. */
    private static final int STREAMED_KEPT = 4;

    private final Blob blob;
    private final Compression compression;
    private final ChunkIndex index;
    private final SpanCache chunks = new SpanCache(CHUNKS_KEPT);
    private final Map<Integer, CompressedArchive> streamed = new LinkedHashMap<>(16, 0.75f, true);
    /** Bytes inflated by reads so far, skipped ones included: what tests count. */
    final AtomicLong inflated = new AtomicLong();

    ChunkedArchive(Blob blob, Compression compression, ChunkIndex index) {
        this.blob = blob;
        this.compression = compression;
        this.index = index;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position >= index.size()) {
            return -1;
        }
        int total = 0;
        while (dst.hasRemaining() && position < index.size()) {
            int i = index.chunkOf(position);
            ChunkIndex.Chunk chunk = index.chunks().get(i);
            long offset = position - chunk.out();
            int n = (int) Math.min(dst.remaining(), chunk.length() - offset);
            if (chunk.member() < 0) {
                for (int k = 0; k < n; k++) {
                    dst.put(dst.position() + k, (byte) 0);
                }
            } else if (chunk.length() > LARGEST_KEPT) {
                readForward(i, chunk, dst.slice(dst.position(), n), offset);
            } else {
                try (SpanCache.Lease lease = chunks.get(i, this::inflate)) {
                    dst.put(dst.position(), lease.bytes(), (int) offset, n);
                }
            }
            dst.position(dst.position() + n);
            total += n;
            position += n;
        }
        return total;
    }

    /**
     * Reads part of a chunk too large to hold whole (a TOC may make a file of any size one chunk)
     * from a forward stream over its member, as a compressed archive without a TOC is read: such
     * reads are not checked against the chunk's digest, only by the format's own checksums when a
     * stream reaches them.
     */
    private void readForward(int i, ChunkIndex.Chunk chunk, ByteBuffer window, long offset) throws IOException {
        for (int attempt = 0; ; attempt++) {
            CompressedArchive stream;
            CompressedArchive evicted = null;
            synchronized (streamed) {
                stream = streamed.get(i);
                if (stream == null) {
                    stream = new CompressedArchive(new Slice(blob, chunk.member()), compression);
                    streamed.put(i, stream);
                    if (streamed.size() > STREAMED_KEPT) {
                        var eldest = streamed.entrySet().iterator();
                        evicted = eldest.next().getValue();
                        eldest.remove();
                    }
                }
            }
            if (evicted != null) {
                evicted.close();
            }
            int wanted = window.remaining();
            int n;
            try {
                n = stream.read(window, chunk.innerOffset() + offset);
            } catch (IOException e) {
                if (stream.isClosed() && attempt == 0) {
                    continue; // evicted by another reader just now: open it again
                }
                throw e;
            } catch (RuntimeException e) {
                throw new IOException("corrupt compressed data in the chunk at byte " + chunk.member() + " of "
                        + blob.describe() + ": " + e.getMessage());
            }
            if (n < wanted) {
                throw new IOException("the chunk at byte " + chunk.member() + " of " + blob.describe() + " ends early");
            }
            inflated.addAndGet(n);
            return;
        }
    }

    /** The blob from {@code start} on, for a stream over one chunk's member; closing it leaves the blob open. */
    private record Slice(Blob blob, long start) implements Blob {
        @Override
        public long size() {
            return blob.size() - start;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return blob.read(dst, start + position);
        }

        @Override
        public String describe() {
            return blob.describe() + " from byte " + start;
        }

        @Override
        public void close() {
        }
    }

    private ByteBuffer inflate(int i, SpanCache arrays) throws IOException {
        ChunkIndex.Chunk chunk = index.chunks().get(i);
        String where = "in the chunk at byte " + chunk.innerOffset() + " of the " + (compression == Compression.ZSTD
                ? "zstd frame" : "gzip member") + " at byte " + chunk.member() + " of " + blob.describe();
        int length = Math.toIntExact(chunk.length());
        byte[] bytes = arrays.array(length);
        int n;
        try (InputStream in = compression.decompress(new java.io.BufferedInputStream(blob.stream(chunk.member()), 1 << 16))) {
            in.skipNBytes(chunk.innerOffset());
            n = in.readNBytes(bytes, 0, length);
        } catch (java.io.EOFException e) {
            throw new IOException("the compressed member ends before the chunk does " + where);
        } catch (java.util.zip.ZipException | RuntimeException e) {
            // aircompressor reports corrupt zstd data with unchecked exceptions
            throw new IOException("corrupt compressed data " + where + ": " + e.getMessage());
        }
        if (n != length) {
            throw new IOException("the compressed member ends before the chunk does " + where);
        }
        inflated.addAndGet(chunk.innerOffset() + length);
        if (chunk.sha256().length > 0) {
            MessageDigest sha256;
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            sha256.update(bytes, 0, length);
            if (!MessageDigest.isEqual(sha256.digest(), chunk.sha256())) {
                throw new IOException("corrupt data " + where + ": its SHA-256 differs from the TOC's chunkDigest");
            }
        }
        return ByteBuffer.wrap(bytes, 0, length).slice();
    }

    @Override
    public void close() throws IOException {
        synchronized (streamed) {
            for (CompressedArchive stream : streamed.values()) {
                stream.close();
            }
            streamed.clear();
        }
        blob.close();
    }
}
