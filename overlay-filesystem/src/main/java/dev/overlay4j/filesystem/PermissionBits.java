package dev.overlay4j.filesystem;

import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/** Conversions between {@link PosixFilePermission} sets and mode bits. */
final class PermissionBits {

    // PosixFilePermission declares OWNER_READ .. OTHERS_EXECUTE from bit 0400 down to 0001
    private static final PosixFilePermission[] ORDER = PosixFilePermission.values();

    private PermissionBits() {
    }

    static int toBits(Set<PosixFilePermission> permissions) {
        int bits = 0;
        for (PosixFilePermission permission : permissions) {
            bits |= 0400 >>> permission.ordinal();
        }
        return bits;
    }

    static Set<PosixFilePermission> fromBits(int bits) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission permission : ORDER) {
            if ((bits & (0400 >>> permission.ordinal())) != 0) {
                set.add(permission);
            }
        }
        return set;
    }

    /**
     * The permissions asked for by the initial attributes of a create call, else {@code defaults}.
     *
     * @throws UnsupportedOperationException for an attribute that cannot be set at creation
     */
    static int initial(FileAttribute<?>[] attributes, int defaults) {
        int bits = defaults;
        for (FileAttribute<?> attribute : attributes) {
            String name = attribute.name();
            if (!name.equals("posix:permissions") && !name.equals("unix:permissions")) {
                throw new UnsupportedOperationException("'" + name + "' not supported as initial attribute");
            }
            bits = toBits(permissionSet(attribute.value(), name));
        }
        return bits;
    }

    /** A value that must be a {@code Set<PosixFilePermission>}. */
    static Set<PosixFilePermission> permissionSet(Object value, String attribute) {
        if (!(value instanceof Set<?> set)) {
            throw new ClassCastException(attribute + " must be a Set<PosixFilePermission>, not " + value);
        }
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (Object element : set) {
            if (!(element instanceof PosixFilePermission permission)) {
                throw new ClassCastException(attribute + " must hold PosixFilePermission values, not " + element);
            }
            permissions.add(permission);
        }
        return permissions;
    }
}
