package dev.overlay4j.api;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A read-only tree of entries: one layer of an overlay. Whiteouts and opaque directories are
 * part of the model ({@link EntryType#WHITEOUT}, {@link EntryAttributes#opaque()}), whatever
 * format the backend stores them in. Implementations are safe for concurrent use.
 *
 * <p>Errors use the {@code java.nio.file} exception types, preferably created through
 * {@link Errno#exception(String, String, String)}: a missing entry is a
 * {@code NoSuchFileException}, a path through a non-directory a {@code NotDirectoryException}.
 */
public interface Layer extends Closeable {

    /** How the user named this layer (path or URI), for messages; never contains credentials. */
    String description();

    /**
     * The entry's metadata without following a final symlink, or empty when no entry has
     * that name (also when a parent is missing). Whiteouts are reported as entries of type
     * {@link EntryType#WHITEOUT}. A path through a non-directory fails with ENOTDIR.
     */
    Optional<EntryAttributes> stat(EntryPath path) throws IOException;

    /**
     * The names in a directory, whiteouts included, without {@code .} and {@code ..}, in no
     * particular order. The stream holds resources: close it.
     */
    Stream<DirectoryEntry> list(EntryPath directory) throws IOException;

    /** Opens a regular file for positional reads. */
    ReadableContent openRead(EntryPath file) throws IOException;

    /** The target of a symlink, as stored. */
    String readLink(EntryPath link) throws IOException;

    /** The extended attribute names of an entry, without the overlay's own marks. */
    List<String> listXattrs(EntryPath path) throws IOException;

    /** The value of one extended attribute, or empty when the entry has none of that name. */
    Optional<byte[]> readXattr(EntryPath path, String name) throws IOException;

    /**
     * An overlay-private attribute such as the one that keeps a copied-up file's inode number,
     * stored under {@link LayerOptions#overlayXattrPrefix()} + {@code key}; empty when absent
     * or when the layer cannot hold such attributes.
     */
    default Optional<byte[]> readOverlayXattr(EntryPath path, String key) throws IOException {
        return Optional.empty();
    }

    /**
     * A file on the local disk that holds this regular file's bytes, for frontends that hand
     * reads to the kernel (FUSE passthrough); empty when the bytes are not local.
     */
    default Optional<Path> localFile(EntryPath file) throws IOException {
        return Optional.empty();
    }

    /**
     * The entry's inode flags, as {@code FS_IOC_GETFLAGS} ({@code lsattr(1)}) reads them from
     * a regular file or directory: the {@code FS_*_FL} bits.
     *
     * @throws java.nio.file.FileSystemException with ENOTTY when the layer has no such flags (the
     *         default) or the entry is neither a file nor a directory, EOPNOTSUPP when its store lacks them
     */
    default int fileFlags(EntryPath path) throws IOException {
        throw Errno.ENOTTY.exception(path.toString(), null, description() + " keeps no inode flags");
    }

    /**
     * The entry's {@code struct fsxattr}, as {@code FS_IOC_FSGETXATTR} reads it; errors as
     * {@link #fileFlags}.
     */
    default FsxAttributes fsxAttributes(EntryPath path) throws IOException {
        throw Errno.ENOTTY.exception(path.toString(), null, description() + " keeps no inode flags");
    }

    /**
     * Whether reading this layer may wait long: a store across a network, which may also stop
     * answering. The overlay then makes an operation's reads of such a layer once before it
     * takes its namespace lock, so that a wait there holds up no change elsewhere in the
     * overlay; such a layer keeps what it read, so the second read under the lock is quick.
     * False, the default, for local stores.
     */
    default boolean remote() {
        return false;
    }

    /** Capacity of the store under the layer, when it has one. */
    default Optional<StoreSpace> space() throws IOException {
        return Optional.empty();
    }

    /**
     * Hears of entries that changed in a layer's store behind the overlay: an object store that
     * other machines write to. Called on whichever thread noticed the change, possibly one that
     * is answering a read, so it must return quickly and must not call into the overlay itself.
     */
    @FunctionalInterface
    interface ChangeListener {
        /** The entry at {@code path} changed: its bytes or metadata, or (a directory) its names. */
        void changed(EntryPath path);
    }

    /**
     * Registers a listener for changes this layer notices behind the overlay (a listing that
     * comes back with new, removed or changed entries). Layers whose store does not change
     * while they are open, the default, never call it.
     */
    default void addChangeListener(ChangeListener listener) {
    }
}
