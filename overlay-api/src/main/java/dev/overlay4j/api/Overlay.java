package dev.overlay4j.api;

import dev.overlay4j.api.spi.OverlayEngine;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.OpenOption;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The merged view of an overlay's layers, with the semantics of Linux overlayfs
 * ({@code Documentation/filesystems/overlayfs.rst}). Safe for concurrent use.
 *
 * <p>Paths are {@link EntryPath}s from the overlay root. Operations act on the named entry
 * itself: a symlink as the last name is not followed, and every earlier name must be a
 * directory (ENOTDIR otherwise); {@link #resolve} follows symlinks for frontends that must.
 * Errors are {@code java.nio.file} exceptions that carry their errno ({@link Errno#of}).
 */
public interface Overlay extends Closeable {

    /**
     * Opens an overlay with the engine found by {@link ServiceLoader}.
     *
     * @throws IOException when a layer cannot be opened; the message names the layer
     */
    static Overlay open(OverlayConfig config) throws IOException {
        OverlayEngine engine = ServiceLoader.load(OverlayEngine.class).findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "no overlay engine installed: put the overlay-core module (dev.overlay4j.core) on the module or class path"));
        return engine.open(config);
    }

    /**
     * Serves this overlay to every program of the machine at {@code mountpoint}, through the
     * mount frontend found by {@link ServiceLoader} ({@code backend-fuse}'s {@code fuse}, or a
     * third party's). Option {@code frontend=NAME} picks one when several are installed; the
     * rest go to the frontend (for FUSE those of the {@code overlay4j} command, such as
     * {@code threads}, {@code passthrough}, {@code allow_other}, {@code entry_timeout}).
     * The overlay stays open when the mount is closed.
     *
     * @param options name to value, null for a flag
     * @throws IllegalArgumentException for an unknown frontend or option
     * @throws IOException when no frontend is installed, or the mount cannot be made
     */
    default Mount mount(java.nio.file.Path mountpoint, java.util.Map<String, String> options) throws IOException {
        java.util.Map<String, String> rest = new java.util.LinkedHashMap<>(options);
        String wanted = rest.remove("frontend");
        List<dev.overlay4j.api.spi.MountFrontend> frontends = new java.util.ArrayList<>();
        ServiceLoader.load(dev.overlay4j.api.spi.MountFrontend.class).forEach(frontends::add);
        if (frontends.isEmpty()) {
            throw new IOException("no mount frontend is installed: put backend-fuse (dev.overlay4j.fuse) on the module or class path");
        }
        List<String> names = frontends.stream().map(dev.overlay4j.api.spi.MountFrontend::name).sorted().toList();
        dev.overlay4j.api.spi.MountFrontend chosen = frontends.stream()
                .filter(f -> wanted == null ? frontends.size() == 1 || f.name().equals("fuse") : f.name().equals(wanted))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(wanted == null
                        ? "several mount frontends are installed (" + String.join(", ", names) + "): choose one with option frontend"
                        : "no mount frontend named " + wanted + " is installed (installed: " + String.join(", ", names) + ")"));
        return chosen.mount(this, mountpoint, rest);
    }

    OverlayConfig config();

    /** Whether every change fails with EROFS (no upper layer, or {@code ro}). */
    boolean isReadOnly();

    /**
     * Whether a lower layer is {@linkplain Layer#remote() remote}, so that a stat may wait on a
     * server: a frontend then stats only what its caller asks for, not every entry it lists.
     */
    default boolean remote() {
        return false;
    }

    /** {@code lstat}: the merged entry's metadata, with the overlay's stable inode number. */
    EntryAttributes stat(EntryPath path) throws IOException;

    /**
     * Follows symlinks met on the way, as path lookup does: in every name but the last, and in
     * the last one too when {@code followLastLink}. Absolute link targets start at the overlay
     * root. ELOOP after 40 links.
     *
     * @return the path with no symlink in it (except perhaps the last name)
     */
    EntryPath resolve(EntryPath path, boolean followLastLink) throws IOException;

    /**
     * The merged listing of a directory, without {@code .} and {@code ..}: a snapshot taken
     * now, so it stays the same however long the caller takes to read it.
     */
    List<DirectoryEntry> listDirectory(EntryPath directory) throws IOException;

    String readLink(EntryPath link) throws IOException;

    /**
     * Opens or creates a regular file. Options are {@link java.nio.file.StandardOpenOption}s:
     * READ, WRITE, APPEND, TRUNCATE_EXISTING, CREATE, CREATE_NEW (others are ignored). Opening
     * a lower file for writing, or truncating it, copies it up first.
     *
     * @param create owner and permissions when the file is created
     */
    OverlayFile open(EntryPath path, Set<? extends OpenOption> options, NewEntryAttributes create) throws IOException;

    /**
     * {@code open(2)} with {@code O_TMPFILE}: a new regular file without a name, in the upper
     * layer's copy of {@code directory} (copied up first, parents included, as the kernel's
     * overlayfs does), open for reading and writing. It vanishes when closed unless
     * {@link #linkUnnamed} gave it a name. ENOENT or ENOTDIR when {@code directory} is not a
     * directory, EROFS when the overlay is read-only, EOPNOTSUPP when the upper layer cannot make
     * unnamed files (the default).
     *
     * @param linkable false for {@code O_EXCL}: the file can never be given a name
     */
    default OverlayFile createUnnamed(EntryPath directory, NewEntryAttributes attributes, boolean linkable)
            throws IOException {
        throw Errno.EOPNOTSUPP.exception(directory, "this overlay cannot make unnamed files");
    }

    /**
     * {@code linkat(fd, "", dir, name, AT_EMPTY_PATH)} of a file from {@link #createUnnamed}:
     * gives it the name {@code link} (a later call gives it one more). EEXIST when the name is
     * taken, ENOENT for a file created not linkable or one that is not unnamed.
     */
    default void linkUnnamed(OverlayFile file, EntryPath link) throws IOException {
        throw Errno.ENOENT.exception(link, "this overlay has no unnamed files");
    }

    void createDirectory(EntryPath directory, NewEntryAttributes attributes) throws IOException;

    void createSymlink(EntryPath link, String target, NewEntryAttributes attributes) throws IOException;

    /** {@code mknod(2)} of a device node, FIFO or socket. */
    void createSpecial(EntryPath path, EntryType type, NewEntryAttributes attributes, long rdev) throws IOException;

    /** {@code link(2)}; a lower file is copied up first. */
    void link(EntryPath existing, EntryPath link) throws IOException;

    /** {@code unlink(2)}: EISDIR for a directory. */
    void unlink(EntryPath path) throws IOException;

    /** {@code rmdir(2)}: ENOTDIR for a non-directory, ENOTEMPTY unless the merged directory is empty. */
    void removeDirectory(EntryPath directory) throws IOException;

    /** {@code renameat2(2)}. */
    void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException;

    void setPermissions(EntryPath path, int permissions) throws IOException;

    /** {@code lchown(2)}; -1 keeps the current value. */
    void setOwner(EntryPath path, int uid, int gid) throws IOException;

    /** {@code utimensat(2)} without following a final symlink; see {@link WritableLayer#TIME_OMIT}, {@link WritableLayer#TIME_NOW}. */
    void setTimes(EntryPath path, long atimeNanos, long mtimeNanos) throws IOException;

    /** {@code truncate(2)}. */
    void truncate(EntryPath file, long size) throws IOException;

    List<String> listXattrs(EntryPath path) throws IOException;

    /** One extended attribute's value; ENODATA when there is none of that name. */
    byte[] readXattr(EntryPath path, String name) throws IOException;

    void setXattr(EntryPath path, String name, byte[] value, XattrMode mode) throws IOException;

    void removeXattr(EntryPath path, String name) throws IOException;

    /**
     * {@code FS_IOC_GETFLAGS} ({@code lsattr(1)}): the inode flags of the entry's layer, with
     * the immutable and append-only flags that the overlay keeps itself (the kernel's
     * {@code overlay.protattr} xattr) merged in. ENOTTY for an entry that is neither a regular
     * file nor a directory or a layer without such flags, EOPNOTSUPP where its store lacks them.
     */
    default int fileFlags(EntryPath path) throws IOException {
        throw Errno.ENOTTY.exception(path, "this overlay keeps no inode flags");
    }

    /** {@code FS_IOC_FSGETXATTR}: as {@link #fileFlags}, in the {@code struct fsxattr} form. */
    default FsxAttributes fsxAttributes(EntryPath path) throws IOException {
        throw Errno.ENOTTY.exception(path, "this overlay keeps no inode flags");
    }

    /**
     * {@code FS_IOC_SETFLAGS} ({@code chattr(1)}), as the kernel's overlayfs does it: the entry is
     * copied up, immutable and append-only are kept in the overlay's {@code protattr} xattr on
     * the upper entry (removed when both are cleared), and the other flags are set on the upper
     * entry, with its store's errors. EROFS when the overlay is read-only. The caller checks
     * privileges (CAP_LINUX_IMMUTABLE, ownership) as the kernel's VFS does before the call.
     */
    default void setFileFlags(EntryPath path, int flags) throws IOException {
        throw Errno.ENOTTY.exception(path, "this overlay keeps no inode flags");
    }

    /** {@code FS_IOC_FSSETXATTR}: as {@link #setFileFlags}, in the {@code struct fsxattr} form. */
    default void setFsxAttributes(EntryPath path, FsxAttributes attributes) throws IOException {
        throw Errno.ENOTTY.exception(path, "this overlay keeps no inode flags");
    }

    /** {@code statfs(2)}: the upper layer's store, else the topmost lower's. */
    StoreSpace space() throws IOException;

    /** {@code syncfs(2)}: everything written reaches stable storage; nothing with {@link OverlayConfig#volatileMount()}. */
    void sync() throws IOException;

    /**
     * {@code fsync(2)} of a directory (the FUSE opcode FSYNCDIR): its entries, and its own
     * attributes when {@code metadata} ({@code fdatasync(2)} without), reach stable storage.
     * As in the kernel's overlayfs only the directory's upper directory is synced: a directory
     * that lies in lower layers only has nothing to sync, and a volatile overlay syncs nothing.
     * ENOENT when nothing has that name, ENOTDIR when it is not a directory. The default syncs
     * everything ({@link #sync()}).
     */
    default void syncDirectory(EntryPath directory, boolean metadata) throws IOException {
        sync();
    }

    /**
     * Forgets what the overlay cached of {@code path} and below because a lower layer changed
     * there behind it (lower layers are assumed not to change otherwise). Layers that report
     * their changes ({@link Layer#addChangeListener}) need no call.
     */
    default void invalidate(EntryPath path) {
    }

    /**
     * Registers a listener for paths of the overlay whose entries a lower layer reported
     * changed behind it ({@link Layer#addChangeListener}), once the overlay has dropped what it
     * cached of them: a frontend with caches of its own drops those too. The path is the one
     * in the layer, which is the overlay's path except below a directory renamed with
     * {@code redirect_dir}. Engines without the notion never call it.
     */
    default void addChangeListener(Layer.ChangeListener listener) {
    }

    /** Hears of copy-ups (see {@link #addCopyUpListener}). */
    @FunctionalInterface
    interface CopyUpListener {
        /** The entry at {@code path}, and so its parent directory, just got their upper copies. */
        void copiedUp(EntryPath path);
    }

    /**
     * Registers a listener for copy-ups. A copy-up changes attributes of entries the operation
     * that caused it did not name: the copied directories' and their parents' change times, and
     * a copied directory's link count (a merged directory counts 1), as on the kernel's overlayfs.
     * A frontend that caches attributes drops those of {@code path} and its parent. Called on the
     * thread of the operation, before it returns: it must be quick and must not call the overlay.
     * Engines without copy-up never call it.
     */
    default void addCopyUpListener(CopyUpListener listener) {
    }

    /** Closes the overlay and all its layers. Files still open fail afterwards with EBADF. */
    @Override
    void close() throws IOException;
}
