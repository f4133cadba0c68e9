package dev.overlay4j.fuse.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library calls the FUSE server needs, through FFM downcalls that capture {@code errno}.
 * Each call returns what the C function returns, or {@code -errno} when it fails. An instance
 * holds the errno capture buffer and a scratch area: one per thread, never shared.
 */
public final class Syscalls implements AutoCloseable {

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_NOATIME = 1024;
    public static final long MS_NODIRATIME = 2048;

    public static final int MNT_DETACH = 2;

    /** {@code FUSE_DEV_IOC_CLONE} = {@code _IOR(229, 0, uint32_t)}. */
    public static final long FUSE_DEV_IOC_CLONE = 0x8004e500L;
    /** {@code FUSE_DEV_IOC_BACKING_OPEN} = {@code _IOW(229, 1, struct fuse_backing_map)}. */
    public static final long FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501L;
    /** {@code FUSE_DEV_IOC_BACKING_CLOSE} = {@code _IOW(229, 2, uint32_t)}. */
    public static final long FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502L;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOENT = 2;
    public static final int ENODEV = 19;
    public static final int EPERM = 1;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int EACCES = 13;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final long ERRNO = CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO_CAPTURE, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO_CAPTURE, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MOUNT = downcall("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle UMOUNT2 = downcall("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle MKNOD = downcall("mknod",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CHDIR = downcall("chdir", FunctionDescriptor.of(JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEGID = downcall("getegid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SETSID = downcall("setsid", FunctionDescriptor.of(JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle FSTAT = downcall("fstat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle EPOLL_CREATE1 = downcall("epoll_create1",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle EPOLL_CTL = downcall("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle EPOLL_WAIT = downcall("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle DUP2 = downcall("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            ERRNO_CAPTURE);
    private static final MethodHandle STATX = downcall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle SOCKETPAIR = downcall("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle RECVMSG = downcall("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle PIPE2 = downcall("pipe2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle SPAWN_ACTIONS_INIT = downcall("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SPAWN_ACTIONS_DUP2 = downcall("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle SPAWN_ACTIONS_DESTROY = downcall("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle POSIX_SPAWNP = downcall("posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle WAITPID = downcall("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);

    /** {@code sizeof(struct stat)} on x86_64 and aarch64 is at most this; st_dev and st_ino lead it. */
    private static final long STAT_SIZE = 256;
    /** {@code sizeof(struct statx)}, and where it keeps the device's major and minor numbers. */
    private static final long STATX_SIZE = 256;
    private static final long STATX_DEV_MAJOR = 136;
    private static final long STATX_DEV_MINOR = 140;
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_NO_AUTOMOUNT = 0x800;
    /** Answer from what the kernel has cached: a FUSE file system is not asked (nor hangs the caller). */
    private static final int AT_STATX_DONT_SYNC = 0x4000;
    /** {@code sizeof(posix_spawn_file_actions_t)} in glibc is 80; room to spare. */
    private static final long SPAWN_ACTIONS_SIZE = 256;
    /** {@code struct msghdr} on LP64: name, namelen, iov, iovlen, control, controllen, flags. */
    private static final long MSGHDR_SIZE = 56;
    /** {@code CMSG_SPACE(sizeof(int))} on LP64: a 16-byte {@code cmsghdr} and the int padded to 8. */
    private static final long CMSG_SPACE_INT = 24;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment capture = arena.allocate(CAPTURE);
    private final MemorySegment word = arena.allocate(JAVA_LONG);

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private int errno() {
        return capture.get(JAVA_INT, ERRNO);
    }

    private int result(int r) {
        return r < 0 ? -errno() : r;
    }

    private long result(long r) {
        return r < 0 ? -errno() : r;
    }

    /** {@code ioctl(deviceFd, FUSE_DEV_IOC_BACKING_OPEN, {fd})}: the backing id for kernel passthrough to {@code fd}. */
    public int backingOpen(int deviceFd, int fd) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment map = call.allocate(16, 8);
            map.set(JAVA_INT, 0, fd);
            return result((int) IOCTL.invokeExact(capture, deviceFd, FUSE_DEV_IOC_BACKING_OPEN, map));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code ioctl(deviceFd, FUSE_DEV_IOC_BACKING_CLOSE, &backingId)}. */
    public int backingClose(int deviceFd, int backingId) {
        word.set(JAVA_INT, 0, backingId);
        try {
            return result((int) IOCTL.invokeExact(capture, deviceFd, FUSE_DEV_IOC_BACKING_CLOSE, word));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * {@code fstat(fd)}'s device and inode numbers: which file an fd is.
     *
     * @return {@code {st_dev, st_ino}}, or {@code {-errno}} when fstat fails
     */
    public long[] identity(int fd) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment stat = call.allocate(STAT_SIZE, 8);
            int r = result((int) FSTAT.invokeExact(capture, fd, stat));
            return r < 0 ? new long[] {r} : new long[] {stat.get(JAVA_LONG, 0), stat.get(JAVA_LONG, 8)};
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * The device number ({@code makedev(major, minor)}) of the file system that {@code path}
     * itself lies on, from what the kernel has cached: for a mountpoint, the mount on top there.
     * A FUSE server is not asked, so a hung one does not hang the caller.
     *
     * @return the device number, or {@code -errno}
     */
    public long deviceOf(String path) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buffer = call.allocate(STATX_SIZE, 8);
            int r = result((int) STATX.invokeExact(capture, AT_FDCWD, call.allocateFrom(path),
                    AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, 0, buffer));
            if (r < 0) {
                return r;
            }
            long major = Integer.toUnsignedLong(buffer.get(JAVA_INT, STATX_DEV_MAJOR));
            long minor = Integer.toUnsignedLong(buffer.get(JAVA_INT, STATX_DEV_MINOR));
            return (major << 20) | minor;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)}: the two ends, or {@code {-errno}}. */
    public int[] socketPair() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment fds = call.allocate(JAVA_INT, 2);
            int r = result((int) SOCKETPAIR.invokeExact(capture, AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds));
            return r < 0 ? new int[] {r} : new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code pipe2(O_CLOEXEC)}: {@code {read end, write end}}, or {@code {-errno}}. */
    public int[] pipe() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment fds = call.allocate(JAVA_INT, 2);
            int r = result((int) PIPE2.invokeExact(capture, fds, O_CLOEXEC));
            return r < 0 ? new int[] {r} : new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Receives one file descriptor passed with SCM_RIGHTS over a unix socket (close-on-exec).
     *
     * @return the descriptor; {@code -errno} when recvmsg fails; {@code -ENOENT} when the peer
     *         closed the socket or sent no descriptor
     */
    public int receiveFd(int socket) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment data = call.allocate(8, 8);
            MemorySegment iov = call.allocate(16, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, 1);
            MemorySegment control = call.allocate(CMSG_SPACE_INT, 8);
            MemorySegment msg = call.allocate(MSGHDR_SIZE, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, CMSG_SPACE_INT);
            long n;
            do {
                n = result((long) RECVMSG.invokeExact(capture, socket, msg, MSG_CMSG_CLOEXEC));
            } while (n == -EINTR);
            if (n < 0) {
                return (int) n;
            }
            long controlLength = msg.get(JAVA_LONG, 40);
            if (n == 0 || controlLength < 20 || control.get(JAVA_INT, 8) != SOL_SOCKET
                    || control.get(JAVA_INT, 12) != SCM_RIGHTS) {
                return -ENOENT;
            }
            return control.get(JAVA_INT, 16);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Starts a program found on PATH with {@code posix_spawnp}. {@code dups} holds pairs
     * {@code {fd, childFd}}: the child gets {@code fd} as {@code childFd} (inheritable there
     * even when {@code fd} is close-on-exec here).
     *
     * @return the child's pid, or {@code -errno}
     */
    public int spawn(String[] argv, String[] envp, int[]... dups) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment actions = call.allocate(SPAWN_ACTIONS_SIZE, 16);
            int r = (int) SPAWN_ACTIONS_INIT.invokeExact(actions);
            if (r != 0) {
                return -r;
            }
            try {
                for (int[] dup : dups) {
                    r = (int) SPAWN_ACTIONS_DUP2.invokeExact(actions, dup[0], dup[1]);
                    if (r != 0) {
                        return -r;
                    }
                }
                MemorySegment pid = call.allocate(JAVA_INT);
                r = (int) POSIX_SPAWNP.invokeExact(pid, call.allocateFrom(argv[0]), actions, MemorySegment.NULL,
                        strings(call, argv), strings(call, envp));
                return r != 0 ? -r : pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) SPAWN_ACTIONS_DESTROY.invokeExact(actions);
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static MemorySegment strings(Arena arena, String[] values) {
        MemorySegment array = arena.allocate(ADDRESS, values.length + 1L);
        for (int i = 0; i < values.length; i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values[i]));
        }
        array.setAtIndex(ADDRESS, values.length, MemorySegment.NULL);
        return array;
    }

    /**
     * {@code waitpid(pid)} until the child ends.
     *
     * @return its exit status, 128 + the signal that killed it, or {@code -errno}
     */
    public int waitFor(int pid) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment status = call.allocate(JAVA_INT);
            int r;
            do {
                r = result((int) WAITPID.invokeExact(capture, pid, status, 0));
            } while (r == -EINTR);
            if (r < 0) {
                return r;
            }
            int s = status.get(JAVA_INT, 0);
            return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code open(path, flags)}. */
    public int open(String path, int flags) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) OPEN.invokeExact(capture, call.allocateFrom(path), flags, 0));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code dup2(oldfd, newfd)}: {@code newfd} then refers to what {@code oldfd} does. */
    public int dup2(int oldfd, int newfd) {
        try {
            return result((int) DUP2.invokeExact(capture, oldfd, newfd));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public int close(int fd) {
        try {
            return result((int) CLOSE.invokeExact(capture, fd));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public long read(int fd, MemorySegment buffer, long count) {
        try {
            return result((long) READ.invokeExact(capture, fd, buffer, count));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static final int EPOLL_CLOEXEC = 02000000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLLIN = 1;
    private static final int EPOLLEXCLUSIVE = 1 << 28;
    /** {@code struct epoll_event}: a 32-bit events word and 64-bit data, packed to 12 bytes on x86-64. */
    private final MemorySegment epollEvent = arena.allocate(16, 8);

    /**
     * An epoll instance that waits for {@code fd} to be readable as an exclusive waiter
     * ({@code EPOLLEXCLUSIVE}): of all the threads waiting so on one wait queue, an event wakes
     * one, where poll(2) wakes every one of them. Its descriptor, or {@code -errno}.
     */
    public int epollExclusive(int fd) {
        try {
            int epfd = result((int) EPOLL_CREATE1.invokeExact(capture, EPOLL_CLOEXEC));
            if (epfd < 0) {
                return epfd;
            }
            epollEvent.set(JAVA_INT, 0, EPOLLIN | EPOLLEXCLUSIVE);
            epollEvent.set(JAVA_INT, 4, fd);
            epollEvent.set(JAVA_INT, 8, 0);
            int r = result((int) EPOLL_CTL.invokeExact(capture, epfd, EPOLL_CTL_ADD, fd, epollEvent));
            if (r < 0) {
                close(epfd);
                return r;
            }
            return epfd;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Waits on an {@link #epollExclusive} instance: 1 when its descriptor is readable, 0 on timeout, or {@code -errno}. */
    public int epollWait(int epfd, int timeoutMillis) {
        try {
            return result((int) EPOLL_WAIT.invokeExact(capture, epfd, epollEvent, 1, timeoutMillis));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public long write(int fd, MemorySegment buffer, long count) {
        try {
            return result((long) WRITE.invokeExact(capture, fd, buffer, count));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code ioctl(fd, FUSE_DEV_IOC_CLONE, &sessionFd)}: makes {@code fd} a further reader of a session. */
    public int cloneFuseDevice(int fd, int sessionFd) {
        word.set(JAVA_INT, 0, sessionFd);
        try {
            return result((int) IOCTL.invokeExact(capture, fd, FUSE_DEV_IOC_CLONE, word));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public int mount(String source, String target, String type, long flags, String data) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) MOUNT.invokeExact(capture, call.allocateFrom(source), call.allocateFrom(target),
                    call.allocateFrom(type), flags, call.allocateFrom(data)));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code mkfifo(path, mode)}, as mknod with S_IFIFO; 0 or -errno. */
    public int mkfifo(String path, int mode) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) MKNOD.invokeExact(capture, call.allocateFrom(path), 0010000 | (mode & 07777), 0L));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * {@code size} bytes of private anonymous memory, unmapped when {@code arena} closes. Unlike
     * {@link Arena#allocate}, which zeroes (and so makes resident) every byte, the pages become
     * resident only once written: a 1 MiB request buffer costs the pages its requests use.
     */
    public static MemorySegment mapAnonymous(long size, Arena arena) {
        final int protReadWrite = 0x1 | 0x2;
        final int mapPrivateAnonymous = 0x02 | 0x20;
        try {
            MemorySegment address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, protReadWrite,
                    mapPrivateAnonymous, -1, 0L);
            if (address.address() == -1L) {
                throw new OutOfMemoryError("mmap of " + size + " bytes failed");
            }
            return address.reinterpret(size, arena, segment -> {
                try {
                    int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(segment.address()), size);
                } catch (Throwable e) {
                    throw rethrow(e);
                }
            });
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code chdir(path)}: 0 or -errno. */
    public int chdir(String path) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) CHDIR.invokeExact(capture, call.allocateFrom(path)));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public int umount2(String target, int flags) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) UMOUNT2.invokeExact(capture, call.allocateFrom(target), flags));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    public int getegid() {
        try {
            return (int) GETEGID.invokeExact();
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code setsid()}: leaves the terminal's session, as a daemon does. */
    public int setsid() {
        try {
            return result((int) SETSID.invokeExact(capture));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** The C library's message for an errno. */
    public static String message(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(Math.abs(errno));
            return text.reinterpret(1024).getString(0);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(e);
    }

    @Override
    public void close() {
        arena.close();
    }
}
