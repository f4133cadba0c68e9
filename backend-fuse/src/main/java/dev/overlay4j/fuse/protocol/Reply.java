package dev.overlay4j.fuse.protocol;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.overlay4j.api.EntryAttributes;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A reply being built in a reader's output buffer: the {@code fuse_out_header} and a body
 * after it. Body offsets are counted from the end of the header. Reused for every reply.
 */
public final class Reply {

    /** {@code st_blksize} reported for every entry. */
    static final int BLOCK_SIZE = 4096;

    private final MemorySegment buffer;

    public Reply(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** The largest body this buffer holds. */
    public long capacity() {
        return buffer.byteSize() - Structs.OutHeader.SIZE;
    }

    public MemorySegment segment() {
        return buffer;
    }

    /** A buffer over the body from {@code offset}, {@code count} bytes long, for reading file data into. */
    public ByteBuffer view(long offset, int count) {
        return buffer.asSlice(Structs.OutHeader.SIZE + offset, count).asByteBuffer();
    }

    public void u16(long offset, int value) {
        buffer.set(JAVA_SHORT_UNALIGNED, Structs.OutHeader.SIZE + offset, (short) value);
    }

    public void u32(long offset, int value) {
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.SIZE + offset, value);
    }

    public void u64(long offset, long value) {
        buffer.set(JAVA_LONG_UNALIGNED, Structs.OutHeader.SIZE + offset, value);
    }

    public void bytes(long offset, byte[] bytes) {
        MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, Structs.OutHeader.SIZE + offset, bytes.length);
    }

    public void zero(long offset, long count) {
        buffer.asSlice(Structs.OutHeader.SIZE + offset, count).fill((byte) 0);
    }

    /** Writes a {@code fuse_attr} at {@code offset}. */
    public void attr(long offset, EntryAttributes a) {
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

    /** Writes a {@code fuse_entry_out} at {@code offset}; {@code nodeid} 0 with null attributes is a bare dirent. */
    public void entry(long offset, long nodeid, long generation, long entryValidNanos, long attrValidNanos,
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
        attr(offset + Structs.EntryOut.ATTR, attributes);
    }

    /** Writes a {@code fuse_attr_out} at {@code offset}. */
    public void attrOut(long offset, long attrValidNanos, EntryAttributes attributes) {
        u64(offset + Structs.AttrOut.ATTR_VALID, attrValidNanos / 1_000_000_000L);
        u32(offset + Structs.AttrOut.ATTR_VALID_NSEC, (int) (attrValidNanos % 1_000_000_000L));
        u32(offset + Structs.AttrOut.ATTR_VALID_NSEC + 4, 0);
        attr(offset + Structs.AttrOut.ATTR, attributes);
    }

    /**
     * Writes a {@code fuse_dirent} with its name at {@code offset}, zero padding included.
     *
     * @return the record's size
     */
    public long dirent(long offset, long ino, long nextOffset, int type, byte[] name) {
        u64(offset + Structs.Dirent.INO, ino);
        u64(offset + Structs.Dirent.OFF, nextOffset);
        u32(offset + Structs.Dirent.NAMELEN, name.length);
        u32(offset + Structs.Dirent.TYPE, type);
        bytes(offset + Structs.Dirent.NAME, name);
        long size = Structs.Dirent.recordSize(name.length);
        long padding = size - Structs.Dirent.NAME - name.length;
        if (padding > 0) {
            zero(offset + Structs.Dirent.NAME + name.length, padding);
        }
        return size;
    }

    /** Writes a {@code fuse_init_out} at body offset 0. */
    public void initOut(Init.Answer answer) {
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
     * Writes the {@code fuse_out_header}.
     *
     * @param error      a negative errno, or 0
     * @param bodyLength the body bytes that follow (0 for an error)
     * @return the length of the whole reply
     */
    public int header(long unique, int error, long bodyLength) {
        int total = (int) (Structs.OutHeader.SIZE + bodyLength);
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.LEN, total);
        buffer.set(JAVA_INT_UNALIGNED, Structs.OutHeader.ERROR, error);
        buffer.set(JAVA_LONG_UNALIGNED, Structs.OutHeader.UNIQUE, unique);
        return total;
    }
}
