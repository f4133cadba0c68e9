package dev.overlay4j.fuse.protocol;

/** Flag bits of {@code include/uapi/linux/fuse.h} that this server reads or writes. */
public final class Flags {

    private Flags() {
    }

    // INIT flags; bits 32..63 travel in the flags2 field.
    public static final long ASYNC_READ = 1L << 0;
    public static final long ATOMIC_O_TRUNC = 1L << 3;
    public static final long BIG_WRITES = 1L << 5;
    public static final long DONT_MASK = 1L << 6;
    public static final long AUTO_INVAL_DATA = 1L << 12;
    public static final long DO_READDIRPLUS = 1L << 13;
    public static final long READDIRPLUS_AUTO = 1L << 14;
    public static final long WRITEBACK_CACHE = 1L << 16;
    /** The kernel treats ENOSYS to OPEN as "opens need no server": none is sent again, nor RELEASE. */
    public static final long NO_OPEN_SUPPORT = 1L << 17;
    public static final long PARALLEL_DIROPS = 1L << 18;
    public static final long POSIX_ACL = 1L << 20;
    public static final long MAX_PAGES = 1L << 22;
    public static final long CACHE_SYMLINKS = 1L << 23;
    /** The same as {@link #NO_OPEN_SUPPORT} for OPENDIR and RELEASEDIR. */
    public static final long NO_OPENDIR_SUPPORT = 1L << 24;
    public static final long INIT_EXT = 1L << 30;
    public static final long PASSTHROUGH = 1L << 37;

    // fuse_setattr_in.valid
    public static final int FATTR_MODE = 1 << 0;
    public static final int FATTR_UID = 1 << 1;
    public static final int FATTR_GID = 1 << 2;
    public static final int FATTR_SIZE = 1 << 3;
    public static final int FATTR_ATIME = 1 << 4;
    public static final int FATTR_MTIME = 1 << 5;
    public static final int FATTR_FH = 1 << 6;
    public static final int FATTR_ATIME_NOW = 1 << 7;
    public static final int FATTR_MTIME_NOW = 1 << 8;

    // fuse_open_out.open_flags
    public static final int FOPEN_DIRECT_IO = 1 << 0;
    public static final int FOPEN_KEEP_CACHE = 1 << 1;
    public static final int FOPEN_CACHE_DIR = 1 << 3;
    public static final int FOPEN_NOFLUSH = 1 << 5;
    public static final int FOPEN_PASSTHROUGH = 1 << 7;

    // enum fuse_notify_code: travels in fuse_out_header.error of a message with unique 0
    public static final int NOTIFY_INVAL_INODE = 2;
    public static final int NOTIFY_INVAL_ENTRY = 3;

    /** fuse_getattr_in.getattr_flags: {@code fh} is valid. */
    public static final int GETATTR_FH = 1 << 0;

    /** fuse_fsync_in.fsync_flags: data only. */
    public static final int FSYNC_FDATASYNC = 1 << 0;

    // renameat2(2)
    public static final int RENAME_NOREPLACE = 1 << 0;
    public static final int RENAME_EXCHANGE = 1 << 1;

    // setxattr(2)
    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;

    // open(2) flags as the kernel passes them on x86_64
    public static final int O_ACCMODE = 03;
    public static final int O_RDONLY = 00;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;

    // lseek(2)
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    // access(2)
    public static final int R_OK = 4;
    public static final int W_OK = 2;
    public static final int X_OK = 1;
}
