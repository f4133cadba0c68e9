package dev.overlay4j.api;

import java.nio.file.FileSystemException;

/**
 * The permission check of {@code access(2)} and {@code faccessat(2)}, as the kernel makes it
 * ({@code inode_permission} and {@code generic_permission}), for every frontend: the FUSE
 * server's ACCESS and the {@code overlay:} file system's {@code checkAccess} answer alike.
 */
public final class Access {

    /** {@code R_OK}. */
    public static final int READ = 4;
    /** {@code W_OK}. */
    public static final int WRITE = 2;
    /** {@code X_OK}. */
    public static final int EXECUTE = 1;

    private Access() {
    }

    /** Who asks: the file system user id and the groups it acts with. */
    public interface Caller {

        /** The file system user id; 0 is root, with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. */
        int uid();

        /** Whether {@code gid} is the caller's file system group id or one of its supplementary groups. */
        boolean inGroup(int gid);
    }

    /**
     * Checks that {@code caller} may do all that {@code mask} asks ({@code READ | WRITE | EXECUTE};
     * 0 asks only that the entry exists) to an entry with {@code attributes}.
     *
     * <ul>
     * <li>EROFS first, whatever the permission bits, for a write to a regular file, directory or
     *     symlink of a read-only overlay: a device, FIFO or socket writes elsewhere, so the kernel
     *     lets it be written on a read-only file system.</li>
     * <li>Then one class of bits decides: the owner's if the caller owns the entry, else the
     *     group's if the caller is in its group, else the others'.</li>
     * <li>Root may read and write anything, search any directory, and execute what has at least
     *     one execute bit.</li>
     * </ul>
     *
     * @param file what to name in the exception
     * @throws FileSystemException with EROFS or EACCES (see {@link Errno#of})
     */
    public static void check(EntryAttributes attributes, int mask, Caller caller, boolean readOnly, Object file)
            throws FileSystemException {
        if ((mask & ~(READ | WRITE | EXECUTE)) != 0) {
            throw new IllegalArgumentException("access mask " + mask + " has bits other than READ, WRITE, EXECUTE");
        }
        if ((mask & WRITE) != 0 && readOnly && (attributes.isRegularFile() || attributes.isDirectory()
                || attributes.isSymlink())) {
            throw Errno.EROFS.exception(file);
        }
        if (!allows(attributes, mask, caller)) {
            throw Errno.EACCES.exception(file);
        }
    }

    private static boolean allows(EntryAttributes attributes, int mask, Caller caller) {
        int permissions = attributes.permissions();
        if (caller.uid() == 0) {
            return (mask & EXECUTE) == 0 || attributes.isDirectory() || (permissions & 0111) != 0;
        }
        int shift = caller.uid() == attributes.uid() ? 6 : caller.inGroup(attributes.gid()) ? 3 : 0;
        return (mask & ~(permissions >>> shift)) == 0;
    }
}
