package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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

    private final Blob blob;
    private final Compression compression;
    private final ChunkIndex index;
    private final SpanCache chunks = new SpanCache(CHUNKS_KEPT);
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
            ByteBuffer chunk = chunks.get(i, this::inflate);
            int offset = (int) (position - index.chunks().get(i).out());
            int n = Math.min(dst.remaining(), chunk.capacity() - offset);
            dst.put(dst.position(), chunk, offset, n);
            dst.position(dst.position() + n);
            total += n;
            position += n;
        }
        return total;
    }

    private ByteBuffer inflate(int i) throws IOException {
        ChunkIndex.Chunk chunk = index.chunks().get(i);
        if (chunk.member() < 0) {
            return ByteBuffer.allocate(Math.toIntExact(chunk.length()));
        }
        String where = "in the chunk at byte " + chunk.innerOffset() + " of the " + (compression == Compression.ZSTD
                ? "zstd frame" : "gzip member") + " at byte " + chunk.member() + " of " + blob.describe();
        byte[] bytes;
        try (InputStream in = compression.decompress(new java.io.BufferedInputStream(blob.stream(chunk.member()), 1 << 16))) {
            in.skipNBytes(chunk.innerOffset());
            bytes = in.readNBytes(Math.toIntExact(chunk.length()));
        } catch (java.io.EOFException e) {
            throw new IOException("the gzip member ends before the chunk does " + where);
        } catch (java.util.zip.ZipException | RuntimeException e) {
            // aircompressor reports corrupt zstd data with unchecked exceptions
            throw new IOException("corrupt compressed data " + where + ": " + e.getMessage());
        }
        if (bytes.length != chunk.length()) {
            throw new IOException("the gzip member ends before the chunk does " + where);
        }
        inflated.addAndGet(chunk.innerOffset() + bytes.length);
        if (chunk.sha256().length > 0) {
            byte[] actual;
            try {
                actual = MessageDigest.getInstance("SHA-256").digest(bytes);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            if (!MessageDigest.isEqual(actual, chunk.sha256())) {
                throw new IOException("corrupt data " + where + ": its SHA-256 differs from the TOC's chunkDigest");
            }
        }
        return ByteBuffer.wrap(bytes);
    }

    @Override
    public void close() throws IOException {
        blob.close();
    }
}
