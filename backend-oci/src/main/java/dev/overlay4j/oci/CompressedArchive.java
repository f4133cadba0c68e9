package dev.overlay4j.oci;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * A compressed archive, read by decompressing from its start. A compressed stream has no index
 * of its own, so it keeps a few decompressing streams ("cursors") open where earlier reads
 * stopped: a read goes on from the nearest cursor before its position, and reading files in
 * archive order, or one file front to back, decompresses the archive once. A read before every
 * cursor starts again from the beginning.
 */
final class CompressedArchive implements ArchiveBytes {

    /** Cursors kept open: one per reader that goes through a file in order, a few at once. */
    private static final int CURSORS = 4;

    private final Blob blob;
    private final Compression compression;
    private final Deque<Cursor> idle = new ArrayDeque<>();
    private boolean closed;

    private record Cursor(InputStream in, long[] position) {
    }

    CompressedArchive(Blob blob, Compression compression) {
        this.blob = blob;
        this.compression = compression;
    }

    /** The decompressed archive from its start. */
    InputStream stream() throws IOException {
        return compression.decompress(new BufferedInputStream(blob.stream(0), 1 << 16));
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        Cursor cursor = take(position);
        boolean keep = false;
        try {
            long skip = position - cursor.position[0];
            cursor.in.skipNBytes(skip);
            cursor.position[0] = position;
            int total = 0;
            byte[] chunk = new byte[(int) Math.min(dst.remaining(), 1 << 16)];
            while (dst.hasRemaining()) {
                int n = cursor.in.read(chunk, 0, Math.min(chunk.length, dst.remaining()));
                if (n < 0) {
                    break;
                }
                dst.put(chunk, 0, n);
                total += n;
                cursor.position[0] += n;
            }
            keep = true;
            return total == 0 && dst.hasRemaining() ? -1 : total;
        } catch (java.io.EOFException e) {
            keep = true;
            return -1;
        } finally {
            give(cursor, keep);
        }
    }

    /** Whether it has been closed: a read then fails. */
    boolean isClosed() {
        synchronized (idle) {
            return closed;
        }
    }

    /** The idle cursor nearest before {@code position}, else a new one at the start. */
    private Cursor take(long position) throws IOException {
        synchronized (idle) {
            if (closed) {
                throw new IOException("archive " + blob.describe() + " is closed");
            }
            Cursor best = null;
            for (Cursor cursor : idle) {
                if (cursor.position[0] <= position && (best == null || cursor.position[0] > best.position[0])) {
                    best = cursor;
                }
            }
            if (best != null) {
                idle.remove(best);
                return best;
            }
        }
        return new Cursor(stream(), new long[1]);
    }

    private void give(Cursor cursor, boolean keep) throws IOException {
        Cursor evicted = null;
        synchronized (idle) {
            if (keep && !closed) {
                idle.addFirst(cursor);
                if (idle.size() > CURSORS) {
                    evicted = idle.removeLast(); // the one used longest ago
                }
            } else {
                evicted = cursor;
            }
        }
        if (evicted != null) {
            evicted.in.close();
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (idle) {
            closed = true;
            for (Iterator<Cursor> it = idle.iterator(); it.hasNext(); ) {
                it.next().in.close();
                it.remove();
            }
        }
        blob.close();
    }
}
