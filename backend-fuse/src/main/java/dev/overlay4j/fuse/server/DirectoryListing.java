package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot of a merged directory as READDIR hands it out: {@code .}, {@code ..} and the
 * overlay's names, each encoded once. READDIR offsets are indexes into it, so a listing read
 * in several requests stays the same however the directory changes meanwhile.
 */
final class DirectoryListing {

    /** One name of the snapshot. */
    record Listed(String name, byte[] encoded, int type, long inode) {
        boolean isDotOrDotDot() {
            return name.equals(".") || name.equals("..");
        }
    }

    private DirectoryListing() {
    }

    /** Takes the snapshot of {@code path}; ENOTDIR when it is no directory. */
    static List<Listed> snapshot(Overlay overlay, EntryPath path) throws IOException {
        EntryAttributes self = overlay.stat(path);
        if (!self.isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        long parentInode = path.isRoot() ? self.inode() : overlay.stat(path.parent()).inode();
        List<Listed> entries = new ArrayList<>();
        int dirType = EntryType.DIRECTORY.direntType();
        entries.add(new Listed(".", ".".getBytes(StandardCharsets.UTF_8), dirType, self.inode()));
        entries.add(new Listed("..", "..".getBytes(StandardCharsets.UTF_8), dirType, parentInode));
        for (var entry : overlay.listDirectory(path)) {
            entries.add(new Listed(entry.name(), entry.name().getBytes(StandardCharsets.UTF_8),
                    entry.type().direntType(), entry.inode()));
        }
        return List.copyOf(entries);
    }

    /**
     * A directory opened through this server. Its listing is taken at the first READDIR, not at
     * OPENDIR: with the kernel's directory cache most opens never read, and listing a merged
     * directory is costly.
     */
    static final class OpenDirectory {
        private final EntryPath path;
        private List<Listed> entries;

        OpenDirectory(EntryPath path) {
            this.path = path;
        }

        synchronized List<Listed> entries(Overlay overlay) throws IOException {
            if (entries == null) {
                entries = snapshot(overlay, path);
            }
            return entries;
        }
    }
}
