package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;

/**
 * How long the kernel may trust what it caches of this mount, decided in one place.
 *
 * <p>Every change reaches the overlay through this mount (lower layers are immutable, the
 * upper one is the mount's own while mounted), and the kernel updates its own caches for the
 * operations it passes on. So names, attributes, pages and directory listings can be cached
 * for a long time. The one blind spot is a file with several hard links: this server gives
 * each name its own kernel inode, so a change made through one name is not seen in the
 * cached attributes or pages of another. Such files are never cached.
 *
 * @param entryNanos    how long a name lookup stays valid
 * @param attrNanos     how long attributes stay valid
 * @param negativeNanos how long "no such name" stays valid (0: not cached)
 */
public record CachePolicy(long entryNanos, long attrNanos, long negativeNanos) {

    public CachePolicy {
        if (entryNanos < 0 || attrNanos < 0 || negativeNanos < 0) {
            throw new IllegalArgumentException("cache timeouts must not be negative");
        }
    }

    /** How long the kernel may keep these attributes. */
    public long attrNanos(EntryAttributes attributes) {
        return sharedInode(attributes) ? 0 : attrNanos;
    }

    /** Whether an open may keep the pages the kernel cached from earlier opens (FOPEN_KEEP_CACHE). */
    public boolean keepCache(EntryAttributes attributes) {
        return attrNanos > 0 && !sharedInode(attributes);
    }

    /** {@link #keepCache(EntryAttributes)} of a regular file with {@code nlink} names. */
    public boolean keepCache(int nlink) {
        return attrNanos > 0 && nlink <= 1;
    }

    /** Whether a directory's listing may be cached across opens (FOPEN_CACHE_DIR). */
    public boolean cacheDirectories() {
        return attrNanos > 0;
    }

    private static boolean sharedInode(EntryAttributes attributes) {
        return !attributes.isDirectory() && attributes.nlink() > 1;
    }
}
