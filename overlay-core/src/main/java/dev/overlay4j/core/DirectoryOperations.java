package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.util.Optional;

/**
 * Creating and removing names (the kernel's fs/overlayfs/dir.c). Callers hold the overlay's
 * namespace write lock and have checked that the overlay is writable.
 *
 * <p>A new entry replaces a whiteout in one atomic step (built in the work area, published
 * over it); a new directory there is opaque, so the removed lower directory stays hidden, and
 * so is one made in a merged parent (as the kernel does). Removing a name that a lower layer
 * also has leaves a whiteout; a name only the upper layer has is simply removed.
 */
final class DirectoryOperations {

    /** Builds a new entry at a path of a layer (the upper tree or the work area), with this owner and mode. */
    @FunctionalInterface
    interface Creation {
        void create(WritableLayer layer, EntryPath at, NewEntryAttributes attributes) throws IOException;
    }

    private final WritableLayer upper;
    private final Lookup lookup;
    private final CopyUp copyUp;
    private final Staging staging;
    private final Whiteouts whiteouts;
    private final DirectoryMerge directories;

    DirectoryOperations(WritableLayer upper, Lookup lookup, CopyUp copyUp, Staging staging, Whiteouts whiteouts,
            DirectoryMerge directories) {
        this.upper = upper;
        this.lookup = lookup;
        this.copyUp = copyUp;
        this.staging = staging;
        this.whiteouts = whiteouts;
        this.directories = directories;
    }

    /**
     * Creates a new entry at {@code path}, whose parent must be a directory and whose name must
     * be free (EEXIST otherwise).
     *
     * @param requested the owner and mode the caller asks for; the parent may change the group (see {@link #inherited})
     */
    void create(EntryPath path, boolean directory, NewEntryAttributes requested, Creation creation)
            throws IOException {
        if (path.isRoot()) {
            throw Errno.EEXIST.exception(path);
        }
        MergedEntry parent = lookup.directory(path.parent());
        if (lookup.child(parent, path.fileName()).isPresent()) {
            throw Errno.EEXIST.exception(path);
        }
        NewEntryAttributes attributes = inherited(lookup.get(path.parent()).attributes(), requested, directory);
        parent = copyUp.upperDirectory(path.parent());
        Optional<EntryAttributes> existing = upper.stat(path);
        boolean overWhiteout = existing.isPresent() && existing.get().isWhiteout();
        if (existing.isPresent() && !overWhiteout) {
            throw Errno.EEXIST.exception(path, "the upper layer has an entry of that name");
        }
        boolean opaque = directory && (overWhiteout || parent.hasLower());
        if (!overWhiteout && !opaque) {
            creation.create(upper, path, attributes);
            return;
        }
        EntryPath staged = staging.newName("create");
        try {
            creation.create(staging.work(), staged, attributes);
            if (opaque) {
                staging.work().setOpaque(staged, true);
            }
            if (overWhiteout && directory) {
                // rename(2) cannot put a directory over a non-directory: swap, then drop the whiteout.
                staging.publish(staged, path, RenameMode.EXCHANGE);
                staging.discard(staged);
            } else {
                staging.publish(staged, path, overWhiteout ? RenameMode.REPLACE : RenameMode.NOREPLACE);
            }
        } catch (IOException | RuntimeException e) {
            staging.discard(staged);
            throw e;
        }
    }

    /**
     * The owner and mode of a new entry in {@code parent} (the kernel's {@code inode_init_owner},
     * which overlayfs applies to the merged parent): in a set-group-ID directory the entry takes
     * the directory's group, and a new directory the set-group-ID bit too. Whoever builds the
     * entry, in the upper tree or in the work area, then gives it exactly that.
     */
    static NewEntryAttributes inherited(EntryAttributes parent, NewEntryAttributes requested, boolean directory) {
        if ((parent.permissions() & SET_GROUP_ID) == 0) {
            return requested;
        }
        int permissions = directory ? requested.permissions() | SET_GROUP_ID : requested.permissions();
        return new NewEntryAttributes(permissions, requested.uid(), parent.gid());
    }

    private static final int SET_GROUP_ID = 02000;

    /** {@code link(2)}: the existing file is copied up first, so both names share its upper inode. */
    void link(EntryPath existing, EntryPath link) throws IOException {
        MergedEntry source = lookup.get(existing);
        // linkat(2) checks in this order: the new name exists (EEXIST), then the source is a directory (EPERM).
        if (link.isRoot()) {
            throw Errno.EEXIST.exception(link);
        }
        MergedEntry parent = lookup.directory(link.parent());
        if (lookup.child(parent, link.fileName()).isPresent()) {
            throw Errno.EEXIST.exception(link);
        }
        if (source.isDirectory()) {
            throw Errno.EPERM.exception(existing, "cannot hard-link a directory");
        }
        copyUp.ensureUpper(source, true);
        copyUp.upperDirectory(link.parent());
        Optional<EntryAttributes> occupant = upper.stat(link);
        if (occupant.isPresent() && occupant.get().isWhiteout()) {
            if (whiteouts.linkOverWhiteout(existing, link)) {
                return;
            }
            // The layer cannot link into its work area: the whiteout goes first (a crash between shows the lower entry).
            upper.delete(link);
        }
        upper.link(existing, link);
    }

    /** {@code unlink(2)}. */
    void unlink(EntryPath path) throws IOException {
        if (path.isRoot()) {
            throw Errno.EISDIR.exception(path);
        }
        MergedEntry entry = existing(path);
        if (entry.isDirectory()) {
            throw Errno.EISDIR.exception(path);
        }
        remove(copyUp.beforeCovering(entry));
    }

    /** {@code rmdir(2)}: only a directory whose merged view is empty. */
    void removeDirectory(EntryPath path) throws IOException {
        if (path.isRoot()) {
            throw Errno.EBUSY.exception(path, "cannot remove the root directory");
        }
        MergedEntry entry = existing(path);
        if (!entry.isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        if (!directories.isEmpty(entry)) {
            throw Errno.ENOTEMPTY.exception(path);
        }
        remove(entry);
    }

    private MergedEntry existing(EntryPath path) throws IOException {
        MergedEntry parent = lookup.directory(path.parent());
        return lookup.child(parent, path.fileName()).orElseThrow(() -> Errno.ENOENT.exception(path));
    }

    private void remove(MergedEntry entry) throws IOException {
        EntryPath path = entry.path();
        MergedEntry parent = copyUp.upperDirectory(path.parent());
        boolean needsWhiteout = lookup.lowerPositive(parent, path.fileName());
        if (!entry.hasUpper()) {
            whiteouts.whiteout(path, RenameMode.NOREPLACE);
        } else if (!entry.isDirectory()) {
            if (needsWhiteout) {
                whiteouts.whiteout(path, RenameMode.REPLACE);
            } else {
                upper.delete(path);
            }
        } else if (needsWhiteout) {
            whiteouts.whiteoutDirectory(path);
        } else {
            EntryAttributes a = entry.upper().attributes();
            whiteouts.clearWhiteouts(path, new NewEntryAttributes(a.permissions(), a.uid(), a.gid()));
            upper.delete(path);
        }
    }
}
