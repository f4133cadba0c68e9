package dev.overlay4j.it.differential;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.overlay4j.api.Errno;

/**
 * The libc calls the differential test needs that java.nio cannot make: whiteouts are
 * character devices 0/0; xattrs of every namespace ({@code trusted.*} too, which
 * UserDefinedFileAttributeView cannot reach) on the entry itself, symlinks included; and the
 * credentials of one thread (raw system calls: glibc's wrappers change every thread of the
 * process). Calling libc directly keeps the test free of the attr/coreutils tools.
 */
final class Native {
    private static final int S_IFCHR = 0020000;
    private static final int XATTR_LIST_MAX = 65536;
    private static final int XATTR_SIZE_MAX = 65536;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ValueLayout A = ValueLayout.ADDRESS;
    private static final ValueLayout I = ValueLayout.JAVA_INT;
    private static final ValueLayout L = ValueLayout.JAVA_LONG;

    private static final MethodHandle GETUID = function("getuid", FunctionDescriptor.of(I));
    private static final MethodHandle MKNOD = function("mknod", FunctionDescriptor.of(I, A, I, L), CAPTURE_ERRNO);
    private static final MethodHandle LSETXATTR = function("lsetxattr", FunctionDescriptor.of(I, A, A, A, L, I),
            CAPTURE_ERRNO);
    private static final MethodHandle LGETXATTR = function("lgetxattr", FunctionDescriptor.of(L, A, A, A, L),
            CAPTURE_ERRNO);
    private static final MethodHandle LLISTXATTR = function("llistxattr", FunctionDescriptor.of(L, A, A, L),
            CAPTURE_ERRNO);
    private static final MethodHandle LREMOVEXATTR = function("lremovexattr", FunctionDescriptor.of(I, A, A),
            CAPTURE_ERRNO);
    /** syscall(number, a, b, c): the variadic libc entry, called with three long arguments. */
    private static final MethodHandle SYSCALL = function("syscall", FunctionDescriptor.of(L, L, L, L, L),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));

    /** System call numbers of the thread-credential calls, by architecture (asm/unistd_64.h, asm-generic/unistd.h). */
    private record CredentialCalls(long setgroups, long setresgid, long setresuid) {
        static CredentialCalls of(String arch) {
            return switch (arch) {
                case "amd64", "x86_64" -> new CredentialCalls(116, 119, 117);
                case "aarch64", "riscv64" -> new CredentialCalls(159, 149, 147);
                default -> null;
            };
        }
    }

    private static final CredentialCalls CREDENTIAL_CALLS = CredentialCalls.of(System.getProperty("os.arch"));

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
        call(path, "mknod", (arena, state) -> (long) (int) MKNOD.invokeExact(state,
                arena.allocateFrom(path.toString()), S_IFCHR | 0644, 0L));
    }

    /** Sets any xattr (trusted.* included) on the entry itself, not following a symlink. */
    static void lsetxattr(Path path, String name, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        call(path, "lsetxattr " + name, (arena, state) -> {
            MemorySegment data = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            return (long) (int) LSETXATTR.invokeExact(state, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), data, (long) bytes.length, 0);
        });
    }

    /** The value of an xattr of the entry itself (ENODATA when it has none of that name). */
    static String lgetxattr(Path path, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(XATTR_SIZE_MAX);
            long size = call(path, "lgetxattr " + name, (a, state) -> (long) LGETXATTR.invokeExact(state,
                    a.allocateFrom(path.toString()), a.allocateFrom(name), data, (long) XATTR_SIZE_MAX));
            return new String(data.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** The xattr names of the entry itself, in the order the file system lists them. */
    static List<String> llistxattr(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(XATTR_LIST_MAX);
            long size = call(path, "llistxattr", (a, state) -> (long) LLISTXATTR.invokeExact(state,
                    a.allocateFrom(path.toString()), data, (long) XATTR_LIST_MAX));
            List<String> names = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < size; i++) {
                if (data.get(ValueLayout.JAVA_BYTE, i) == 0) {
                    names.add(new String(data.asSlice(start, i - start).toArray(ValueLayout.JAVA_BYTE),
                            StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return names;
        }
    }

    static void lremovexattr(Path path, String name) throws IOException {
        call(path, "lremovexattr " + name, (arena, state) -> (long) (int) LREMOVEXATTR.invokeExact(state,
                arena.allocateFrom(path.toString()), arena.allocateFrom(name)));
    }

    /** Whether {@link #becomeForThisThread} works on this architecture. */
    static boolean threadCredentialsSupported() {
        return CREDENTIAL_CALLS != null;
    }

    /**
     * Makes the calling thread, and only it, the user {@code uid} with primary group {@code gid}
     * and the supplementary {@code groups}, real, effective, saved and file-system ids alike; it
     * loses every capability, as any process does that leaves uid 0. There is no way back: call
     * it on a thread of its own.
     */
    static void becomeForThisThread(int uid, int gid, int[] groups) throws IOException {
        if (CREDENTIAL_CALLS == null) {
            throw new UnsupportedOperationException("no system call numbers for " + System.getProperty("os.arch"));
        }
        Path thread = Path.of("/proc/thread-self");
        call(thread, "setgroups", (arena, state) -> {
            MemorySegment list = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, groups.length));
            MemorySegment.copy(groups, 0, list, ValueLayout.JAVA_INT, 0, groups.length);
            return (long) SYSCALL.invokeExact(state, CREDENTIAL_CALLS.setgroups(), (long) groups.length,
                    list.address(), 0L);
        });
        call(thread, "setresgid", (arena, state) -> (long) SYSCALL.invokeExact(state, CREDENTIAL_CALLS.setresgid(),
                (long) gid, (long) gid, (long) gid));
        call(thread, "setresuid", (arena, state) -> (long) SYSCALL.invokeExact(state, CREDENTIAL_CALLS.setresuid(),
                (long) uid, (long) uid, (long) uid));
    }

    @FunctionalInterface
    private interface Call {
        long invoke(Arena arena, MemorySegment state) throws Throwable;
    }

    /** Runs one libc call; a negative result becomes the exception of its errno. */
    private static long call(Path path, String what, Call call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = call.invoke(arena, state);
            if (result < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw Errno.ofCode(errno).exception(path, what + " failed (errno " + errno + ")");
            }
            return result;
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(what + " " + path, e);
        }
    }
}
