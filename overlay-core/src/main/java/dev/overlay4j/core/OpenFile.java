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
 * An open regular file. A handle opened for writing holds the upper file. A read-only handle on
 * a lower file moves to the upper copy once the file is copied up, so it sees later writes, as
 * the kernel's overlayfs does since Linux 4.19 (only a lower file mapped before the copy-up
 * keeps showing the lower bytes, there as here through a passthrough {@link #localFile()}).
 */
final class OpenFile implements OverlayFile {

    private final MergedOverlay overlay;
    private final EntryPath path;
    private volatile ReadableContent content;
    /** Lower contents this handle has moved away from; closed with the handle. */
    private final java.util.List<ReadableContent> replaced = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** For a read-only handle on a lower file: the copy-up count last checked; -1 otherwise. */
    private volatile long copyUpsSeen = -1;
    private final boolean writable;
    private final boolean append;
    private final EntryAttributes openedAs;
    /** A file made without a name ({@code O_TMPFILE}): {@code path} is its directory, and fstat always asks the file. */
    private final boolean unnamed;
    /** For an unnamed file: whether it may be given a name (not {@code O_EXCL}). */
    private final boolean linkable;
    private final LocalFile localFileLookup;
    /** {@link #localFile()} once asked; most handles never are, and the answer costs a layer lookup. */
    private volatile Optional<Path> localFile;
    private volatile boolean closed;

    /** Finds the local file behind the opened layer entry (see {@link dev.overlay4j.api.Layer#localFile}). */
    @FunctionalInterface
    interface LocalFile {
        Optional<Path> find() throws IOException;
    }

    /**
     * @param localFile finds the local file of the opened entry; it must give the same answer
     *                  whenever it is asked (a lower layer's entry never changes), else pass
     *                  an answer found at open time
     */
    OpenFile(MergedOverlay overlay, EntryPath path, ReadableContent content, boolean writable, boolean append,
            EntryAttributes openedAs, LocalFile localFile) {
        this(overlay, path, content, writable, append, openedAs, localFile, false, false);
    }

    /** An unnamed file ({@code O_TMPFILE}) in {@code directory}, open for reading and writing. */
    static OpenFile unnamed(MergedOverlay overlay, EntryPath directory, WritableContent content,
            EntryAttributes attributes, boolean linkable) {
        return new OpenFile(overlay, directory, content, true, false, attributes, Optional::empty, true, linkable);
    }

    private OpenFile(MergedOverlay overlay, EntryPath path, ReadableContent content, boolean writable, boolean append,
            EntryAttributes openedAs, LocalFile localFile, boolean unnamed, boolean linkable) {
        this.unnamed = unnamed;
        this.linkable = linkable;
        this.overlay = overlay;
        this.path = path;
        this.content = content;
        this.writable = writable;
        this.append = append;
        this.openedAs = openedAs;
        this.localFileLookup = localFile;
    }

    /** Whether this file was made without a name ({@link MergedOverlay#createUnnamed}). */
    boolean isUnnamed() {
        return unnamed;
    }

    /** Whether this unnamed file may be given a name. */
    boolean isLinkable() {
        return linkable;
    }

    /** The content of this unnamed file, for the upper layer to link; EBADF once closed. */
    WritableContent unnamedContent() throws IOException {
        return writableContent();
    }

    @Override
    public boolean mayBeCopiedUp() {
        return copyUpsSeen >= 0;
    }

    /** Makes this read-only handle on a lower file follow the file when it is copied up. */
    void followCopyUp(long copyUpsNow) {
        copyUpsSeen = copyUpsNow;
    }

    /** The content to use now: the upper copy once this lower file has been copied up. */
    private ReadableContent current() throws IOException {
        long seen = copyUpsSeen;
        if (seen >= 0) {
            long now = overlay.filesCopiedUp();
            if (now != seen) {
                synchronized (this) {
                    if (copyUpsSeen == seen) {
                        Optional<ReadableContent> upper = overlay.copiedUpContent(path, openedAs.inode());
                        if (upper.isPresent()) {
                            replaced.add(content);
                            content = upper.get();
                            copyUpsSeen = -1; // in the upper layer now: nothing more to follow
                        } else {
                            copyUpsSeen = now;
                        }
                    }
                }
            }
        }
        return content;
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
        return current().read(dst, position);
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
        return current().size();
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
    public void allocate(long offset, long length, int mode) throws IOException {
        writableContent().allocate(offset, length, mode);
    }

    @Override
    public long nextData(long offset) throws IOException {
        checkOpen();
        return current().nextData(offset);
    }

    @Override
    public long nextHole(long offset) throws IOException {
        checkOpen();
        return current().nextHole(offset);
    }

    @Override
    public void force(boolean metadata) throws IOException {
        checkOpen();
        if (content instanceof WritableContent out && writable && overlay.syncs()) {
            out.force(metadata);
        }
    }

    /**
     * fstat: the entry at the opened path while it is still this file. Once the name leads
     * elsewhere (unlinked, renamed over), the file itself as its layer reports it, as the
     * kernel's overlayfs answers from the real inode: the link count falls to 0 when no name is
     * left (a copied-up lower hard link does not count the link its index copy holds), and a
     * lower file whose name was whited out keeps its lower link count. Owner and permissions
     * stay those seen at open (they cannot change through the overlay without a name). A layer
     * that cannot stat an open file ({@link ReadableContent#stat}) gives what was seen at open.
     */
    @Override
    public EntryAttributes stat() throws IOException {
        checkOpen();
        ReadableContent now = current();
        Optional<EntryAttributes> named = unnamed ? Optional.empty() : overlay.statIfSame(path, openedAs.inode());
        if (named.isPresent()) {
            EntryAttributes shown = overlay.shown(named.get());
            return new EntryAttributes(shown.type(), shown.permissions(), shown.uid(), shown.gid(), now.size(),
                    shown.blocks(), shown.atimeNanos(), shown.mtimeNanos(), shown.ctimeNanos(), shown.nlink(),
                    shown.inode(), shown.rdev(), false, null);
        }
        Optional<EntryAttributes> real = now.stat();
        if (real.isEmpty()) {
            EntryAttributes shown = overlay.shown(openedAs);
            return new EntryAttributes(shown.type(), shown.permissions(), shown.uid(), shown.gid(), now.size(),
                    shown.blocks(), shown.atimeNanos(), shown.mtimeNanos(), shown.ctimeNanos(), shown.nlink(),
                    shown.inode(), shown.rdev(), false, null);
        }
        EntryAttributes file = real.get();
        int nlink = file.nlink();
        if (nlink > 0 && overlay.isIndexCopy(openedAs.inode(), file.inode())) {
            nlink--; // the index's own link is no name
        }
        return overlay.shown(new EntryAttributes(openedAs.type(), openedAs.permissions(), openedAs.uid(),
                openedAs.gid(), file.size(), file.blocks(), file.atimeNanos(), file.mtimeNanos(), file.ctimeNanos(),
                nlink, openedAs.inode(), openedAs.rdev(), false, null));
    }

    @Override
    public Optional<Path> localFile() {
        Optional<Path> known = localFile;
        if (known == null) {
            try {
                known = localFileLookup.find();
            } catch (IOException e) {
                known = Optional.empty(); // no local file to hand out: the frontend reads through the handle
            }
            localFile = known;
        }
        return known;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        overlay.forget(this);
        for (ReadableContent old : replaced) {
            old.close();
        }
        content.close();
    }

    /** Closes the handle because its overlay closes. */
    void closeForOverlay() {
        closed = true;
        try {
            for (ReadableContent old : replaced) {
                old.close();
            }
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
