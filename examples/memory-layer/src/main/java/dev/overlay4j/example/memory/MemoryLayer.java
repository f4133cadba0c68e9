package dev.overlay4j.example.memory;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One directory tree of a {@link MemoryStore} seen as a layer: the store's tree (with a work
 * area of its own and the store's index), the work area, or the index. Every call takes the
 * store's lock, so each is atomic. No symlink is ever followed.
 */
final class MemoryLayer implements WritableLayer {

    private final MemoryStore store;
    private final Node root;
    /** The work area's root; null for the work area itself. */
    private final Node work;
    /** The index's root, for the tree only. */
    private final Node index;
    private final String description;

    private MemoryLayer(MemoryStore store, Node root, Node work, Node index, String description) {
        this.store = store;
        this.root = root;
        this.work = work;
        this.index = index;
        this.description = description;
    }

    static MemoryLayer open(MemoryStore store) {
        Node work = store.newNode(EntryType.DIRECTORY, 0700, 0, 0, null, 0);
        return new MemoryLayer(store, store.root, work, store.index, store.toString());
    }

    @Override
    public String description() {
        return description;
    }

    // ---- finding entries

    private IOException error(Errno errno, EntryPath path, String detail) {
        return errno.exception(path.toString(), null, detail + " in " + description);
    }

    /** The entry at {@code path} below {@code top}, or null; ENOTDIR when the way passes a non-directory. */
    private Node find(Node top, EntryPath path) throws IOException {
        Node node = top;
        for (int i = 0; i < path.nameCount(); i++) {
            String name = path.name(i);
            if (!EntryPath.fitsNameMax(name)) {
                throw error(Errno.ENAMETOOLONG, path, "a name longer than " + EntryPath.NAME_MAX + " bytes");
            }
            if (!node.isDirectory()) {
                throw error(Errno.ENOTDIR, path, path.subpath(i) + " is not a directory");
            }
            node = node.children.get(name);
            if (node == null) {
                return null;
            }
        }
        return node;
    }

    private Node existing(Node top, EntryPath path) throws IOException {
        Node node = find(top, path);
        if (node == null) {
            throw error(Errno.ENOENT, path, "no such entry");
        }
        return node;
    }

    /** The directory that holds (or is to hold) {@code path}: ENOENT or ENOTDIR when there is none. */
    private Node parent(Node top, EntryPath path) throws IOException {
        if (path.isRoot()) {
            throw error(Errno.EBUSY, path, "the root has no name to change");
        }
        if (!EntryPath.fitsNameMax(path.fileName())) {
            throw error(Errno.ENAMETOOLONG, path, "a name longer than " + EntryPath.NAME_MAX + " bytes");
        }
        Node parent = existing(top, path.parent());
        if (!parent.isDirectory()) {
            throw error(Errno.ENOTDIR, path, path.parent() + " is not a directory");
        }
        return parent;
    }

    private static void changed(Node node) {
        long now = MemoryStore.now();
        node.mtimeNanos = now;
        node.ctimeNanos = now;
    }

    /** Adds a new entry under a free name. */
    private Node create(EntryPath path, EntryType type, NewEntryAttributes attributes, String target, long rdev)
            throws IOException {
        Node parent = parent(root, path);
        if (parent.children.containsKey(path.fileName())) {
            throw error(Errno.EEXIST, path, "the name is taken");
        }
        Node node = store.newNode(type, attributes.permissions(), attributes.uid(), attributes.gid(), target, rdev);
        parent.children.put(path.fileName(), node);
        changed(parent);
        return node;
    }

    // ---- Layer

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        synchronized (store.lock) {
            return Optional.ofNullable(find(root, path)).map(Node::attributes);
        }
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
        synchronized (store.lock) {
            Node dir = existing(root, directory);
            if (!dir.isDirectory()) {
                throw error(Errno.ENOTDIR, directory, "not a directory");
            }
            List<DirectoryEntry> entries = new ArrayList<>();
            dir.children.forEach((name, node) -> entries.add(new DirectoryEntry(name, node.type, node.inode)));
            return entries.stream();
        }
    }

    private Node regularFile(EntryPath file) throws IOException {
        Node node = existing(root, file);
        return switch (node.type) {
            case REGULAR_FILE -> node;
            case DIRECTORY -> throw error(Errno.EISDIR, file, "a directory");
            case SYMLINK -> throw error(Errno.ELOOP, file, "a symlink, which is not followed");
            default -> throw error(Errno.EINVAL, file, "not a regular file");
        };
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        synchronized (store.lock) {
            return new MemoryContent(store, regularFile(file), description + file, false);
        }
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, link);
            if (node.type != EntryType.SYMLINK) {
                throw error(Errno.EINVAL, link, "not a symlink");
            }
            return node.target;
        }
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        synchronized (store.lock) {
            return List.copyOf(existing(root, path).xattrs.keySet());
        }
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        synchronized (store.lock) {
            return Optional.ofNullable(existing(root, path).xattrs.get(name)).map(byte[]::clone);
        }
    }

    @Override
    public Optional<byte[]> readOverlayXattr(EntryPath path, String key) throws IOException {
        synchronized (store.lock) {
            return Optional.ofNullable(existing(root, path).overlayXattrs.get(key)).map(byte[]::clone);
        }
    }

    // ---- WritableLayer: new entries

    @Override
    public WritableContent openWrite(EntryPath file) throws IOException {
        synchronized (store.lock) {
            return new MemoryContent(store, regularFile(file), description + file, true);
        }
    }

    @Override
    public WritableContent createFile(EntryPath file, NewEntryAttributes attributes) throws IOException {
        synchronized (store.lock) {
            return new MemoryContent(store, create(file, EntryType.REGULAR_FILE, attributes, null, 0),
                    description + file, true);
        }
    }

    @Override
    public void createDirectory(EntryPath directory, NewEntryAttributes attributes) throws IOException {
        synchronized (store.lock) {
            create(directory, EntryType.DIRECTORY, attributes, null, 0);
        }
    }

    @Override
    public void createSymlink(EntryPath link, String target, NewEntryAttributes attributes) throws IOException {
        synchronized (store.lock) {
            create(link, EntryType.SYMLINK, new NewEntryAttributes(0777, attributes.uid(), attributes.gid()), target, 0);
        }
    }

    @Override
    public void createSpecial(EntryPath path, EntryType type, NewEntryAttributes attributes, long rdev) throws IOException {
        synchronized (store.lock) {
            switch (type) {
                case FIFO, SOCKET -> create(path, type, attributes, null, 0);
                case CHARACTER_DEVICE, BLOCK_DEVICE -> create(path, type, attributes, null, rdev);
                default -> throw error(Errno.EINVAL, path, type + " is not a special file");
            }
        }
    }

    @Override
    public void createWhiteout(EntryPath path) throws IOException {
        synchronized (store.lock) {
            create(path, EntryType.WHITEOUT, new NewEntryAttributes(0, 0, 0), null, 0);
        }
    }

    // ---- names: link, delete, rename

    private void link(Node fromTop, EntryPath existing, Node toTop, EntryPath link) throws IOException {
        synchronized (store.lock) {
            Node node = existing(fromTop, existing);
            if (node.isDirectory()) {
                throw error(Errno.EPERM, existing, "a directory cannot be linked");
            }
            Node parent = parent(toTop, link);
            if (parent.children.containsKey(link.fileName())) {
                throw error(Errno.EEXIST, link, "the name is taken");
            }
            parent.children.put(link.fileName(), node);
            node.links++;
            node.ctimeNanos = MemoryStore.now();
            changed(parent);
        }
    }

    @Override
    public void link(EntryPath existing, EntryPath link) throws IOException {
        link(root, existing, root, link);
    }

    @Override
    public void linkIntoWorkArea(EntryPath existing, EntryPath staged) throws IOException {
        if (work == null) {
            throw error(Errno.EOPNOTSUPP, existing, "the work area has no work area");
        }
        link(root, existing, work, staged);
    }

    @Override
    public void linkFromIndex(EntryPath indexed, EntryPath link) throws IOException {
        if (index == null) {
            throw error(Errno.EOPNOTSUPP, indexed, "no index here");
        }
        link(index, indexed, root, link);
    }

    /** The names of {@code node}'s tree are gone: its files lose those links. */
    private static void unlinked(Node node) {
        if (node.isDirectory()) {
            node.children.values().forEach(MemoryLayer::unlinked);
        } else {
            node.links--;
            node.ctimeNanos = MemoryStore.now();
        }
    }

    @Override
    public void delete(EntryPath path) throws IOException {
        synchronized (store.lock) {
            Node parent = parent(root, path);
            Node node = existing(root, path);
            if (node.isDirectory() && !node.children.isEmpty()) {
                throw error(Errno.ENOTEMPTY, path, "the directory holds entries");
            }
            parent.children.remove(path.fileName());
            unlinked(node);
            changed(parent);
        }
    }

    /** {@code renameat2(2)} from one tree of the store to another, optionally with {@code RENAME_WHITEOUT}. */
    private void rename(Node fromTop, EntryPath source, Node toTop, EntryPath target, RenameMode mode,
                        boolean leaveWhiteout) throws IOException {
        synchronized (store.lock) {
            Node fromParent = parent(fromTop, source);
            Node node = existing(fromTop, source);
            Node toParent = parent(toTop, target);
            if (leaveWhiteout && mode == RenameMode.EXCHANGE) {
                throw error(Errno.EINVAL, source, "a whiteout cannot be left by an exchange");
            }
            Node replaced = toParent.children.get(target.fileName());
            if (fromTop == toTop && !source.equals(target)
                    && ((node.isDirectory() && target.startsWith(source))
                        || (mode == RenameMode.EXCHANGE && replaced != null && replaced.isDirectory()
                            && source.startsWith(target)))) {
                throw error(Errno.EINVAL, source, "a directory cannot move below itself");
            }
            if (mode == RenameMode.NOREPLACE && replaced != null) {
                throw error(Errno.EEXIST, target, "the name is taken");
            }
            if (mode == RenameMode.EXCHANGE) {
                if (replaced == null) {
                    throw error(Errno.ENOENT, target, "nothing to exchange with");
                }
                fromParent.children.put(source.fileName(), replaced);
                toParent.children.put(target.fileName(), node);
                changed(fromParent);
                changed(toParent);
                return;
            }
            if (replaced == node) {
                return; // two names of one file: rename(2) does nothing
            }
            if (replaced != null) {
                if (node.isDirectory() && !replaced.isDirectory()) {
                    throw error(Errno.ENOTDIR, target, "a directory cannot replace a non-directory");
                }
                if (!node.isDirectory() && replaced.isDirectory()) {
                    throw error(Errno.EISDIR, target, "a non-directory cannot replace a directory");
                }
                if (replaced.isDirectory() && !replaced.children.isEmpty()) {
                    throw error(Errno.ENOTEMPTY, target, "the directory holds entries");
                }
                unlinked(replaced);
            }
            fromParent.children.remove(source.fileName());
            toParent.children.put(target.fileName(), node);
            if (leaveWhiteout) {
                fromParent.children.put(source.fileName(), store.newNode(EntryType.WHITEOUT, 0, 0, 0, null, 0));
            }
            node.ctimeNanos = MemoryStore.now();
            changed(fromParent);
            changed(toParent);
        }
    }

    @Override
    public void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        rename(root, source, root, target, mode, false);
    }

    @Override
    public void renameLeavingWhiteout(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        rename(root, source, root, target, mode, true);
    }

    @Override
    public void publish(EntryPath staged, EntryPath target, RenameMode mode) throws IOException {
        if (work == null) {
            throw new UnsupportedOperationException(description + " has no work area to publish from");
        }
        rename(work, staged, root, target, mode, false);
    }

    // ---- metadata

    @Override
    public void setPermissions(EntryPath path, int permissions) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, path);
            if (node.type == EntryType.SYMLINK) {
                throw error(Errno.EOPNOTSUPP, path, "a symlink's permissions cannot change");
            }
            node.permissions = permissions & 07777;
            node.ctimeNanos = MemoryStore.now();
        }
    }

    @Override
    public void setOwner(EntryPath path, int uid, int gid) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, path);
            node.uid = uid == -1 ? node.uid : uid;
            node.gid = gid == -1 ? node.gid : gid;
            node.ctimeNanos = MemoryStore.now();
        }
    }

    private static long time(long requested, long now, long current) {
        return requested == TIME_OMIT ? current : requested == TIME_NOW ? now : requested;
    }

    @Override
    public void setTimes(EntryPath path, long atimeNanos, long mtimeNanos) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, path);
            long now = MemoryStore.now();
            node.atimeNanos = time(atimeNanos, now, node.atimeNanos);
            node.mtimeNanos = time(mtimeNanos, now, node.mtimeNanos);
            node.ctimeNanos = now;
        }
    }

    @Override
    public void setXattr(EntryPath path, String name, byte[] value, XattrMode mode) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, path);
            boolean present = node.xattrs.containsKey(name);
            if (mode == XattrMode.CREATE && present) {
                throw error(Errno.EEXIST, path, "xattr " + name + " exists");
            }
            if (mode == XattrMode.REPLACE && !present) {
                throw error(Errno.ENODATA, path, "no xattr " + name);
            }
            node.xattrs.put(name, value.clone());
            node.ctimeNanos = MemoryStore.now();
        }
    }

    @Override
    public void removeXattr(EntryPath path, String name) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, path);
            if (node.xattrs.remove(name) == null) {
                throw error(Errno.ENODATA, path, "no xattr " + name);
            }
            node.ctimeNanos = MemoryStore.now();
        }
    }

    private void setMark(EntryPath directory, String key, String value) throws IOException {
        synchronized (store.lock) {
            Node node = existing(root, directory);
            if (!node.isDirectory()) {
                throw error(Errno.ENOTDIR, directory, "only a directory takes the " + key + " mark");
            }
            Map<String, byte[]> marks = node.overlayXattrs;
            if (value == null) {
                marks.remove(key);
            } else {
                marks.put(key, value.getBytes(StandardCharsets.UTF_8));
            }
            node.ctimeNanos = MemoryStore.now();
        }
    }

    @Override
    public void setOpaque(EntryPath directory, boolean opaque) throws IOException {
        setMark(directory, "opaque", opaque ? "y" : null);
    }

    @Override
    public void setRedirect(EntryPath directory, String redirect) throws IOException {
        setMark(directory, "redirect", redirect);
    }

    @Override
    public void writeOverlayXattr(EntryPath path, String key, byte[] value) throws IOException {
        synchronized (store.lock) {
            existing(root, path).overlayXattrs.put(key, value.clone());
        }
    }

    // ---- the other trees of the store

    @Override
    public WritableLayer workArea() {
        if (work == null) {
            throw new UnsupportedOperationException(description + " has no work area of its own");
        }
        return new MemoryLayer(store, work, null, null, description + " (work area)");
    }

    @Override
    public WritableLayer indexArea() {
        if (index == null) {
            throw new UnsupportedOperationException(description + " keeps no index of its own");
        }
        return new MemoryLayer(store, index, work, null, description + " (index)");
    }

    @Override
    public void sync() {
        // Nothing is more stable than memory here.
    }

    @Override
    public void syncDirectory(EntryPath directory, boolean metadata) throws IOException {
        synchronized (store.lock) {
            if (!existing(root, directory).isDirectory()) {
                throw error(Errno.ENOTDIR, directory, "not a directory");
            }
        }
    }

    /** The store's tree closes by dropping its work area, so that its entries no longer count as links. */
    @Override
    public void close() {
        if (index != null) {
            synchronized (store.lock) {
                work.children.values().forEach(MemoryLayer::unlinked);
                work.children.clear();
            }
        }
    }
}
