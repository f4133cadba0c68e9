package dev.overlay4j.oci;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The bytes of an uncompressed tar archive, read at any position: the file itself for a plain
 * archive, or its decompressed stream. Safe for concurrent reads.
 */
interface ArchiveBytes extends Closeable {

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code position} of the uncompressed archive,
     * fewer only at its end.
     *
     * @return the bytes read, -1 at or past the end
     */
    int read(ByteBuffer dst, long position) throws IOException;

    /** The uncompressed archive from its start, for reading its headers once. Close it. */
    InputStream stream() throws IOException;
}
