package dev.overlay4j.nio;

import static dev.overlay4j.nio.LinuxCalls.AT_SYMLINK_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_CLOEXEC;
import static dev.overlay4j.nio.LinuxCalls.O_CREAT;
import static dev.overlay4j.nio.LinuxCalls.O_DIRECTORY;
import static dev.overlay4j.nio.LinuxCalls.O_EXCL;
import static dev.overlay4j.nio.LinuxCalls.O_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_PATH;
import static dev.overlay4j.nio.LinuxCalls.O_RDONLY;
import static dev.overlay4j.nio.LinuxCalls.O_RDWR;
import static dev.overlay4j.nio.LinuxCalls.RESOLVE_IN_LAYER;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A writable layer on a local directory, written in the kernel's upper-dir format where the file
 * system lets this process make it: whiteouts are 0/0 character devices, opaque and redirect
 * marks are {@code <prefix>opaque} and {@code <prefix>redirect} xattrs; else in fuse-overlayfs's
 * forms ({@link WhiteoutFormats}, which also says how every form is read). A whiteout kept as a
 * {@code .wh.NAME} file stands for an entry at NAME in every operation here, as a device
 * whiteout does: it takes the name (EEXIST), is deleted, renamed, exchanged and replaced.
 * Errors carry the errno of the system call that failed.
 */
class WritableDirectoryLayer extends DirectoryLayer implements WritableLayer {

    private static final int EEXIST = Errno.EEXIST.code();
    private static final int ENOTEMPTY = Errno.ENOTEMPTY.code();

    private final int euid = LinuxCalls.geteuid();
    private final int egid = LinuxCalls.getegid();
    /** The work area, or null when this layer is itself a work area. */
    private final WritableDirectoryLayer workArea;
    /** The persistent index (see {@link WritableLayer#indexArea()}), or null when this layer keeps none. */
    private final WritableDirectoryLayer indexArea;
    /** Released when the layer closes: the work dir lock, and the work area. */
    private final Closeable resources;
    /** The forms of whiteouts and marks this layer writes. */
    private final WhiteoutFormats.UpperForm form;

    WritableDirectoryLayer(Path root, String description, LayerOptions options, WhiteoutFormats.UpperForm form,
                           WritableDirectoryLayer workArea, WritableDirectoryLayer indexArea, Closeable resources)
            throws IOException {
        super(root, description, options);
        this.form = form;
        this.workArea = workArea;
        this.indexArea = indexArea;
        this.resources = resources;
    }

    /** The forms of whiteouts and marks this layer writes. */
    WhiteoutFormats.UpperForm form() {
        return form;
    }

    /** Resolves the parent of a new name: one that is an image-layer mark cannot be created (EINVAL, as fuse-overlayfs). */
    At newAt(Arena arena, EntryPath path) throws IOException {
        if (!path.isRoot() && WhiteoutFormats.isMark(path.fileName())) {
            checkOpen();
            throw error(Errno.EINVAL.code(), path, "names beginning with " + WhiteoutFormats.MARK_PREFIX
                    + " are whiteouts in the image-layer format, which every layer is read in");
        }
        return parentOf(arena, path);
    }

    /** EEXIST when the name is a whiteout kept as a {@code .wh.} file: it is taken, as a device whiteout takes it. */
    private void requireNoMark(Arena arena, At at, EntryPath path) throws IOException {
        if (path.isRoot()) {
            return;
        }
        int r = WhiteoutFormats.statMark(arena, at.dirfd(), at.name(), new LinuxCalls.Stat[1]);
        if (r == 0) {
            throw error(EEXIST, path, "a whiteout (" + WhiteoutFormats.markOf(at.name()) + ") has that name");
        }
        if (r != -LinuxCalls.ENOENT) {
            throw error(-r, path, "looking for its whiteout " + WhiteoutFormats.markOf(at.name()));
        }
    }

    /** Whether the name at {@code at} is a whiteout kept as a {@code .wh.} file. */
    private boolean marked(Arena arena, At at, EntryPath path) throws IOException {
        int r = WhiteoutFormats.statMark(arena, at.dirfd(), at.name(), new LinuxCalls.Stat[1]);
        if (r < 0 && r != -LinuxCalls.ENOENT) {
            throw error(-r, path, "looking for its whiteout " + WhiteoutFormats.markOf(at.name()));
        }
        return r == 0;
    }

    /** Creates the {@code .wh.} file that whites out the name at {@code at}: whether it was not there yet. */
    private boolean createMark(Arena arena, At at, EntryPath path) throws IOException {
        int r = WhiteoutFormats.createMark(arena, at.dirfd(), WhiteoutFormats.markOf(at.name()));
        if (r == -EEXIST) {
            return false;
        }
        if (r < 0) {
            throw error(-r, path, r == -LinuxCalls.ENAMETOOLONG
                    ? "its whiteout, a file " + WhiteoutFormats.markOf(at.name()) + ", would need a name of more than 255 bytes"
                    : "creating its whiteout " + WhiteoutFormats.markOf(at.name()));
        }
        return true;
    }

    /** Removes the {@code .wh.} file of the name at {@code at}, if any: whether there was one. */
    private boolean removeMark(Arena arena, At at, EntryPath path) throws IOException {
        return WhiteoutFormats.removeMark(arena, at.dirfd(), at.name(), (errno, detail) -> error(errno, path, detail));
    }

    /** This tree changes; every method below that removes, renames or replaces a name forgets its directory descriptors. */
    @Override
    boolean unchanging() {
        return false;
    }

    private void ownerAndMode(Arena arena, At at, EntryPath path, NewEntryAttributes attributes, boolean chmod)
            throws IOException {
        if (attributes.uid() != euid || attributes.gid() != egid) {
            int r = LinuxCalls.fchownat(arena, at.dirfd(), at.name(), attributes.uid(), attributes.gid(), AT_SYMLINK_NOFOLLOW);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.EPERM
                        ? "giving it owner " + attributes.uid() + ":" + attributes.gid() + " needs CAP_CHOWN (run as root)" : null);
            }
        }
        if (chmod) {
            // After chown, which clears set-id bits; and exact, whatever the umask took away at creation.
            int r = LinuxCalls.fchmodatNoFollow(arena, at.dirfd(), at.name(), attributes.permissions());
            if (r < 0) {
                throw error(-r, path, null);
            }
        }
    }

    @Override
    public WritableContent openWrite(EntryPath file) throws IOException {
        return openContent(file, true);
    }

    @Override
    public WritableContent createFile(EntryPath file, NewEntryAttributes attributes) throws IOException {
        try (Arena arena = Scratch.open(); At at = newAt(arena, file)) {
            requireNoMark(arena, at, file);
            int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    attributes.permissions(), RESOLVE_IN_LAYER);
            if (fd < 0) {
                throw error(-fd, file, null);
            }
            try {
                ownNewFile(arena, fd, file, attributes);
                return reopen(arena, fd, file, true);
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    /** Gives a file just created its owner, then its exact permissions (after chown, which clears set-id bits; whatever the umask took). */
    private void ownNewFile(Arena arena, int fd, EntryPath file, NewEntryAttributes attributes) throws IOException {
        if (attributes.uid() != euid || attributes.gid() != egid) {
            int r = LinuxCalls.fchown(arena, fd, attributes.uid(), attributes.gid());
            if (r < 0) {
                throw error(-r, file, r == -LinuxCalls.EPERM ? "giving it owner " + attributes.uid() + ":"
                        + attributes.gid() + " needs CAP_CHOWN (run as root)" : null);
            }
        }
        int r = LinuxCalls.fchmod(arena, fd, attributes.permissions());
        if (r < 0) {
            throw error(-r, file, null);
        }
    }

    /** {@code O_TMPFILE} in the directory; EOPNOTSUPP where the file system under the layer has none. */
    @Override
    public WritableContent createUnnamedFile(EntryPath directory, NewEntryAttributes attributes) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, directory)) {
            int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), FileCalls.O_TMPFILE | O_RDWR | O_CLOEXEC,
                    attributes.permissions(), RESOLVE_IN_LAYER);
            if (fd < 0) {
                throw error(-fd == LinuxCalls.ELOOP ? LinuxCalls.ENOTDIR : -fd, directory,
                        -fd == LinuxCalls.EOPNOTSUPP || -fd == LinuxCalls.EISDIR
                                ? "the file system under the layer cannot make unnamed files (O_TMPFILE)" : null);
            }
            try {
                ownNewFile(arena, fd, directory, attributes);
            } catch (IOException | RuntimeException e) {
                LinuxCalls.close(fd);
                throw e;
            }
            return new FileContent(fd, true, "an unnamed file in " + directory + " in layer " + description);
        }
    }

    /** {@code linkat} of the open file's {@code /proc} link, which needs no CAP_DAC_READ_SEARCH (AT_EMPTY_PATH would). */
    @Override
    public void linkUnnamed(WritableContent file, EntryPath link) throws IOException {
        if (!(file instanceof FileContent content)) {
            throw Errno.EXDEV.exception(file.toString(), link.toString(), "not a file of layer " + description);
        }
        content.enter();
        try (Arena arena = Scratch.open(); At to = at(arena, link)) {
            int r = FileCalls.linkat(arena, LinuxCalls.AT_FDCWD, "/proc/self/fd/" + content.fd(), to.dirfd(), to.name(),
                    FileCalls.AT_SYMLINK_FOLLOW);
            if (r < 0) {
                throw Errno.ofCode(-r).exception(file.toString(), link.toString(), "in layer " + description);
            }
        } finally {
            content.leave();
        }
    }

    @Override
    public void createDirectory(EntryPath directory, NewEntryAttributes attributes) throws IOException {
        try (Arena arena = Scratch.open(); At at = newAt(arena, directory)) {
            requireNoMark(arena, at, directory);
            int r = LinuxCalls.mkdirat(arena, at.dirfd(), at.name(), attributes.permissions());
            if (r < 0) {
                throw error(-r, directory, null);
            }
            ownerAndMode(arena, at, directory, attributes, true);
        }
    }

    @Override
    public void createSymlink(EntryPath link, String target, NewEntryAttributes attributes) throws IOException {
        try (Arena arena = Scratch.open(); At at = newAt(arena, link)) {
            requireNoMark(arena, at, link);
            int r = LinuxCalls.symlinkat(arena, target, at.dirfd(), at.name());
            if (r < 0) {
                throw error(-r, link, null);
            }
            ownerAndMode(arena, at, link, attributes, false);
        }
    }

    @Override
    public void createSpecial(EntryPath path, EntryType type, NewEntryAttributes attributes, long rdev) throws IOException {
        switch (type) {
            case CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET -> {
            }
            default -> throw error(Errno.EINVAL.code(), path, "createSpecial makes device nodes, FIFOs and sockets, not " + type);
        }
        try (Arena arena = Scratch.open(); At at = newAt(arena, path)) {
            requireNoMark(arena, at, path);
            long dev = type == EntryType.CHARACTER_DEVICE || type == EntryType.BLOCK_DEVICE ? rdev : 0;
            int r = LinuxCalls.mknodat(arena, at.dirfd(), at.name(), type.formatBits() | attributes.permissions(), dev);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.EPERM ? "creating a device node needs CAP_MKNOD (run as root)" : null);
            }
            ownerAndMode(arena, at, path, attributes, true);
        }
    }

    @Override
    public void createWhiteout(EntryPath path) throws IOException {
        try (Arena arena = Scratch.open(); At at = newAt(arena, path)) {
            requireNoMark(arena, at, path);
            if (form.whiteouts() == WhiteoutFormats.WhiteoutForm.MARK_FILE && !path.isRoot()) {
                if (rawStat(arena, at.dirfd(), at.name(), path) != null) {
                    throw error(EEXIST, path, null);
                }
                if (!createMark(arena, at, path)) {
                    throw error(EEXIST, path, "a whiteout (" + WhiteoutFormats.markOf(at.name()) + ") has that name");
                }
                return;
            }
            // The kernel's whiteout: a character device 0/0 with mode 0000.
            int r = LinuxCalls.mknodat(arena, at.dirfd(), at.name(), EntryType.CHARACTER_DEVICE.formatBits(), 0);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.EPERM ? "the file system refuses whiteouts (character devices 0/0)" : null);
            }
        }
    }

    @Override
    public void link(EntryPath existing, EntryPath link) throws IOException {
        try (Arena arena = Scratch.open(); At from = at(arena, existing); At to = newAt(arena, link)) {
            requireNoMark(arena, to, link);
            int r = LinuxCalls.linkat(arena, from.dirfd(), from.name(), to.dirfd(), to.name());
            if (r < 0) {
                throw Errno.ofCode(-r).exception(existing.toString(), link.toString(), "in layer " + description);
            }
        }
    }

    @Override
    public void linkIntoWorkArea(EntryPath existing, EntryPath staged) throws IOException {
        if (workArea == null) {
            throw new UnsupportedOperationException("the work area " + description + " has no work area of its own");
        }
        try (Arena arena = Scratch.open(); At from = at(arena, existing); At to = workArea.newAt(arena, staged)) {
            int r = LinuxCalls.linkat(arena, from.dirfd(), from.name(), to.dirfd(), to.name());
            if (r < 0) {
                throw Errno.ofCode(-r).exception(existing.toString(), staged.toString(),
                        "linking into the work area of layer " + description);
            }
        }
    }

    @Override
    public void delete(EntryPath path) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            if (path.isRoot()) {
                throw error(Errno.EBUSY.code(), path, "the root of a layer cannot be removed");
            }
            // The .wh. file goes first: while the entry is there it hides nothing, and once the
            // entry is gone the name must be free, not whited out.
            boolean marked = removeMark(arena, at, path);
            int r = LinuxCalls.unlinkat(arena, at.dirfd(), at.name(), 0);
            if (r == -LinuxCalls.EISDIR) {
                r = removeDirectory(arena, at);
                forgetDirectories(path);
            }
            if (r == -LinuxCalls.ENOENT && marked) {
                return; // the whiteout was that file
            }
            if (r < 0) {
                throw error(-r, path, null);
            }
        }
    }

    /**
     * {@code rmdir} of the directory at {@code at}, where marks that hide nothing
     * ({@code .wh..wh..opq} and the other {@code .wh..wh.} names) are no entries: a directory
     * holding only those is removed with them. 0 or {@code -errno}.
     */
    private int removeDirectory(Arena arena, At at) {
        int r = LinuxCalls.unlinkat(arena, at.dirfd(), at.name(), LinuxCalls.AT_REMOVEDIR);
        if (r != -ENOTEMPTY) {
            return r;
        }
        int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                RESOLVE_IN_LAYER);
        if (fd < 0) {
            return r;
        }
        try {
            List<LinuxCalls.Dirent> entries = LinuxCalls.readDirectory(arena, fd, new int[1]);
            if (entries == null || entries.stream().anyMatch(d -> !WhiteoutFormats.isMark(d.name())
                    || WhiteoutFormats.hiddenBy(d.name()) != null)) {
                return r;
            }
            for (LinuxCalls.Dirent d : entries) {
                if (LinuxCalls.unlinkat(arena, fd, d.name(), 0) < 0) {
                    return r;
                }
            }
        } finally {
            LinuxCalls.close(fd);
        }
        return LinuxCalls.unlinkat(arena, at.dirfd(), at.name(), LinuxCalls.AT_REMOVEDIR);
    }

    @Override
    public void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        if (source.equals(target) && mode != RenameMode.EXCHANGE && !source.isRoot()) {
            // rename(2) of a name onto itself changes nothing; only a missing name fails.
            if (stat(source).isEmpty()) {
                throw Errno.ENOENT.exception(source.toString(), target.toString(), "in layer " + description);
            }
            return;
        }
        try (Arena arena = Scratch.open(); At from = at(arena, source); At to = newAt(arena, target)) {
            renameBetween(arena, from, source, to, target, mode);
        } finally {
            forgetDirectories(source);
            forgetDirectories(target);
        }
    }

    @Override
    public void renameLeavingWhiteout(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        int flags = switch (mode) {
            case REPLACE -> LinuxCalls.RENAME_WHITEOUT;
            case NOREPLACE -> LinuxCalls.RENAME_WHITEOUT | LinuxCalls.RENAME_NOREPLACE;
            case EXCHANGE -> throw Errno.EINVAL.exception(source.toString(), target.toString(),
                    "a rename cannot both exchange and leave a whiteout");
        };
        if (source.isRoot() || target.isRoot()) {
            throw Errno.EBUSY.exception(source.toString(), target.toString(), "the root of a layer cannot be renamed");
        }
        try (Arena arena = Scratch.open(); At from = at(arena, source); At to = newAt(arena, target)) {
            if (mode == RenameMode.NOREPLACE && marked(arena, to, target)) {
                throw Errno.EEXIST.exception(target.toString(), source.toString(), "a whiteout has that name");
            }
            int r;
            if (form.whiteouts() == WhiteoutFormats.WhiteoutForm.DEVICE) {
                // The whiteout RENAME_WHITEOUT leaves is the kernel's own: a 0/0 character device, as createWhiteout makes.
                r = LinuxCalls.renameat2(arena, from.dirfd(), from.name(), to.dirfd(), to.name(), flags);
                if (r == -LinuxCalls.EINVAL && !target.startsWith(source)) {
                    forgetDirectories(source);
                    forgetDirectories(target);
                    throw Errno.EOPNOTSUPP.exception(source.toString(), target.toString(),
                            "the file system under layer " + description + " cannot rename leaving a whiteout");
                }
            } else {
                // The .wh. file first, hiding nothing while the entry is there; the rename is the one step that shows.
                boolean created = createMark(arena, from, source);
                r = LinuxCalls.renameat2(arena, from.dirfd(), from.name(), to.dirfd(), to.name(),
                        flags & ~LinuxCalls.RENAME_WHITEOUT);
                if (r < 0 && created) {
                    removeMark(arena, from, source);
                }
            }
            forgetDirectories(source);
            forgetDirectories(target);
            if (r < 0) {
                throw Errno.ofCode(-r).exception(source.toString(), target.toString(), "in layer " + description);
            }
            if (mode == RenameMode.REPLACE) {
                removeMark(arena, to, target);
            }
        }
    }

    /**
     * {@code renameat2(2)} from {@code from} (in this tree or the work area) to {@code to}, where
     * either name may be a whiteout kept as a {@code .wh.} file: such a whiteout moves, is
     * replaced, takes the name (NOREPLACE: EEXIST) and is exchanged as a device whiteout would be.
     */
    private void renameBetween(Arena arena, At from, EntryPath source, At to, EntryPath target, RenameMode mode)
            throws IOException {
        if (source.isRoot() || target.isRoot()) {
            throw Errno.EBUSY.exception(source.toString(), target.toString(), "the root of a layer cannot be renamed");
        }
        boolean targetMarked = mode != RenameMode.EXCHANGE && marked(arena, to, target);
        if (targetMarked && mode == RenameMode.NOREPLACE) {
            throw Errno.EEXIST.exception(target.toString(), source.toString(), "a whiteout has that name");
        }
        if (targetMarked && rawStat(arena, to.dirfd(), to.name(), target) == null) {
            LinuxCalls.Stat moving = rawStat(arena, from.dirfd(), from.name(), source);
            if (moving != null && EntryType.ofFormatBits(moving.mode()) == EntryType.DIRECTORY) {
                // As over a device whiteout: rename(2) puts no directory over a non-directory.
                throw Errno.ENOTDIR.exception(target.toString(), source.toString(), "in layer " + description);
            }
        }
        int flags = switch (mode) {
            case REPLACE -> 0;
            case NOREPLACE -> LinuxCalls.RENAME_NOREPLACE;
            case EXCHANGE -> LinuxCalls.RENAME_EXCHANGE;
        };
        int r = LinuxCalls.renameat2(arena, from.dirfd(), from.name(), to.dirfd(), to.name(), flags);
        if (r == -LinuxCalls.ENOENT) {
            if (mode == RenameMode.EXCHANGE) {
                exchangeWithMark(arena, from, source, to, target);
            } else {
                moveMarkedWhiteout(arena, from, source, to, target, mode);
            }
            return;
        }
        if (r < 0) {
            throw Errno.ofCode(-r).exception(source.toString(), target.toString(), "in layer " + description);
        }
        if (mode != RenameMode.EXCHANGE) {
            // A .wh. file left at either name would now stand for a whiteout there.
            if (targetMarked) {
                removeMark(arena, to, target);
            }
            removeMark(arena, from, source);
        }
    }

    /** Renames {@code source}, a whiteout kept as a {@code .wh.} file (ENOENT when it is not), to {@code target}. */
    private void moveMarkedWhiteout(Arena arena, At from, EntryPath source, At to, EntryPath target, RenameMode mode)
            throws IOException {
        if (!marked(arena, from, source)) {
            throw Errno.ENOENT.exception(source.toString(), target.toString(), "in layer " + description);
        }
        LinuxCalls.Stat occupant = rawStat(arena, to.dirfd(), to.name(), target);
        if (occupant != null || marked(arena, to, target)) {
            if (mode == RenameMode.NOREPLACE) {
                throw Errno.EEXIST.exception(target.toString(), source.toString(), "in layer " + description);
            }
            if (occupant != null) {
                if (EntryType.ofFormatBits(occupant.mode()) == EntryType.DIRECTORY) {
                    throw Errno.EISDIR.exception(target.toString(), source.toString(), "in layer " + description);
                }
                createMark(arena, to, target);
                int r = LinuxCalls.unlinkat(arena, to.dirfd(), to.name(), 0);
                if (r < 0) {
                    throw Errno.ofCode(-r).exception(target.toString(), source.toString(), "in layer " + description);
                }
            }
            removeMark(arena, from, source);
            return;
        }
        int r = LinuxCalls.renameat2(arena, from.dirfd(), WhiteoutFormats.markOf(from.name()), to.dirfd(),
                WhiteoutFormats.markOf(to.name()), LinuxCalls.RENAME_NOREPLACE);
        if (r < 0) {
            throw Errno.ofCode(-r).exception(source.toString(), target.toString(), r == -LinuxCalls.ENAMETOOLONG
                    ? "its whiteout, a .wh. file, would need a name of more than 255 bytes" : "in layer " + description);
        }
    }

    /** Exchange where one side (or both) is a whiteout kept as a {@code .wh.} file; ENOENT when a side is missing. */
    private void exchangeWithMark(Arena arena, At from, EntryPath source, At to, EntryPath target) throws IOException {
        boolean sourceReal = rawStat(arena, from.dirfd(), from.name(), source) != null;
        boolean targetReal = rawStat(arena, to.dirfd(), to.name(), target) != null;
        boolean sourceMarked = !sourceReal && marked(arena, from, source);
        boolean targetMarked = !targetReal && marked(arena, to, target);
        if (sourceReal && targetMarked) {
            swapWithMark(arena, from, source, to, target);
        } else if (sourceMarked && targetReal) {
            swapWithMark(arena, to, target, from, source);
        } else if (!(sourceMarked && targetMarked)) { // two whiteouts exchanged change nothing
            throw Errno.ENOENT.exception(source.toString(), target.toString(), "in layer " + description);
        }
    }

    /** Moves the entry at {@code real} to {@code marked}, a whiteout kept as a {@code .wh.} file, and whites out its old name. */
    private void swapWithMark(Arena arena, At real, EntryPath realPath, At marked, EntryPath markedPath) throws IOException {
        boolean created = createMark(arena, real, realPath); // hides nothing while the entry is there
        int r = LinuxCalls.renameat2(arena, real.dirfd(), real.name(), marked.dirfd(), marked.name(),
                LinuxCalls.RENAME_NOREPLACE);
        if (r < 0) {
            if (created) {
                removeMark(arena, real, realPath);
            }
            throw Errno.ofCode(-r).exception(realPath.toString(), markedPath.toString(), "in layer " + description);
        }
        removeMark(arena, marked, markedPath);
    }

    @Override
    public void setPermissions(EntryPath path, int permissions) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.fchmodatNoFollow(arena, at.dirfd(), at.name(), permissions & 07777);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.ENOSYS ? "fchmodat2 needs Linux 6.6 or newer" : null);
            }
        }
    }

    @Override
    public void setOwner(EntryPath path, int uid, int gid) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.fchownat(arena, at.dirfd(), at.name(), uid, gid, AT_SYMLINK_NOFOLLOW);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.EPERM ? "changing the owner needs CAP_CHOWN (run as root)" : null);
            }
        }
    }

    @Override
    public void setTimes(EntryPath path, long atimeNanos, long mtimeNanos) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.utimensat(arena, at.dirfd(), at.name(), seconds(atimeNanos), nanos(atimeNanos),
                    seconds(mtimeNanos), nanos(mtimeNanos), AT_SYMLINK_NOFOLLOW);
            if (r < 0) {
                throw error(-r, path, null);
            }
        }
    }

    private static long seconds(long time) {
        return time == TIME_OMIT || time == TIME_NOW ? 0 : Math.floorDiv(time, 1_000_000_000L);
    }

    private static long nanos(long time) {
        if (time == TIME_OMIT) {
            return LinuxCalls.UTIME_OMIT;
        }
        if (time == TIME_NOW) {
            return LinuxCalls.UTIME_NOW;
        }
        return Math.floorMod(time, 1_000_000_000L);
    }

    @Override
    public void setXattr(EntryPath path, String name, byte[] value, XattrMode mode) throws IOException {
        refuseForeignMark(path, name);
        int flags = switch (mode) {
            case CREATE_OR_REPLACE -> 0;
            case CREATE -> LinuxCalls.XATTR_CREATE;
            case REPLACE -> LinuxCalls.XATTR_REPLACE;
        };
        writeXattr(path, name, value, flags);
    }

    private void writeXattr(EntryPath path, String name, byte[] value, int flags) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.setxattr(arena, at.dirfd(), at.name(), name, value, flags);
            if (r < 0) {
                throw error(-r, path, "xattr " + name + privilegeHint(r, name));
            }
        }
    }

    private static String privilegeHint(int r, String name) {
        return r == -LinuxCalls.EPERM && name.startsWith("trusted.")
                ? ": writing trusted.* xattrs needs CAP_SYS_ADMIN; without it open the overlay with option userxattr"
                : "";
    }

    @Override
    public void removeXattr(EntryPath path, String name) throws IOException {
        refuseForeignMark(path, name);
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.removexattr(arena, at.dirfd(), at.name(), name);
            if (r < 0) {
                throw error(-r, path, "xattr " + name + privilegeHint(r, name));
            }
        }
    }

    /** fuse-overlayfs's own xattrs are neither shown nor set, as fuse-overlayfs answers: EPERM. */
    private void refuseForeignMark(EntryPath path, String name) throws IOException {
        if (WhiteoutFormats.isForeignMark(name)) {
            checkOpen();
            throw error(LinuxCalls.EPERM, path, "xattr " + name + " is fuse-overlayfs's overlay mark");
        }
    }

    /** Removes an overlay mark; absent is fine, and so is a file system that cannot hold it. */
    private void clearMark(EntryPath path, String name) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.removexattr(arena, at.dirfd(), at.name(), name);
            boolean unstorable = (r == -LinuxCalls.EPERM && !form.keepsXattrMarks()) || r == -LinuxCalls.EOPNOTSUPP;
            if (r < 0 && r != -LinuxCalls.ENODATA && !unstorable) {
                throw error(-r, path, "xattr " + name + privilegeHint(r, name));
            }
        }
    }

    /** Creates (or removes) {@code .wh..wh..opq} in {@code directory}. */
    private void opaqueMarkFile(EntryPath directory, boolean present) throws IOException {
        checkOpen();
        try (Arena arena = Scratch.open()) {
            int fd = open(arena, directory, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                throw error(-fd == LinuxCalls.ELOOP ? LinuxCalls.ENOTDIR : -fd, directory, null);
            }
            try {
                int r = present ? WhiteoutFormats.createMark(arena, fd, WhiteoutFormats.OPAQUE_MARK)
                        : LinuxCalls.unlinkat(arena, fd, WhiteoutFormats.OPAQUE_MARK, 0);
                if (r < 0 && r != (present ? -EEXIST : -LinuxCalls.ENOENT)) {
                    throw error(-r, directory, (present ? "creating " : "removing ") + WhiteoutFormats.OPAQUE_MARK);
                }
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    private void requireDirectory(EntryPath directory) throws IOException {
        Optional<EntryAttributes> attributes = stat(directory);
        if (attributes.isEmpty()) {
            throw error(LinuxCalls.ENOENT, directory, null);
        }
        if (!attributes.get().isDirectory()) {
            throw error(LinuxCalls.ENOTDIR, directory, "overlay marks belong on directories");
        }
    }

    @Override
    public void setFileFlags(EntryPath path, int flags) throws IOException {
        InodeFlagIoctls.setFlags(this, path, flags);
    }

    @Override
    public void setFsxAttributes(EntryPath path, dev.overlay4j.api.FsxAttributes attributes) throws IOException {
        InodeFlagIoctls.setFsx(this, path, attributes);
    }

    @Override
    public void setOpaque(EntryPath directory, boolean opaque) throws IOException {
        requireDirectory(directory);
        if (!opaque) {
            // Every form goes: this layer may hold marks written by fuse-overlayfs or with other privileges.
            clearMark(directory, prefix + "opaque");
            clearMark(directory, WhiteoutFormats.FUSE_OVERLAYFS_OPAQUE);
            opaqueMarkFile(directory, false);
            return;
        }
        switch (form.marks()) {
            case XATTR -> writeXattr(directory, prefix + "opaque", new byte[] {'y'}, 0);
            case FUSE_OVERLAYFS -> {
                writeXattr(directory, WhiteoutFormats.FUSE_OVERLAYFS_OPAQUE, new byte[] {'y'}, 0);
                opaqueMarkFile(directory, true);
            }
            case MARK_FILE -> opaqueMarkFile(directory, true);
        }
    }

    @Override
    public void setRedirect(EntryPath directory, String redirect) throws IOException {
        requireDirectory(directory);
        if (redirect == null) {
            clearMark(directory, prefix + "redirect");
        } else if (!form.keepsXattrMarks()) {
            // As the kernel without xattrs on its upper, and fuse-overlayfs always: the rename is refused.
            throw error(LinuxCalls.EXDEV, directory, "a renamed directory's redirect cannot be recorded: "
                    + prefix + "* xattrs cannot be written here" + (prefix.startsWith("trusted.")
                    ? " (they need CAP_SYS_ADMIN; option userxattr keeps them in user.overlay.*)" : ""));
        } else {
            writeXattr(directory, prefix + "redirect", redirect.getBytes(StandardCharsets.UTF_8), 0);
        }
    }

    /**
     * Writes an overlay-private mark, where one can be kept: not without overlay xattrs, and in
     * {@code user.overlay.*} not on a symlink or special file, which Linux gives no user xattrs
     * (the kernel with {@code userxattr} keeps no origin there either). Lookup then falls back to
     * what the layers show.
     */
    @Override
    public void writeOverlayXattr(EntryPath path, String key, byte[] value) throws IOException {
        if (!form.keepsXattrMarks()) {
            return;
        }
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.setxattr(arena, at.dirfd(), at.name(), prefix + key, value, 0);
            if (r == -LinuxCalls.EPERM && prefix.startsWith("user.") && !holdsUserXattrs(arena, at, path)) {
                return;
            }
            if (r < 0) {
                throw error(-r, path, "xattr " + prefix + key + privilegeHint(r, prefix + key));
            }
        }
    }

    /** Whether the entry can have {@code user.*} xattrs at all: regular files and directories only. */
    private boolean holdsUserXattrs(Arena arena, At at, EntryPath path) throws IOException {
        LinuxCalls.Stat st = rawStat(arena, at.dirfd(), at.name(), path);
        if (st == null) {
            return true;
        }
        EntryType type = EntryType.ofFormatBits(st.mode());
        return type == EntryType.REGULAR_FILE || type == EntryType.DIRECTORY;
    }

    @Override
    public WritableLayer workArea() {
        if (workArea == null) {
            throw new UnsupportedOperationException("the work area " + description + " has no work area of its own");
        }
        return workArea;
    }

    @Override
    public void publish(EntryPath staged, EntryPath target, RenameMode mode) throws IOException {
        if (workArea == null) {
            throw new UnsupportedOperationException("the work area " + description + " cannot publish");
        }
        try (Arena arena = Scratch.open(); At from = workArea.at(arena, staged); At to = newAt(arena, target)) {
            renameBetween(arena, from, staged, to, target, mode);
        } finally {
            workArea.forgetDirectories(staged);
            forgetDirectories(target);
        }
    }

    @Override
    public WritableLayer indexArea() {
        if (indexArea == null) {
            throw new UnsupportedOperationException(description + " keeps no index");
        }
        return indexArea;
    }

    @Override
    public void linkFromIndex(EntryPath indexed, EntryPath link) throws IOException {
        if (indexArea == null) {
            throw Errno.EOPNOTSUPP.exception(indexed.toString(), link.toString(), description + " keeps no index");
        }
        try (Arena arena = Scratch.open(); At from = indexArea.at(arena, indexed); At to = newAt(arena, link)) {
            requireNoMark(arena, to, link);
            int r = LinuxCalls.linkat(arena, from.dirfd(), from.name(), to.dirfd(), to.name());
            if (r < 0) {
                throw Errno.ofCode(-r).exception(indexed.toString(), link.toString(),
                        "linking from the index of layer " + description);
            }
        }
    }

    @Override
    public void sync() throws IOException {
        checkOpen();
        try (Arena arena = Scratch.open()) {
            int fd = LinuxCalls.openat2(arena, rootFd, SELF, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_LAYER);
            if (fd < 0) {
                throw error(-fd, EntryPath.ROOT, null);
            }
            try {
                int r = LinuxCalls.syncfs(arena, fd);
                if (r < 0) {
                    throw error(-r, EntryPath.ROOT, "syncfs");
                }
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    @Override
    public void syncDirectory(EntryPath directory, boolean metadata) throws IOException {
        checkOpen();
        try (Arena arena = Scratch.open()) {
            int fd = open(arena, directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                throw error(-fd == LinuxCalls.ELOOP ? LinuxCalls.ENOTDIR : -fd, directory, null);
            }
            try {
                int r = LinuxCalls.fsync(arena, fd, metadata);
                if (r < 0) {
                    throw error(-r, directory, metadata ? "fsync" : "fdatasync");
                }
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            if (resources != null) {
                resources.close();
            }
        }
    }

    @Override
    public String toString() {
        return "WritableDirectoryLayer[" + description + "]";
    }
}
