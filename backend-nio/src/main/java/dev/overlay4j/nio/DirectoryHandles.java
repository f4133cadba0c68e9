package dev.overlay4j.nio;

import dev.overlay4j.api.EntryPath;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open {@code O_PATH} descriptors of the directories of a read-only layer, by path, so that a
 * lookup in a directory met before costs one call ({@code statx} in the descriptor) instead of
 * three ({@code openat2} of the directory, the call, {@code close}).
 *
 * <p>A descriptor keeps naming the directory it was opened on even if that is renamed, so a
 * layer that changes must {@link #invalidate} every path whose directory it removes, renames or
 * replaces (a lower layer never changes: overlayfs requires that). An {@link #add} that raced
 * with an invalidation does not stay cached. Bounded to {@link #CAPACITY} descriptors, and to
 * a share of {@link #PROCESS_CAPACITY} among all the caches of the process (one JVM may serve
 * many mounts of several layers each, and they share one descriptor limit); beyond that an
 * arbitrary one is dropped.
 * A descriptor is closed only when neither the cache nor any caller holds it, so a call never
 * uses a descriptor number that was closed and reused under it.
 */
final class DirectoryHandles {

    static final int CAPACITY = 256;
    /** The fewest descriptors a cache may keep, however many caches there are. */
    static final int MIN_CAPACITY = 16;
    /** What all caches of the process keep together at most: a quarter of the descriptor limit, at most 4096. */
    static final int PROCESS_CAPACITY = Math.min(4096, Math.max(CAPACITY, descriptorLimit() / 4));
    private static final AtomicInteger CACHES = new AtomicInteger();

    /** RLIMIT_NOFILE's soft limit, as /proc/self/limits shows it (the JVM raises it to the hard limit). */
    private static int descriptorLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, Long.parseLong(soft));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fall through: assume the common default
        }
        return 1024;
    }

    /** This cache's share now: the process's capacity split among the open caches. */
    static int capacity() {
        return Math.max(MIN_CAPACITY, Math.min(CAPACITY, PROCESS_CAPACITY / Math.max(1, CACHES.get())));
    }

    /** One directory descriptor with a count of its holders (the cache counts as one). */
    static final class Handle {
        final int fd;
        private final AtomicInteger holders = new AtomicInteger(1);

        private Handle(int fd) {
            this.fd = fd;
        }

        private boolean hold() {
            while (true) {
                int now = holders.get();
                if (now <= 0) {
                    return false; // closed already
                }
                if (holders.compareAndSet(now, now + 1)) {
                    return true;
                }
            }
        }

        /** Gives up one hold; the last one closes the descriptor. */
        void release() {
            if (holders.decrementAndGet() == 0) {
                LinuxCalls.close(fd);
            }
        }
    }

    private final Map<EntryPath, Handle> open = new ConcurrentHashMap<>();
    /** Bumped by every invalidation. */
    private final AtomicLong generation = new AtomicLong();
    private volatile boolean closed;

    DirectoryHandles() {
        CACHES.incrementAndGet();
    }

    /** Read before opening a descriptor that is then {@link #add}ed. */
    long generation() {
        return generation.get();
    }

    /** Drops the descriptors of {@code path} and of every directory below it. */
    void invalidate(EntryPath path) {
        generation.incrementAndGet();
        for (Map.Entry<EntryPath, Handle> entry : open.entrySet()) {
            if (entry.getKey().startsWith(path)) {
                drop(entry.getKey(), entry.getValue());
            }
        }
    }

    /** The cached descriptor of {@code directory}, held for the caller (release it), or null. */
    Handle hold(EntryPath directory) {
        Handle handle = open.get(directory);
        return handle != null && handle.hold() ? handle : null;
    }

    /**
     * Takes ownership of {@code fd}, freshly opened on {@code directory}, and caches it unless
     * an invalidation happened since {@code seen} was read.
     *
     * @return the descriptor held for the caller (release it)
     */
    Handle add(EntryPath directory, int fd, long seen) {
        Handle handle = new Handle(fd);
        handle.hold();
        if (closed || seen != generation.get() || open.putIfAbsent(directory, handle) != null) {
            handle.release(); // not cached: the caller's hold is the last one
            return handle;
        }
        int capacity = capacity();
        while (open.size() > capacity && evictOtherThan(directory)) {
            // until this cache is within its share
        }
        if (closed || seen != generation.get()) {
            drop(directory, handle);
        }
        return handle;
    }

    /** Drops one descriptor other than {@code keep}'s; false when there is none. */
    private boolean evictOtherThan(EntryPath keep) {
        Iterator<Map.Entry<EntryPath, Handle>> entries = open.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<EntryPath, Handle> entry = entries.next();
            if (!entry.getKey().equals(keep)) {
                drop(entry.getKey(), entry.getValue());
                return true;
            }
        }
        return false;
    }

    private void drop(EntryPath directory, Handle handle) {
        if (open.remove(directory, handle)) {
            handle.release();
        }
    }

    /** Drops every cached descriptor; those still held close when released. */
    synchronized void close() {
        if (!closed) {
            CACHES.decrementAndGet();
        }
        closed = true;
        for (Map.Entry<EntryPath, Handle> entry : open.entrySet()) {
            drop(entry.getKey(), entry.getValue());
        }
    }
}
