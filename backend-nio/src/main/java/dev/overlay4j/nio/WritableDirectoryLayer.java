package dev.overlay4j.nio;

import static dev.overlay4j.nio.LinuxCalls.AT_SYMLINK_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_CLOEXEC;
import static dev.overlay4j.nio.LinuxCalls.O_CREAT;
import static dev.overlay4j.nio.LinuxCalls.O_DIRECTORY;
import static dev.overlay4j.nio.LinuxCalls.O_EXCL;
import static dev.overlay4j.nio.LinuxCalls.O_NOFOLLOW;
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
import java.util.Optional;

/**
 * A writable layer on a local directory, written in the kernel's upper-dir format: whiteouts are
 * 0/0 character devices, opaque and redirect marks are {@code <prefix>opaque} and
 * {@code <prefix>redirect} xattrs. Errors carry the errno of the system call that failed.
 */
class WritableDirectoryLayer extends DirectoryLayer implements WritableLayer {

    private final int euid = LinuxCalls.geteuid();
    private final int egid = LinuxCalls.getegid();
    /** The work area, or null when this layer is itself a work area. */
    private final WritableDirectoryLayer workArea;
    /** The persistent index (see {@link WritableLayer#indexArea()}), or null when this layer keeps none. */
    private final WritableDirectoryLayer indexArea;
    /** Released when the layer closes: the work dir lock, and the work area. */
    private final Closeable resources;

    WritableDirectoryLayer(Path root, String description, LayerOptions options, WritableDirectoryLayer workArea,
                           WritableDirectoryLayer indexArea, Closeable resources) throws IOException {
        super(root, description, options);
        this.workArea = workArea;
        this.indexArea = indexArea;
        this.resources = resources;
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
        try (Arena arena = Scratch.open(); At at = at(arena, file)) {
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
        try (Arena arena = Scratch.open(); At at = at(arena, directory)) {
            int r = LinuxCalls.mkdirat(arena, at.dirfd(), at.name(), attributes.permissions());
            if (r < 0) {
                throw error(-r, directory, null);
            }
            ownerAndMode(arena, at, directory, attributes, true);
        }
    }

    @Override
    public void createSymlink(EntryPath link, String target, NewEntryAttributes attributes) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, link)) {
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
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
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
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            // The kernel's whiteout: a character device 0/0 with mode 0000.
            int r = LinuxCalls.mknodat(arena, at.dirfd(), at.name(), EntryType.CHARACTER_DEVICE.formatBits(), 0);
            if (r < 0) {
                throw error(-r, path, r == -LinuxCalls.EPERM
                        ? "creating a whiteout (character device 0/0) needs CAP_MKNOD: run as root, or unprivileged "
                        + "in a user namespace with option userxattr" : null);
            }
        }
    }

    @Override
    public void link(EntryPath existing, EntryPath link) throws IOException {
        try (Arena arena = Scratch.open(); At from = at(arena, existing); At to = at(arena, link)) {
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
        try (Arena arena = Scratch.open(); At from = at(arena, existing); At to = workArea.at(arena, staged)) {
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
            int r = LinuxCalls.unlinkat(arena, at.dirfd(), at.name(), 0);
            if (r == -LinuxCalls.EISDIR) {
                r = LinuxCalls.unlinkat(arena, at.dirfd(), at.name(), LinuxCalls.AT_REMOVEDIR);
                forgetDirectories(path);
            }
            if (r < 0) {
                throw error(-r, path, null);
            }
        }
    }

    @Override
    public void rename(EntryPath source, EntryPath target, RenameMode mode) throws IOException {
        try (Arena arena = Scratch.open(); At from = at(arena, source); At to = at(arena, target)) {
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
        try (Arena arena = Scratch.open(); At from = at(arena, source); At to = at(arena, target)) {
            // The whiteout RENAME_WHITEOUT leaves is the kernel's own: a 0/0 character device, as createWhiteout makes.
            int r = LinuxCalls.renameat2(arena, from.dirfd(), from.name(), to.dirfd(), to.name(), flags);
            forgetDirectories(source);
            forgetDirectories(target);
            if (r == -LinuxCalls.EINVAL && !target.startsWith(source)) {
                throw Errno.EOPNOTSUPP.exception(source.toString(), target.toString(),
                        "the file system under layer " + description + " cannot rename leaving a whiteout");
            }
            if (r < 0) {
                throw Errno.ofCode(-r).exception(source.toString(), target.toString(), "in layer " + description);
            }
        }
    }

    private void renameBetween(Arena arena, At from, EntryPath source, At to, EntryPath target, RenameMode mode)
            throws IOException {
        if (source.isRoot() || target.isRoot()) {
            throw Errno.EBUSY.exception(source.toString(), target.toString(), "the root of a layer cannot be renamed");
        }
        int flags = switch (mode) {
            case REPLACE -> 0;
            case NOREPLACE -> LinuxCalls.RENAME_NOREPLACE;
            case EXCHANGE -> LinuxCalls.RENAME_EXCHANGE;
        };
        int r = LinuxCalls.renameat2(arena, from.dirfd(), from.name(), to.dirfd(), to.name(), flags);
        if (r < 0) {
            throw Errno.ofCode(-r).exception(source.toString(), target.toString(), "in layer " + description);
        }
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
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.removexattr(arena, at.dirfd(), at.name(), name);
            if (r < 0) {
                throw error(-r, path, "xattr " + name + privilegeHint(r, name));
            }
        }
    }

    /** Removes an overlay mark; absent is fine. */
    private void clearMark(EntryPath path, String name) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int r = LinuxCalls.removexattr(arena, at.dirfd(), at.name(), name);
            if (r < 0 && r != -LinuxCalls.ENODATA) {
                throw error(-r, path, "xattr " + name + privilegeHint(r, name));
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
        if (opaque) {
            writeXattr(directory, prefix + "opaque", new byte[] {'y'}, 0);
        } else {
            clearMark(directory, prefix + "opaque");
        }
    }

    @Override
    public void setRedirect(EntryPath directory, String redirect) throws IOException {
        requireDirectory(directory);
        if (redirect == null) {
            clearMark(directory, prefix + "redirect");
        } else {
            writeXattr(directory, prefix + "redirect", redirect.getBytes(StandardCharsets.UTF_8), 0);
        }
    }

    @Override
    public void writeOverlayXattr(EntryPath path, String key, byte[] value) throws IOException {
        writeXattr(path, prefix + key, value, 0);
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
        try (Arena arena = Scratch.open(); At from = workArea.at(arena, staged); At to = at(arena, target)) {
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
        try (Arena arena = Scratch.open(); At from = indexArea.at(arena, indexed); At to = at(arena, link)) {
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
