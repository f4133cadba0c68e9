package dev.overlay4j.it.differential;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Runs operations as other users: one thread per {@link Identity} that has become that user
 * for good (real, effective, saved and file-system ids, supplementary groups, no capabilities),
 * so every system call it makes is checked as that user's by the kernel, by overlayfs and by
 * the FUSE server (which sees the caller's uid and gid in each request). Credentials are per
 * thread in Linux; the rest of the JVM stays root. Closing ends the threads.
 */
final class Callers implements AutoCloseable {
    private final Map<Identity, Caller> callers = new LinkedHashMap<>();

    /** The thread of {@code who}, started at first use. */
    synchronized Caller of(Identity who) throws IOException {
        Caller caller = callers.get(who);
        if (caller == null) {
            caller = Caller.start(who);
            callers.put(who, caller);
        }
        return caller;
    }

    @Override
    public synchronized void close() {
        callers.values().forEach(Caller::close);
        callers.clear();
    }

    /** Whether this JVM can run threads as other users: root, on an architecture whose system calls we know. */
    static String unavailable() {
        if (Native.uid() != 0) {
            return "not running as root (uid " + Native.uid() + "), so no thread can become another user";
        }
        if (!Native.threadCredentialsSupported()) {
            return "no credential system call numbers for architecture " + System.getProperty("os.arch");
        }
        return null;
    }

    /** One thread that is {@code identity}; {@link #call} hands it work and waits for the result. */
    static final class Caller implements AutoCloseable {
        private record Task(Callable<?> action, CompletableFuture<Object> result) {
        }

        private static final Task END = new Task(() -> null, new CompletableFuture<>());

        private final Identity identity;
        private final BlockingQueue<Task> work = new LinkedBlockingQueue<>();
        private final Thread thread;

        private Caller(Identity identity) {
            this.identity = identity;
            this.thread = Thread.ofPlatform().daemon().name("differential-as-" + identity.name()).unstarted(this::serve);
        }

        static Caller start(Identity identity) throws IOException {
            preloadClasses();
            Caller caller = new Caller(identity);
            caller.thread.start();
            // The first task proves the switch: the thread reports the uid it now has.
            int uid = caller.call(Native::uid);
            if (uid != identity.uid()) {
                caller.close();
                throw new IllegalStateException("the thread for " + identity + " runs as uid " + uid);
            }
            return caller;
        }

        private void serve() {
            IOException failure = null;
            try {
                Native.becomeForThisThread(identity.uid(), identity.gid(), identity.groupArray());
            } catch (IOException | RuntimeException e) {
                failure = new IOException("cannot become " + identity + " (uid " + identity.uid() + "): " + e, e);
            }
            while (true) {
                Task task;
                try {
                    task = work.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (task == END) {
                    return;
                }
                if (failure != null) {
                    task.result().completeExceptionally(failure);
                    continue;
                }
                try {
                    task.result().complete(task.action().call());
                } catch (Throwable e) {
                    task.result().completeExceptionally(e);
                }
            }
        }

        /** Runs {@code action} on this user's thread; its exception is thrown here. */
        @SuppressWarnings("unchecked")
        <T> T call(Callable<T> action) throws IOException {
            Task task = new Task(action, new CompletableFuture<>());
            work.add(task);
            try {
                return (T) task.result().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while " + identity + " ran an operation", e);
            } catch (ExecutionException e) {
                switch (e.getCause()) {
                    case IOException io -> throw io;
                    case RuntimeException runtime -> throw runtime;
                    case Error error -> throw error;
                    default -> throw new IOException(e.getCause());
                }
            }
        }

        @Override
        public void close() {
            work.add(END);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Loads the classes the operations use while this thread is still root: the other users
     * may not be able to read the test class path (a checkout under /root, the local Maven
     * repository).
     */
    private static void preloadClasses() {
        ClassLoader loader = Callers.class.getClassLoader();
        try {
            for (Class<?> op : Op.class.getPermittedSubclasses()) {
                Class.forName(op.getName(), true, loader);
            }
            for (Class<?> nested : Op.class.getDeclaredClasses()) {
                Class.forName(nested.getName(), true, loader);
            }
            for (Class<?> used : new Class<?>[] {Observe.class, Native.class, TreeWalk.class, dev.overlay4j.api.Errno.class}) {
                Class.forName(used.getName(), true, loader);
            }
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }
}
