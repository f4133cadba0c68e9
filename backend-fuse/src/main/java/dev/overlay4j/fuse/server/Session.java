package dev.overlay4j.fuse.server;

import dev.overlay4j.fuse.kernel.Syscalls;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Init;
import dev.overlay4j.fuse.protocol.Opcode;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reader threads of one FUSE connection. Each reader reads one request from
 * {@code /dev/fuse}, answers it and reads the next, with two native buffers of its own. The
 * readers asked for are permanent, each with its own descriptor (the first the mount's, the
 * others clones of it). When every reader has been busy for {@link #SPARE_DELAY_MILLIS}, a spare
 * reader starts, up to {@link #MAX_READERS}: a request that waits (a slow or stuck remote layer) then
 * never keeps the others waiting. A spare that waits for {@link #SPARE_IDLE_MILLIS} with nothing
 * to read ends. Readers are platform threads: a virtual thread blocked in the native read of
 * {@code /dev/fuse} would hold its carrier.
 *
 * <p>INTERRUPT, which the kernel sends when the caller of a request got a signal, ends a
 * request that changes nothing ({@link Operations#interruptible}) with EINTR when it still runs
 * {@link #INTERRUPT_GRACE_MILLIS} later; its
 * handler runs on and its answer is dropped ({@link Operations#abandon}). A change runs to its
 * end, and the caller has its result, as on a local file system. Readers end when the kernel
 * reports the connection gone (ENODEV after unmount).
 */
public final class Session {

    private static final System.Logger LOG = System.getLogger(Session.class.getName());

    /** Room for the largest request: headers plus a full WRITE payload. */
    static final long REQUEST_BUFFER = Init.MAX_WRITE + 4096;
    /** Room for the largest reply: a full READ. */
    static final long REPLY_BUFFER = Init.MAX_WRITE + Structs.OutHeader.SIZE;
    /** The most readers of one connection, spares included: requests that may wait at once. */
    public static final int MAX_READERS = 64;
    /**
     * How long all readers must be busy before a spare starts: longer than a request to local
     * disks takes, so that bursts (a RELEASE beside the next OPEN) and a machine short of CPU,
     * where another thread only adds to the queue for the cores, start none; a request waiting
     * on a network or a hung store still holds up the others this long at most. At 2 ms, an
     * untar on a busy 2-core machine kept a dozen spares alive.
     */
    static final long SPARE_DELAY_MILLIS = 20;
    /** How long a spare reader waits for a request before it ends. */
    static final int SPARE_IDLE_MILLIS = 5000;
    /**
     * How long a request that changes nothing may go on after its caller got a signal before it
     * is answered with EINTR. Signals come all the time to programs that wait for nothing
     * (the Go runtime's preemption signal, SIGCHLD), and on a local file system a stat or an
     * lgetxattr is never cut short by them: only a request that still waits after this is.
     */
    static final long INTERRUPT_GRACE_MILLIS = 3000;

    private final Operations operations;
    private final int sessionFd;
    private final Set<Thread> readers = ConcurrentHashMap.newKeySet();
    /** Every reader's state, which INTERRUPT looks through. */
    private final Set<Reader> working = ConcurrentHashMap.newKeySet();
    /** Readers waiting for a request, or about to. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Readers alive, spares included. */
    private final AtomicInteger alive = new AtomicInteger();
    private final AtomicInteger sparesStarted = new AtomicInteger();
    private volatile String name = "overlay4j-fuse";
    /** Set when a reader learnt that the kernel ended the connection (ENODEV). */
    private volatile boolean connectionEnded;

    public Session(Operations operations, int sessionFd) {
        this.operations = operations;
        this.sessionFd = sessionFd;
    }

    /** Starts {@code count} permanent readers. */
    public void start(int count, String name) {
        this.name = name;
        for (int i = 0; i < count; i++) {
            boolean first = i == 0;
            alive.incrementAndGet();
            startReader(name + "-" + i, first ? Kind.FIRST : Kind.CLONE);
        }
    }

    private enum Kind {
        /** Permanent, on the mount's descriptor. */
        FIRST,
        /** Permanent, on a clone of the mount's descriptor. */
        CLONE,
        /** Ends when idle; on the mount's descriptor. */
        SPARE
    }

    /** Starts a reader that {@link #alive} counts already. */
    private void startReader(String threadName, Kind kind) {
        waiting.incrementAndGet();
        Thread reader = Thread.ofPlatform().daemon().name(threadName).unstarted(() -> serve(kind));
        readers.add(reader);
        try {
            reader.start();
        } catch (OutOfMemoryError e) {
            readers.remove(reader);
            alive.decrementAndGet();
            waiting.decrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "cannot start a further FUSE reader: " + e.getMessage());
        }
    }

    /** The last waiting reader took a request: start a spare unless one waits again or there are enough. */
    private void startSpare() {
        int now;
        do {
            now = alive.get();
            if (waiting.get() > 0 || now >= MAX_READERS || connectionEnded) {
                return;
            }
        } while (!alive.compareAndSet(now, now + 1));
        startReader(name + "-spare-" + sparesStarted.incrementAndGet(), Kind.SPARE);
    }

    private void serve(Kind kind) {
        try (Syscalls sys = new Syscalls(); Arena arena = Arena.ofConfined()) {
            int fd = sessionFd;
            if (kind == Kind.CLONE) {
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
                loop(sys, fd, arena, kind == Kind.SPARE);
            } finally {
                if (kind == Kind.CLONE) {
                    sys.close(fd);
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "FUSE reader " + Thread.currentThread().getName() + " failed", e);
        } finally {
            // Every way out of loop is from waiting.
            waiting.decrementAndGet();
            alive.decrementAndGet();
            readers.remove(Thread.currentThread());
        }
    }

    private void loop(Syscalls sys, int fd, Arena arena, boolean spare) {
        // Mapped, not allocated: a mount's readers then hold only the pages their requests touch.
        MemorySegment in = Syscalls.mapAnonymous(REQUEST_BUFFER, arena);
        MemorySegment out = Syscalls.mapAnonymous(REPLY_BUFFER, arena);
        Reader reader = new Reader(fd, new Request(in), new Reply(out));
        // A spare waits with a timeout, so that it can end when idle. poll(2) would do, but every
        // request wakes every thread polling /dev/fuse (its readers wait on one queue), and a
        // few idle spares made five context switches of each request; an exclusive epoll
        // waiter is woken alone, like the readers blocked in read(2).
        int idleWait = spare ? sys.epollExclusive(fd) : -1;
        if (spare && idleWait < 0) {
            LOG.log(System.Logger.Level.WARNING, "a spare FUSE reader cannot wait for requests: " + Syscalls.message(-idleWait));
            return;
        }
        working.add(reader);
        try {
            serveRequests(sys, fd, in, reader, idleWait);
        } finally {
            working.remove(reader);
            if (idleWait >= 0) {
                sys.close(idleWait);
            }
        }
    }

    /** Serves requests read from {@code fd}; a spare ({@code idleWait}, its epoll instance, >= 0) ends once idle. */
    private void serveRequests(Syscalls sys, int fd, MemorySegment in, Reader reader, int idleWait) {
        while (true) {
            if (idleWait >= 0 && sys.epollWait(idleWait, SPARE_IDLE_MILLIS) == 0) {
                return; // idle: the permanent readers are enough again
            }
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
            if (waiting.decrementAndGet() == 0) {
                // Only if no reader is free again shortly, and on another thread: most requests
                // end within that, and starting a thread takes CPU time that this request (a
                // RELEASE, say, that the OPEN after it needs done) should not have to share.
                Later.TIMER.schedule(this::startSpare, SPARE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            }
            try {
                reader.request.reset((int) n);
                answer(sys, reader);
            } finally {
                waiting.incrementAndGet();
            }
            if (connectionEnded) {
                return;
            }
        }
    }

    private void answer(Syscalls sys, Reader reader) {
        Request request = reader.request;
        if (request.opcode() == Opcode.INTERRUPT) {
            interrupt(In.Interrupt.decode(request).unique());
            return;
        }
        long unique = request.unique();
        reader.begin(unique, Operations.interruptible(request));
        try {
            int length = operations.handle(request, reader.reply);
            if (!reader.finish(unique)) {
                // Answered with EINTR by an INTERRUPT meanwhile: the kernel no longer waits for this.
                if (length >= 0) {
                    operations.abandon(request.opcode(), reader.reply, length);
                }
                return;
            }
            if (length >= 0) {
                send(sys, reader.fd, reader.reply, length);
            }
        } finally {
            reader.unique = 0;
        }
    }

    /**
     * The caller of request {@code target} got a signal. A request that changes nothing and
     * still runs {@link #INTERRUPT_GRACE_MILLIS} later is answered with EINTR then, on the
     * descriptor its reader read it from (the kernel looks for the answer there). A change is left
     * to finish: the kernel goes on waiting for it. Looking later also finds a request whose
     * reader had not yet said it took it when the INTERRUPT came.
     */
    private void interrupt(long target) {
        Later.TIMER.schedule(() -> interruptIfRunning(target), INTERRUPT_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void interruptIfRunning(long target) {
        for (Reader reader : working) {
            if (reader.unique == target) {
                if (reader.interruptible && reader.claim(target)) {
                    try (Syscalls sys = new Syscalls(); Arena arena = Arena.ofConfined()) {
                        Reply eintr = new Reply(arena.allocate(Structs.OutHeader.SIZE));
                        eintr.start(target);
                        send(sys, reader.fd, eintr, eintr.error(Syscalls.EINTR));
                    }
                }
                return;
            }
        }
    }

    /** The one thread that starts spare readers and answers interrupted requests, started when first needed. */
    private static final class Later {
        static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("overlay4j-fuse-interrupts").factory());
    }

    private void send(Syscalls sys, int fd, Reply reply, int length) {
        long w = sys.write(fd, reply.segment(), length);
        // ENOENT: the request was interrupted and the kernel no longer waits for it.
        if (w < 0 && w != -Syscalls.ENOENT) {
            if (w == -Syscalls.ENODEV) {
                connectionEnded = true;
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "answering FUSE request failed: " + Syscalls.message((int) -w));
        }
    }

    /** One reader's buffers, and the request it answers now, which an INTERRUPT may claim. */
    private static final class Reader {
        private static final VarHandle UNIQUE;

        static {
            try {
                UNIQUE = MethodHandles.lookup().findVarHandle(Reader.class, "unique", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Where an answer was sent already, in place of a unique id. */
        private static final long ANSWERED = -1;

        final int fd;
        final Request request;
        final Reply reply;
        /** The unique id of the request being answered, 0 between requests, or ANSWERED. */
        volatile long unique;
        volatile boolean interruptible;

        Reader(int fd, Request request, Reply reply) {
            this.fd = fd;
            this.request = request;
            this.reply = reply;
        }

        void begin(long id, boolean mayInterrupt) {
            interruptible = mayInterrupt;
            unique = id;
        }

        /** Takes the answer to request {@code id} for an INTERRUPT: false when it is too late. */
        boolean claim(long id) {
            return UNIQUE.compareAndSet(this, id, ANSWERED);
        }

        /** Takes the answer to request {@code id} for its handler: false when an INTERRUPT took it. */
        boolean finish(long id) {
            return UNIQUE.compareAndSet(this, id, 0L);
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
        // Repeated: a spare may start while the others end.
        while (!readers.isEmpty()) {
            for (Thread reader : List.copyOf(readers)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                if (reader.getState() == Thread.State.NEW) {
                    Thread.sleep(1); // a spare listed an instant before its start: join refuses it
                } else if (!reader.join(java.time.Duration.ofNanos(left))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Waits for all readers to end. */
    public void awaitEnd() throws InterruptedException {
        while (!readers.isEmpty()) {
            for (Thread reader : List.copyOf(readers)) {
                if (reader.getState() == Thread.State.NEW) {
                    Thread.sleep(1); // a spare listed an instant before its start
                } else {
                    reader.join();
                }
            }
        }
    }

    /** Readers alive now, spares included (for tests and diagnostics). */
    public int readers() {
        return alive.get();
    }
}
