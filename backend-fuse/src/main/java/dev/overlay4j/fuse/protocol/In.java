package dev.overlay4j.fuse.protocol;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The arguments of each request, decoded from the bytes after its {@code fuse_in_header} into
 * a typed record ({@code include/uapi/linux/fuse.h}). Handlers read these records and the
 * header ({@link Request#nodeid()}, {@link Request#uid()}, ...), never raw offsets.
 * Names are checked against NAME_MAX as they are decoded: ENAMETOOLONG, as a Linux file
 * system answers a lookup of a longer name.
 */
public final class In {

    /** The longest name a Linux file system accepts, in bytes (NAME_MAX). */
    public static final int NAME_MAX = 255;

    private In() {
    }

    /** A name argument at {@code offset}; ENAMETOOLONG beyond NAME_MAX bytes. */
    static String nameAt(Request rq, long offset) throws IOException {
        int length = rq.stringLength(offset);
        String name = rq.string(offset);
        if (length > NAME_MAX) {
            throw Errno.ENAMETOOLONG.exception(name.substring(0, Math.min(32, name.length())) + "...");
        }
        return name;
    }

    /** The offset just past the NUL-terminated string at {@code offset}. */
    private static long after(Request rq, long offset) {
        return offset + rq.stringLength(offset) + 1;
    }

    /** LOOKUP, UNLINK, RMDIR: one name in the request's directory. */
    public record Name(String name) {
        public static Name decode(Request rq) throws IOException {
            return new Name(nameAt(rq, 0));
        }
    }

    /** FORGET: the kernel gives back {@code nlookup} references to the request's node. */
    public record Forget(long nlookup) {
        public static Forget decode(Request rq) {
            return new Forget(rq.u64(Structs.ForgetIn.NLOOKUP));
        }
    }

    /** BATCH_FORGET: several nodes' references at once. */
    public record BatchForget(long[] nodeids, long[] nlookups) {
        public static BatchForget decode(Request rq) {
            int count = rq.u32(Structs.ForgetIn.BATCH_COUNT);
            long[] nodeids = new long[count];
            long[] nlookups = new long[count];
            for (int i = 0; i < count; i++) {
                long at = Structs.ForgetIn.BATCH_SIZE + i * Structs.ForgetIn.ONE_SIZE;
                nodeids[i] = rq.u64(at + Structs.ForgetIn.ONE_NODEID);
                nlookups[i] = rq.u64(at + Structs.ForgetIn.ONE_NLOOKUP);
            }
            return new BatchForget(nodeids, nlookups);
        }
    }

    /** GETATTR; {@code fh} is meaningful only when {@link #hasHandle}. */
    public record Getattr(int getattrFlags, long fh) {
        public static Getattr decode(Request rq) {
            return new Getattr(rq.u32(Structs.GetattrIn.GETATTR_FLAGS), rq.u64(Structs.GetattrIn.FH));
        }

        public boolean hasHandle() {
            return (getattrFlags & Flags.GETATTR_FH) != 0;
        }
    }

    /** SETATTR: {@code valid} says which of the other fields to apply ({@code FATTR_*}). */
    public record Setattr(int valid, long fh, long size, long atime, int atimensec, long mtime, int mtimensec,
                          int mode, int uid, int gid) {
        public static Setattr decode(Request rq) {
            return new Setattr(rq.u32(Structs.SetattrIn.VALID), rq.u64(Structs.SetattrIn.FH),
                    rq.u64(Structs.SetattrIn.SIZE_FIELD), rq.u64(Structs.SetattrIn.ATIME),
                    rq.u32(Structs.SetattrIn.ATIMENSEC), rq.u64(Structs.SetattrIn.MTIME),
                    rq.u32(Structs.SetattrIn.MTIMENSEC), rq.u32(Structs.SetattrIn.MODE), rq.u32(Structs.SetattrIn.UID),
                    rq.u32(Structs.SetattrIn.GID));
        }

        /** Whether any of the {@code FATTR_*} bits in {@code bits} is set. */
        public boolean sets(int bits) {
            return (valid & bits) != 0;
        }
    }

    /** SYMLINK: the new name, then the link's target. */
    public record Symlink(String name, String target) {
        public static Symlink decode(Request rq) throws IOException {
            String name = nameAt(rq, 0);
            return new Symlink(name, rq.string(after(rq, 0)));
        }
    }

    /** MKNOD. */
    public record Mknod(int mode, int rdev, int umask, String name) {
        public static Mknod decode(Request rq) throws IOException {
            return new Mknod(rq.u32(Structs.MknodIn.MODE), rq.u32(Structs.MknodIn.RDEV), rq.u32(Structs.MknodIn.UMASK),
                    nameAt(rq, Structs.MknodIn.SIZE));
        }
    }

    /** MKDIR. */
    public record Mkdir(int mode, int umask, String name) {
        public static Mkdir decode(Request rq) throws IOException {
            return new Mkdir(rq.u32(Structs.MkdirIn.MODE), rq.u32(Structs.MkdirIn.UMASK), nameAt(rq, Structs.MkdirIn.SIZE));
        }
    }

    /** RENAME and RENAME2 ({@code flags} 0 for RENAME): a name in the request's directory to one in {@code newDir}. */
    public record Rename(long newDir, int flags, String name, String newName) {
        public static Rename decode(Request rq) throws IOException {
            boolean two = rq.opcode() == Opcode.RENAME2;
            long namesAt = two ? Structs.RenameIn.SIZE2 : Structs.RenameIn.SIZE;
            String name = nameAt(rq, namesAt);
            return new Rename(rq.u64(Structs.RenameIn.NEWDIR), two ? rq.u32(Structs.RenameIn.FLAGS) : 0, name,
                    nameAt(rq, after(rq, namesAt)));
        }
    }

    /** LINK: a new name in the request's directory for the node {@code oldNodeid}. */
    public record Link(long oldNodeid, String name) {
        public static Link decode(Request rq) throws IOException {
            return new Link(rq.u64(Structs.LinkIn.OLDNODEID), nameAt(rq, Structs.LinkIn.SIZE));
        }
    }

    /** OPEN and OPENDIR: {@code flags} are open(2)'s. */
    public record Open(int flags, int openFlags) {
        public static Open decode(Request rq) {
            return new Open(rq.u32(Structs.OpenIn.FLAGS), rq.u32(Structs.OpenIn.OPEN_FLAGS));
        }

        /** Whether this open may change the file: opened for writing, or truncating. */
        public boolean writes() {
            return (flags & Flags.O_ACCMODE) != Flags.O_RDONLY || (flags & Flags.O_TRUNC) != 0;
        }
    }

    /**
     * CREATE and TMPFILE. For TMPFILE the kernel sends the name of the dentry it made for the
     * unnamed file, which is no real name: {@link #decodeTmpfile} does not check it.
     */
    public record Create(int flags, int mode, int umask, int openFlags, String name) {
        public static Create decode(Request rq) throws IOException {
            return new Create(rq.u32(Structs.CreateIn.FLAGS), rq.u32(Structs.CreateIn.MODE),
                    rq.u32(Structs.CreateIn.UMASK), rq.u32(Structs.CreateIn.OPEN_FLAGS), nameAt(rq, Structs.CreateIn.SIZE));
        }

        public static Create decodeTmpfile(Request rq) {
            String name = rq.argumentLength() > Structs.CreateIn.SIZE ? rq.string(Structs.CreateIn.SIZE) : "";
            return new Create(rq.u32(Structs.CreateIn.FLAGS), rq.u32(Structs.CreateIn.MODE),
                    rq.u32(Structs.CreateIn.UMASK), rq.u32(Structs.CreateIn.OPEN_FLAGS), name);
        }
    }

    /** READ, READDIR and READDIRPLUS. */
    public record Read(long fh, long offset, int size, int readFlags, long lockOwner, int flags) {
        public static Read decode(Request rq) {
            return new Read(rq.u64(Structs.ReadIn.FH), rq.u64(Structs.ReadIn.OFFSET), rq.u32(Structs.ReadIn.SIZE_FIELD),
                    rq.u32(Structs.ReadIn.READ_FLAGS), rq.u64(Structs.ReadIn.LOCK_OWNER), rq.u32(Structs.ReadIn.FLAGS));
        }

        /** The size asked for, as an unsigned number. */
        public long sizeAsked() {
            return Integer.toUnsignedLong(size);
        }
    }

    /** WRITE: {@code data} is a view of the request buffer, valid until the request is answered. */
    public record Write(long fh, long offset, int size, int writeFlags, ByteBuffer data) {
        public static Write decode(Request rq) {
            int size = rq.u32(Structs.WriteIn.SIZE_FIELD);
            return new Write(rq.u64(Structs.WriteIn.FH), rq.u64(Structs.WriteIn.OFFSET), size,
                    rq.u32(Structs.WriteIn.WRITE_FLAGS), rq.view(Structs.WriteIn.SIZE, size));
        }
    }

    /** RELEASE and RELEASEDIR. */
    public record Release(long fh, int flags, int releaseFlags, long lockOwner) {
        public static Release decode(Request rq) {
            return new Release(rq.u64(Structs.ReleaseIn.FH), rq.u32(Structs.ReleaseIn.FLAGS),
                    rq.u32(Structs.ReleaseIn.RELEASE_FLAGS), rq.u64(Structs.ReleaseIn.LOCK_OWNER));
        }
    }

    /** FLUSH. */
    public record Flush(long fh, long lockOwner) {
        public static Flush decode(Request rq) {
            return new Flush(rq.u64(Structs.FlushIn.FH), rq.u64(Structs.FlushIn.LOCK_OWNER));
        }
    }

    /** FSYNC and FSYNCDIR. */
    public record Fsync(long fh, int fsyncFlags) {
        public static Fsync decode(Request rq) {
            return new Fsync(rq.u64(Structs.FsyncIn.FH), rq.u32(Structs.FsyncIn.FSYNC_FLAGS));
        }

        /** fdatasync(2): the data only. */
        public boolean dataOnly() {
            return (fsyncFlags & Flags.FSYNC_FDATASYNC) != 0;
        }
    }

    /** SETXATTR (the compat layout: FUSE_SETXATTR_EXT is not negotiated). */
    public record Setxattr(String name, byte[] value, int flags) {
        public static Setxattr decode(Request rq) {
            int size = rq.u32(Structs.SetxattrIn.SIZE_FIELD);
            long nameAt = Structs.SetxattrIn.SIZE;
            return new Setxattr(rq.string(nameAt), rq.bytes(after(rq, nameAt), size), rq.u32(Structs.SetxattrIn.FLAGS));
        }
    }

    /** GETXATTR: a {@code size} of 0 asks for the value's length alone. */
    public record Getxattr(String name, int size) {
        public static Getxattr decode(Request rq) {
            return new Getxattr(rq.string(Structs.GetxattrIn.SIZE), rq.u32(Structs.GetxattrIn.SIZE_FIELD));
        }
    }

    /** LISTXATTR: a {@code size} of 0 asks for the list's length alone. */
    public record Listxattr(int size) {
        public static Listxattr decode(Request rq) {
            return new Listxattr(rq.u32(Structs.GetxattrIn.SIZE_FIELD));
        }
    }

    /** REMOVEXATTR. */
    public record Removexattr(String name) {
        public static Removexattr decode(Request rq) {
            return new Removexattr(rq.string(0));
        }
    }

    /** ACCESS: {@code R_OK | W_OK | X_OK}. */
    public record Access(int mask) {
        public static Access decode(Request rq) {
            return new Access(rq.u32(Structs.AccessIn.MASK));
        }
    }

    /** INIT: what the kernel offers. */
    public static Init.Offer init(Request rq) {
        long flags = rq.u32(Structs.InitIn.FLAGS) & 0xffffffffL;
        if (rq.argumentLength() >= Structs.InitIn.FLAGS2 + 4) {
            flags |= (long) rq.u32(Structs.InitIn.FLAGS2) << 32;
        }
        return new Init.Offer(rq.u32(Structs.InitIn.MAJOR), rq.u32(Structs.InitIn.MINOR),
                rq.u32(Structs.InitIn.MAX_READAHEAD), flags);
    }

    /** INTERRUPT: the unique id of the request the caller gave up waiting for. */
    public record Interrupt(long unique) {
        public static Interrupt decode(Request rq) {
            return new Interrupt(rq.u64(Structs.InterruptIn.UNIQUE));
        }
    }

    /** FALLOCATE: {@code mode} is fallocate(2)'s. */
    public record Fallocate(long fh, long offset, long length, int mode) {
        public static Fallocate decode(Request rq) {
            return new Fallocate(rq.u64(Structs.FallocateIn.FH), rq.u64(Structs.FallocateIn.OFFSET),
                    rq.u64(Structs.FallocateIn.LENGTH), rq.u32(Structs.FallocateIn.MODE));
        }
    }

    /** LSEEK: only SEEK_DATA and SEEK_HOLE reach a server; the kernel does the others. */
    public record Lseek(long fh, long offset, int whence) {
        public static Lseek decode(Request rq) {
            return new Lseek(rq.u64(Structs.LseekIn.FH), rq.u64(Structs.LseekIn.OFFSET), rq.u32(Structs.LseekIn.WHENCE));
        }
    }

    /** COPY_FILE_RANGE: from the request's node to {@code nodeidOut}. */
    public record CopyFileRange(long fhIn, long offIn, long nodeidOut, long fhOut, long offOut, long length,
                                long flags) {
        public static CopyFileRange decode(Request rq) {
            return new CopyFileRange(rq.u64(Structs.CopyFileRangeIn.FH_IN), rq.u64(Structs.CopyFileRangeIn.OFF_IN),
                    rq.u64(Structs.CopyFileRangeIn.NODEID_OUT), rq.u64(Structs.CopyFileRangeIn.FH_OUT),
                    rq.u64(Structs.CopyFileRangeIn.OFF_OUT), rq.u64(Structs.CopyFileRangeIn.LEN),
                    rq.u64(Structs.CopyFileRangeIn.FLAGS));
        }
    }

    /**
     * IOCTL: {@code input} holds the {@code inSize} bytes the caller passed in (for a restricted
     * ioctl, those the command's encoding names), {@code outSize} the room for the answer.
     */
    public record Ioctl(long fh, int flags, int cmd, long arg, int inSize, int outSize, byte[] input) {
        public static Ioctl decode(Request rq) {
            int inSize = rq.u32(Structs.IoctlIn.IN_SIZE);
            long available = rq.argumentLength() - Structs.IoctlIn.SIZE;
            byte[] input = rq.bytes(Structs.IoctlIn.SIZE, (int) Math.min(inSize, Math.max(available, 0)));
            return new Ioctl(rq.u64(Structs.IoctlIn.FH), rq.u32(Structs.IoctlIn.FLAGS), rq.u32(Structs.IoctlIn.CMD),
                    rq.u64(Structs.IoctlIn.ARG), inSize, rq.u32(Structs.IoctlIn.OUT_SIZE), input);
        }
    }
}
