package dev.overlay4j.fuse.protocol;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One request as the kernel wrote it into a reader's buffer: the {@code fuse_in_header} and
 * the arguments after it. Argument offsets are counted from the end of the header. The view
 * is reused for every request a reader handles. Only the header is read outside this package:
 * {@link In} decodes the arguments of each opcode.
 */
public final class Request {

    private final MemorySegment buffer;
    private int length;

    public Request(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** Starts reading a new request of {@code length} bytes. */
    public void reset(int length) {
        if (length < Structs.InHeader.SIZE) {
            throw new IllegalArgumentException("a FUSE request of " + length + " bytes is shorter than its header");
        }
        this.length = length;
    }

    public int length() {
        return length;
    }

    public int opcode() {
        return buffer.get(JAVA_INT_UNALIGNED, Structs.InHeader.OPCODE);
    }

    public long unique() {
        return buffer.get(JAVA_LONG_UNALIGNED, Structs.InHeader.UNIQUE);
    }

    public long nodeid() {
        return buffer.get(JAVA_LONG_UNALIGNED, Structs.InHeader.NODEID);
    }

    public int uid() {
        return buffer.get(JAVA_INT_UNALIGNED, Structs.InHeader.UID);
    }

    public int gid() {
        return buffer.get(JAVA_INT_UNALIGNED, Structs.InHeader.GID);
    }

    public int pid() {
        return buffer.get(JAVA_INT_UNALIGNED, Structs.InHeader.PID);
    }

    /** The number of argument bytes after the header. */
    long argumentLength() {
        return length - Structs.InHeader.SIZE;
    }

    int u32(long offset) {
        check(offset, 4);
        return buffer.get(JAVA_INT_UNALIGNED, Structs.InHeader.SIZE + offset);
    }

    long u64(long offset) {
        check(offset, 8);
        return buffer.get(JAVA_LONG_UNALIGNED, Structs.InHeader.SIZE + offset);
    }

    /** The length in bytes of the NUL-terminated string at {@code offset}, without the NUL. */
    int stringLength(long offset) {
        long start = Structs.InHeader.SIZE + offset;
        for (long i = start; i < length; i++) {
            if (buffer.get(JAVA_BYTE, i) == 0) {
                return (int) (i - start);
            }
        }
        throw new IllegalArgumentException("a string argument of " + Opcode.name(opcode()) + " lacks its NUL");
    }

    /** The NUL-terminated UTF-8 string at {@code offset}. */
    String string(long offset) {
        int n = stringLength(offset);
        byte[] bytes = new byte[n];
        MemorySegment.copy(buffer, JAVA_BYTE, Structs.InHeader.SIZE + offset, bytes, 0, n);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A copy of {@code count} argument bytes from {@code offset}. */
    byte[] bytes(long offset, int count) {
        check(offset, count);
        byte[] bytes = new byte[count];
        MemorySegment.copy(buffer, JAVA_BYTE, Structs.InHeader.SIZE + offset, bytes, 0, count);
        return bytes;
    }

    /** A buffer over {@code count} argument bytes from {@code offset}, without copying (valid until the next request). */
    ByteBuffer view(long offset, int count) {
        check(offset, count);
        return buffer.asSlice(Structs.InHeader.SIZE + offset, count).asByteBuffer();
    }

    private void check(long offset, long size) {
        if (offset < 0 || size < 0 || Structs.InHeader.SIZE + offset + size > length) {
            throw new IllegalArgumentException(Opcode.name(opcode()) + " request of " + length
                    + " bytes has no argument at " + offset + "+" + size);
        }
    }
}
