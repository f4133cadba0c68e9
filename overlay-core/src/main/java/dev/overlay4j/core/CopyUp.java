package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Copies lower entries into the upper layer (the kernel's fs/overlayfs/copy_up.c), parents
 * first. Each entry is built whole in the work area (data, then xattrs, the recorded inode
 * number, owner, permissions and times last, so nothing later changes them) and published under
 * its name with one atomic rename: a crash never leaves a partial entry in the upper tree.
 * A directory is copied without its content, which stays merged from below (not opaque).
 * Concurrent copy-ups of one path wait for each other; the later one finds the result.
 * A lower hard link goes through the {@link HardLinkIndex} when the upper layer keeps one, so
 * that its names stay one file.
 *
 * <p>A regular file copied with its data is forced to stable storage ({@code fsync}) before it
 * is published, so a power loss right after the rename never leaves an empty or partial file
 * under the name; not with option {@code volatile}. The kernel's copy-up fsyncs right after the
 * data ({@code ovl_copy_up_file}) and, with {@code fsync=strict}, once more after the metadata;
 * here the one fsync comes after the metadata, so it covers both at the cost of one. As in the
 * kernel's default ({@code fsync=auto}), a copy without data (an empty file, one about to be
 * truncated, a directory, symlink or device) is not synced: there is no data to lose.
 */
final class CopyUp {

    private final LayerStack layers;
    private final Lookup lookup;
    private final Staging staging;
    private final PathLocks locks;
    /** Null when the upper layer keeps no index: copy-up then breaks lower hard links. */
    private final HardLinkIndex index;
    /** Whether a copied file is synced before it is published; false for a volatile overlay. */
    private final boolean syncs;
    /** Counts regular files copied up, so handles opened on lower files notice a copy-up cheaply. */
    private final java.util.concurrent.atomic.AtomicLong filesCopiedUp = new java.util.concurrent.atomic.AtomicLong();

    private final List<Overlay.CopyUpListener> listeners = new CopyOnWriteArrayList<>();

    CopyUp(LayerStack layers, Lookup lookup, Staging staging, PathLocks locks, HardLinkIndex index, boolean syncs) {
        this.layers = layers;
        this.lookup = lookup;
        this.staging = staging;
        this.locks = locks;
        this.index = index;
        this.syncs = syncs;
    }

    /** Told of every entry copied up (see {@link Overlay#addCopyUpListener}). */
    void addListener(Overlay.CopyUpListener listener) {
        listeners.add(listener);
    }

    /** How many regular files have been copied up so far. */
    long filesCopiedUp() {
        return filesCopiedUp.get();
    }

    /**
     * Makes sure the directory {@code path} and all its parents exist in the upper layer.
     *
     * @return the directory as it is now
     */
    MergedEntry upperDirectory(EntryPath path) throws IOException {
        MergedEntry current = lookup.directory(EntryPath.ROOT);
        for (int i = 1; i <= path.nameCount(); i++) {
            MergedEntry next = lookup.cachedChild(current, path.name(i - 1))
                    .orElseThrow(() -> Errno.ENOENT.exception(path));
            if (!next.isDirectory()) {
                throw Errno.ENOTDIR.exception(path, next.path() + " is not a directory");
            }
            current = next.hasUpper() ? next : copy(next, true);
        }
        return current;
    }

    /**
     * Makes sure {@code entry} exists in the upper layer, its parents first.
     *
     * @param withData whether a regular file's bytes are copied (not when it is about to be truncated to 0)
     * @return the entry as it is now
     */
    MergedEntry ensureUpper(MergedEntry entry, boolean withData) throws IOException {
        if (entry.hasUpper()) {
            return entry;
        }
        upperDirectory(entry.path().parent());
        return copy(entry, withData);
    }

    /**
     * Copies up a name of a lower hard link that is about to be removed or renamed over (the
     * kernel's {@code ovl_nlink_start} with index=on), so that the index entry exists to count
     * the name's loss: the other names then show one link less (and a changed ctime). Any other
     * entry is returned as it is.
     *
     * @return the entry as it is now
     */
    MergedEntry beforeCovering(MergedEntry entry) throws IOException {
        if (index == null || entry.hasUpper() || entry.isDirectory()
                || !HardLinkIndex.isLowerHardLink(entry.lowers().getFirst())) {
            return entry;
        }
        return ensureUpper(entry, true);
    }

    /** Copies one entry whose parent is already in the upper layer. */
    private MergedEntry copy(MergedEntry entry, boolean withData) throws IOException {
        ReentrantLock lock = locks.of(entry.path());
        lock.lock();
        try {
            MergedEntry now = lookup.get(entry.path());
            if (now.hasUpper()) {
                return now;
            }
            // Adding a name changes the parent's times; the kernel puts them back, as the merged view never changed.
            EntryPath parent = entry.path().parent();
            Optional<EntryAttributes> parentBefore = layers.upper().stat(parent);
            try {
                build(now, withData);
            } finally {
                lookup.invalidate(entry.path());
            }
            if (parentBefore.isPresent()) {
                layers.upper().setTimes(parent, parentBefore.get().atimeNanos(), parentBefore.get().mtimeNanos());
            }
            for (Overlay.CopyUpListener listener : listeners) {
                listener.copiedUp(entry.path());
            }
            return lookup.get(entry.path());
        } finally {
            lock.unlock();
        }
    }

    private void build(MergedEntry entry, boolean withData) throws IOException {
        LayerEntry source = entry.lowers().getFirst();
        // The index copy serves every name of the inode: it always gets the data.
        boolean linked = index != null && HardLinkIndex.isLowerHardLink(source)
                && index.copyUp(entry, marks -> stage(entry, true, marks), staging);
        if (!linked) {
            EntryPath staged = stage(entry, withData, Map.of());
            try {
                staging.publish(staged, entry.path(), RenameMode.NOREPLACE);
            } catch (IOException | RuntimeException e) {
                staging.discard(staged);
                throw e;
            }
        }
        if (source.attributes().isRegularFile()) {
            filesCopiedUp.incrementAndGet();
        }
    }

    /**
     * Builds a whole copy of the entry's lower entry in the work area, with {@code overlayXattrs}
     * beside the overlay's own marks; returns its name there.
     */
    private EntryPath stage(MergedEntry entry, boolean withData, Map<String, byte[]> overlayXattrs) throws IOException {
        LayerEntry source = entry.lowers().getFirst();
        Layer from = layers.layer(source.layer());
        EntryAttributes a = source.attributes();
        WritableLayer work = staging.work();
        EntryPath staged = staging.newName("copyup");
        // Built with the owner's read and write (and search) rights, which the exact permissions replace
        // last: a server without CAP_DAC_OVERRIDE (an unprivileged mount) must still write the data and
        // the xattrs (user.* ones need write permission) of a read-only file or directory.
        int building = a.isDirectory() ? a.permissions() | 0700 : a.isRegularFile() ? a.permissions() | 0600
                : a.permissions();
        NewEntryAttributes create = new NewEntryAttributes(building, a.uid(), a.gid());
        WritableContent data = null;
        try {
            switch (a.type()) {
                case REGULAR_FILE -> {
                    data = work.createFile(staged, create);
                    if (withData) {
                        copyData(from, source.path(), data);
                    }
                }
                case DIRECTORY -> work.createDirectory(staged, create);
                case SYMLINK -> work.createSymlink(staged, from.readLink(source.path()), create);
                case CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET -> work.createSpecial(staged, a.type(), create, a.rdev());
                case WHITEOUT -> throw Errno.EIO.exception(entry.path(), "cannot copy up a whiteout");
            }
            copyXattrs(from, source.path(), a.type(), work, staged);
            // Where the upper keeps no mark (userxattr on a symlink or device, no overlay xattrs at all) it drops it
            // (WritableLayer#writeOverlayXattr): such an entry shows its upper inode once renamed.
            work.writeOverlayXattr(staged, InodeNumbers.XATTR_KEY, InodeNumbers.encode(entry.inode()));
            if (a.isRegularFile() || a.isDirectory()) {
                InodeFlags.copyUp(from, source.path(), work, staged);
            }
            for (Map.Entry<String, byte[]> mark : overlayXattrs.entrySet()) {
                work.writeOverlayXattr(staged, mark.getKey(), mark.getValue());
            }
            work.setOwner(staged, a.uid(), a.gid());
            if (!a.isSymlink()) {
                work.setPermissions(staged, a.permissions()); // after chown, which clears set-id bits
            }
            work.setTimes(staged, a.atimeNanos(), a.mtimeNanos());
            if (data != null) {
                // Data first, xattrs and attributes after (a write drops security.capability), then one fsync of all.
                if (syncs && withData && a.size() > 0) {
                    data.force(true);
                }
                WritableContent closing = data;
                data = null;
                closing.close();
            }
            return staged;
        } catch (IOException | RuntimeException e) {
            if (data != null) {
                try {
                    data.close();
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            staging.discard(staged);
            throw e;
        }
    }

    /**
     * The kernel's {@code ovl_copy_xattr}: every xattr is copied, an unknown one the upper store
     * does not support (EOPNOTSUPP) is dropped, and any other failure fails the copy-up, as does
     * EOPNOTSUPP for what must be copied (POSIX ACLs and {@code security.*}, which carry
     * permissions). {@code user.*} names on anything but a regular file or directory are dropped
     * unasked: Linux keeps them nowhere else (EPERM), so a lower layer that has them is not one
     * of its file systems.
     */
    private static void copyXattrs(Layer from, EntryPath source, EntryType type, WritableLayer work, EntryPath staged)
            throws IOException {
        boolean userXattrs = type == EntryType.REGULAR_FILE || type == EntryType.DIRECTORY;
        for (String name : from.listXattrs(source)) {
            if (!userXattrs && name.startsWith("user.")) {
                continue;
            }
            Optional<byte[]> value = from.readXattr(source, name);
            if (value.isPresent()) {
                try {
                    work.setXattr(staged, name, value.get(), XattrMode.CREATE_OR_REPLACE);
                } catch (IOException e) {
                    if (Errno.of(e) != Errno.EOPNOTSUPP || mustCopy(name)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** The kernel's {@code ovl_must_copy_xattr}. */
    private static boolean mustCopy(String name) {
        return name.equals(ShownAttributes.ACL_ACCESS) || name.equals(ShownAttributes.ACL_DEFAULT)
                || name.startsWith("security.");
    }

    private static void copyData(Layer from, EntryPath file, WritableContent out) throws IOException {
        try (ReadableContent in = from.openRead(file)) {
            long size = in.size();
            long done = 0;
            while (done < size) {
                long copied = in.copyTo(out, done, size - done);
                if (copied <= 0) {
                    break;
                }
                done += copied;
            }
        }
    }
}
