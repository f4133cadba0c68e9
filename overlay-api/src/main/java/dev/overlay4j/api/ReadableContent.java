package dev.overlay4j.api;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/** The bytes of one regular file, read at any position; safe for concurrent positional reads. */
public interface ReadableContent extends Closeable {

    /** The current size in bytes. */
    long size() throws IOException;

    /**
     * Reads up to {@code dst.remaining()} bytes starting at {@code position}.
     *
     * @return the number of bytes read, or -1 when {@code position} is at or past the end
     */
    int read(ByteBuffer dst, long position) throws IOException;

    /**
     * {@code fstat(2)} of the open file: its attributes now, as the store reports them (a link
     * count of 0 once its last name is gone), or empty when this content cannot tell (the
     * default). The overlay shows these for an open file whose name no longer leads to it.
     */
    default Optional<EntryAttributes> stat() throws IOException {
        return Optional.empty();
    }

    /**
     * {@code lseek(2)} with {@code SEEK_DATA}: the first position at or after {@code offset}
     * that holds data. The default knows of no holes: every position before the end is data.
     *
     * @throws java.nio.file.FileSystemException with ENXIO when {@code offset} is negative or at
     *         or past the end (no data follows)
     */
    default long nextData(long offset) throws IOException {
        return PlainFile.nextData(toString(), offset, size());
    }

    /**
     * {@code lseek(2)} with {@code SEEK_HOLE}: the first position at or after {@code offset}
     * that starts a hole, the end of the file counting as one. The default knows of no holes
     * but the end.
     *
     * @throws java.nio.file.FileSystemException with ENXIO when {@code offset} is negative or past the end
     */
    default long nextHole(long offset) throws IOException {
        return PlainFile.nextHole(toString(), offset, size());
    }

    /**
     * Copies {@code count} bytes (fewer at end of file) starting at {@code position} into
     * {@code target} at the same position. Backends override this with a kernel-side copy
     * where both ends allow it.
     *
     * @return the number of bytes copied
     */
    default long copyTo(WritableContent target, long position, long count) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(1 << 20, Math.max(count, 1)));
        long copied = 0;
        while (copied < count) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), count - copied));
            int read = read(buffer, position + copied);
            if (read < 0) {
                break;
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer, position + copied + buffer.position());
            }
            copied += read;
        }
        return copied;
    }
}
