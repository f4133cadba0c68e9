package dev.overlay4j.core;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.FsxAttributes;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.StoreSpace;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The overlay: checks, locking and the order of steps for every operation; the rules themselves
 * live in {@link Lookup}, {@link DirectoryMerge}, {@link CopyUp}, {@link DirectoryOperations},
 * {@link Rename} and {@link InodeNumbers}.
 *
 * <p>Locking: operations that add, remove or move names hold the namespace write lock; all
 * others (reads, copy-up, changes of an entry's metadata or data) hold the read lock, with
 * copy-ups of one path serialized by {@link PathLocks}. A copy-up publishes atomically, so a
 * concurrent reader sees the entry either before or after it.
 *
 * <p>Lookup caches the merged state of directories ({@link DirectoryCache}); every operation that
 * adds, removes or moves names drops what is cached at its paths when it ends, and a copy-up
 * does so for the path it copied.
 */
final class MergedOverlay implements Overlay {

    /** Xattrs under this prefix are the overlay's own marks (trusted.overlay. or user.overlay.). */
    private final String privateXattrPrefix;
    private final OverlayConfig config;
    private final LayerStack layers;
    private final boolean readOnly;
    /** False with option {@code volatile}: then nothing is forced to stable storage. */
    private final boolean syncs;
    private final Lookup lookup;
    private final DirectoryMerge directories;
    private final SymlinkResolution symlinks;
    private final CopyUp copyUp;
    private final DirectoryOperations directoryOperations;
    private final Rename rename;
    /** Owners and link counts as shown, and owners as stored: id mappings, squash, static_nlink. */
    private final ShownAttributes shown;
    private final InodeFlags inodeFlags;
    private final ReentrantReadWriteLock namespace = new ReentrantReadWriteLock();
    /** Reads of remote lower layers made before the namespace lock, so that their waits hold up no one. */
    private final RemoteReads remoteReads;
    private final Set<OpenFile> openFiles = ConcurrentHashMap.newKeySet();
    private final List<Layer.ChangeListener> changeListeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    MergedOverlay(OverlayConfig config, LayerStack layers) {
        this.config = config;
        this.layers = layers;
        this.readOnly = config.readOnly() || !layers.hasUpper();
        this.syncs = !config.volatileMount();
        this.privateXattrPrefix = config.layerOptions().overlayXattrPrefix();
        this.shown = ShownAttributes.of(config);
        HardLinkIndex index = layers.index() == null ? null : new HardLinkIndex(layers.upper(), layers.index());
        this.lookup = new Lookup(layers, index);
        this.remoteReads = new RemoteReads(layers);
        this.directories = new DirectoryMerge(layers, lookup);
        this.symlinks = new SymlinkResolution(lookup, layers);
        if (layers.hasUpper()) {
            WritableLayer upper = layers.upper();
            Staging staging = new Staging(upper);
            Whiteouts whiteouts = new Whiteouts(upper, staging, directories);
            this.copyUp = new CopyUp(layers, lookup, staging, new PathLocks(), index, syncs);
            this.directoryOperations = new DirectoryOperations(upper, lookup, copyUp, staging, whiteouts, directories);
            this.rename = new Rename(upper, config.redirectDir(), lookup, copyUp, whiteouts, directories);
        } else {
            this.copyUp = null;
            this.directoryOperations = null;
            this.rename = null;
        }
        this.inodeFlags = new InodeFlags(layers, privateXattrPrefix);
        for (int i = 1; i <= layers.lowerCount(); i++) {
            layers.layer(i).addChangeListener(this::lowerChanged);
        }
    }

    @Override
    public void invalidate(EntryPath path) {
        lookup.lowerChanged(path);
    }

    /** A lower layer's entry changed behind the overlay: forget its merged state, then say so. */
    private void lowerChanged(EntryPath path) {
        if (closed) {
            return;
        }
        invalidate(path);
        for (Layer.ChangeListener listener : changeListeners) {
            try {
                listener.changed(path);
            } catch (RuntimeException e) {
                System.getLogger(MergedOverlay.class.getName()).log(System.Logger.Level.WARNING,
                        "a change listener failed for " + path, e);
            }
        }
    }

    @Override
    public void addChangeListener(Layer.ChangeListener listener) {
        changeListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void addCopyUpListener(CopyUpListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (copyUp != null) {
            copyUp.addListener(listener);
        }
    }

    @FunctionalInterface
    private interface Action<T> {
        T run() throws IOException;
    }

    @FunctionalInterface
    private interface VoidAction {
        void run() throws IOException;
    }

    private <T> T reading(EntryPath path, Action<T> action) throws IOException {
        return locked(namespace.readLock(), path, action);
    }

    private void changingEntry(EntryPath path, VoidAction action) throws IOException {
        locked(namespace.readLock(), path, () -> {
            action.run();
            return null;
        });
    }

    /**
     * Runs an operation that adds, removes or moves names; afterwards (also after a failure
     * part-way) the cached merged state of {@code changed} and below is dropped.
     */
    private void changingNames(EntryPath path, VoidAction action, EntryPath... changed) throws IOException {
        // Removing or moving a directory lists it (is it empty, what must be whited out).
        for (EntryPath other : changed) {
            remoteReads.prefetch(other, true);
        }
        locked(namespace.writeLock(), path, true, () -> {
            try {
                action.run();
            } finally {
                lookup.invalidate(path);
                for (EntryPath other : changed) {
                    lookup.invalidate(other);
                }
            }
            return null;
        });
    }

    private <T> T locked(Lock lock, EntryPath path, Action<T> action) throws IOException {
        return locked(lock, path, false, action);
    }

    /** With {@code listing}, the operation lists {@code path} when it is a directory. */
    private <T> T locked(Lock lock, EntryPath path, boolean listing, Action<T> action) throws IOException {
        checkOpen(path);
        remoteReads.prefetch(path, listing);
        lock.lock();
        try {
            checkOpen(path);
            return action.run();
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen(Object path) throws IOException {
        if (closed) {
            throw Errno.EBADF.exception(path, "overlay closed");
        }
    }

    private void requireWritable(EntryPath path) throws IOException {
        if (readOnly) {
            throw Errno.EROFS.exception(path, layers.hasUpper() ? "the overlay is mounted read-only"
                    : "the overlay has no upper layer");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Whether fsync and the like reach stable storage: false for a volatile overlay, where they do nothing. */
    boolean syncs() {
        return syncs;
    }

    @Override
    public OverlayConfig config() {
        return config;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public boolean remote() {
        return remoteReads.any();
    }

    @Override
    public EntryAttributes stat(EntryPath path) throws IOException {
        return reading(path, () -> shown.shown(lookup.get(path).attributes()));
    }

    /** What stat shows of an entry with the stored {@code attributes}; for open files. */
    EntryAttributes shown(EntryAttributes attributes) {
        return shown.shown(attributes);
    }

    /** How many regular files have been copied up; 0 for a read-only overlay. */
    long filesCopiedUp() {
        return copyUp == null ? 0 : copyUp.filesCopiedUp();
    }

    /**
     * The upper layer's content of {@code path} when the file there is the one with overlay
     * inode {@code inode}, i.e. when it (or, for a lower hard link, another of its names) has
     * been copied up since a handle was opened on it.
     */
    Optional<ReadableContent> copiedUpContent(EntryPath path, long inode) throws IOException {
        return reading(path, () -> {
            Optional<MergedEntry> now;
            try {
                now = lookup.find(path);
            } catch (IOException e) {
                // The name is gone with a parent (removed or renamed): nothing there to follow.
                return Optional.empty();
            }
            if (now.isEmpty() || now.get().inode() != inode || now.get().top().layer() > LayerStack.UPPER
                    || !now.get().top().attributes().isRegularFile()) {
                return Optional.empty();
            }
            LayerEntry top = now.get().top();
            return Optional.of(layers.layer(top.layer()).openRead(top.path()));
        });
    }

    /**
     * Whether the file of overlay inode {@code inode} whose real inode in the upper store is
     * {@code realInode} is the index copy of a lower hard link ({@link HardLinkIndex}), so one
     * of its links is the index's.
     */
    boolean isIndexCopy(long inode, long realInode) throws IOException {
        WritableLayer index = layers.index();
        if (index == null) {
            return false;
        }
        return reading(EntryPath.ROOT, () -> index.stat(HardLinkIndex.key(inode))
                .filter(copy -> copy.isRegularFile() && copy.inode() == realInode).isPresent());
    }

    /** fstat of an open file: the entry at {@code path} if it still has the file's inode number. */
    Optional<EntryAttributes> statIfSame(EntryPath path, long inode) throws IOException {
        return reading(path, () -> {
            try {
                return lookup.find(path).filter(e -> e.inode() == inode).map(MergedEntry::attributes);
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }

    @Override
    public EntryPath resolve(EntryPath path, boolean followLastLink) throws IOException {
        return reading(path, () -> symlinks.resolve(path, followLastLink));
    }

    @Override
    public List<DirectoryEntry> listDirectory(EntryPath directory) throws IOException {
        return locked(namespace.readLock(), directory, true, () -> directories.list(lookup.directory(directory)));
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        return reading(link, () -> {
            LayerEntry top = lookup.get(link).top();
            if (!top.attributes().isSymlink()) {
                throw Errno.EINVAL.exception(link, "not a symbolic link");
            }
            return layers.layer(top.layer()).readLink(top.path());
        });
    }

    @Override
    public OverlayFile open(EntryPath path, Set<? extends OpenOption> options, NewEntryAttributes create)
            throws IOException {
        boolean write = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
        boolean append = options.contains(StandardOpenOption.APPEND);
        boolean truncate = write && options.contains(StandardOpenOption.TRUNCATE_EXISTING);
        boolean createNew = options.contains(StandardOpenOption.CREATE_NEW);
        boolean mayCreate = createNew || options.contains(StandardOpenOption.CREATE);
        Action<OverlayFile> opening = () -> {
            if (path.isRoot()) {
                throw Errno.EISDIR.exception(path);
            }
            MergedEntry parent = lookup.directory(path.parent());
            Optional<MergedEntry> found = lookup.child(parent, path.fileName());
            if (found.isPresent()) {
                if (createNew) {
                    throw Errno.EEXIST.exception(path);
                }
                return openExisting(found.get(), write, append, truncate);
            }
            if (!mayCreate) {
                throw Errno.ENOENT.exception(path);
            }
            requireWritable(path);
            guardNames(path, false);
            if (create == null) {
                throw new IllegalArgumentException("creating " + path + " needs its owner and permissions");
            }
            try {
                directoryOperations.create(path, false, shown.stored(create),
                        (layer, at, owned) -> layer.createFile(at, owned).close());
            } finally {
                lookup.invalidate(path);
            }
            return openExisting(lookup.get(path), write, append, false);
        };
        OverlayFile file = mayCreate ? locked(namespace.writeLock(), path, opening) : reading(path, opening);
        return file;
    }

    private OverlayFile openExisting(MergedEntry entry, boolean write, boolean append, boolean truncate)
            throws IOException {
        EntryPath path = entry.path();
        EntryType type = entry.top().attributes().type();
        switch (type) {
            case REGULAR_FILE -> {
            }
            case DIRECTORY -> throw Errno.EISDIR.exception(path);
            case SYMLINK -> throw Errno.ELOOP.exception(path, "the last name is a symbolic link (resolve it first)");
            default -> throw Errno.ENXIO.exception(path, "not a regular file: " + type);
        }
        OpenFile file;
        if (write) {
            requireWritable(path);
            inodeFlags.requireChangeable(entry, append && !truncate);
            MergedEntry copied = copyUp.ensureUpper(entry, !truncate);
            WritableContent content = layers.upper().openWrite(path);
            try {
                if (truncate) {
                    content.truncate(0);
                }
                Optional<Path> local = layers.upper().localFile(path); // the upper entry may move later
                file = new OpenFile(this, path, content, true, append, copied.attributes(), () -> local);
            } catch (IOException | RuntimeException e) {
                content.close();
                throw e;
            }
        } else {
            LayerEntry top = entry.top();
            Layer layer = layers.layer(top.layer());
            ReadableContent content = layer.openRead(top.path());
            try {
                OpenFile.LocalFile local;
                if (top.layer() == LayerStack.UPPER) {
                    Optional<Path> known = layer.localFile(top.path()); // the upper entry may move later
                    local = () -> known;
                } else {
                    local = () -> layer.localFile(top.path()); // a lower entry stays where it is
                }
                file = new OpenFile(this, path, content, false, false, entry.attributes(), local);
                if (top.layer() > LayerStack.UPPER && copyUp != null) {
                    file.followCopyUp(copyUp.filesCopiedUp());
                }
            } catch (IOException | RuntimeException e) {
                content.close();
                throw e;
            }
        }
        return registered(file, path);
    }

    /** Keeps {@code file} among the open files, closed with the overlay; EBADF when that closed meanwhile. */
    private OpenFile registered(OpenFile file, EntryPath path) throws IOException {
        openFiles.add(file);
        if (closed) {
            file.closeForOverlay();
            throw Errno.EBADF.exception(path, "overlay closed");
        }
        return file;
    }

    /**
     * O_TMPFILE, as the kernel's ovl_tmpfile: the directory is copied up, then the upper layer
     * makes the file in it. Its inode number is the one its upper entry will have once named.
     */
    @Override
    public OverlayFile createUnnamed(EntryPath directory, NewEntryAttributes attributes, boolean linkable)
            throws IOException {
        OpenFile file = reading(directory, () -> {
            MergedEntry parent = lookup.directory(directory);
            requireWritable(directory);
            inodeFlags.requireNamesChange(parent, false);
            // Owned as every new file (inode_init_owner applies to O_TMPFILE too), with its ids as stored.
            NewEntryAttributes owned = DirectoryOperations.inherited(parent.attributes(), shown.stored(attributes), false);
            MergedEntry upperDirectory = copyUp.upperDirectory(directory);
            WritableContent content = layers.upper().createUnnamedFile(upperDirectory.upper().path(), owned);
            try {
                long now = System.currentTimeMillis() * 1_000_000L;
                EntryAttributes real = content.stat().orElse(new EntryAttributes(EntryType.REGULAR_FILE,
                        owned.permissions(), owned.uid(), owned.gid(), 0, 0, now, now, now, 0, 0, 0, false, null));
                EntryAttributes shown = real.withInode(InodeNumbers.compose(LayerStack.UPPER, real.inode()));
                return OpenFile.unnamed(this, directory, content, shown, linkable);
            } catch (IOException | RuntimeException e) {
                content.close();
                throw e;
            }
        });
        return registered(file, directory);
    }

    /** linkat(fd, "", ..., AT_EMPTY_PATH) of an unnamed file: a new name, made as every new name is. */
    @Override
    public void linkUnnamed(OverlayFile file, EntryPath link) throws IOException {
        if (!(file instanceof OpenFile open) || !open.isUnnamed() || !openFiles.contains(open)) {
            throw Errno.ENOENT.exception(link, "not an open unnamed file of this overlay");
        }
        if (!open.isLinkable()) {
            throw Errno.ENOENT.exception(link, "the unnamed file was made with O_EXCL: it can have no name");
        }
        WritableContent content = open.unnamedContent();
        changingNames(link, () -> {
            requireParent(link);
            requireWritable(link);
            guardNames(link, false);
            // Linking makes no new inode: the owner and mode a creation gets are not used.
            directoryOperations.create(link, false, new NewEntryAttributes(0, 0, 0),
                    (layer, at, unused) -> layer.linkUnnamed(content, at));
        });
    }

    void forget(OpenFile file) {
        openFiles.remove(file);
    }

    @Override
    public void createDirectory(EntryPath directory, NewEntryAttributes given) throws IOException {
        NewEntryAttributes attributes = shown.stored(given);
        changingNames(directory, () -> {
            requireParent(directory);
            requireWritable(directory);
            guardNames(directory, false);
            directoryOperations.create(directory, true, attributes, WritableLayer::createDirectory);
        });
    }

    @Override
    public void createSymlink(EntryPath link, String target, NewEntryAttributes given) throws IOException {
        NewEntryAttributes attributes = shown.stored(given);
        changingNames(link, () -> {
            requireParent(link);
            requireWritable(link);
            guardNames(link, false);
            if (target.isEmpty()) {
                throw Errno.ENOENT.exception(link, "a symlink target must not be empty");
            }
            directoryOperations.create(link, false, attributes,
                    (layer, at, owned) -> layer.createSymlink(at, target, owned));
        });
    }

    @Override
    public void createSpecial(EntryPath path, EntryType type, NewEntryAttributes given, long rdev)
            throws IOException {
        NewEntryAttributes attributes = shown.stored(given);
        changingNames(path, () -> {
            requireParent(path);
            requireWritable(path);
            guardNames(path, false);
            DirectoryOperations.Creation creation = switch (type) {
                case CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET ->
                        (layer, at, owned) -> layer.createSpecial(at, type, owned, rdev);
                case REGULAR_FILE -> (layer, at, owned) -> layer.createFile(at, owned).close();
                case DIRECTORY -> throw Errno.EPERM.exception(path, "mknod cannot create a directory");
                case SYMLINK, WHITEOUT, UNKNOWN -> throw Errno.EINVAL.exception(path, "mknod cannot create a " + type);
            };
            directoryOperations.create(path, false, attributes, creation);
        });
    }

    @Override
    public void link(EntryPath existing, EntryPath link) throws IOException {
        changingNames(link, () -> {
            MergedEntry source = lookup.get(existing);
            requireParent(link);
            requireWritable(link);
            if (!source.isDirectory()) {
                inodeFlags.requireChangeable(source, false);
            }
            guardNames(link, false);
            directoryOperations.link(existing, link);
        });
    }

    @Override
    public void unlink(EntryPath path) throws IOException {
        changingNames(path, () -> {
            requireParent(path);
            requireWritable(path);
            guardRemoval(path);
            directoryOperations.unlink(path);
        });
    }

    @Override
    public void removeDirectory(EntryPath directory) throws IOException {
        changingNames(directory, () -> {
            requireParent(directory);
            requireWritable(directory);
            guardRemoval(directory);
            directoryOperations.removeDirectory(directory);
        });
    }

    @Override
    public void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        changingNames(source, () -> {
            requireParent(source);
            requireParent(target);
            requireWritable(source);
            guardRemoval(source);
            guardNames(target, false);
            guardRemoval(target);
            rename.rename(source, target, mode);
        }, target);
    }

    /** EPERM when the parent of {@code path} is immutable, or append-only and a name goes ({@link InodeFlags}). */
    private void guardNames(EntryPath path, boolean removing) throws IOException {
        if (!path.isRoot()) {
            inodeFlags.requireNamesChange(lookup.directory(path.parent()), removing);
        }
    }

    /** For a name about to go (unlink, rmdir, rename, replaced): EPERM when it or its directory is protected. */
    private void guardRemoval(EntryPath path) throws IOException {
        Optional<MergedEntry> entry = path.isRoot() ? Optional.empty() : lookup.child(lookup.directory(path.parent()),
                path.fileName());
        if (entry.isPresent()) {
            guardNames(path, true);
            inodeFlags.requireChangeable(entry.get(), false);
        }
    }

    /** The parent must exist and be a directory before EROFS is considered, as in the kernel's path walk. */
    private void requireParent(EntryPath path) throws IOException {
        if (!path.isRoot()) {
            Lookup.checkName(path, path.fileName());
            lookup.directory(path.parent());
        }
    }

    @Override
    public void setPermissions(EntryPath path, int permissions) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            if (entry.top().attributes().isSymlink()) {
                throw Errno.EOPNOTSUPP.exception(path, "the permissions of a symbolic link cannot change");
            }
            requireWritable(path);
            inodeFlags.requireChangeable(entry, false);
            copyUp.ensureUpper(entry, true);
            layers.upper().setPermissions(path, permissions);
        });
    }

    @Override
    public void setOwner(EntryPath path, int uid, int gid) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            requireWritable(path);
            inodeFlags.requireChangeable(entry, false);
            copyUp.ensureUpper(entry, true);
            try {
                layers.upper().setOwner(path, shown.storedUid(uid), shown.storedGid(gid));
            } catch (IOException e) {
                if (!shown.squashes()) {
                    throw e;
                }
                // fuse-overlayfs: with squash_to_* every owner shows the same, and a chown the
                // upper layer refuses (no privilege to chown) succeeds without effect.
            }
        });
    }

    @Override
    public void setTimes(EntryPath path, long atimeNanos, long mtimeNanos) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            requireWritable(path);
            // Touching to the current time is allowed on an append-only file, setting times is not.
            inodeFlags.requireChangeable(entry, atimeNanos == WritableLayer.TIME_NOW && mtimeNanos == WritableLayer.TIME_NOW);
            copyUp.ensureUpper(entry, true);
            layers.upper().setTimes(path, atimeNanos, mtimeNanos);
        });
    }

    @Override
    public void truncate(EntryPath file, long size) throws IOException {
        changingEntry(file, () -> {
            MergedEntry entry = lookup.get(file);
            EntryType type = entry.top().attributes().type();
            if (type == EntryType.DIRECTORY) {
                throw Errno.EISDIR.exception(file);
            }
            if (type != EntryType.REGULAR_FILE || size < 0) {
                throw Errno.EINVAL.exception(file, size < 0 ? "negative size " + size : "not a regular file");
            }
            requireWritable(file);
            inodeFlags.requireChangeable(entry, false);
            copyUp.ensureUpper(entry, size > 0);
            try (WritableContent content = layers.upper().openWrite(file)) {
                content.truncate(size);
            }
        });
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        return reading(path, () -> {
            refuseXattrs(path);
            LayerEntry top = lookup.get(path).top();
            return layers.layer(top.layer()).listXattrs(top.path()).stream()
                    .filter(name -> !isPrivate(name)).toList();
        });
    }

    @Override
    public byte[] readXattr(EntryPath path, String name) throws IOException {
        return reading(path, () -> {
            MergedEntry entry = lookup.get(path);
            refuseXattrs(path);
            refusePrivate(path, name);
            return shown.shownXattr(name, valueOf(entry, name)
                    .orElseThrow(() -> Errno.ENODATA.exception(path, "no attribute " + name)));
        });
    }

    private Optional<byte[]> valueOf(MergedEntry entry, String name) throws IOException {
        LayerEntry top = entry.top();
        return layers.layer(top.layer()).readXattr(top.path(), name);
    }

    @Override
    public void setXattr(EntryPath path, String name, byte[] value, XattrMode mode) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            refuseXattrs(path);
            refusePrivate(path, name);
            requireWritable(path);
            inodeFlags.requireChangeable(entry, false);
            if (entry.indexed() != null) {
                layers.index().setXattr(entry.indexed().path(), name, value, mode); // see indexedOnly
                return;
            }
            copyUp.ensureUpper(entry, true);
            layers.upper().setXattr(path, name, shown.storedXattr(name, value), mode);
        });
    }

    @Override
    public void removeXattr(EntryPath path, String name) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            refuseXattrs(path);
            refusePrivate(path, name);
            requireWritable(path);
            inodeFlags.requireChangeable(entry, false);
            if (!entry.hasUpper() && valueOf(entry, name).isEmpty()) {
                throw Errno.ENODATA.exception(path, "no attribute " + name); // no copy-up for nothing, as the kernel does
            }
            if (entry.indexed() != null) {
                layers.index().removeXattr(entry.indexed().path(), name); // see indexedOnly
                return;
            }
            copyUp.ensureUpper(entry, true);
            layers.upper().removeXattr(path, name);
        });
    }

    /** With {@code noxattrs=1} the overlay has no extended attributes at all. */
    private void refuseXattrs(EntryPath path) throws IOException {
        if (config.noXattrs()) {
            throw Errno.EOPNOTSUPP.exception(path, "extended attributes are off (option noxattrs=1)");
        }
    }

    /*
     * indexedOnly: a name of a lower hard link seen through the index copy of its file has its
     * xattrs set and removed on that copy, without being copied up itself: the kernel's
     * ovl_xattr_set copies up only an inode that has no upper yet, and for such a name the index
     * copy is its upper. Every other change (chmod, chown, times, writes) copies the name up.
     */

    private boolean isPrivate(String name) {
        return name.startsWith(privateXattrPrefix);
    }

    /** The overlay's own xattrs are neither readable nor writable through it (the kernel answers EOPNOTSUPP). */
    private void refusePrivate(EntryPath path, String name) throws IOException {
        if (isPrivate(name)) {
            throw Errno.EOPNOTSUPP.exception(path, name + " is reserved for the overlay");
        }
    }

    @Override
    public int fileFlags(EntryPath path) throws IOException {
        return reading(path, () -> inodeFlags.flags(lookup.get(path)));
    }

    @Override
    public FsxAttributes fsxAttributes(EntryPath path) throws IOException {
        return reading(path, () -> inodeFlags.fsxAttributes(lookup.get(path)));
    }

    @Override
    public void setFileFlags(EntryPath path, int flags) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            InodeFlags.requireFlaggable(entry);
            requireWritable(path);
            inodeFlags.setFlags(copyUp.ensureUpper(entry, true), flags);
        });
    }

    @Override
    public void setFsxAttributes(EntryPath path, FsxAttributes attributes) throws IOException {
        changingEntry(path, () -> {
            MergedEntry entry = lookup.get(path);
            InodeFlags.requireFlaggable(entry);
            requireWritable(path);
            inodeFlags.setFsxAttributes(copyUp.ensureUpper(entry, true), attributes);
        });
    }

    @Override
    public StoreSpace space() throws IOException {
        return reading(EntryPath.ROOT, () -> {
            Optional<StoreSpace> space = Optional.empty();
            if (layers.hasUpper()) {
                space = layers.upper().space();
            }
            if (space.isEmpty()) {
                space = layers.layer(1).space();
            }
            return space.orElse(new StoreSpace(0, 0, 0, 0, 0, 0, EntryPath.NAME_MAX));
        });
    }

    @Override
    public void sync() throws IOException {
        reading(EntryPath.ROOT, () -> {
            if (syncs && layers.hasUpper()) {
                layers.upper().sync();
            }
            return null;
        });
    }

    @Override
    public void syncDirectory(EntryPath directory, boolean metadata) throws IOException {
        reading(directory, () -> {
            MergedEntry entry = lookup.get(directory);
            if (!entry.isDirectory()) {
                throw Errno.ENOTDIR.exception(directory, "only a directory is synced as a directory");
            }
            if (syncs && entry.hasUpper()) {
                layers.upper().syncDirectory(entry.upper().path(), metadata); // a lower directory has nothing to sync
            }
            return null;
        });
    }

    @Override
    public void close() throws IOException {
        namespace.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            namespace.writeLock().unlock();
        }
        for (OpenFile file : openFiles) {
            file.closeForOverlay();
        }
        openFiles.clear();
        layers.close();
    }

    @Override
    public String toString() {
        return "overlay " + config;
    }
}
