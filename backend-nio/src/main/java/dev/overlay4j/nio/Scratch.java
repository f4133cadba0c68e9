package dev.overlay4j.nio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Native memory for the arguments and results of system calls, reused by each thread: a
 * stat must not pay for a fresh arena (a malloc, a free and their bookkeeping) every time.
 *
 * <p>{@link #open()} starts a frame on the calling thread's buffer; what the frame allocates
 * is handed out from the buffer top and given back when the frame closes, so frames nest like
 * try-with-resources blocks do. A frame that needs more than the buffer holds takes the rest
 * from a confined arena of its own. Memory is not zeroed, and a segment must not be used after
 * its frame closed: every caller copies results into Java objects before that.
 */
final class Scratch implements Arena {

    /** Enough for the largest routine need: a 32 KiB getdents buffer plus paths and names. */
    private static final long SIZE = 64 * 1024;

    private static final ThreadLocal<Buffer> PER_THREAD = ThreadLocal.withInitial(Buffer::new);

    /** One thread's memory and how much of it open frames use. */
    private static final class Buffer {
        final MemorySegment memory = Arena.ofAuto().allocate(SIZE, 16);
        long top;
    }

    private final Buffer buffer;
    private final long mark;
    private Arena overflow;

    private Scratch(Buffer buffer) {
        this.buffer = buffer;
        this.mark = buffer.top;
    }

    /**
     * A new frame on the calling thread's buffer; close it on the same thread. A virtual thread,
     * usually short-lived, gets a plain confined arena instead of a buffer of its own.
     */
    static Arena open() {
        if (Thread.currentThread().isVirtual()) {
            return Arena.ofConfined();
        }
        return new Scratch(PER_THREAD.get());
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0 || byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("bad size " + byteSize + " or alignment " + byteAlignment);
        }
        long start = (buffer.top + byteAlignment - 1) & -byteAlignment;
        if (byteAlignment <= 16 && start + byteSize <= SIZE) {
            buffer.top = start + byteSize;
            return buffer.memory.asSlice(start, byteSize);
        }
        if (overflow == null) {
            overflow = Arena.ofConfined();
        }
        return overflow.allocate(byteSize, byteAlignment);
    }

    @Override
    public MemorySegment.Scope scope() {
        return buffer.memory.scope();
    }

    @Override
    public void close() {
        buffer.top = mark;
        if (overflow != null) {
            overflow.close();
            overflow = null;
        }
    }
}
