package dev.overlay4j.oci;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The uncompressed bytes of an archive that its members' {@link TarEntry#dataOffset()} point
 * into, read at any position: the file itself for a plain archive, its decompressed stream for a
 * compressed one, the files' bytes one after another for eStargz. Safe for concurrent reads.
 */
interface ArchiveBytes extends Closeable {

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code position} of the uncompressed archive,
     * fewer only at its end.
     *
     * @return the bytes read, -1 at or past the end
     */
    int read(ByteBuffer dst, long position) throws IOException;
}
