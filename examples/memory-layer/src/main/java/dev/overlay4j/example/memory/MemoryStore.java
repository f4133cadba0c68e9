package dev.overlay4j.example.memory;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.WritableLayer;
import java.time.Instant;

/**
 * A tree of entries kept in memory, and its index, that outlive the layers opened on it: a
 * layer closed and opened again sees what was written. Each {@link #open()} gets a work area of
 * its own that starts empty. Overlay marks (whiteouts, opaque directories, redirects) are part
 * of the model, not encoded in names or xattrs. Safe for concurrent use: one lock guards it all.
 */
public final class MemoryStore {

    private final String name;
    final Object lock = new Object();
    final Node root;
    final Node index;
    private long lastInode;

    /** An empty store whose root is a 0755 directory owned by root; {@code name} appears in messages. */
    public MemoryStore(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a memory store needs a name");
        }
        this.name = name;
        this.root = newNode(EntryType.DIRECTORY, 0755, 0, 0, null, 0);
        this.index = newNode(EntryType.DIRECTORY, 0700, 0, 0, null, 0);
    }

    public String name() {
        return name;
    }

    /** A layer on this store, readable and writable. */
    public WritableLayer open() {
        return MemoryLayer.open(this);
    }

    /** The current time in nanoseconds since the epoch. */
    static long now() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    Node newNode(EntryType type, int permissions, int uid, int gid, String target, long rdev) {
        synchronized (lock) {
            return new Node(type, ++lastInode, permissions, uid, gid, now(), target, rdev);
        }
    }

    @Override
    public String toString() {
        return "mem:" + name;
    }
}
