package dev.overlay4j.nio;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.FsxAttributes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The file-attribute ioctls ({@code FS_IOC_GETFLAGS}/{@code SETFLAGS},
 * {@code FS_IOC_FSGETXATTR}/{@code FSSETXATTR}) on an entry of a directory layer. The entry is
 * found as every lookup finds it and opened through its {@code O_PATH} descriptor for reading
 * (as {@code chattr(1)} opens it: setting flags needs ownership, not write access), and only
 * when it is a regular file or a directory, so a device or FIFO is never opened (ENOTTY, as the
 * kernel answers for those on overlayfs and FUSE).
 */
final class InodeFlagIoctls {

    // The request numbers: _IOR('f', 1, long), _IOW('f', 2, long), _IOR('X', 31, struct fsxattr),
    // _IOW('X', 32, struct fsxattr); the same encoding on x86_64, aarch64 and riscv64.
    static final long FS_IOC_GETFLAGS = 0x80086601L;
    static final long FS_IOC_SETFLAGS = 0x40086602L;
    static final long FS_IOC_FSGETXATTR = 0x801c581fL;
    static final long FS_IOC_FSSETXATTR = 0x401c5820L;
    /** {@code struct fsxattr}: five u32 and 8 bytes of padding. */
    private static final long FSXATTR_SIZE = 28;

    private InodeFlagIoctls() {
    }

    @FunctionalInterface
    private interface Call<T> {
        T on(Arena arena, int fd) throws IOException;
    }

    static int flags(DirectoryLayer layer, EntryPath path) throws IOException {
        return onEntry(layer, path, (arena, fd) -> {
            MemorySegment flags = arena.allocate(8, 8);
            check(layer, path, FileCalls.ioctl(arena, fd, FS_IOC_GETFLAGS, flags), "FS_IOC_GETFLAGS");
            return flags.get(JAVA_INT, 0); // the kernel reads and writes an int, whatever the encoding says
        });
    }

    static void setFlags(DirectoryLayer layer, EntryPath path, int value) throws IOException {
        onEntry(layer, path, (arena, fd) -> {
            MemorySegment flags = arena.allocate(8, 8);
            flags.set(JAVA_INT, 0, value);
            check(layer, path, FileCalls.ioctl(arena, fd, FS_IOC_SETFLAGS, flags), "FS_IOC_SETFLAGS");
            return null;
        });
    }

    static FsxAttributes fsx(DirectoryLayer layer, EntryPath path) throws IOException {
        return onEntry(layer, path, (arena, fd) -> {
            MemorySegment fsx = arena.allocate(FSXATTR_SIZE, 8);
            fsx.fill((byte) 0);
            check(layer, path, FileCalls.ioctl(arena, fd, FS_IOC_FSGETXATTR, fsx), "FS_IOC_FSGETXATTR");
            return new FsxAttributes(fsx.get(JAVA_INT, 0), fsx.get(JAVA_INT, 4), fsx.get(JAVA_INT, 8),
                    fsx.get(JAVA_INT, 12), fsx.get(JAVA_INT, 16));
        });
    }

    static void setFsx(DirectoryLayer layer, EntryPath path, FsxAttributes value) throws IOException {
        onEntry(layer, path, (arena, fd) -> {
            MemorySegment fsx = arena.allocate(FSXATTR_SIZE, 8);
            fsx.fill((byte) 0);
            fsx.set(JAVA_INT, 0, value.xflags());
            fsx.set(JAVA_INT, 4, value.extentSize());
            fsx.set(JAVA_INT, 8, value.extents());
            fsx.set(JAVA_INT, 12, value.projectId());
            fsx.set(JAVA_INT, 16, value.cowExtentSize());
            check(layer, path, FileCalls.ioctl(arena, fd, FS_IOC_FSSETXATTR, fsx), "FS_IOC_FSSETXATTR");
            return null;
        });
    }

    /** ENOTTY for anything but a regular file or a directory, which is never opened. */
    private static void requireFlaggable(DirectoryLayer layer, EntryPath path, LinuxCalls.Stat st) throws IOException {
        EntryType type = EntryType.ofFormatBits(st.mode());
        if (type != EntryType.REGULAR_FILE && type != EntryType.DIRECTORY) {
            throw layer.error(Errno.ENOTTY.code(), path, "inode flags belong to regular files and directories");
        }
    }

    private static void check(DirectoryLayer layer, EntryPath path, int r, String call) throws IOException {
        if (r < 0) {
            throw layer.error(-r, path, call);
        }
    }

    private static <T> T onEntry(DirectoryLayer layer, EntryPath path, Call<T> call) throws IOException {
        if (layer.unchanging() && !path.isRoot()) {
            // A layer that does not change: by name in its (cached) directory once statx has shown
            // what the name is, as openRead does; two system calls fewer.
            try (Arena arena = Scratch.open(); DirectoryLayer.At at = layer.at(arena, path)) {
                LinuxCalls.Stat st = layer.rawStat(arena, at.dirfd(), at.name(), path);
                if (st == null) {
                    throw layer.error(LinuxCalls.ENOENT, path, null);
                }
                requireFlaggable(layer, path, st);
                int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), LinuxCalls.O_RDONLY | LinuxCalls.O_NONBLOCK
                        | LinuxCalls.O_NOFOLLOW | LinuxCalls.O_CLOEXEC, 0, LinuxCalls.RESOLVE_IN_LAYER);
                if (fd < 0) {
                    throw layer.error(-fd, path, null);
                }
                try {
                    return call.on(arena, fd);
                } finally {
                    LinuxCalls.close(fd);
                }
            }
        }
        try (Arena arena = Scratch.open()) {
            int pathFd = layer.openPath(arena, path);
            try {
                LinuxCalls.Stat[] st = new LinuxCalls.Stat[1];
                int r = LinuxCalls.statx(arena, pathFd, "", LinuxCalls.AT_EMPTY_PATH, st);
                if (r < 0) {
                    throw layer.error(-r, path, null);
                }
                requireFlaggable(layer, path, st[0]);
                int fd = LinuxCalls.openat2(arena, LinuxCalls.AT_FDCWD, "/proc/self/fd/" + pathFd,
                        LinuxCalls.O_RDONLY | LinuxCalls.O_NONBLOCK | LinuxCalls.O_CLOEXEC, 0, 0);
                if (fd < 0) {
                    throw layer.error(-fd, path, null);
                }
                try {
                    return call.on(arena, fd);
                } finally {
                    LinuxCalls.close(fd);
                }
            } finally {
                LinuxCalls.close(pathFd);
            }
        }
    }
}
