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
 * {@code renameat2(2)} on the overlay (the kernel's {@code ovl_rename}). Callers hold the
 * namespace write lock and have checked that the overlay is writable.
 *
 * <p>Errors come in the order the VFS reports them: ENOENT, EEXIST (NOREPLACE), EINVAL (into its
 * own subtree), ENOTEMPTY (over an ancestor), then ENOTDIR/EISDIR for mismatched types, then the
 * overlay's own EXDEV and ENOTEMPTY (the merged target directory is not empty); a target directory
 * only the upper layer has is found not empty by the upper layer's rename, after the copy-ups.
 *
 * <p>Both entries are copied up and renamed within the upper layer. A directory with lower
 * content is copied without its content and gets a redirect to the absolute path of that
 * content, so lookup keeps finding it (and not whatever lower directories the new name has);
 * a directory without lower content moved into a merged directory is made opaque for the same
 * reason. When a lower layer still has the old name, a whiteout hides it.
 */
final class Rename {

    private final WritableLayer upper;
    private final boolean redirectDir;
    private final Lookup lookup;
    private final CopyUp copyUp;
    private final Whiteouts whiteouts;
    private final DirectoryMerge directories;

    Rename(WritableLayer upper, boolean redirectDir, Lookup lookup, CopyUp copyUp, Whiteouts whiteouts,
            DirectoryMerge directories) {
        this.upper = upper;
        this.redirectDir = redirectDir;
        this.lookup = lookup;
        this.copyUp = copyUp;
        this.whiteouts = whiteouts;
        this.directories = directories;
    }

    void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        if (source.isRoot() || target.isRoot()) {
            throw Errno.EBUSY.exception(source.toString(), target.toString(), "cannot rename the root directory");
        }
        MergedEntry sourceParent = lookup.directory(source.parent());
        MergedEntry targetParent = lookup.directory(target.parent());
        MergedEntry from = lookup.child(sourceParent, source.fileName())
                .orElseThrow(() -> Errno.ENOENT.exception(source.toString(), target.toString(), null));
        Optional<MergedEntry> existing = lookup.child(targetParent, target.fileName());
        boolean exchange = mode == RenameMode.EXCHANGE;
        if (exchange && existing.isEmpty()) {
            throw Errno.ENOENT.exception(target.toString(), source.toString(), null);
        }
        if (mode == RenameMode.NOREPLACE && existing.isPresent()) {
            throw Errno.EEXIST.exception(target.toString(), source.toString(), null);
        }
        if (source.equals(target)) {
            return;
        }
        if (target.startsWith(source)) {
            throw Errno.EINVAL.exception(source.toString(), target.toString(), "cannot move a directory into itself");
        }
        if (source.startsWith(target)) {
            throw (exchange ? Errno.EINVAL : Errno.ENOTEMPTY).exception(target.toString(), source.toString(), null);
        }
        MergedEntry to = existing.orElse(null);
        if (to != null && !from.isDirectory() && !to.isDirectory() && from.inode() == to.inode()) {
            return; // two names of one file: rename(2) does nothing
        }
        if (to != null && !exchange) {
            if (from.isDirectory() && !to.isDirectory()) {
                throw Errno.ENOTDIR.exception(target.toString(), source.toString(), null);
            }
            if (!from.isDirectory() && to.isDirectory()) {
                throw Errno.EISDIR.exception(target.toString(), source.toString(), null);
            }
        }
        if (!canMove(from) || (exchange && !canMove(to))) {
            throw Errno.EXDEV.exception(source.toString(), target.toString(),
                    "a directory with lower content moves only with redirect_dir=on");
        }
        // A target with lower content is checked now, before anything is copied up (the kernel's
        // ovl_check_empty_dir); a pure upper one by the upper layer's own rename, after the copy-ups,
        // as in the kernel, whose failed rename leaves them behind.
        if (to != null && !exchange && to.isDirectory() && to.hasLower() && !directories.isEmpty(to)) {
            throw Errno.ENOTEMPTY.exception(target.toString(), source.toString(), null);
        }

        sourceParent = copyUp.upperDirectory(source.parent());
        targetParent = copyUp.upperDirectory(target.parent());
        prepare(from, targetParent);
        if (to != null && !exchange) {
            copyUp.beforeCovering(to);
        }
        if (exchange) {
            prepare(to, sourceParent);
            upper.rename(source, target, RenameMode.EXCHANGE);
            return;
        }
        boolean whiteoutSource = lookup.lowerPositive(sourceParent, source.fileName());
        Optional<EntryAttributes> occupant = upper.stat(target);
        if (occupant.isPresent() && occupant.get().isWhiteout()) {
            // The whiteout changes places with the source: it now hides the old name's lower entry.
            upper.rename(source, target, RenameMode.EXCHANGE);
            if (!whiteoutSource) {
                upper.delete(source);
            }
        } else if (occupant.isEmpty()) {
            if (!whiteoutSource) {
                upper.rename(source, target, RenameMode.NOREPLACE);
            } else if (!whiteouts.renameLeavingWhiteout(source, target, RenameMode.NOREPLACE)) {
                // Whiteout first at the (empty) target, then one exchange: no moment shows both names or neither.
                whiteouts.whiteout(target, RenameMode.NOREPLACE);
                upper.rename(source, target, RenameMode.EXCHANGE);
            }
        } else {
            if (occupant.get().isDirectory()) {
                EntryAttributes a = occupant.get();
                whiteouts.clearWhiteouts(target, new NewEntryAttributes(a.permissions(), a.uid(), a.gid()));
            }
            if (!whiteoutSource) {
                upper.rename(source, target, RenameMode.REPLACE);
            } else if (!whiteouts.renameLeavingWhiteout(source, target, RenameMode.REPLACE)) {
                // The layer cannot do both at once: a crash between the two steps would show the lower entry again.
                upper.rename(source, target, RenameMode.REPLACE);
                whiteouts.whiteout(source, RenameMode.NOREPLACE);
            }
        }
    }

    /** The kernel's {@code ovl_can_move}: a directory with lower content moves only with redirects on. */
    private boolean canMove(MergedEntry entry) {
        return redirectDir || !entry.isDirectory() || !entry.hasLower();
    }

    /** Copies an entry up and marks a directory so that lookup at its new name finds what it found before. */
    private void prepare(MergedEntry entry, MergedEntry newParent) throws IOException {
        if (!entry.isDirectory()) {
            copyUp.ensureUpper(entry, true);
            return;
        }
        if (entry.hasLower()) {
            String redirect = "/" + entry.lowers().getFirst().path().relativeString();
            MergedEntry copied = copyUp.ensureUpper(entry, false);
            String current = copied.upper().attributes().redirect();
            if (current == null || !current.startsWith("/")) {
                upper.setRedirect(entry.path(), redirect);
            }
        } else if (!entry.upper().attributes().opaque() && newParent.hasLower()) {
            upper.setOpaque(entry.path(), true);
        }
    }
}
