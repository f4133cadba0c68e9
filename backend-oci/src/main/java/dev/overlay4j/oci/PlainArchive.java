package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** An uncompressed archive: a file's bytes are read in place, and nothing else is read for them. */
final class PlainArchive implements ArchiveBytes {

    private final Blob blob;

    PlainArchive(Blob blob) {
        this.blob = blob;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        int n = blob.read(dst, position);
        return n == 0 && dst.hasRemaining() ? -1 : n;
    }

    /** The archive from its start, for reading its headers: skipping a member's data moves the position and reads nothing. */
    InputStream stream() {
        return blob.stream(0);
    }

    @Override
    public void close() throws IOException {
        blob.close();
    }
}
