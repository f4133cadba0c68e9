package dev.overlay4j.nio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Every native call of this module (Linux, glibc), through FFM. Calls return what the kernel
 * does: a non-negative result, or {@code -errno}; callers turn errno into exceptions with
 * {@link dev.overlay4j.api.Errno} because only they know which path and what rule it concerns.
 * Memory comes from the caller's arena, on hot paths a reused {@link Scratch} frame.
 */
final class LinuxCalls {

    private LinuxCalls() {
    }

    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_REMOVEDIR = 0x200;
    static final int AT_EMPTY_PATH = 0x1000;

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_CLOEXEC = 02000000;
    /** Never wait in open: a FIFO swapped in for a checked regular file must not block. */
    static final int O_NONBLOCK = 04000;
    static final int O_PATH = 010000000;
    /** O_DIRECTORY and O_NOFOLLOW differ between architectures (asm-generic vs x86). */
    static final int O_DIRECTORY;
    static final int O_NOFOLLOW;

    static final long RESOLVE_NO_MAGICLINKS = 0x02;
    static final long RESOLVE_NO_SYMLINKS = 0x04;
    static final long RESOLVE_BENEATH = 0x08;
    /** How every lookup inside a layer resolves: no symlink followed, never above the root. */
    static final long RESOLVE_IN_LAYER = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;

    static final int RENAME_NOREPLACE = 1;
    static final int RENAME_EXCHANGE = 2;
    static final int RENAME_WHITEOUT = 4;
    static final int XATTR_CREATE = 1;
    static final int XATTR_REPLACE = 2;
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;

    static final int DT_UNKNOWN = 0;
    static final int DT_CHR = 2;
    static final int DT_REG = 8;

    static final int ENOENT = 2;
    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int ENODATA = 61;
    static final int ERANGE = 34;
    static final int ELOOP = 40;
    static final int EISDIR = 21;
    static final int ENOTDIR = 20;
    static final int ENAMETOOLONG = 36;
    static final int EXDEV = 18;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;

    /** Syscall numbers without a glibc 2.36 wrapper; both are the same on every architecture (asm-generic table). */
    private static final long SYS_OPENAT2 = 437;
    private static final long SYS_FCHMODAT2 = 452;
    /** The *xattrat calls (Linux 6.13): xattrs by directory fd and name, with no /proc path to resolve. */
    private static final long SYS_SETXATTRAT = 463;
    private static final long SYS_GETXATTRAT = 464;
    private static final long SYS_LISTXATTRAT = 465;
    private static final long SYS_REMOVEXATTRAT = 466;
    /** {@code struct xattr_args}: value pointer, size, flags. */
    private static final long XATTR_ARGS_SIZE = 16;

    /** False once the kernel said ENOSYS to fchmodat2: then modes change through O_PATH descriptors. */
    private static volatile boolean fchmodat2 = true;

    /** For tests: behave as on a kernel (or under a seccomp profile) without fchmodat2, or as usual again. */
    static void useFchmodat2(boolean use) {
        fchmodat2 = use;
    }

    /** False once the kernel said ENOSYS to an *xattrat call: then xattrs go through /proc/self/fd paths. */
    private static volatile boolean xattrAt = true;

    static final String ARCH = System.getProperty("os.arch");

    static {
        switch (ARCH) {
            case "amd64", "x86_64" -> {
                O_DIRECTORY = 0200000;
                O_NOFOLLOW = 0400000;
            }
            case "aarch64", "riscv64" -> {
                O_DIRECTORY = 040000;
                O_NOFOLLOW = 0100000;
            }
            default -> throw new ExceptionInInitializerError("overlay4j backend-nio supports Linux on x86_64, aarch64 and "
                    + "riscv64 only (open flags and struct layouts); this JVM runs on " + ARCH);
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    // struct statx from include/uapi/linux/stat.h: the same on every architecture, unlike struct stat.
    static final int STATX_BASIC_STATS = 0x7ff;
    private static final long STATX_SIZE = 256;
    private static final long STX_NLINK = 16;
    private static final long STX_UID = 20;
    private static final long STX_GID = 24;
    private static final long STX_MODE = 28;
    private static final long STX_INO = 32;
    private static final long STX_SIZE = 40;
    private static final long STX_BLOCKS = 48;
    private static final long STX_ATIME = 64;
    private static final long STX_CTIME = 96;
    private static final long STX_MTIME = 112;
    private static final long STX_RDEV_MAJOR = 128;
    private static final long STX_DEV_MAJOR = 136;

    private static final MethodHandle STATX = errno("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SYSCALL4 = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL6 = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle CLOSE_NO_ERRNO = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PREAD = errno("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MKNODAT = errno("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MKDIRAT = errno("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SYMLINKAT = errno("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle READLINKAT = errno("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle UNLINKAT = errno("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LINKAT = errno("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RENAMEAT2 = errno("renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FCHMOD = errno("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CHMOD = errno("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FCHOWN = errno("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHOWNAT = errno("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UTIMENSAT = errno("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle LGETXATTR = errno("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LSETXATTR = errno("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle LLISTXATTR = errno("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle LREMOVEXATTR = errno("lremovexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SYNCFS = errno("syncfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FSYNC = errno("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC = errno("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETDENTS64 = errno("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle STATVFS = errno("statvfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(LINKER.defaultLookup().find("geteuid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEGID = LINKER.downcallHandle(LINKER.defaultLookup().find("getegid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT));

    static MethodHandle errno(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
                        .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name + " (glibc 2.33 or newer is needed)")),
                descriptor, Linker.Option.captureCallState("errno"));
    }

    /** The result of a call: itself, or {@code -errno} when it returned -1. */
    static long result(long value, MemorySegment capture) {
        return value == -1 ? -(int) ERRNO.get(capture, 0L) : value;
    }

    static long call(MethodHandle handle, Arena arena, Object... args) {
        MemorySegment capture = arena.allocate(CAPTURE);
        Object[] all = new Object[args.length + 1];
        all[0] = capture;
        System.arraycopy(args, 0, all, 1, args.length);
        try {
            Object value = handle.invokeWithArguments(all);
            long raw = value instanceof Integer i ? i : (Long) value;
            return result(raw, capture);
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed: " + handle, t);
        }
    }

    private static IllegalStateException failed(String call, Throwable t) {
        return new IllegalStateException("native call " + call + " failed", t);
    }

    static MemorySegment cString(Arena arena, String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    /** The metadata {@code statx} reports; {@code rdev} and {@code dev} encoded as glibc's {@code makedev}. */
    record Stat(int mode, int uid, int gid, long size, long blocks, long atimeNanos, long mtimeNanos,
                long ctimeNanos, int nlink, long inode, long rdev, long dev) {
    }

    /** glibc's {@code makedev}: the 64-bit {@code dev_t} encoding of major and minor. */
    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    /** {@code statx(dirfd, path, flags)} into {@code out}; 0 or {@code -errno}. */
    static int statx(Arena arena, int dirfd, String path, int flags, Stat[] out) {
        MemorySegment buffer = arena.allocate(STATX_SIZE, 8);
        MemorySegment capture = arena.allocate(CAPTURE);
        int r;
        try {
            r = (int) STATX.invokeExact(capture, dirfd, cString(arena, path), flags, STATX_BASIC_STATS, buffer);
        } catch (Throwable t) {
            throw new IllegalStateException("statx failed", t);
        }
        if (r == -1) {
            return -(int) ERRNO.get(capture, 0L);
        }
        out[0] = new Stat(
                Short.toUnsignedInt(buffer.get(JAVA_SHORT, STX_MODE)),
                buffer.get(JAVA_INT, STX_UID),
                buffer.get(JAVA_INT, STX_GID),
                buffer.get(JAVA_LONG, STX_SIZE),
                buffer.get(JAVA_LONG, STX_BLOCKS),
                timestamp(buffer, STX_ATIME),
                timestamp(buffer, STX_MTIME),
                timestamp(buffer, STX_CTIME),
                buffer.get(JAVA_INT, STX_NLINK),
                buffer.get(JAVA_LONG, STX_INO),
                makedev(Integer.toUnsignedLong(buffer.get(JAVA_INT, STX_RDEV_MAJOR)),
                        Integer.toUnsignedLong(buffer.get(JAVA_INT, STX_RDEV_MAJOR + 4))),
                makedev(Integer.toUnsignedLong(buffer.get(JAVA_INT, STX_DEV_MAJOR)),
                        Integer.toUnsignedLong(buffer.get(JAVA_INT, STX_DEV_MAJOR + 4))));
        return 0;
    }

    private static long timestamp(MemorySegment buffer, long offset) {
        return buffer.get(JAVA_LONG, offset) * 1_000_000_000L + Integer.toUnsignedLong(buffer.get(JAVA_INT, offset + 8));
    }

    /** {@code openat2(dirfd, path, {flags, mode, resolve})}: a new fd or {@code -errno}. */
    static int openat2(Arena arena, int dirfd, String path, int flags, int mode, long resolve) {
        MemorySegment how = arena.allocate(24, 8);
        how.set(JAVA_LONG, 0, Integer.toUnsignedLong(flags));
        how.set(JAVA_LONG, 8, mode);
        how.set(JAVA_LONG, 16, resolve);
        MemorySegment capture = arena.allocate(CAPTURE);
        long r;
        try {
            r = (long) SYSCALL4.invokeExact(capture, SYS_OPENAT2, (long) dirfd, cString(arena, path).address(), how.address(), 24L);
        } catch (Throwable t) {
            throw new IllegalStateException("openat2 failed", t);
        }
        return (int) result(r, capture);
    }

    /** {@code pread(fd, buffer, count, offset)}: the number of bytes read (0 at end of file) or {@code -errno}. */
    static long pread(Arena arena, int fd, MemorySegment buffer, long count, long offset) {
        MemorySegment capture = arena.allocate(CAPTURE);
        long r;
        try {
            r = (long) PREAD.invokeExact(capture, fd, buffer, count, offset);
        } catch (Throwable t) {
            throw new IllegalStateException("pread failed", t);
        }
        return result(r, capture);
    }

    /** Closes a descriptor; errors (only EINTR/EIO after the descriptor is gone anyway) are ignored. */
    static void close(int fd) {
        try {
            int ignored = (int) CLOSE_NO_ERRNO.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close failed", t);
        }
    }

    static int mknodat(Arena arena, int dirfd, String name, int mode, long dev) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) MKNODAT.invokeExact(capture, dirfd, cString(arena, name), mode, dev), capture);
        } catch (Throwable t) {
            throw failed("mknodat", t);
        }
    }

    static int mkdirat(Arena arena, int dirfd, String name, int mode) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) MKDIRAT.invokeExact(capture, dirfd, cString(arena, name), mode), capture);
        } catch (Throwable t) {
            throw failed("mkdirat", t);
        }
    }

    static int symlinkat(Arena arena, String target, int dirfd, String name) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) SYMLINKAT.invokeExact(capture, cString(arena, target), dirfd, cString(arena, name)), capture);
        } catch (Throwable t) {
            throw failed("symlinkat", t);
        }
    }

    /** The link's target bytes, or {@code null} with {@code errno[0]} set. */
    static byte[] readlinkat(Arena arena, int dirfd, String name, int[] errno) {
        for (long size = 256; ; size *= 4) {
            MemorySegment buffer = arena.allocate(size);
            MemorySegment capture = arena.allocate(CAPTURE);
            long r;
            try {
                r = result((long) READLINKAT.invokeExact(capture, dirfd, cString(arena, name), buffer, size), capture);
            } catch (Throwable t) {
                throw failed("readlinkat", t);
            }
            if (r < 0) {
                errno[0] = (int) -r;
                return null;
            }
            if (r < size) {
                return buffer.asSlice(0, r).toArray(JAVA_BYTE);
            }
        }
    }

    static int unlinkat(Arena arena, int dirfd, String name, int flags) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) UNLINKAT.invokeExact(capture, dirfd, cString(arena, name), flags), capture);
        } catch (Throwable t) {
            throw failed("unlinkat", t);
        }
    }

    static int linkat(Arena arena, int olddirfd, String oldname, int newdirfd, String newname) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) LINKAT.invokeExact(capture, olddirfd, cString(arena, oldname), newdirfd,
                    cString(arena, newname), 0), capture);
        } catch (Throwable t) {
            throw failed("linkat", t);
        }
    }

    static int renameat2(Arena arena, int olddirfd, String oldname, int newdirfd, String newname, int flags) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) RENAMEAT2.invokeExact(capture, olddirfd, cString(arena, oldname), newdirfd,
                    cString(arena, newname), flags), capture);
        } catch (Throwable t) {
            throw failed("renameat2", t);
        }
    }

    /**
     * {@code fchmodat2(dirfd, name, mode, AT_SYMLINK_NOFOLLOW)} (Linux 6.6): EOPNOTSUPP on a symlink.
     * Where the call is missing (older kernels, or container seccomp profiles that do not know it
     * and answer ENOSYS) the same is done through an O_PATH descriptor, as glibc does.
     */
    static int fchmodatNoFollow(Arena arena, int dirfd, String name, int mode) {
        if (fchmodat2) {
            MemorySegment capture = arena.allocate(CAPTURE);
            int r;
            try {
                r = (int) result((long) SYSCALL4.invokeExact(capture, SYS_FCHMODAT2, (long) dirfd,
                        cString(arena, name).address(), (long) mode, (long) AT_SYMLINK_NOFOLLOW), capture);
            } catch (Throwable t) {
                throw failed("fchmodat2", t);
            }
            if (r != -ENOSYS) {
                return r;
            }
            fchmodat2 = false;
        }
        int fd = openat2(arena, dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_IN_LAYER);
        if (fd < 0) {
            return fd;
        }
        try {
            Stat[] stat = new Stat[1];
            int r = statx(arena, fd, "", AT_EMPTY_PATH, stat);
            if (r < 0) {
                return r;
            }
            if ((stat[0].mode() & 0170000) == 0120000) {
                return -EOPNOTSUPP; // a symlink's mode cannot change, as fchmodat2 says
            }
            // The magic link leads to the entry itself, which is not a symlink: chmod follows it safely.
            return (int) call(CHMOD, arena, cString(arena, "/proc/self/fd/" + fd), mode);
        } finally {
            close(fd);
        }
    }

    static int fchmod(Arena arena, int fd, int mode) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) FCHMOD.invokeExact(capture, fd, mode), capture);
        } catch (Throwable t) {
            throw failed("fchmod", t);
        }
    }

    static int fchown(Arena arena, int fd, int uid, int gid) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) FCHOWN.invokeExact(capture, fd, uid, gid), capture);
        } catch (Throwable t) {
            throw failed("fchown", t);
        }
    }

    static int fchownat(Arena arena, int dirfd, String name, int uid, int gid, int flags) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) FCHOWNAT.invokeExact(capture, dirfd, cString(arena, name), uid, gid, flags), capture);
        } catch (Throwable t) {
            throw failed("fchownat", t);
        }
    }

    /** {@code utimensat} with times given as (seconds, nanoseconds) pairs; nanoseconds may be UTIME_NOW/UTIME_OMIT. */
    static int utimensat(Arena arena, int dirfd, String name, long atimeSec, long atimeNsec, long mtimeSec,
                         long mtimeNsec, int flags) {
        MemorySegment times = arena.allocate(32, 8);
        times.set(JAVA_LONG, 0, atimeSec);
        times.set(JAVA_LONG, 8, atimeNsec);
        times.set(JAVA_LONG, 16, mtimeSec);
        times.set(JAVA_LONG, 24, mtimeNsec);
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) UTIMENSAT.invokeExact(capture, dirfd, cString(arena, name), times, flags), capture);
        } catch (Throwable t) {
            throw failed("utimensat", t);
        }
    }

    /** An xattr value, or {@code null} with {@code errno[0]} set. */
    static byte[] lgetxattr(Arena arena, String path, String name, int[] errno) {
        MemorySegment p = cString(arena, path);
        MemorySegment n = cString(arena, name);
        long size = 256;
        while (true) {
            MemorySegment buffer = arena.allocate(size);
            MemorySegment capture = arena.allocate(CAPTURE);
            long r;
            try {
                r = result((long) LGETXATTR.invokeExact(capture, p, n, buffer, size), capture);
            } catch (Throwable t) {
                throw new IllegalStateException("lgetxattr failed", t);
            }
            if (r >= 0) {
                return buffer.asSlice(0, r).toArray(JAVA_BYTE);
            }
            if (r != -ERANGE) {
                errno[0] = (int) -r;
                return null;
            }
            long needed;
            try {
                needed = result((long) LGETXATTR.invokeExact(capture, p, n, MemorySegment.NULL, 0L), capture);
            } catch (Throwable t) {
                throw failed("lgetxattr", t);
            }
            if (needed < 0) {
                errno[0] = (int) -needed;
                return null;
            }
            size = Math.max(needed, size * 2);
        }
    }

    private static long syscall6(Arena arena, long number, long a, long b, long c, long d, long e, long f) {
        MemorySegment capture = arena.allocate(CAPTURE);
        long r;
        try {
            r = (long) SYSCALL6.invokeExact(capture, number, a, b, c, d, e, f);
        } catch (Throwable t) {
            throw new IllegalStateException("syscall " + number + " failed", t);
        }
        return result(r, capture);
    }

    /** The path through /proc that names entry {@code name} of directory {@code dirfd} without following it. */
    static String procPath(int dirfd, String name) {
        return "/proc/self/fd/" + dirfd + "/" + name;
    }

    /** The value of xattr {@code attribute} of entry {@code name} in {@code dirfd} (not followed), or {@code null} with {@code errno[0]} set. */
    static byte[] getxattr(Arena arena, int dirfd, String name, String attribute, int[] errno) {
        if (xattrAt) {
            MemorySegment path = cString(arena, name);
            MemorySegment key = cString(arena, attribute);
            MemorySegment args = arena.allocate(XATTR_ARGS_SIZE, 8);
            long size = 256;
            while (true) {
                MemorySegment buffer = arena.allocate(size);
                args.set(JAVA_LONG, 0, buffer.address());
                args.set(JAVA_INT, 8, (int) size);
                args.set(JAVA_INT, 12, 0);
                long r = syscall6(arena, SYS_GETXATTRAT, dirfd, path.address(), AT_SYMLINK_NOFOLLOW, key.address(),
                        args.address(), XATTR_ARGS_SIZE);
                if (r >= 0) {
                    return buffer.asSlice(0, r).toArray(JAVA_BYTE);
                }
                if (r == -ENOSYS) {
                    xattrAt = false;
                    break;
                }
                if (r != -ERANGE) {
                    errno[0] = (int) -r;
                    return null;
                }
                args.set(JAVA_LONG, 0, 0L);
                args.set(JAVA_INT, 8, 0);
                long needed = syscall6(arena, SYS_GETXATTRAT, dirfd, path.address(), AT_SYMLINK_NOFOLLOW, key.address(),
                        args.address(), XATTR_ARGS_SIZE);
                if (needed < 0) {
                    errno[0] = (int) -needed;
                    return null;
                }
                size = Math.max(needed, size * 2);
            }
        }
        return lgetxattr(arena, procPath(dirfd, name), attribute, errno);
    }

    /** The xattr names of entry {@code name} in {@code dirfd} (not followed), or {@code null} with {@code errno[0]} set. */
    static List<String> listxattr(Arena arena, int dirfd, String name, int[] errno) {
        if (xattrAt) {
            MemorySegment path = cString(arena, name);
            long size = 1024;
            while (true) {
                MemorySegment buffer = arena.allocate(size);
                long r = syscall6(arena, SYS_LISTXATTRAT, dirfd, path.address(), AT_SYMLINK_NOFOLLOW, buffer.address(),
                        size, 0);
                if (r >= 0) {
                    return names(buffer, r);
                }
                if (r == -ENOSYS) {
                    xattrAt = false;
                    break;
                }
                if (r != -ERANGE) {
                    errno[0] = (int) -r;
                    return null;
                }
                long needed = syscall6(arena, SYS_LISTXATTRAT, dirfd, path.address(), AT_SYMLINK_NOFOLLOW, 0, 0, 0);
                if (needed < 0) {
                    errno[0] = (int) -needed;
                    return null;
                }
                size = Math.max(needed, size * 2);
            }
        }
        return llistxattr(arena, procPath(dirfd, name), errno);
    }

    /** Sets xattr {@code attribute} of entry {@code name} in {@code dirfd} (not followed); 0 or {@code -errno}. */
    static int setxattr(Arena arena, int dirfd, String name, String attribute, byte[] value, int flags) {
        if (xattrAt) {
            MemorySegment v = value.length == 0 ? arena.allocate(1) : arena.allocateFrom(JAVA_BYTE, value);
            MemorySegment args = arena.allocate(XATTR_ARGS_SIZE, 8);
            args.set(JAVA_LONG, 0, v.address());
            args.set(JAVA_INT, 8, value.length);
            args.set(JAVA_INT, 12, flags);
            long r = syscall6(arena, SYS_SETXATTRAT, dirfd, cString(arena, name).address(), AT_SYMLINK_NOFOLLOW,
                    cString(arena, attribute).address(), args.address(), XATTR_ARGS_SIZE);
            if (r != -ENOSYS) {
                return (int) r;
            }
            xattrAt = false;
        }
        return lsetxattr(arena, procPath(dirfd, name), attribute, value, flags);
    }

    /** Removes xattr {@code attribute} of entry {@code name} in {@code dirfd} (not followed); 0 or {@code -errno}. */
    static int removexattr(Arena arena, int dirfd, String name, String attribute) {
        if (xattrAt) {
            long r = syscall6(arena, SYS_REMOVEXATTRAT, dirfd, cString(arena, name).address(), AT_SYMLINK_NOFOLLOW,
                    cString(arena, attribute).address(), 0, 0);
            if (r != -ENOSYS) {
                return (int) r;
            }
            xattrAt = false;
        }
        return lremovexattr(arena, procPath(dirfd, name), attribute);
    }

    /** The NUL-separated names of a listxattr result. */
    private static List<String> names(MemorySegment buffer, long length) {
        List<String> names = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < length; i++) {
            if (buffer.get(JAVA_BYTE, i) == 0) {
                names.add(new String(buffer.asSlice(start, i - start).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return names;
    }

    static int lsetxattr(Arena arena, String path, String name, byte[] value, int flags) {
        MemorySegment v = value.length == 0 ? arena.allocate(1) : arena.allocateFrom(JAVA_BYTE, value);
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) LSETXATTR.invokeExact(capture, cString(arena, path), cString(arena, name), v,
                    (long) value.length, flags), capture);
        } catch (Throwable t) {
            throw failed("lsetxattr", t);
        }
    }

    /** The xattr names, or {@code null} with {@code errno[0]} set. */
    static List<String> llistxattr(Arena arena, String path, int[] errno) {
        MemorySegment p = cString(arena, path);
        long size = 1024;
        while (true) {
            MemorySegment buffer = arena.allocate(size);
            MemorySegment capture = arena.allocate(CAPTURE);
            long r;
            try {
                r = result((long) LLISTXATTR.invokeExact(capture, p, buffer, size), capture);
            } catch (Throwable t) {
                throw new IllegalStateException("llistxattr failed", t);
            }
            if (r >= 0) {
                return names(buffer, r);
            }
            if (r != -ERANGE) {
                errno[0] = (int) -r;
                return null;
            }
            MemorySegment probe = arena.allocate(CAPTURE);
            long needed;
            try {
                needed = result((long) LLISTXATTR.invokeExact(probe, p, MemorySegment.NULL, 0L), probe);
            } catch (Throwable t) {
                throw failed("llistxattr", t);
            }
            if (needed < 0) {
                errno[0] = (int) -needed;
                return null;
            }
            size = Math.max(needed, size * 2);
        }
    }

    static int lremovexattr(Arena arena, String path, String name) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) LREMOVEXATTR.invokeExact(capture, cString(arena, path), cString(arena, name)), capture);
        } catch (Throwable t) {
            throw failed("lremovexattr", t);
        }
    }

    static int syncfs(Arena arena, int fd) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) SYNCFS.invokeExact(capture, fd), capture);
        } catch (Throwable t) {
            throw failed("syncfs", t);
        }
    }

    /** {@code fsync(fd)}, or {@code fdatasync(fd)} when {@code metadata} is false: 0 or {@code -errno}. */
    static int fsync(Arena arena, int fd, boolean metadata) {
        MemorySegment capture = arena.allocate(CAPTURE);
        try {
            return (int) result((int) (metadata ? FSYNC : FDATASYNC).invokeExact(capture, fd), capture);
        } catch (Throwable t) {
            throw failed(metadata ? "fsync" : "fdatasync", t);
        }
    }

    /** One record of {@code getdents64}: {@code struct linux_dirent64}, the same on every architecture. */
    record Dirent(String name, int type, long inode) {
    }

    /** All entries of an open directory fd except {@code .} and {@code ..}, or {@code null} with {@code errno[0]} set. */
    static List<Dirent> readDirectory(Arena arena, int fd, int[] errno) {
        List<Dirent> entries = new ArrayList<>();
        long size = 32 * 1024;
        MemorySegment buffer = arena.allocate(size, 8);
        while (true) {
            long r;
            try {
                MemorySegment capture = arena.allocate(CAPTURE);
                r = result((long) GETDENTS64.invokeExact(capture, fd, buffer, size), capture);
            } catch (Throwable t) {
                throw new IllegalStateException("getdents64 failed", t);
            }
            if (r < 0) {
                errno[0] = (int) -r;
                return null;
            }
            if (r == 0) {
                return entries;
            }
            long offset = 0;
            while (offset < r) {
                long inode = buffer.get(JAVA_LONG, offset);
                int reclen = Short.toUnsignedInt(buffer.get(JAVA_SHORT, offset + 16));
                int type = Byte.toUnsignedInt(buffer.get(JAVA_BYTE, offset + 18));
                MemorySegment nameBytes = buffer.asSlice(offset + 19, reclen - 19);
                String name = nameBytes.getString(0, StandardCharsets.UTF_8);
                if (!name.equals(".") && !name.equals("..")) {
                    entries.add(new Dirent(name, type, inode));
                }
                offset += reclen;
            }
        }
    }

    /** {@code statvfs}: {bsize, frsize, blocks, bfree, bavail, files, ffree, namemax}, or {@code null} with errno set. */
    static long[] statvfs(Arena arena, String path, int[] errno) {
        // struct statvfs on LP64 glibc: eleven unsigned longs, then spare ints.
        MemorySegment buffer = arena.allocate(112, 8);
        int r = (int) call(STATVFS, arena, cString(arena, path), buffer);
        if (r < 0) {
            errno[0] = -r;
            return null;
        }
        return new long[] {buffer.get(JAVA_LONG, 0), buffer.get(JAVA_LONG, 8), buffer.get(JAVA_LONG, 16),
                buffer.get(JAVA_LONG, 24), buffer.get(JAVA_LONG, 32), buffer.get(JAVA_LONG, 40),
                buffer.get(JAVA_LONG, 48), buffer.get(JAVA_LONG, 80)};
    }

    static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int getegid() {
        try {
            return (int) GETEGID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
