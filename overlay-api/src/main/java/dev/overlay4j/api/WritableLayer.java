package dev.overlay4j.api;

import java.io.IOException;

/**
 * A layer that can change: the upper layer of an overlay. Every operation acts on the named
 * entry itself (no symlink is followed) and is atomic where the underlying call is.
 *
 * <p>Entries are built in a private {@link #workArea()} on the same store and moved into the
 * tree with {@link #publish}, so a crash never leaves a half-built entry under its real name.
 */
public interface WritableLayer extends Layer {

    /** For {@link #setTimes}: leave this time as it is. */
    long TIME_OMIT = Long.MIN_VALUE;
    /** For {@link #setTimes}: set this time to the current time. */
    long TIME_NOW = Long.MIN_VALUE + 1;

    /** Opens an existing regular file for reading and writing. */
    WritableContent openWrite(EntryPath file) throws IOException;

    /** Creates a new, empty regular file and opens it; EEXIST when the name is taken. */
    WritableContent createFile(EntryPath file, NewEntryAttributes attributes) throws IOException;

    /**
     * Creates a regular file without a name in {@code directory} ({@code O_TMPFILE}) and opens
     * it for reading and writing; it is gone once closed unless {@link #linkUnnamed} named it.
     *
     * @throws java.nio.file.FileSystemException with EOPNOTSUPP when the layer cannot (the default)
     */
    default WritableContent createUnnamedFile(EntryPath directory, NewEntryAttributes attributes) throws IOException {
        throw Errno.EOPNOTSUPP.exception(directory.toString(), null, description() + " cannot make unnamed files");
    }

    /**
     * Gives {@code file}, made by {@link #createUnnamedFile} of this layer or of its
     * {@link #workArea()}, the name {@code link} in this tree ({@code linkat} of the open
     * file); EEXIST when the name is taken.
     *
     * @throws java.nio.file.FileSystemException with EOPNOTSUPP when the layer cannot (the default)
     */
    default void linkUnnamed(WritableContent file, EntryPath link) throws IOException {
        throw Errno.EOPNOTSUPP.exception(link.toString(), null, description() + " cannot name unnamed files");
    }

    /** Creates a directory; EEXIST when the name is taken. */
    void createDirectory(EntryPath directory, NewEntryAttributes attributes) throws IOException;

    /** Creates a symlink (its permission bits are always 0777); EEXIST when the name is taken. */
    void createSymlink(EntryPath link, String target, NewEntryAttributes attributes) throws IOException;

    /** Creates a device node, FIFO or socket node ({@code mknod(2)}); EEXIST when the name is taken. */
    void createSpecial(EntryPath path, EntryType type, NewEntryAttributes attributes, long rdev) throws IOException;

    /** Creates a whiteout under a name not yet taken; EEXIST otherwise. */
    void createWhiteout(EntryPath path) throws IOException;

    /** Adds a hard link to an existing non-directory. */
    void link(EntryPath existing, EntryPath link) throws IOException;

    /**
     * Adds a hard link named {@code staged} in the {@link #workArea()} to the existing
     * non-directory {@code existing} of this tree, so that {@link #publish} can put the new name
     * in place over another entry (a whiteout) in one step. Errors are those of {@link #link}.
     *
     * @throws java.nio.file.FileSystemException with EOPNOTSUPP when the layer cannot link into
     *         its work area (the default); callers then take two steps
     */
    default void linkIntoWorkArea(EntryPath existing, EntryPath staged) throws IOException {
        throw Errno.EOPNOTSUPP.exception(existing.toString(), staged.toString(),
                description() + " cannot link into its work area");
    }

    /** Removes a non-directory, a whiteout or an empty directory (ENOTEMPTY otherwise). */
    void delete(EntryPath path) throws IOException;

    /** Renames within the tree with {@code renameat2(2)} semantics. */
    void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException;

    /**
     * Renames {@code source} to {@code target} and leaves a whiteout under the old name, in one
     * atomic step ({@code renameat2(2)} with {@code RENAME_WHITEOUT}): no moment, and no crash,
     * shows the old name without its whiteout. {@code mode} is {@link RenameMode#REPLACE} or
     * {@link RenameMode#NOREPLACE} (EEXIST when the target exists); {@link RenameMode#EXCHANGE}
     * fails with EINVAL, as it does for the system call. Errors are otherwise those of
     * {@link #rename}.
     *
     * @throws java.nio.file.FileSystemException with EOPNOTSUPP when the layer cannot do this
     *         atomically (the default); callers then take two steps
     */
    default void renameLeavingWhiteout(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        throw Errno.EOPNOTSUPP.exception(source.toString(), target.toString(),
                description() + " cannot rename leaving a whiteout in one step");
    }

    void setPermissions(EntryPath path, int permissions) throws IOException;

    /** Changes owner and group; -1 keeps the current value. */
    void setOwner(EntryPath path, int uid, int gid) throws IOException;

    /** Sets access and modification times, in nanoseconds since the epoch, or {@link #TIME_OMIT} / {@link #TIME_NOW}. */
    void setTimes(EntryPath path, long atimeNanos, long mtimeNanos) throws IOException;

    void setXattr(EntryPath path, String name, byte[] value, XattrMode mode) throws IOException;

    /** Removes an extended attribute; ENODATA when it does not exist. */
    void removeXattr(EntryPath path, String name) throws IOException;

    /**
     * Sets the entry's inode flags with {@code FS_IOC_SETFLAGS} ({@code chattr(1)}), with that
     * call's errors (EOPNOTSUPP for a flag the store lacks, EPERM without the privilege a flag
     * needs).
     *
     * @throws java.nio.file.FileSystemException with ENOTTY when the layer has no such flags (the default)
     */
    default void setFileFlags(EntryPath path, int flags) throws IOException {
        throw Errno.ENOTTY.exception(path.toString(), null, description() + " keeps no inode flags");
    }

    /** Sets the entry's {@code struct fsxattr} with {@code FS_IOC_FSSETXATTR}; errors as {@link #setFileFlags}. */
    default void setFsxAttributes(EntryPath path, FsxAttributes attributes) throws IOException {
        throw Errno.ENOTTY.exception(path.toString(), null, description() + " keeps no inode flags");
    }

    /** Marks a directory opaque, or clears the mark. */
    void setOpaque(EntryPath directory, boolean opaque) throws IOException;

    /**
     * Sets a directory's redirect (see {@link EntryAttributes#redirect()}); {@code null} removes it.
     * EXDEV when the layer cannot record redirects (its store takes no overlay xattrs from this
     * process): the overlay then refuses the rename, as the kernel does without redirects.
     */
    void setRedirect(EntryPath directory, String redirect) throws IOException;

    /**
     * Writes an overlay-private attribute (see {@link Layer#readOverlayXattr}). A layer that
     * cannot keep it on this entry (no overlay xattrs on its store, none on a symlink) drops it:
     * {@code readOverlayXattr} then answers empty.
     */
    void writeOverlayXattr(EntryPath path, String key, byte[] value) throws IOException;

    /**
     * The private scratch area of this layer, on the same store, where entries are built
     * before {@link #publish}. It starts out empty each time the layer is opened. The work
     * area has no work area of its own: its {@code workArea()} and {@code publish} throw
     * {@link UnsupportedOperationException}.
     */
    WritableLayer workArea();

    /**
     * Moves the entry {@code staged} of the {@link #workArea()} to {@code target} in this tree,
     * atomically. With {@link RenameMode#EXCHANGE} the previous target ends up at {@code staged}.
     */
    void publish(EntryPath staged, EntryPath target, RenameMode mode) throws IOException;

    /**
     * The persistent index of this layer: a flat directory, on the same store, that keeps the
     * copied-up inode of a lower hard link so that all its names share one upper inode (the
     * kernel's {@code index=on}). Unlike the {@link #workArea()} it keeps its content when the
     * layer is reopened. Its {@code workArea()} is this layer's work area, and its
     * {@code publish} moves an entry built there into the index atomically; it has no index of
     * its own. Names in it are chosen by the caller.
     *
     * @throws UnsupportedOperationException when the layer keeps no index (the default); the
     *         overlay then breaks lower hard links on copy-up
     */
    default WritableLayer indexArea() {
        throw new UnsupportedOperationException(description() + " keeps no index");
    }

    /**
     * Adds a hard link named {@code link} in this tree to the non-directory {@code indexed} of
     * the {@link #indexArea()}: the name appears whole, in one step. Errors are those of
     * {@link #link} (EEXIST when the name is taken, ENOENT when the index entry is missing).
     *
     * @throws java.nio.file.FileSystemException with EOPNOTSUPP when the layer keeps no index (the default)
     */
    default void linkFromIndex(EntryPath indexed, EntryPath link) throws IOException {
        throw Errno.EOPNOTSUPP.exception(indexed.toString(), link.toString(), description() + " keeps no index");
    }

    /** Flushes everything written to stable storage ({@code syncfs(2)}). */
    void sync() throws IOException;

    /**
     * Flushes one directory of this tree to stable storage, as {@code fsync(2)} of it does: its
     * entries (names added, removed or renamed in it) and, when {@code metadata}, its own
     * attributes; without, what {@code fdatasync(2)} does. ENOENT or ENOTDIR when
     * {@code directory} is not a directory of this tree. The default syncs the whole store
     * ({@link #sync()}), which covers it.
     */
    default void syncDirectory(EntryPath directory, boolean metadata) throws IOException {
        sync();
    }
}
