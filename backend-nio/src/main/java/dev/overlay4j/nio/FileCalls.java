package dev.overlay4j.nio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The native calls on an open file's descriptor that {@link FileContent} makes: positional
 * reads and writes, size and space changes, seeking for data and holes, kernel-side copies and
 * the file-attribute ioctls. Like {@link LinuxCalls}, each returns the kernel's result or
 * {@code -errno}.
 */
final class FileCalls {

    private FileCalls() {
    }

    static final int AT_SYMLINK_FOLLOW = 0x400;
    static final int SEEK_SET = 0;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    /** {@code O_TMPFILE}: {@code __O_TMPFILE} (the same bit on every architecture) with O_DIRECTORY (which is not). */
    static final int O_TMPFILE = 020000000 | LinuxCalls.O_DIRECTORY;

    private static final MethodHandle PREAD = LinuxCalls.errno("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = LinuxCalls.errno("pwrite64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FTRUNCATE = LinuxCalls.errno("ftruncate64",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = LinuxCalls.errno("fallocate64",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = LinuxCalls.errno("lseek64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle COPY_FILE_RANGE = LinuxCalls.errno("copy_file_range",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SENDFILE = LinuxCalls.errno("sendfile64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle LINKAT = LinuxCalls.errno("linkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));

    /** One {@code pread}: the bytes read (0 at end of file) or {@code -errno}. */
    static long pread(Arena arena, int fd, MemorySegment buffer, long count, long offset) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return LinuxCalls.result((long) PREAD.invokeExact(capture, fd, buffer, count, offset), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("pread failed", t);
        }
    }

    /** One {@code pwrite}: the bytes written or {@code -errno}. */
    static long pwrite(Arena arena, int fd, MemorySegment buffer, long count, long offset) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return LinuxCalls.result((long) PWRITE.invokeExact(capture, fd, buffer, count, offset), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("pwrite failed", t);
        }
    }

    static int ftruncate(Arena arena, int fd, long size) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return (int) LinuxCalls.result((int) FTRUNCATE.invokeExact(capture, fd, size), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("ftruncate failed", t);
        }
    }

    static int fallocate(Arena arena, int fd, int mode, long offset, long length) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return (int) LinuxCalls.result((int) FALLOCATE.invokeExact(capture, fd, mode, offset, length), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("fallocate failed", t);
        }
    }

    static long lseek(Arena arena, int fd, long offset, int whence) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return LinuxCalls.result((long) LSEEK.invokeExact(capture, fd, offset, whence), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("lseek failed", t);
        }
    }

    /** {@code copy_file_range} between two positions, neither descriptor's file position used. */
    static long copyFileRange(Arena arena, int in, long inOffset, int out, long outOffset, long count) {
        MemorySegment offIn = arena.allocateFrom(JAVA_LONG, inOffset);
        MemorySegment offOut = arena.allocateFrom(JAVA_LONG, outOffset);
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return LinuxCalls.result((long) COPY_FILE_RANGE.invokeExact(capture, in, offIn, out, offOut, count, 0), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("copy_file_range failed", t);
        }
    }

    /** {@code sendfile} from {@code inOffset} of {@code in} to the file position of {@code out}. */
    static long sendfile(Arena arena, int out, int in, long inOffset, long count) {
        MemorySegment offIn = arena.allocateFrom(JAVA_LONG, inOffset);
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return LinuxCalls.result((long) SENDFILE.invokeExact(capture, out, in, offIn, count), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("sendfile failed", t);
        }
    }

    /** {@code ioctl(fd, request, argument)}: its result or {@code -errno}. */
    static int ioctl(Arena arena, int fd, long request, MemorySegment argument) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return (int) LinuxCalls.result((int) IOCTL.invokeExact(capture, fd, request, argument), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("ioctl failed", t);
        }
    }

    /** {@code linkat} with flags (AT_EMPTY_PATH, AT_SYMLINK_FOLLOW). */
    static int linkat(Arena arena, int olddirfd, String oldname, int newdirfd, String newname, int flags) {
        MemorySegment capture = arena.allocate(LinuxCalls.CAPTURE);
        try {
            return (int) LinuxCalls.result((int) LINKAT.invokeExact(capture, olddirfd, LinuxCalls.cString(arena, oldname), newdirfd,
                    LinuxCalls.cString(arena, newname), flags), capture);
        } catch (Throwable t) {
            throw new IllegalStateException("linkat failed", t);
        }
    }
}
