package dev.overlay4j.api;

/**
 * An entry's {@code struct fsxattr}, as {@code FS_IOC_FSGETXATTR} reads it and
 * {@code FS_IOC_FSSETXATTR} sets it (xfs_io's {@code lsattr}/{@code chattr}); the flags of
 * {@code FS_IOC_GETFLAGS} ({@code chattr(1)}) are a plain {@code int} beside it, see
 * {@link Layer#fileFlags}.
 *
 * @param xflags        the {@code FS_XFLAG_*} bits
 * @param extentSize    {@code fsx_extsize}: the extent size hint in bytes
 * @param extents       {@code fsx_nextents}: the number of data extents (read only)
 * @param projectId     {@code fsx_projid}: the project quota id
 * @param cowExtentSize {@code fsx_cowextsize}: the copy-on-write extent size hint in bytes
 */
public record FsxAttributes(int xflags, int extentSize, int extents, int projectId, int cowExtentSize) {

    /** {@code FS_IMMUTABLE_FL}: the flag of {@code FS_IOC_GETFLAGS} that forbids every change. */
    public static final int FLAG_IMMUTABLE = 0x10;
    /** {@code FS_APPEND_FL}: the flag of {@code FS_IOC_GETFLAGS} that allows appending alone. */
    public static final int FLAG_APPEND = 0x20;
    /** {@code FS_XFLAG_IMMUTABLE}: {@link #FLAG_IMMUTABLE} in {@link #xflags}. */
    public static final int XFLAG_IMMUTABLE = 0x08;
    /** {@code FS_XFLAG_APPEND}: {@link #FLAG_APPEND} in {@link #xflags}. */
    public static final int XFLAG_APPEND = 0x10;

    /** A copy with other {@code xflags}. */
    public FsxAttributes withXflags(int newXflags) {
        return new FsxAttributes(newXflags, extentSize, extents, projectId, cowExtentSize);
    }
}
