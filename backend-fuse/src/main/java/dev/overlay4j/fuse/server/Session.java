package dev.overlay4j.fuse.server;

import dev.overlay4j.fuse.kernel.Syscalls;
import dev.overlay4j.fuse.protocol.Init;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The reader threads of one FUSE connection. Each reader owns a {@code /dev/fuse} file
 * descriptor (the first one the mount's, the others clones of it) and two native buffers
 * allocated once, and handles one request at a time. Readers end when the kernel reports the
 * connection gone (ENODEV after unmount).
 */
public final class Session {

    private static final System.Logger LOG = System.getLogger(Session.class.getName());

    /** Room for the largest request: headers plus a full WRITE payload. */
    static final long REQUEST_BUFFER = Init.MAX_WRITE + 4096;
    /** Room for the largest reply: a full READ. */
    static final long REPLY_BUFFER = Init.MAX_WRITE + Structs.OutHeader.SIZE;

    private final Operations operations;
    private final int sessionFd;
    private final List<Thread> readers = new ArrayList<>();
    /** Set when a reader learnt that the kernel ended the connection (ENODEV). */
    private volatile boolean connectionEnded;

    public Session(Operations operations, int sessionFd) {
        this.operations = operations;
        this.sessionFd = sessionFd;
    }

    /** Starts {@code count} readers. */
    public synchronized void start(int count, String name) {
        for (int i = 0; i < count; i++) {
            boolean first = i == 0;
            Thread reader = Thread.ofPlatform().daemon().name(name + "-" + i).unstarted(() -> serve(first));
            readers.add(reader);
            reader.start();
        }
    }

    private void serve(boolean first) {
        try (Syscalls sys = new Syscalls(); Arena arena = Arena.ofConfined()) {
            int fd = sessionFd;
            if (!first) {
                fd = sys.open("/dev/fuse", Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
                if (fd < 0) {
                    LOG.log(System.Logger.Level.ERROR, "cannot open /dev/fuse for a further reader: " + Syscalls.message(fd));
                    return;
                }
                int r = sys.cloneFuseDevice(fd, sessionFd);
                if (r < 0) {
                    LOG.log(System.Logger.Level.ERROR, "FUSE_DEV_IOC_CLONE failed: " + Syscalls.message(r));
                    sys.close(fd);
                    return;
                }
            }
            try {
                loop(sys, fd, arena);
            } finally {
                if (!first) {
                    sys.close(fd);
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "FUSE reader " + Thread.currentThread().getName() + " failed", e);
        }
    }

    private void loop(Syscalls sys, int fd, Arena arena) {
        // Mapped, not allocated: a mount's readers then hold only the pages their requests touch.
        MemorySegment in = Syscalls.mapAnonymous(REQUEST_BUFFER, arena);
        MemorySegment out = Syscalls.mapAnonymous(REPLY_BUFFER, arena);
        Request request = new Request(in);
        Reply reply = new Reply(out);
        while (true) {
            long n = sys.read(fd, in, in.byteSize());
            if (n < 0) {
                int errno = (int) -n;
                if (errno == Syscalls.EINTR || errno == Syscalls.EAGAIN || errno == Syscalls.ENOENT) {
                    continue; // interrupted, or a request the kernel took back before we read it
                }
                if (errno == Syscalls.ENODEV) {
                    connectionEnded = true;
                } else {
                    LOG.log(System.Logger.Level.ERROR, "reading /dev/fuse failed: " + Syscalls.message(errno));
                }
                return;
            }
            request.reset((int) n);
            int length = operations.handle(request, reply);
            if (length >= 0) {
                long w = sys.write(fd, out, length);
                // ENOENT: the request was interrupted and the kernel no longer waits for it.
                if (w < 0 && w != -Syscalls.ENOENT) {
                    if (w == -Syscalls.ENODEV) {
                        connectionEnded = true;
                        return;
                    }
                    LOG.log(System.Logger.Level.WARNING, "answering FUSE request failed: " + Syscalls.message((int) -w));
                }
            }
        }
    }

    /**
     * Whether the kernel has ended the connection: the file system was unmounted (by anyone, also
     * lazily once its last user let go) or the connection aborted. Nothing of the mount is left
     * to unmount then, and whatever is mounted at its path now is not this server's.
     */
    public boolean connectionEnded() {
        return connectionEnded;
    }

    /** Waits for all readers to end; false when some still run after the timeout. */
    public boolean awaitEnd(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<Thread> all;
        synchronized (this) {
            all = List.copyOf(readers);
        }
        for (Thread reader : all) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !reader.join(java.time.Duration.ofNanos(left))) {
                return false;
            }
        }
        return true;
    }

    /** Waits for all readers to end. */
    public void awaitEnd() throws InterruptedException {
        List<Thread> all;
        synchronized (this) {
            all = List.copyOf(readers);
        }
        for (Thread reader : all) {
            reader.join();
        }
    }
}
