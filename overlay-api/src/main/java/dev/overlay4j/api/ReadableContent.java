package dev.overlay4j.api;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

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
