package dev.overlay4j.s3;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads extended attributes of any namespace without following symlinks ({@code lgetxattr(2)}
 * through FFM): the JDK's own view reaches only {@code user.*}, and overlay upper dirs keep their
 * marks in {@code trusted.*}.
 */
final class LinuxXattrs {

    private static final int MAX_VALUE = 4096;

    private LinuxXattrs() {
    }

    private static final class Native {
        static final MethodHandle LGETXATTR = find("lgetxattr", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        static final MethodHandle LLISTXATTR = find("llistxattr", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

        private static MethodHandle find(String name, FunctionDescriptor descriptor) {
            try {
                Linker linker = Linker.nativeLinker();
                return linker.defaultLookup().find(name).map(symbol -> linker.downcallHandle(symbol, descriptor)).orElse(null);
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }
    }

    /** The names of the entry's attributes (empty when it has none or they cannot be read). */
    static java.util.List<String> list(Path path) {
        if (Native.LLISTXATTR == null) {
            return java.util.List.of();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names = arena.allocate(64 * 1024);
            long length = (long) Native.LLISTXATTR.invokeExact(arena.allocateFrom(path.toString()), names, 64L * 1024);
            if (length <= 0) {
                return java.util.List.of();
            }
            String all = new String(names.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.UTF_8);
            return java.util.Arrays.stream(all.split("\0")).filter(n -> !n.isEmpty()).toList();
        } catch (Throwable t) {
            return java.util.List.of();
        }
    }

    /** Whether attributes can be read on this platform. */
    static boolean available() {
        return Native.LGETXATTR != null;
    }

    /** The attribute's value, or empty when the entry has none of that name (or it cannot be read). */
    static Optional<byte[]> get(Path path, String name) {
        if (Native.LGETXATTR == null) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(MAX_VALUE);
            long length = (long) Native.LGETXATTR.invokeExact(arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), value, (long) MAX_VALUE);
            return length < 0 ? Optional.empty() : Optional.of(value.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE));
        } catch (Throwable t) {
            return Optional.empty();
        }
    }
}
