package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * An eStargz layer's files read through its TOC ({@link StargzIndex}): a read inflates the
 * chunk that holds its position from the start of the chunk's own gzip member, and checks the
 * chunk's SHA-256 before any of it is returned. Members start afresh (no window, no bit offset),
 * so java.util.zip suffices. The last few chunks are kept.
 */
final class StargzArchive implements ArchiveBytes {

    private static final int CHUNKS_KEPT = 8;

    private final Blob blob;
    private final StargzIndex index;
    private final SpanCache chunks = new SpanCache(CHUNKS_KEPT);
    /** Bytes inflated by reads so far, skipped ones included: what tests count. */
    final AtomicLong inflated = new AtomicLong();

    StargzArchive(Blob blob, StargzIndex index) {
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
        StargzIndex.Chunk chunk = index.chunks().get(i);
        String where = "in the chunk at byte " + chunk.innerOffset() + " of the gzip member at byte " + chunk.member()
                + " of " + blob.describe();
        byte[] bytes;
        try (InputStream in = new GZIPInputStream(new java.io.BufferedInputStream(blob.stream(chunk.member()), 1 << 16), 1 << 16)) {
            in.skipNBytes(chunk.innerOffset());
            bytes = in.readNBytes(Math.toIntExact(chunk.length()));
        } catch (java.io.EOFException e) {
            throw new IOException("the gzip member ends before the chunk does " + where);
        } catch (java.util.zip.ZipException e) {
            throw new IOException("corrupt gzip data " + where + ": " + e.getMessage());
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
