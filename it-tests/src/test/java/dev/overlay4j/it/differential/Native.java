package dev.overlay4j.it.differential;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import dev.overlay4j.api.Errno;

/**
 * The few libc calls the layer generator needs that java.nio cannot make: whiteouts are
 * character devices 0/0 and opaque directories carry a {@code trusted.*} xattr, which
 * UserDefinedFileAttributeView cannot reach. Calling libc directly keeps the test free of
 * the attr/coreutils command line tools.
 */
final class Native {
    private static final int S_IFCHR = 0020000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle GETUID = function("getuid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle MKNOD = function("mknod", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle LSETXATTR = function("lsetxattr", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT), CAPTURE_ERRNO);

    private Native() {
    }

    @SuppressWarnings("restricted") // native access is enabled for tests (surefire argLine)
    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    static int uid() {
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("getuid failed", e);
        }
    }

    /** Creates an overlayfs whiteout: a character device with device number 0/0. */
    static void mknodWhiteout(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) MKNOD.invokeExact(state, arena.allocateFrom(path.toString()), S_IFCHR | 0644, 0L);
            check(rc, state, path, "mknod");
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("mknod " + path, e);
        }
    }

    /** Sets any xattr (trusted.* included) on the entry itself, not following a symlink. */
    static void lsetxattr(Path path, String name, String value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            MemorySegment data = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            int rc = (int) LSETXATTR.invokeExact(state, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), data, (long) bytes.length, 0);
            check(rc, state, path, "lsetxattr " + name);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("lsetxattr " + path, e);
        }
    }

    private static void check(int rc, MemorySegment state, Path path, String call) throws IOException {
        if (rc != 0) {
            int errno = (int) ERRNO.get(state, 0L);
            throw Errno.ofCode(errno).exception(path, call + " failed (errno " + errno + ")");
        }
    }
}
