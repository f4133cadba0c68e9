package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A directory opened for reading as a file, as {@code open(2)} allows: reading fails with EISDIR
 * the way the JDK's own channels report it, while size and fstat work.
 */
final class DirectoryFile implements OverlayFile {

    private final Overlay overlay;
    private final EntryPath directory;

    DirectoryFile(Overlay overlay, EntryPath directory) {
        this.overlay = overlay;
        this.directory = directory;
    }

    @Override
    public boolean isWritable() {
        return false;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        throw new IOException(Errno.EISDIR.message()); // the JDK's exact exception for read(2) failing so
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        throw Errno.EBADF.exception(directory, "the directory is not open for writing");
    }

    @Override
    public long size() throws IOException {
        return stat().size();
    }

    @Override
    public void truncate(long size) throws IOException {
        throw Errno.EBADF.exception(directory, "the directory is not open for writing");
    }

    @Override
    public void force(boolean metadata) {
        // nothing written, nothing to flush
    }

    @Override
    public EntryAttributes stat() throws IOException {
        return overlay.stat(directory);
    }

    @Override
    public Optional<Path> localFile() {
        return Optional.empty();
    }

    @Override
    public void close() {
        // holds nothing
    }
}
