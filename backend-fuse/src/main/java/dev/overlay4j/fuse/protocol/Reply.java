package dev.overlay4j.fuse.protocol;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.StoreSpace;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A reply being built in a reader's output buffer: the {@code fuse_out_header} and a body
 * after it, reused for every reply. {@link #start} names the request answered; each answer
 * method then lays out one reply struct of {@code fuse.h} and returns the length to send.
 */
public final class Reply {

    /** {@code st_blksize} reported for every entry. */
    static final int BLOCK_SIZE = 4096;

    private final MemorySegment buffer;
    private long unique;

    public Reply(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** Begins the answer to the request with this unique id. */
    public void start(long unique) {
        this.unique = unique;
    }

    /** The largest body this buffer holds. */
    public long capacity() {
        return buffer.byteSize() - Structs.OutHeader.SIZE;
    }

    public MemorySegment segment() {
        return buffer;
    }

    // ---- answers ----

    /** Success with no body. */
    public int ok() {
        return header(0, 0);
    }

    /** Failure with {@code errno} (a positive code). */
    public int error(int errno) {
        return header(-errno, 0);
    }

    /** {@code fuse_entry_out} for a name the kernel now holds a reference to. */
    public int entry(long nodeid, long entryValidNanos, long attrValidNanos, EntryAttributes attributes) {
        entry(0, nodeid, 0, entryValidNanos, attrValidNanos, attributes);
        return header(0, Structs.EntryOut.SIZE);
    }

    /** {@code fuse_entry_out} with node id 0: "no such name", to be remembered for {@code validNanos}. */
    public int negativeEntry(long validNanos) {
        zero(0, Structs.EntryOut.SIZE);
        u64(Structs.EntryOut.ENTRY_VALID, validNanos / 1_000_000_000L);
        u32(Structs.EntryOut.ENTRY_VALID_NSEC, (int) (validNanos % 1_000_000_000L));
        return header(0, Structs.EntryOut.SIZE);
    }

    /** {@code fuse_attr_out}: the answer to GETATTR and SETATTR. */
    public int attr(long attrValidNanos, EntryAttributes attributes) {
        attrOut(0, attrValidNanos, attributes);
        return header(0, Structs.AttrOut.SIZE);
    }

    /** {@code fuse_open_out}: the answer to OPEN and OPENDIR. */
    public int open(long fh, int openFlags, int backingId) {
        openOut(0, fh, openFlags, backingId);
        return header(0, Structs.OpenOut.SIZE);
    }

    /** {@code fuse_entry_out} then {@code fuse_open_out}: the answer to CREATE and TMPFILE. */
    public int created(long nodeid, long entryValidNanos, long attrValidNanos, EntryAttributes attributes, long fh,
                       int openFlags, int backingId) {
        entry(0, nodeid, 0, entryValidNanos, attrValidNanos, attributes);
        openOut(Structs.EntryOut.SIZE, fh, openFlags, backingId);
        return header(0, Structs.EntryOut.SIZE + Structs.OpenOut.SIZE);
    }

    /** {@code fuse_write_out}: the answer to WRITE and COPY_FILE_RANGE. */
    public int written(long size) {
        u32(Structs.WriteOut.SIZE_FIELD, (int) size);
        u32(Structs.WriteOut.SIZE_FIELD + 4, 0);
        return header(0, Structs.WriteOut.SIZE);
    }

    /** A buffer over the body for READ to fill with file data; answer with {@link #data}. */
    public ByteBuffer dataBuffer(int size) {
        return view(0, size);
    }

    /** READ's answer: the first {@code length} bytes of {@link #dataBuffer}. */
    public int data(long length) {
        return header(0, length);
    }

    /**
     * Room for a copy's bytes past where a {@code fuse_write_out} goes, at most {@code count}
     * bytes: COPY_FILE_RANGE uses the reply's body as its buffer.
     */
    public ByteBuffer scratch(long count) {
        long room = capacity() - Structs.WriteOut.SIZE;
        return view(Structs.WriteOut.SIZE, (int) Math.min(Math.min(room, count), Integer.MAX_VALUE));
    }

    /** A body of raw bytes: READLINK's target, GETXATTR's value, LISTXATTR's names. */
    public int bytes(byte[] body) {
        bytes(0, body);
        return header(0, body.length);
    }

    /** {@code fuse_getxattr_out}: a value's length, for a GETXATTR or LISTXATTR of size 0. */
    public int xattrSize(int size) {
        u32(Structs.GetxattrIn.SIZE_FIELD, size);
        u32(Structs.GetxattrIn.SIZE_FIELD + 4, 0);
        return header(0, Structs.GetxattrIn.SIZE);
    }

    /** {@code fuse_statfs_out}. */
    public int statfs(StoreSpace space) {
        zero(0, Structs.Kstatfs.SIZE);
        u64(Structs.Kstatfs.BLOCKS, space.totalBlocks());
        u64(Structs.Kstatfs.BFREE, space.freeBlocks());
        u64(Structs.Kstatfs.BAVAIL, space.availableBlocks());
        u64(Structs.Kstatfs.FILES, space.totalFiles());
        u64(Structs.Kstatfs.FFREE, space.freeFiles());
        u32(Structs.Kstatfs.BSIZE, (int) space.blockSize());
        u32(Structs.Kstatfs.NAMELEN, space.nameMax());
        u32(Structs.Kstatfs.FRSIZE, (int) space.blockSize());
        return header(0, Structs.Kstatfs.SIZE);
    }

    /** {@code fuse_lseek_out}. */
    public int lseek(long offset) {
        u64(0, offset);
        return header(0, Structs.LseekIn.OUT_SIZE);
    }

    /** {@code fuse_ioctl_out} for an unrestricted-size answer: {@code result}, then {@code output}. */
    public int ioctl(int result, byte[] output) {
        zero(0, Structs.IoctlOut.SIZE);
        u32(Structs.IoctlOut.RESULT, result);
        bytes(Structs.IoctlOut.SIZE, output);
        return header(0, Structs.IoctlOut.SIZE + output.length);
    }

    /** {@code fuse_init_out}. */
    public int init(Init.Answer answer) {
        initOut(answer);
        return header(0, Structs.InitOut.SIZE);
    }

    // ---- directory listings: records one after the other, then {@link #listing} ----

    /**
     * Writes a {@code fuse_dirent} with its name at {@code at} in the body, zero padding included.
     *
     * @return the record's size
     */
    public long dirent(long at, long ino, long nextOffset, int type, byte[] name) {
        u64(at + Structs.Dirent.INO, ino);
        u64(at + Structs.Dirent.OFF, nextOffset);
        u32(at + Structs.Dirent.NAMELEN, name.length);
        u32(at + Structs.Dirent.TYPE, type);
        bytes(at + Structs.Dirent.NAME, name);
        long size = Structs.Dirent.recordSize(name.length);
        long padding = size - Structs.Dirent.NAME - name.length;
        if (padding > 0) {
            zero(at + Structs.Dirent.NAME + name.length, padding);
        }
        return size;
    }

    /**
     * Writes a {@code fuse_direntplus} at {@code at}: the entry (node id 0 and no attributes when
     * {@code attributes} is null, which the kernel takes as a bare name) and the dirent.
     *
     * @return the record's size
     */
    public long direntPlus(long at, long nodeid, long entryValidNanos, long attrValidNanos,
                           EntryAttributes attributes, long ino, long nextOffset, int type, byte[] name) {
        entry(at, nodeid, 0, entryValidNanos, attrValidNanos, attributes);
        dirent(at + Structs.EntryOut.SIZE, ino, nextOffset, type, name);
        return Structs.Dirent.plusRecordSize(name.length);
    }

    /** READDIR's and READDIRPLUS's answer: the records written up to {@code length}. */
    public int listing(long length) {
        return header(0, length);
    }

    // ---- layout of the structs ----

    void u16(long offset, int value) {
        buffer.set(JAVA_SHORT_UNALIGNED, Structs.OutHeader.SIZE + offset, (short) value);
    }

    void u32(long offset, int value) {
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.SIZE + offset, value);
    }

    void u64(long offset, long value) {
        buffer.set(JAVA_LONG_UNALIGNED, Structs.OutHeader.SIZE + offset, value);
    }

    void bytes(long offset, byte[] bytes) {
        MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, Structs.OutHeader.SIZE + offset, bytes.length);
    }

    void zero(long offset, long count) {
        buffer.asSlice(Structs.OutHeader.SIZE + offset, count).fill((byte) 0);
    }

    ByteBuffer view(long offset, int count) {
        return buffer.asSlice(Structs.OutHeader.SIZE + offset, count).asByteBuffer();
    }

    /** Writes a {@code fuse_attr} at {@code offset}. */
    void fuseAttr(long offset, EntryAttributes a) {
        u64(offset + Structs.Attr.INO, a.inode());
        u64(offset + Structs.Attr.SIZE_FIELD, a.size());
        u64(offset + Structs.Attr.BLOCKS, a.blocks());
        u64(offset + Structs.Attr.ATIME, Math.floorDiv(a.atimeNanos(), 1_000_000_000L));
        u64(offset + Structs.Attr.MTIME, Math.floorDiv(a.mtimeNanos(), 1_000_000_000L));
        u64(offset + Structs.Attr.CTIME, Math.floorDiv(a.ctimeNanos(), 1_000_000_000L));
        u32(offset + Structs.Attr.ATIMENSEC, (int) Math.floorMod(a.atimeNanos(), 1_000_000_000L));
        u32(offset + Structs.Attr.MTIMENSEC, (int) Math.floorMod(a.mtimeNanos(), 1_000_000_000L));
        u32(offset + Structs.Attr.CTIMENSEC, (int) Math.floorMod(a.ctimeNanos(), 1_000_000_000L));
        u32(offset + Structs.Attr.MODE, a.mode());
        u32(offset + Structs.Attr.NLINK, a.nlink());
        u32(offset + Structs.Attr.UID, a.uid());
        u32(offset + Structs.Attr.GID, a.gid());
        // fuse_attr.rdev is the kernel's 32-bit new_encode_dev form, which equals the low half
        // of glibc's dev_t for majors below 4096.
        u32(offset + Structs.Attr.RDEV, (int) a.rdev());
        u32(offset + Structs.Attr.BLKSIZE, BLOCK_SIZE);
        u32(offset + Structs.Attr.FLAGS, 0);
    }

    /** Writes a {@code fuse_entry_out} at {@code offset}; null attributes make a bare dirent's zeros. */
    void entry(long offset, long nodeid, long generation, long entryValidNanos, long attrValidNanos,
               EntryAttributes attributes) {
        if (attributes == null) {
            zero(offset, Structs.EntryOut.SIZE);
            return;
        }
        u64(offset + Structs.EntryOut.NODEID, nodeid);
        u64(offset + Structs.EntryOut.GENERATION, generation);
        u64(offset + Structs.EntryOut.ENTRY_VALID, entryValidNanos / 1_000_000_000L);
        u64(offset + Structs.EntryOut.ATTR_VALID, attrValidNanos / 1_000_000_000L);
        u32(offset + Structs.EntryOut.ENTRY_VALID_NSEC, (int) (entryValidNanos % 1_000_000_000L));
        u32(offset + Structs.EntryOut.ATTR_VALID_NSEC, (int) (attrValidNanos % 1_000_000_000L));
        fuseAttr(offset + Structs.EntryOut.ATTR, attributes);
    }

    /** Writes a {@code fuse_attr_out} at {@code offset}. */
    void attrOut(long offset, long attrValidNanos, EntryAttributes attributes) {
        u64(offset + Structs.AttrOut.ATTR_VALID, attrValidNanos / 1_000_000_000L);
        u32(offset + Structs.AttrOut.ATTR_VALID_NSEC, (int) (attrValidNanos % 1_000_000_000L));
        u32(offset + Structs.AttrOut.ATTR_VALID_NSEC + 4, 0);
        fuseAttr(offset + Structs.AttrOut.ATTR, attributes);
    }

    private void openOut(long offset, long fh, int openFlags, int backingId) {
        u64(offset + Structs.OpenOut.FH, fh);
        u32(offset + Structs.OpenOut.OPEN_FLAGS, openFlags);
        u32(offset + Structs.OpenOut.BACKING_ID, backingId);
    }

    /** Writes a {@code fuse_init_out} at body offset 0. */
    void initOut(Init.Answer answer) {
        zero(0, Structs.InitOut.SIZE);
        u32(Structs.InitOut.MAJOR, answer.major());
        u32(Structs.InitOut.MINOR, answer.minor());
        u32(Structs.InitOut.MAX_READAHEAD, answer.maxReadahead());
        u32(Structs.InitOut.FLAGS, (int) answer.flags());
        u16(Structs.InitOut.MAX_BACKGROUND, answer.maxBackground());
        u16(Structs.InitOut.CONGESTION_THRESHOLD, answer.congestionThreshold());
        u32(Structs.InitOut.MAX_WRITE, answer.maxWrite());
        u32(Structs.InitOut.TIME_GRAN, answer.timeGranularity());
        u16(Structs.InitOut.MAX_PAGES, answer.maxPages());
        u32(Structs.InitOut.FLAGS2, (int) (answer.flags() >>> 32));
        u32(Structs.InitOut.MAX_STACK_DEPTH, answer.maxStackDepth());
    }

    /**
     * Writes the {@code fuse_out_header} of the request named by {@link #start}.
     *
     * @param error      a negative errno, or 0
     * @param bodyLength the body bytes that follow (0 for an error)
     * @return the length of the whole reply
     */
    int header(int error, long bodyLength) {
        return header(unique, error, bodyLength);
    }

    /** Writes a {@code fuse_out_header} for {@code unique}. */
    public int header(long unique, int error, long bodyLength) {
        int total = (int) (Structs.OutHeader.SIZE + bodyLength);
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.LEN, total);
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.ERROR, error);
        buffer.set(JAVA_LONG_UNALIGNED, Structs.OutHeader.UNIQUE, unique);
        return total;
    }
}
