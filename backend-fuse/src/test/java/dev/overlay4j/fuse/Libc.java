package dev.overlay4j.fuse;

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
import java.nio.file.Path;

/** The system calls the tests make on the mount that java.nio does not offer; each returns its result or -errno. */
final class Libc {

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int AT_FDCWD = -100;
    static final int RENAME_EXCHANGE = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final long ERRNO = CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_CAPTURE = Linker.Option.captureCallState("errno");
    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            ERRNO_CAPTURE, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle RENAMEAT2 = downcall("renameat2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle FALLOCATE = downcall("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle COPY_FILE_RANGE = downcall("copy_file_range",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO_CAPTURE);

    private Libc() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }

    private static long checked(Arena arena, MemorySegment capture, long r) {
        return r < 0 ? -capture.get(JAVA_INT, ERRNO) : r;
    }

    static int open(Path path, int flags, int mode) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return (int) checked(arena, capture,
                    (int) OPEN.invokeExact(capture, arena.allocateFrom(path.toString()), flags, mode));
        }
    }

    static int close(int fd) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return (int) checked(arena, capture, (int) CLOSE.invokeExact(capture, fd));
        }
    }

    static int renameat2(Path from, Path to, int flags) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return (int) checked(arena, capture, (int) RENAMEAT2.invokeExact(capture, AT_FDCWD,
                    arena.allocateFrom(from.toString()), AT_FDCWD, arena.allocateFrom(to.toString()), flags));
        }
    }

    static int fallocate(int fd, int mode, long offset, long length) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return (int) checked(arena, capture, (int) FALLOCATE.invokeExact(capture, fd, mode, offset, length));
        }
    }

    /** copy_file_range from offset {@code in} of {@code fdIn} to offset {@code out} of {@code fdOut}. */
    static long copyFileRange(int fdIn, long in, int fdOut, long out, long length) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment offIn = arena.allocateFrom(JAVA_LONG, in);
            MemorySegment offOut = arena.allocateFrom(JAVA_LONG, out);
            return checked(arena, capture,
                    (long) COPY_FILE_RANGE.invokeExact(capture, fdIn, offIn, fdOut, offOut, length, 0));
        }
    }
}
