package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.WritableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An open regular file: the content of the one layer entry it was opened on. A read-only
 * handle on a lower file keeps reading the lower bytes after a copy-up, as in the kernel.
 */
final class OpenFile implements OverlayFile {

    private final MergedOverlay overlay;
    private final EntryPath path;
    private final ReadableContent content;
    private final boolean writable;
    private final boolean append;
    private final EntryAttributes openedAs;
    private final Optional<Path> localFile;
    private volatile boolean closed;

    OpenFile(MergedOverlay overlay, EntryPath path, ReadableContent content, boolean writable, boolean append,
            EntryAttributes openedAs, Optional<Path> localFile) {
        this.overlay = overlay;
        this.path = path;
        this.content = content;
        this.writable = writable;
        this.append = append;
        this.openedAs = openedAs;
        this.localFile = localFile;
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkOpen();
        if (position < 0) {
            throw Errno.EINVAL.exception(path, "negative position " + position);
        }
        return content.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        WritableContent out = writableContent();
        if (position < 0) {
            throw Errno.EINVAL.exception(path, "negative position " + position);
        }
        // O_APPEND: every write goes to the end, whatever position was asked for.
        return out.write(src, append ? out.size() : position);
    }

    @Override
    public long size() throws IOException {
        checkOpen();
        return content.size();
    }

    @Override
    public void truncate(long size) throws IOException {
        WritableContent out = writableContent();
        if (size < 0) {
            throw Errno.EINVAL.exception(path, "negative size " + size);
        }
        out.truncate(size);
    }

    @Override
    public void force(boolean metadata) throws IOException {
        checkOpen();
        if (content instanceof WritableContent out && writable) {
            out.force(metadata);
        }
    }

    /** fstat: the entry at the opened path while it is still this file, else what it was at open with today's size. */
    @Override
    public EntryAttributes stat() throws IOException {
        checkOpen();
        long size = content.size();
        Optional<EntryAttributes> now = overlay.statIfSame(path, openedAs.inode());
        EntryAttributes shown = now.orElse(openedAs);
        return new EntryAttributes(shown.type(), shown.permissions(), shown.uid(), shown.gid(), size,
                shown.blocks(), shown.atimeNanos(), shown.mtimeNanos(), shown.ctimeNanos(), shown.nlink(),
                shown.inode(), shown.rdev(), false, null);
    }

    @Override
    public Optional<Path> localFile() {
        return localFile;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        overlay.forget(this);
        content.close();
    }

    /** Closes the handle because its overlay closes. */
    void closeForOverlay() {
        closed = true;
        try {
            content.close();
        } catch (IOException | RuntimeException ignored) {
            // the overlay is closing its layers anyway
        }
    }

    private WritableContent writableContent() throws IOException {
        checkOpen();
        if (!writable || !(content instanceof WritableContent out)) {
            throw Errno.EBADF.exception(path, "the file is not open for writing");
        }
        return out;
    }

    private void checkOpen() throws IOException {
        if (closed || overlay.isClosed()) {
            throw Errno.EBADF.exception(path, closed ? "the file is closed" : "overlay closed");
        }
    }
}
