package dev.overlay4j.core;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.file.FileSystemException;

/**
 * Places whiteouts and opaque directories in the upper layer, each change atomic: the new
 * entry is built in the work area and published over (or exchanged with) the old one.
 * The whiteout's on-disk format is the upper layer's business ({@link WritableLayer#createWhiteout}).
 */
final class Whiteouts {

    private final WritableLayer upper;
    private final Staging staging;
    private final DirectoryMerge directories;

    Whiteouts(WritableLayer upper, Staging staging, DirectoryMerge directories) {
        this.upper = upper;
        this.staging = staging;
        this.directories = directories;
    }

    /** Hides a name that has no upper entry (or replaces an upper non-directory) with a whiteout. */
    void whiteout(EntryPath path, RenameMode mode) throws IOException {
        EntryPath staged = staging.newName("whiteout");
        try {
            staging.work().createWhiteout(staged);
            staging.publish(staged, path, mode);
        } catch (IOException | RuntimeException e) {
            staging.discard(staged);
            throw e;
        }
    }

    /**
     * Renames within the upper layer and leaves a whiteout at the source in one atomic step.
     *
     * @return false, having changed nothing, when the upper layer cannot do that in one step
     */
    boolean renameLeavingWhiteout(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        try {
            upper.renameLeavingWhiteout(source, target, mode);
            return true;
        } catch (FileSystemException e) {
            if (Errno.of(e) == Errno.EOPNOTSUPP) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Puts a new hard link to the upper file {@code existing} over the whiteout at {@code link}
     * in one step: linked in the work area, then published over the whiteout.
     *
     * @return false, having changed nothing, when the upper layer cannot link into its work area
     */
    boolean linkOverWhiteout(EntryPath existing, EntryPath link) throws IOException {
        EntryPath staged = staging.newName("link");
        try {
            upper.linkIntoWorkArea(existing, staged);
        } catch (FileSystemException e) {
            if (Errno.of(e) == Errno.EOPNOTSUPP) {
                return false;
            }
            throw e;
        }
        try {
            staging.publish(staged, link, RenameMode.REPLACE);
            return true;
        } catch (IOException | RuntimeException e) {
            staging.discard(staged);
            throw e;
        }
    }

    /**
     * Replaces an upper directory, which may hold whiteouts, with a whiteout: exchanged in one
     * step, then the old directory is cleared out of the work area.
     */
    void whiteoutDirectory(EntryPath path) throws IOException {
        EntryPath staged = staging.newName("whiteout");
        try {
            staging.work().createWhiteout(staged);
            staging.publish(staged, path, RenameMode.EXCHANGE);
        } finally {
            staging.discard(staged);
        }
    }

    /**
     * Replaces an upper directory holding only whiteouts with an empty opaque one, so it can be
     * removed or renamed over (the kernel's {@code ovl_clear_empty}). Returns at once when the
     * directory holds nothing.
     */
    void clearWhiteouts(EntryPath directory, NewEntryAttributes attributes) throws IOException {
        if (directories.upperWhiteouts(directory).isEmpty()) {
            return;
        }
        EntryPath staged = staging.newName("opaque");
        try {
            staging.work().createDirectory(staged, attributes);
            staging.work().setOpaque(staged, true);
            staging.publish(staged, directory, RenameMode.EXCHANGE);
        } finally {
            staging.discard(staged);
        }
    }
}
