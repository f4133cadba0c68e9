package dev.overlay4j.fuse.protocol;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * The structs of the kernel's FUSE protocol ({@code include/uapi/linux/fuse.h}, 7.38 layout,
 * little-endian 64-bit), as FFM layouts with the field offsets the codec uses. Every struct is
 * padded to 8 bytes by the kernel, so a request's arguments follow each other without gaps.
 */
public final class Structs {

    private Structs() {
    }

    private static StructLayout struct(MemoryLayout... fields) {
        return MemoryLayout.structLayout(fields);
    }

    private static MemoryLayout u32(String name) {
        return JAVA_INT.withName(name);
    }

    private static MemoryLayout u64(String name) {
        return JAVA_LONG.withName(name);
    }

    private static MemoryLayout u16(String name) {
        return JAVA_SHORT.withName(name);
    }

    private static long at(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    /** {@code struct fuse_in_header}: starts every request. */
    public static final class InHeader {
        public static final StructLayout LAYOUT = struct(u32("len"), u32("opcode"), u64("unique"), u64("nodeid"),
                u32("uid"), u32("gid"), u32("pid"), u16("total_extlen"), u16("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long LEN = at(LAYOUT, "len");
        public static final long OPCODE = at(LAYOUT, "opcode");
        public static final long UNIQUE = at(LAYOUT, "unique");
        public static final long NODEID = at(LAYOUT, "nodeid");
        public static final long UID = at(LAYOUT, "uid");
        public static final long GID = at(LAYOUT, "gid");
        public static final long PID = at(LAYOUT, "pid");
        public static final long TOTAL_EXTLEN = at(LAYOUT, "total_extlen");

        private InHeader() {
        }
    }

    /** {@code struct fuse_out_header}: starts every reply. */
    public static final class OutHeader {
        public static final StructLayout LAYOUT = struct(u32("len"), u32("error"), u64("unique"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long LEN = at(LAYOUT, "len");
        public static final long ERROR = at(LAYOUT, "error");
        public static final long UNIQUE = at(LAYOUT, "unique");

        private OutHeader() {
        }
    }

    /** {@code struct fuse_attr}. */
    public static final class Attr {
        public static final StructLayout LAYOUT = struct(u64("ino"), u64("size"), u64("blocks"), u64("atime"),
                u64("mtime"), u64("ctime"), u32("atimensec"), u32("mtimensec"), u32("ctimensec"), u32("mode"),
                u32("nlink"), u32("uid"), u32("gid"), u32("rdev"), u32("blksize"), u32("flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long INO = at(LAYOUT, "ino");
        public static final long SIZE_FIELD = at(LAYOUT, "size");
        public static final long BLOCKS = at(LAYOUT, "blocks");
        public static final long ATIME = at(LAYOUT, "atime");
        public static final long MTIME = at(LAYOUT, "mtime");
        public static final long CTIME = at(LAYOUT, "ctime");
        public static final long ATIMENSEC = at(LAYOUT, "atimensec");
        public static final long MTIMENSEC = at(LAYOUT, "mtimensec");
        public static final long CTIMENSEC = at(LAYOUT, "ctimensec");
        public static final long MODE = at(LAYOUT, "mode");
        public static final long NLINK = at(LAYOUT, "nlink");
        public static final long UID = at(LAYOUT, "uid");
        public static final long GID = at(LAYOUT, "gid");
        public static final long RDEV = at(LAYOUT, "rdev");
        public static final long BLKSIZE = at(LAYOUT, "blksize");
        public static final long FLAGS = at(LAYOUT, "flags");

        private Attr() {
        }
    }

    /** {@code struct fuse_entry_out}: the answer to LOOKUP and to every call that creates a name. */
    public static final class EntryOut {
        public static final StructLayout LAYOUT = struct(u64("nodeid"), u64("generation"), u64("entry_valid"),
                u64("attr_valid"), u32("entry_valid_nsec"), u32("attr_valid_nsec"), Attr.LAYOUT.withName("attr"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long NODEID = at(LAYOUT, "nodeid");
        public static final long GENERATION = at(LAYOUT, "generation");
        public static final long ENTRY_VALID = at(LAYOUT, "entry_valid");
        public static final long ATTR_VALID = at(LAYOUT, "attr_valid");
        public static final long ENTRY_VALID_NSEC = at(LAYOUT, "entry_valid_nsec");
        public static final long ATTR_VALID_NSEC = at(LAYOUT, "attr_valid_nsec");
        public static final long ATTR = at(LAYOUT, "attr");

        private EntryOut() {
        }
    }

    /** {@code struct fuse_attr_out}: the answer to GETATTR and SETATTR. */
    public static final class AttrOut {
        public static final StructLayout LAYOUT = struct(u64("attr_valid"), u32("attr_valid_nsec"), u32("dummy"),
                Attr.LAYOUT.withName("attr"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long ATTR_VALID = at(LAYOUT, "attr_valid");
        public static final long ATTR_VALID_NSEC = at(LAYOUT, "attr_valid_nsec");
        public static final long ATTR = at(LAYOUT, "attr");

        private AttrOut() {
        }
    }

    /** {@code struct fuse_init_in}. */
    public static final class InitIn {
        public static final StructLayout LAYOUT = struct(u32("major"), u32("minor"), u32("max_readahead"),
                u32("flags"), u32("flags2"), MemoryLayout.sequenceLayout(11, JAVA_INT).withName("unused"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long MAJOR = at(LAYOUT, "major");
        public static final long MINOR = at(LAYOUT, "minor");
        public static final long MAX_READAHEAD = at(LAYOUT, "max_readahead");
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long FLAGS2 = at(LAYOUT, "flags2");

        private InitIn() {
        }
    }

    /** {@code struct fuse_init_out}. */
    public static final class InitOut {
        public static final StructLayout LAYOUT = struct(u32("major"), u32("minor"), u32("max_readahead"),
                u32("flags"), u16("max_background"), u16("congestion_threshold"), u32("max_write"),
                u32("time_gran"), u16("max_pages"), u16("map_alignment"), u32("flags2"),
                u32("max_stack_depth"), MemoryLayout.sequenceLayout(6, JAVA_INT).withName("unused"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long MAJOR = at(LAYOUT, "major");
        public static final long MINOR = at(LAYOUT, "minor");
        public static final long MAX_READAHEAD = at(LAYOUT, "max_readahead");
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long MAX_BACKGROUND = at(LAYOUT, "max_background");
        public static final long CONGESTION_THRESHOLD = at(LAYOUT, "congestion_threshold");
        public static final long MAX_WRITE = at(LAYOUT, "max_write");
        public static final long TIME_GRAN = at(LAYOUT, "time_gran");
        public static final long MAX_PAGES = at(LAYOUT, "max_pages");
        public static final long FLAGS2 = at(LAYOUT, "flags2");
        public static final long MAX_STACK_DEPTH = at(LAYOUT, "max_stack_depth");

        private InitOut() {
        }
    }

    /** {@code struct fuse_notify_inval_inode_out}: drop the attributes and a range of cached pages of an inode. */
    public static final class NotifyInvalInode {
        public static final StructLayout LAYOUT = struct(u64("ino"), u64("off"), u64("len"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long INO = at(LAYOUT, "ino");
        public static final long OFF = at(LAYOUT, "off");
        public static final long LEN = at(LAYOUT, "len");

        private NotifyInvalInode() {
        }
    }

    /** {@code struct fuse_notify_inval_entry_out}; the name and its NUL follow. */
    public static final class NotifyInvalEntry {
        public static final StructLayout LAYOUT = struct(u64("parent"), u32("namelen"), u32("flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long PARENT = at(LAYOUT, "parent");
        public static final long NAMELEN = at(LAYOUT, "namelen");
        public static final long FLAGS = at(LAYOUT, "flags");

        private NotifyInvalEntry() {
        }
    }

    /** {@code struct fuse_backing_map}: the argument of FUSE_DEV_IOC_BACKING_OPEN. */
    public static final class BackingMap {
        public static final StructLayout LAYOUT = struct(u32("fd"), u32("flags"), u64("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FD = at(LAYOUT, "fd");
        public static final long FLAGS = at(LAYOUT, "flags");

        private BackingMap() {
        }
    }

    /** {@code struct fuse_getattr_in}. */
    public static final class GetattrIn {
        public static final StructLayout LAYOUT = struct(u32("getattr_flags"), u32("dummy"), u64("fh"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long GETATTR_FLAGS = at(LAYOUT, "getattr_flags");
        public static final long FH = at(LAYOUT, "fh");

        private GetattrIn() {
        }
    }

    /** {@code struct fuse_setattr_in}. */
    public static final class SetattrIn {
        public static final StructLayout LAYOUT = struct(u32("valid"), u32("padding"), u64("fh"), u64("size"),
                u64("lock_owner"), u64("atime"), u64("mtime"), u64("ctime"), u32("atimensec"), u32("mtimensec"),
                u32("ctimensec"), u32("mode"), u32("unused4"), u32("uid"), u32("gid"), u32("unused5"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long VALID = at(LAYOUT, "valid");
        public static final long FH = at(LAYOUT, "fh");
        public static final long SIZE_FIELD = at(LAYOUT, "size");
        public static final long ATIME = at(LAYOUT, "atime");
        public static final long MTIME = at(LAYOUT, "mtime");
        public static final long ATIMENSEC = at(LAYOUT, "atimensec");
        public static final long MTIMENSEC = at(LAYOUT, "mtimensec");
        public static final long MODE = at(LAYOUT, "mode");
        public static final long UID = at(LAYOUT, "uid");
        public static final long GID = at(LAYOUT, "gid");

        private SetattrIn() {
        }
    }

    /** {@code struct fuse_forget_in}, and {@code fuse_batch_forget_in} followed by {@code fuse_forget_one}s. */
    public static final class ForgetIn {
        public static final long SIZE = 8;
        public static final long NLOOKUP = 0;
        public static final long BATCH_SIZE = 8;
        public static final long BATCH_COUNT = 0;
        public static final StructLayout ONE = struct(u64("nodeid"), u64("nlookup"));
        public static final long ONE_SIZE = ONE.byteSize();
        public static final long ONE_NODEID = at(ONE, "nodeid");
        public static final long ONE_NLOOKUP = at(ONE, "nlookup");

        private ForgetIn() {
        }
    }

    /** {@code struct fuse_mknod_in}. */
    public static final class MknodIn {
        public static final StructLayout LAYOUT = struct(u32("mode"), u32("rdev"), u32("umask"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long MODE = at(LAYOUT, "mode");
        public static final long RDEV = at(LAYOUT, "rdev");
        public static final long UMASK = at(LAYOUT, "umask");

        private MknodIn() {
        }
    }

    /** {@code struct fuse_mkdir_in}. */
    public static final class MkdirIn {
        public static final StructLayout LAYOUT = struct(u32("mode"), u32("umask"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long MODE = at(LAYOUT, "mode");
        public static final long UMASK = at(LAYOUT, "umask");

        private MkdirIn() {
        }
    }

    /** {@code struct fuse_rename_in} and {@code fuse_rename2_in}. */
    public static final class RenameIn {
        public static final long SIZE = 8;
        public static final StructLayout LAYOUT2 = struct(u64("newdir"), u32("flags"), u32("padding"));
        public static final long SIZE2 = LAYOUT2.byteSize();
        public static final long NEWDIR = at(LAYOUT2, "newdir");
        public static final long FLAGS = at(LAYOUT2, "flags");

        private RenameIn() {
        }
    }

    /** {@code struct fuse_link_in}. */
    public static final class LinkIn {
        public static final long SIZE = 8;
        public static final long OLDNODEID = 0;

        private LinkIn() {
        }
    }

    /** {@code struct fuse_open_in}. */
    public static final class OpenIn {
        public static final StructLayout LAYOUT = struct(u32("flags"), u32("open_flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long OPEN_FLAGS = at(LAYOUT, "open_flags");

        private OpenIn() {
        }
    }

    /** {@code struct fuse_create_in}. */
    public static final class CreateIn {
        public static final StructLayout LAYOUT = struct(u32("flags"), u32("mode"), u32("umask"), u32("open_flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long MODE = at(LAYOUT, "mode");
        public static final long UMASK = at(LAYOUT, "umask");
        public static final long OPEN_FLAGS = at(LAYOUT, "open_flags");

        private CreateIn() {
        }
    }

    /** {@code struct fuse_open_out}; {@code backing_id} was {@code padding} before 7.40. */
    public static final class OpenOut {
        public static final StructLayout LAYOUT = struct(u64("fh"), u32("open_flags"), u32("backing_id"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long OPEN_FLAGS = at(LAYOUT, "open_flags");
        public static final long BACKING_ID = at(LAYOUT, "backing_id");

        private OpenOut() {
        }
    }

    /** {@code struct fuse_release_in}, also for RELEASEDIR. */
    public static final class ReleaseIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u32("flags"), u32("release_flags"),
                u64("lock_owner"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long RELEASE_FLAGS = at(LAYOUT, "release_flags");
        public static final long LOCK_OWNER = at(LAYOUT, "lock_owner");

        private ReleaseIn() {
        }
    }

    /** {@code struct fuse_flush_in}. */
    public static final class FlushIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u32("unused"), u32("padding"), u64("lock_owner"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long LOCK_OWNER = at(LAYOUT, "lock_owner");

        private FlushIn() {
        }
    }

    /** {@code struct fuse_read_in}, also for READDIR and READDIRPLUS; {@code fuse_write_in} has the same shape. */
    public static final class ReadIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u64("offset"), u32("size"), u32("read_flags"),
                u64("lock_owner"), u32("flags"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long OFFSET = at(LAYOUT, "offset");
        public static final long SIZE_FIELD = at(LAYOUT, "size");
        public static final long READ_FLAGS = at(LAYOUT, "read_flags");
        public static final long LOCK_OWNER = at(LAYOUT, "lock_owner");
        public static final long FLAGS = at(LAYOUT, "flags");

        private ReadIn() {
        }
    }

    /** {@code struct fuse_write_in}; the data follows it. */
    public static final class WriteIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u64("offset"), u32("size"), u32("write_flags"),
                u64("lock_owner"), u32("flags"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long OFFSET = at(LAYOUT, "offset");
        public static final long SIZE_FIELD = at(LAYOUT, "size");
        public static final long WRITE_FLAGS = at(LAYOUT, "write_flags");

        private WriteIn() {
        }
    }

    /** {@code struct fuse_write_out}, also the answer to COPY_FILE_RANGE. */
    public static final class WriteOut {
        public static final StructLayout LAYOUT = struct(u32("size"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long SIZE_FIELD = at(LAYOUT, "size");

        private WriteOut() {
        }
    }

    /** {@code struct fuse_kstatfs} (= {@code fuse_statfs_out}). */
    public static final class Kstatfs {
        public static final StructLayout LAYOUT = struct(u64("blocks"), u64("bfree"), u64("bavail"), u64("files"),
                u64("ffree"), u32("bsize"), u32("namelen"), u32("frsize"), u32("padding"),
                MemoryLayout.sequenceLayout(6, JAVA_INT).withName("spare"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long BLOCKS = at(LAYOUT, "blocks");
        public static final long BFREE = at(LAYOUT, "bfree");
        public static final long BAVAIL = at(LAYOUT, "bavail");
        public static final long FILES = at(LAYOUT, "files");
        public static final long FFREE = at(LAYOUT, "ffree");
        public static final long BSIZE = at(LAYOUT, "bsize");
        public static final long NAMELEN = at(LAYOUT, "namelen");
        public static final long FRSIZE = at(LAYOUT, "frsize");

        private Kstatfs() {
        }
    }

    /** {@code struct fuse_fsync_in}, also for FSYNCDIR. */
    public static final class FsyncIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u32("fsync_flags"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long FSYNC_FLAGS = at(LAYOUT, "fsync_flags");

        private FsyncIn() {
        }
    }

    /**
     * {@code struct fuse_setxattr_in} in its compat size (8 bytes): the kernel sends the
     * 16-byte form only when FUSE_SETXATTR_EXT was negotiated, which this server does not ask for.
     */
    public static final class SetxattrIn {
        public static final StructLayout LAYOUT = struct(u32("size"), u32("flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long SIZE_FIELD = at(LAYOUT, "size");
        public static final long FLAGS = at(LAYOUT, "flags");

        private SetxattrIn() {
        }
    }

    /** {@code struct fuse_getxattr_in} and {@code fuse_getxattr_out}, also for LISTXATTR. */
    public static final class GetxattrIn {
        public static final StructLayout LAYOUT = struct(u32("size"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long SIZE_FIELD = at(LAYOUT, "size");

        private GetxattrIn() {
        }
    }

    /** {@code struct fuse_access_in}. */
    public static final class AccessIn {
        public static final StructLayout LAYOUT = struct(u32("mask"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long MASK = at(LAYOUT, "mask");

        private AccessIn() {
        }
    }

    /** {@code struct fuse_fallocate_in}. */
    public static final class FallocateIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u64("offset"), u64("length"), u32("mode"),
                u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long OFFSET = at(LAYOUT, "offset");
        public static final long LENGTH = at(LAYOUT, "length");
        public static final long MODE = at(LAYOUT, "mode");

        private FallocateIn() {
        }
    }

    /** {@code struct fuse_lseek_in}; the answer is a {@code fuse_lseek_out} (one u64 offset). */
    public static final class LseekIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u64("offset"), u32("whence"), u32("padding"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long OFFSET = at(LAYOUT, "offset");
        public static final long WHENCE = at(LAYOUT, "whence");
        public static final long OUT_SIZE = 8;

        private LseekIn() {
        }
    }

    /** {@code struct fuse_copy_file_range_in}. */
    public static final class CopyFileRangeIn {
        public static final StructLayout LAYOUT = struct(u64("fh_in"), u64("off_in"), u64("nodeid_out"),
                u64("fh_out"), u64("off_out"), u64("len"), u64("flags"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH_IN = at(LAYOUT, "fh_in");
        public static final long OFF_IN = at(LAYOUT, "off_in");
        public static final long NODEID_OUT = at(LAYOUT, "nodeid_out");
        public static final long FH_OUT = at(LAYOUT, "fh_out");
        public static final long OFF_OUT = at(LAYOUT, "off_out");
        public static final long LEN = at(LAYOUT, "len");
        public static final long FLAGS = at(LAYOUT, "flags");

        private CopyFileRangeIn() {
        }
    }

    /** {@code struct fuse_interrupt_in}. */
    public static final class InterruptIn {
        public static final StructLayout LAYOUT = struct(u64("unique"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long UNIQUE = at(LAYOUT, "unique");

        private InterruptIn() {
        }
    }

    /** {@code struct fuse_ioctl_in}; the caller's input bytes follow. */
    public static final class IoctlIn {
        public static final StructLayout LAYOUT = struct(u64("fh"), u32("flags"), u32("cmd"), u64("arg"),
                u32("in_size"), u32("out_size"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long FH = at(LAYOUT, "fh");
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long CMD = at(LAYOUT, "cmd");
        public static final long ARG = at(LAYOUT, "arg");
        public static final long IN_SIZE = at(LAYOUT, "in_size");
        public static final long OUT_SIZE = at(LAYOUT, "out_size");

        private IoctlIn() {
        }
    }

    /** {@code struct fuse_ioctl_out}; the output bytes follow. */
    public static final class IoctlOut {
        public static final StructLayout LAYOUT = struct(u32("result"), u32("flags"), u32("in_iovs"), u32("out_iovs"));
        public static final long SIZE = LAYOUT.byteSize();
        public static final long RESULT = at(LAYOUT, "result");
        public static final long FLAGS = at(LAYOUT, "flags");
        public static final long IN_IOVS = at(LAYOUT, "in_iovs");
        public static final long OUT_IOVS = at(LAYOUT, "out_iovs");

        private IoctlOut() {
        }
    }

    /** {@code struct fuse_dirent}: one READDIR record, its name following, padded to 8 bytes. */
    public static final class Dirent {
        public static final StructLayout LAYOUT = struct(u64("ino"), u64("off"), u32("namelen"), u32("type"));
        public static final long NAME = LAYOUT.byteSize();
        public static final long INO = at(LAYOUT, "ino");
        public static final long OFF = at(LAYOUT, "off");
        public static final long NAMELEN = at(LAYOUT, "namelen");
        public static final long TYPE = at(LAYOUT, "type");

        private Dirent() {
        }

        /** The padded size of a record with a name of {@code nameLength} bytes ({@code FUSE_DIRENT_SIZE}). */
        public static long recordSize(int nameLength) {
            return align8(NAME + nameLength);
        }

        /** The padded size of a READDIRPLUS record ({@code FUSE_DIRENTPLUS_SIZE}). */
        public static long plusRecordSize(int nameLength) {
            return align8(EntryOut.SIZE + NAME + nameLength);
        }
    }

    /** {@code FUSE_REC_ALIGN}. */
    public static long align8(long size) {
        return (size + 7) & ~7L;
    }
}
