package dev.overlay4j.nio;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.WritableContent;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bytes of a local regular file on a plain descriptor: {@code pread}/{@code pwrite},
 * {@code fstat}, {@code ftruncate}, {@code fallocate}, {@code lseek} for data and holes and
 * {@code fsync}, each one system call. Opening one costs the {@code openat2} alone, no
 * {@link java.nio.channels.FileChannel} is built. Copies to another local file go through the
 * kernel ({@code copy_file_range}, else {@code sendfile}).
 *
 * <p>A content opened read-only refuses writes with EBADF, as the descriptor would. The
 * descriptor is closed when the content is closed and no call is still running on it, so a call
 * never uses a descriptor number that was closed and reused meanwhile.
 */
final class FileContent implements WritableContent {

    /** How much of a heap buffer one {@code pread} or {@code pwrite} moves (through the thread's {@link Scratch} memory). */
    private static final int HEAP_CHUNK = 32 * 1024;
    /** The most one {@code copy_file_range} or {@code sendfile} is asked to copy. */
    private static final long COPY_CHUNK = 1L << 30;

    private final int fd;
    private final boolean writable;
    private final String description;
    /** Running calls plus one for the open content; the descriptor closes when it drops to 0. */
    private final AtomicInteger users = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes over {@code fd}, a descriptor of a regular file, opened for writing when {@code writable}. */
    FileContent(int fd, boolean writable, String description) {
        this.fd = fd;
        this.writable = writable;
        this.description = description;
    }

    /** The descriptor, for a call of the layer on this very file; valid between {@link #enter} and {@link #leave}. */
    int fd() {
        return fd;
    }

    boolean isWritable() {
        return writable;
    }

    void enter() throws IOException {
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

    void leave() {
        if (users.decrementAndGet() == 0) {
            LinuxCalls.close(fd);
        }
    }

    private void enterWriting() throws IOException {
        if (!writable) {
            throw Errno.EBADF.exception(description, "the file is open for reading only");
        }
        enter();
    }

    private IOException error(long negativeErrno, String call) {
        return Errno.ofCode((int) -negativeErrno).exception(description, call);
    }

    private LinuxCalls.Stat fstat(Arena arena) throws IOException {
        LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
        int r = LinuxCalls.statx(arena, fd, "", LinuxCalls.AT_EMPTY_PATH, out);
        if (r < 0) {
            throw error(r, "fstat");
        }
        return out[0];
    }

    @Override
    public long size() throws IOException {
        enter();
        try (Arena arena = Scratch.open()) {
            return fstat(arena).size();
        } finally {
            leave();
        }
    }

    @Override
    public Optional<EntryAttributes> stat() throws IOException {
        enter();
        try (Arena arena = Scratch.open()) {
            LinuxCalls.Stat st = fstat(arena);
            return Optional.of(new EntryAttributes(EntryType.ofFormatBits(st.mode()), st.mode(), st.uid(), st.gid(),
                    st.size(), st.blocks(), st.atimeNanos(), st.mtimeNanos(), st.ctimeNanos(), st.nlink(), st.inode(),
                    st.rdev(), false, null));
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
            r = FileCalls.pread(arena, fd, target, count, position);
        } while (r == -LinuxCalls.EINTR);
        if (r < 0) {
            throw error(r, "read");
        }
        return r;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (position < 0) {
            throw Errno.EINVAL.exception(description, "negative position " + position);
        }
        int total = src.remaining();
        if (total == 0) {
            return 0;
        }
        enterWriting();
        try (Arena arena = Scratch.open()) {
            if (src.isDirect()) {
                MemorySegment from = MemorySegment.ofBuffer(src);
                long done = 0;
                while (done < total) {
                    done += pwrite(arena, from.asSlice(done), total - done, position + done);
                }
            } else {
                MemorySegment chunk = arena.allocate(Math.min(total, HEAP_CHUNK));
                long done = 0;
                while (done < total) {
                    int n = (int) Math.min(total - done, chunk.byteSize());
                    MemorySegment.copy(src.array(), src.arrayOffset() + src.position() + (int) done, chunk,
                            ValueLayout.JAVA_BYTE, 0, n);
                    long written = 0;
                    while (written < n) {
                        written += pwrite(arena, chunk.asSlice(written), n - written, position + done + written);
                    }
                    done += n;
                }
            }
            src.position(src.position() + total);
            return total;
        } finally {
            leave();
        }
    }

    /** One {@code pwrite}, repeated when interrupted by a signal. */
    private long pwrite(Arena arena, MemorySegment source, long count, long position) throws IOException {
        long r;
        do {
            r = FileCalls.pwrite(arena, fd, source, count, position);
        } while (r == -LinuxCalls.EINTR);
        if (r < 0) {
            throw error(r, "write");
        }
        return r;
    }

    @Override
    public void truncate(long size) throws IOException {
        if (size < 0) {
            throw Errno.EINVAL.exception(description, "negative size " + size);
        }
        enterWriting();
        try (Arena arena = Scratch.open()) {
            int r = FileCalls.ftruncate(arena, fd, size); // grows with a hole
            if (r < 0) {
                throw error(r, "ftruncate");
            }
        } finally {
            leave();
        }
    }

    @Override
    public void allocate(long offset, long length, int mode) throws IOException {
        enterWriting();
        try (Arena arena = Scratch.open()) {
            int r;
            do {
                r = FileCalls.fallocate(arena, fd, mode, offset, length);
            } while (r == -LinuxCalls.EINTR);
            if (r < 0) {
                throw error(r, "fallocate mode " + mode + " of " + length + " bytes at " + offset);
            }
        } finally {
            leave();
        }
    }

    @Override
    public long nextData(long offset) throws IOException {
        return seek(offset, FileCalls.SEEK_DATA);
    }

    @Override
    public long nextHole(long offset) throws IOException {
        return seek(offset, FileCalls.SEEK_HOLE);
    }

    /** {@code lseek} for data or a hole; it moves the descriptor's position, which no other call here uses. */
    private long seek(long offset, int whence) throws IOException {
        enter();
        try (Arena arena = Scratch.open()) {
            long r = FileCalls.lseek(arena, fd, offset, whence);
            if (r < 0) {
                throw error(r, whence == FileCalls.SEEK_DATA ? "lseek SEEK_DATA " + offset : "lseek SEEK_HOLE " + offset);
            }
            return r;
        } finally {
            leave();
        }
    }

    @Override
    public void force(boolean metadata) throws IOException {
        enter();
        try (Arena arena = Scratch.open()) {
            int r = LinuxCalls.fsync(arena, fd, metadata);
            if (r < 0) {
                throw error(r, metadata ? "fsync" : "fdatasync");
            }
        } finally {
            leave();
        }
    }

    /**
     * Copies in the kernel: {@code copy_file_range} (a reflink or a server-side copy where the
     * file system can), else {@code sendfile} between file systems that refuse it, else through
     * a buffer.
     */
    @Override
    public long copyTo(WritableContent target, long position, long count) throws IOException {
        if (!(target instanceof FileContent local) || !local.writable) {
            return WritableContent.super.copyTo(target, position, count);
        }
        enter();
        try {
            local.enterWriting();
            try (Arena arena = Scratch.open()) {
                long copied = copyFileRange(arena, local, position, count);
                if (copied < 0) {
                    copied = sendfile(arena, local, position, count);
                }
                if (copied < 0) {
                    return WritableContent.super.copyTo(target, position, count);
                }
                return copied;
            } finally {
                local.leave();
            }
        } finally {
            leave();
        }
    }

    /** The bytes {@code copy_file_range} copied, or -1 when it cannot copy between these files at all. */
    private long copyFileRange(Arena arena, FileContent to, long position, long count) throws IOException {
        long copied = 0;
        while (copied < count) {
            long r = FileCalls.copyFileRange(arena, fd, position + copied, to.fd, position + copied,
                    Math.min(count - copied, COPY_CHUNK));
            if (r == -LinuxCalls.EINTR) {
                continue;
            }
            if (r < 0) {
                if (copied == 0 && cannotCopy(r)) {
                    return -1;
                }
                throw error(r, "copy_file_range to " + to.description);
            }
            if (r == 0) {
                break;
            }
            copied += r;
        }
        return copied;
    }

    /** Errors that say "not between these files" rather than "the copy failed". */
    private static boolean cannotCopy(long r) {
        return r == -LinuxCalls.EXDEV || r == -LinuxCalls.EINVAL || r == -LinuxCalls.EOPNOTSUPP
                || r == -LinuxCalls.ENOSYS || r == -LinuxCalls.EPERM;
    }

    /** {@code sendfile} writes at the target's file position: set it first, one copy at a time per target. */
    private long sendfile(Arena arena, FileContent to, long position, long count) throws IOException {
        synchronized (to) {
            long r = FileCalls.lseek(arena, to.fd, position, FileCalls.SEEK_SET);
            if (r < 0) {
                throw to.error(r, "lseek");
            }
            long copied = 0;
            while (copied < count) {
                r = FileCalls.sendfile(arena, to.fd, fd, position + copied, Math.min(count - copied, COPY_CHUNK));
                if (r == -LinuxCalls.EINTR) {
                    continue;
                }
                if (r < 0) {
                    if (copied == 0 && cannotCopy(r)) {
                        return -1;
                    }
                    throw error(r, "sendfile to " + to.description);
                }
                if (r == 0) {
                    break;
                }
                copied += r;
            }
            return copied;
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
        return "FileContent[" + description + "]";
    }
}
