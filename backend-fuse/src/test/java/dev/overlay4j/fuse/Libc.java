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
    static final int O_EXCL = 0200;
    static final int O_APPEND = 02000;
    /** O_TMPFILE as x86_64 and asm-generic spell it: __O_TMPFILE with O_DIRECTORY. */
    static final int O_TMPFILE = 020000000 | (System.getProperty("os.arch").equals("aarch64")
            || System.getProperty("os.arch").equals("riscv64") ? 040000 : 0200000);
    static final int AT_EMPTY_PATH = 0x1000;
    static final int AT_SYMLINK_FOLLOW = 0x400;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
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

    private static final MethodHandle LSEEK = downcall("lseek64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle PWRITE = downcall("pwrite64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle PREAD = downcall("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), ERRNO_CAPTURE);
    private static final MethodHandle LINKAT = downcall("linkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT), ERRNO_CAPTURE);
    private static final MethodHandle STATX = downcall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), ERRNO_CAPTURE);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO_CAPTURE, Linker.Option.firstVariadicArg(2));

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

    static long lseek(int fd, long offset, int whence) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return checked(arena, capture, (long) LSEEK.invokeExact(capture, fd, offset, whence));
        }
    }

    static long pwrite(int fd, byte[] data, long offset) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment buffer = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            return checked(arena, capture, (long) PWRITE.invokeExact(capture, fd, buffer, (long) data.length, offset));
        }
    }

    /** The bytes read, or null with the errno in {@code errno[0]}. */
    static byte[] pread(int fd, int count, long offset, int[] errno) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment buffer = arena.allocate(Math.max(1, count));
            long r = checked(arena, capture, (long) PREAD.invokeExact(capture, fd, buffer, (long) count, offset));
            if (r < 0) {
                errno[0] = (int) -r;
                return null;
            }
            return buffer.asSlice(0, r).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    static int linkat(int olddirfd, String oldpath, int newdirfd, Path newpath, int flags) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            return (int) checked(arena, capture, (int) LINKAT.invokeExact(capture, olddirfd, arena.allocateFrom(oldpath),
                    newdirfd, arena.allocateFrom(newpath.toString()), flags));
        }
    }

    /** fstat through statx: {nlink, size, ino, mode, blocks}, or {-errno}. */
    static long[] fstat(int fd) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment buffer = arena.allocate(256, 8);
            int r = (int) checked(arena, capture, (int) STATX.invokeExact(capture, fd, arena.allocateFrom(""),
                    AT_EMPTY_PATH, 0x7ff, buffer));
            if (r < 0) {
                return new long[] {r};
            }
            return new long[] {Integer.toUnsignedLong(buffer.get(JAVA_INT, 16)), buffer.get(JAVA_LONG, 40),
                    buffer.get(JAVA_LONG, 32), Short.toUnsignedInt(buffer.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 28)),
                    buffer.get(JAVA_LONG, 48)};
        }
    }

    /** An ioctl whose argument is {@code argument} bytes in and out; its result or -errno. */
    static int ioctl(int fd, long request, byte[] argument) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment buffer = arena.allocate(Math.max(8, argument.length), 8);
            MemorySegment.copy(argument, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, argument.length);
            int r = (int) checked(arena, capture, (int) IOCTL.invokeExact(capture, fd, request, buffer));
            MemorySegment.copy(buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, argument, 0, argument.length);
            return r;
        }
    }
}
