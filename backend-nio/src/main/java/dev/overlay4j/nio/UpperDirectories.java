package dev.overlay4j.nio;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Opens an upper directory with its work directory, after the checks the kernel makes at mount
 * time (separate subtrees, one filesystem) and one of its own: a work directory serves one
 * overlay at a time, enforced with a lock file.
 */
final class UpperDirectories {

    /** The work directory's scratch subdirectory, named as the kernel names it. */
    static final String WORK_SUBDIR = "work";
    static final String LOCK_FILE = "overlay4j.lock";
    /**
     * The work directory's persistent index of copied-up lower hard links. Not the kernel's name
     * {@code index}: the kernel keys its index by file handles and, mounting with {@code index=on},
     * would take our entries for its own and reject or remove them as stale.
     */
    static final String INDEX_SUBDIR = "overlay4j-index";

    private UpperDirectories() {
    }

    private static final System.Logger LOG = System.getLogger(UpperDirectories.class.getName());

    static WritableDirectoryLayer open(Path upper, Path work, LayerOptions options) throws IOException {
        return open(upper, work, options, null);
    }

    /**
     * Opens the upper layer writing {@code form}, or (null) the forms its file system takes, as
     * {@link WhiteoutFormats#probe} finds them.
     */
    static WritableDirectoryLayer open(Path upper, Path work, LayerOptions options, WhiteoutFormats.UpperForm form)
            throws IOException {
        requireDirectory(upper, "upperdir");
        requireDirectory(work, "workdir");
        Path upperReal = upper.toRealPath();
        Path workReal = work.toRealPath();
        if (upperReal.equals(workReal)) {
            throw Errno.EINVAL.exception(work, "upperdir and workdir are the same directory " + upperReal
                    + "; give the workdir its own empty directory next to the upperdir");
        }
        requireSeparate(upperReal, "upperdir", List.of(workReal), "workdir");
        if (device(upperReal) != device(workReal)) {
            throw Errno.EXDEV.exception(work, "workdir " + workReal + " is on another filesystem than upperdir "
                    + upperReal + "; put the workdir on the upperdir's filesystem");
        }
        Closeable lock = lock(workReal);
        try {
            Path scratch = workReal.resolve(WORK_SUBDIR);
            requireScratchDirectory(scratch);
            Path indexDir = workReal.resolve(INDEX_SUBDIR);
            if (!Files.exists(indexDir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(indexDir);
            } else if (!Files.isDirectory(indexDir, LinkOption.NOFOLLOW_LINKS)) {
                throw Errno.ENOTDIR.exception(indexDir, "the workdir's hard-link index is not a directory");
            }
            if (form == null) {
                form = probe(scratch, options, upper.toString());
            }
            WritableDirectoryLayer workArea = new WritableDirectoryLayer(scratch, scratch.toString(), options, form,
                    null, null, null);
            WritableDirectoryLayer index = null;
            try {
                removeBelow(workArea, EntryPath.ROOT);
                if (form.keepsXattrMarks()) {
                    // Index entries are recognised by their origin mark: without xattrs there is no index.
                    index = new WritableDirectoryLayer(indexDir, indexDir.toString(), options, form, workArea, null, null);
                }
            } catch (IOException | RuntimeException e) {
                workArea.close();
                throw e;
            }
            WritableDirectoryLayer indexArea = index;
            Closeable resources = () -> {
                try (lock; workArea; indexArea) {
                    // closed in reverse order: the index, the work area, then the lock
                }
            };
            try {
                return new WritableDirectoryLayer(upper, upper.toString(), options, form, workArea, index, resources);
            } catch (IOException | RuntimeException e) {
                try (workArea; indexArea) {
                    throw e;
                }
            }
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** The forms the upper's file system takes, found in the scratch directory; logged when not the kernel's. */
    private static WhiteoutFormats.UpperForm probe(Path scratch, LayerOptions options, String upper) throws IOException {
        int fd = DirectoryLayer.openRoot(scratch, "the workdir's work directory");
        try (Arena arena = Scratch.open()) {
            WhiteoutFormats.UpperForm form = WhiteoutFormats.probe(arena, fd, options.overlayXattrPrefix(), upper);
            String forms = form.describe(options.overlayXattrPrefix());
            if (forms != null) {
                LOG.log(System.Logger.Level.INFO, "upper layer " + upper + ": " + forms);
            }
            return form;
        } finally {
            LinuxCalls.close(fd);
        }
    }

    /**
     * Fails when {@code dir} lies inside one of {@code others} or one of them inside it. The
     * engine, which knows all layers, checks the upper against every lower with this same rule.
     */
    static void requireSeparate(Path dir, String role, List<Path> others, String otherRole) throws IOException {
        for (Path other : others) {
            if (other.startsWith(dir) && !other.equals(dir)) {
                throw Errno.EINVAL.exception(other, otherRole + " " + other + " lies inside " + role + " " + dir
                        + "; they must be separate directory trees");
            }
            if (dir.startsWith(other) && !other.equals(dir)) {
                throw Errno.EINVAL.exception(dir, role + " " + dir + " lies inside " + otherRole + " " + other
                        + "; they must be separate directory trees");
            }
        }
    }

    static void requireDirectory(Path dir, String role) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir)) {
            throw Errno.ENOENT.exception(dir, role + " does not exist; create the directory or fix the path");
        }
        if (!Files.isDirectory(dir)) {
            throw Errno.ENOTDIR.exception(dir, role + " is not a directory");
        }
    }

    private static long device(Path dir) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
            int r = LinuxCalls.statx(arena, LinuxCalls.AT_FDCWD, dir.toString(), 0, out);
            if (r < 0) {
                throw Errno.ofCode(-r).exception(dir, "stat");
            }
            return out[0].dev();
        }
    }

    /** Holds an exclusive lock on {@code <workdir>/overlay4j.lock} until closed. */
    private static Closeable lock(Path work) throws IOException {
        Path lockFile = work.resolve(LOCK_FILE);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException held) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw Errno.EBUSY.exception(work, "workdir " + work + " is in use by another overlay4j overlay (lock file "
                    + lockFile + " is held); give each overlay its own workdir");
        }
        return channel::close; // closing the channel releases the lock
    }

    /** Makes sure {@code scratch} is a directory (not a symlink), creating it; what it holds is removed through the layer. */
    private static void requireScratchDirectory(Path scratch) throws IOException {
        if (Files.isDirectory(scratch, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.deleteIfExists(scratch);
        Files.createDirectory(scratch);
    }

    /**
     * Removes everything below {@code directory} of {@code area}, which a previous run left,
     * by directory descriptors: no symlink is followed, and a tree of any depth goes.
     */
    private static void removeBelow(WritableDirectoryLayer area, EntryPath directory) throws IOException {
        List<DirectoryEntry> entries;
        try (Stream<DirectoryEntry> listing = area.list(directory)) {
            entries = listing.toList();
        }
        for (DirectoryEntry entry : entries) {
            EntryPath child = directory.resolve(entry.name());
            if (entry.type() == EntryType.DIRECTORY) {
                removeBelow(area, child);
            }
            area.delete(child);
        }
    }
}
