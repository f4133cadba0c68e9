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
 * with an invalidation does not stay cached. Bounded to {@link #CAPACITY} descriptors; beyond
 * that an arbitrary one is dropped.
 * A descriptor is closed only when neither the cache nor any caller holds it, so a call never
 * uses a descriptor number that was closed and reused under it.
 */
final class DirectoryHandles {

    static final int CAPACITY = 256;

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
        if (open.size() > CAPACITY) {
            evictOtherThan(directory);
        }
        if (closed || seen != generation.get()) {
            drop(directory, handle);
        }
        return handle;
    }

    private void evictOtherThan(EntryPath keep) {
        Iterator<Map.Entry<EntryPath, Handle>> entries = open.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<EntryPath, Handle> entry = entries.next();
            if (!entry.getKey().equals(keep)) {
                drop(entry.getKey(), entry.getValue());
                return;
            }
        }
    }

    private void drop(EntryPath directory, Handle handle) {
        if (open.remove(directory, handle)) {
            handle.release();
        }
    }

    /** Drops every cached descriptor; those still held close when released. */
    void close() {
        closed = true;
        for (Map.Entry<EntryPath, Handle> entry : open.entrySet()) {
            drop(entry.getKey(), entry.getValue());
        }
    }
}
