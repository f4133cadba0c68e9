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

    public static final int O_RDWR = 02;
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

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOENT = 2;
    public static final int ENODEV = 19;
    public static final int EPERM = 1;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;

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
    private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEGID = downcall("getegid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SETSID = downcall("setsid", FunctionDescriptor.of(JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

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

    /** {@code open(path, flags)}. */
    public int open(String path, int flags) {
        try (Arena call = Arena.ofConfined()) {
            return result((int) OPEN.invokeExact(capture, call.allocateFrom(path), flags, 0));
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
