package dev.overlay4j.nio;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.WritableContent;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bytes of a regular file of a read-only directory layer, read with {@code pread} on a plain
 * descriptor. Opening one costs a single {@code openat2}: no {@code /proc} path to resolve and
 * no {@link java.nio.channels.FileChannel} to build, which matters when a tree of small files is
 * read. Copies to another local file (copy-up) still go through the kernel: for those a channel
 * is opened on first use.
 *
 * <p>The descriptor is closed when the content is closed and no read is still running on it,
 * so a read never uses a descriptor number that was closed and reused meanwhile.
 */
final class LowerFileContent implements ReadableContent {

    /** How much of a heap buffer one {@code pread} fills (through the thread's {@link Scratch} memory). */
    private static final int HEAP_CHUNK = 32 * 1024;

    private final int fd;
    private final String description;
    /** Running reads plus one for the open content; the descriptor closes when it drops to 0. */
    private final AtomicInteger users = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();

    LowerFileContent(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    private void enter() throws IOException {
        while (true) {
            int now = users.get();
            if (now <= 0 || closed.get()) {
                throw Errno.EBADF.exception(description, "the file is closed");
            }
            if (users.compareAndSet(now, now + 1)) {
                return;
            }
        }
    }

    private void leave() {
        if (users.decrementAndGet() == 0) {
            LinuxCalls.close(fd);
        }
    }

    @Override
    public long size() throws IOException {
        enter();
        try (Arena arena = Scratch.open()) {
            LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
            int r = LinuxCalls.statx(arena, fd, "", LinuxCalls.AT_EMPTY_PATH, out);
            if (r < 0) {
                throw Errno.ofCode(-r).exception(description, "fstat");
            }
            return out[0].size();
        } finally {
            leave();
        }
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position < 0) {
            throw Errno.EINVAL.exception(description, "negative position " + position);
        }
        int wanted = dst.remaining();
        if (wanted == 0) {
            return 0;
        }
        enter();
        try (Arena arena = Scratch.open()) {
            if (dst.isDirect()) {
                long r = pread(arena, MemorySegment.ofBuffer(dst), wanted, position);
                if (r == 0) {
                    return -1;
                }
                dst.position(dst.position() + (int) r);
                return (int) r;
            }
            // A heap buffer is filled through native memory, a chunk at a time, as the JDK does.
            MemorySegment chunk = arena.allocate(Math.min(wanted, HEAP_CHUNK));
            int total = 0;
            while (total < wanted) {
                int asked = (int) Math.min(wanted - total, chunk.byteSize());
                long r = pread(arena, chunk, asked, position + total);
                if (r == 0) {
                    break;
                }
                MemorySegment.copy(chunk, ValueLayout.JAVA_BYTE, 0, dst.array(), dst.arrayOffset() + dst.position(), (int) r);
                dst.position(dst.position() + (int) r);
                total += (int) r;
                if (r < asked) {
                    break;
                }
            }
            return total == 0 ? -1 : total;
        } finally {
            leave();
        }
    }

    /** One {@code pread}, repeated when interrupted by a signal; 0 at end of file. */
    private long pread(Arena arena, MemorySegment target, long count, long position) throws IOException {
        long r;
        do {
            r = LinuxCalls.pread(arena, fd, target, count, position);
        } while (r == -LinuxCalls.EINTR);
        if (r < 0) {
            throw Errno.ofCode((int) -r).exception(description, "read");
        }
        return r;
    }

    @Override
    public long copyTo(WritableContent target, long position, long count) throws IOException {
        if (!(target instanceof FileContent)) {
            return ReadableContent.super.copyTo(target, position, count);
        }
        enter();
        try (RandomAccessFile file = new RandomAccessFile("/proc/self/fd/" + fd, "r");
             FileContent channel = new FileContent(file, description)) {
            return channel.copyTo(target, position, count); // the kernel copies (copy_file_range)
        } finally {
            leave();
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            leave();
        }
    }

    @Override
    public String toString() {
        return "LowerFileContent[" + description + "]";
    }
}
