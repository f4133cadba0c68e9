package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernel's inodes as this server numbers them: each node id stands for one name in one
 * parent, so that a node's path can be rebuilt for the path-based overlay API. The kernel
 * counts its references to a node (one per LOOKUP-like reply) and gives them back with FORGET;
 * a node is dropped when its count reaches zero. A node id is a slot number in its low 32 bits
 * and how often that slot was reused in its high 32 bits, so ids are not reused (until a slot
 * has served 2^32 nodes) and the generation number of every node can stay 0.
 *
 * <p>Unlink, rmdir and rename update the table as the kernel updates its dentries: a removed
 * or replaced name detaches its node, which keeps its id until forgotten but has no path.
 */
public final class NodeTable {

    public static final long ROOT_ID = 1;

    // A walk of a big tree leaves the kernel holding every node, in every mount a shared server
    // hosts, so a node is a slot in parallel arrays (about 40 bytes and its name) rather than
    // a map entry, a boxed id, a key record and an object (about 215 bytes).
    private static final int NONE = -1;
    private static final int ROOT_SLOT = (int) ROOT_ID;
    private static final byte DETACHED = (byte) 0x80;
    private static final byte FREE = 0x40;
    private static final byte TYPE = 0x3f;
    private static final EntryType[] TYPES = EntryType.values();
    /**
     * Names recently stored by any table in the process. Mounts of the same layers hold the same
     * names, and a shared server hosts many: each takes the copy another already holds. Lossy
     * (a set keeps the last two names that hashed to it) and racy by design: a lost entry costs
     * only a copy, and reference writes are atomic.
     */
    private static final String[] RECENT_NAMES = new String[1 << 16];

    /** How often each slot was reused: the high half of its node's id. */
    private int[] reuses;
    /** The id of the node's parent; 0 for the root and for a node that never had a name. */
    private long[] parents;
    private String[] names;
    private long[] lookups;
    /** The link count last seen: what the kernel caches of a file with several names differs. */
    private int[] nlinks;
    /** The entry type's ordinal, DETACHED once the name no longer leads to the node, FREE. */
    private byte[] flags;
    /** Hash chains of attached nodes by parent and name; for a free slot, the next free slot. */
    private int[] nextByName;
    private int[] nameBuckets;
    /** The highest slot used so far; slot 0 stays empty, as no node has id 0. */
    private int slotsUsed;
    private int freeSlots = NONE;
    private int nodes;

    public NodeTable() {
        allocate(64);
        long root = ids(newSlot(EntryType.DIRECTORY, 0, null));
        assert root == ROOT_ID;
    }

    /** The path of a node: ENOENT when it has been removed (or one of its ancestors), ESTALE when unknown. */
    public synchronized EntryPath path(long nodeid) throws IOException {
        int slot = slot(nodeid);
        List<String> names = new ArrayList<>();
        while (slot != ROOT_SLOT) {
            int parent = parents[slot] == 0 ? NONE : slotOrNone(parents[slot]);
            if (detached(slot) || parent == NONE) {
                throw Errno.ENOENT.exception("node " + nodeid, "removed from the overlay");
            }
            names.add(this.names[slot]);
            slot = parent;
        }
        return EntryPath.ofNames(names.reversed());
    }

    /** The path of a node, or null when it has none (removed, or unknown). */
    public EntryPath pathOrNull(long nodeid) {
        try {
            return path(nodeid);
        } catch (IOException e) {
            return null;
        }
    }

    /** The node the kernel knows under {@code path}, or -1 when it holds none there. */
    public synchronized long find(EntryPath path) {
        long id = ROOT_ID;
        for (String name : path.names()) {
            int slot = named(id, name);
            if (slot == NONE) {
                return -1;
            }
            id = ids(slot);
        }
        return id;
    }

    /** The type of entry the node stands for, or null when it is unknown. */
    public synchronized EntryType type(long nodeid) {
        int slot = slotOrNone(nodeid);
        return slot == NONE ? null : type(slot);
    }

    /** The link count of the node's entry when last looked up (or linked through the mount); 0 when unknown. */
    public synchronized int linkCount(long nodeid) {
        int slot = slotOrNone(nodeid);
        return slot == NONE ? 0 : nlinks[slot];
    }

    /** After LINK: the node's file has one more name. */
    public synchronized void linked(long nodeid) {
        int slot = slotOrNone(nodeid);
        if (slot != NONE) {
            nlinks[slot]++;
        }
    }

    /**
     * {@link #lookedUp(long, String, EntryType)} for an entry with these attributes, whose link
     * count the node then remembers.
     */
    public synchronized long lookedUp(long parentId, String name, EntryAttributes attributes) throws IOException {
        long nodeid = lookedUp(parentId, name, attributes.type());
        nlinks[slot(nodeid)] = attributes.nlink();
        return nodeid;
    }

    /**
     * A node for a file the kernel holds without a name (TMPFILE), with the one reference the
     * reply gives; it has no path until {@link #named}.
     */
    public synchronized long unnamed(EntryType type) {
        int slot = newSlot(type, 0, null);
        flags[slot] |= DETACHED;
        lookups[slot] = 1;
        return ids(slot);
    }

    /**
     * After LINK of a node that never had a name (an unnamed file): the node takes the new name,
     * so the kernel's inode and the name stay one, with one more reference for the reply.
     *
     * @return false, changing nothing, when the node has or had a name (it then keeps its own)
     */
    public synchronized boolean named(long nodeid, long parentId, String name, EntryAttributes attributes)
            throws IOException {
        int slot = slotOrNone(nodeid);
        if (slot == NONE || parents[slot] != 0 || names[slot] != null) {
            return false;
        }
        slot(parentId);
        int previous = named(parentId, name);
        if (previous != NONE) {
            detach(previous);
        }
        parents[slot] = parentId;
        names[slot] = shared(name);
        flags[slot] &= ~DETACHED;
        nlinks[slot] = attributes.nlink();
        lookups[slot]++;
        linkName(slot);
        return true;
    }

    /** Whether {@code nodeid} is {@code ancestorId} or lies beneath it. */
    public synchronized boolean isWithin(long nodeid, long ancestorId) {
        for (int slot = slotOrNone(nodeid); slot != NONE; slot = parents[slot] == 0 ? NONE : slotOrNone(parents[slot])) {
            if (ids(slot) == ancestorId) {
                return true;
            }
        }
        return false;
    }

    /** Whether the node is known to the table. */
    public synchronized boolean contains(long nodeid) {
        return slotOrNone(nodeid) != NONE;
    }

    /**
     * Records that the kernel now holds one more reference to {@code name} in {@code parentId}:
     * the existing node of that name when it still has that type, else a new one.
     *
     * @return the node id to answer with
     */
    public synchronized long lookedUp(long parentId, String name, EntryType type) throws IOException {
        slot(parentId);
        int slot = named(parentId, name);
        if (slot != NONE && type(slot) != type) {
            // The name now holds a different kind of entry: give the kernel a fresh inode.
            detach(slot);
            slot = NONE;
        }
        if (slot == NONE) {
            slot = newSlot(type, parentId, name);
            linkName(slot);
        }
        lookups[slot]++;
        return ids(slot);
    }

    /**
     * FORGET: the kernel gives back {@code count} references.
     *
     * @return whether that was the last one, so the node is gone
     */
    public synchronized boolean forget(long nodeid, long count) {
        if (nodeid == ROOT_ID) {
            return false;
        }
        int slot = slotOrNone(nodeid);
        if (slot == NONE) {
            return false;
        }
        lookups[slot] -= count;
        if (lookups[slot] > 0) {
            return false;
        }
        if (!detached(slot)) {
            unlinkName(slot);
        }
        freeSlot(slot);
        return true;
    }

    /** After unlink or rmdir: the name no longer leads to its node. */
    public synchronized void removed(long parentId, String name) {
        int slot = named(parentId, name);
        if (slot != NONE) {
            detach(slot);
        }
    }

    /** After a rename that replaced any target: the source node now has the target's name. */
    public synchronized void renamed(long parentId, String name, long newParentId, String newName) throws IOException {
        int target = named(newParentId, newName);
        if (target != NONE) {
            detach(target);
        }
        int source = named(parentId, name);
        if (source != NONE) {
            slot(newParentId);
            unlinkName(source);
            parents[source] = newParentId;
            names[source] = shared(newName);
            linkName(source);
        }
    }

    /** After RENAME_EXCHANGE: the two names swapped their nodes. */
    public synchronized void exchanged(long parentId, String name, long otherParentId, String otherName)
            throws IOException {
        slot(parentId);
        slot(otherParentId);
        int first = named(parentId, name);
        int second = named(otherParentId, otherName);
        if (first != NONE) {
            unlinkName(first);
        }
        if (second != NONE) {
            unlinkName(second);
        }
        if (first != NONE) {
            parents[first] = otherParentId;
            names[first] = otherName;
            linkName(first);
        }
        if (second != NONE) {
            parents[second] = parentId;
            names[second] = name;
            linkName(second);
        }
    }

    /** The number of nodes the kernel holds references to, the root included. */
    public synchronized int size() {
        return nodes;
    }

    private EntryType type(int slot) {
        return TYPES[flags[slot] & TYPE];
    }

    private boolean detached(int slot) {
        return (flags[slot] & DETACHED) != 0;
    }

    private void detach(int slot) {
        unlinkName(slot);
        flags[slot] |= DETACHED;
    }

    private int slot(long nodeid) throws IOException {
        int slot = slotOrNone(nodeid);
        if (slot == NONE) {
            throw Errno.ESTALE.exception("node " + nodeid, "unknown to the server");
        }
        return slot;
    }

    private long ids(int slot) {
        return (long) reuses[slot] << 32 | slot;
    }

    private int slotOrNone(long nodeid) {
        int slot = (int) nodeid;
        if (slot <= 0 || slot > slotsUsed || (flags[slot] & FREE) != 0 || reuses[slot] != (int) (nodeid >>> 32)) {
            return NONE;
        }
        return slot;
    }

    /** The attached node named {@code name} in {@code parentId}, or NONE. */
    private int named(long parentId, String name) {
        for (int s = nameBuckets[nameBucket(parentId, name)]; s != NONE; s = nextByName[s]) {
            if (parents[s] == parentId && names[s].equals(name)) {
                return s;
            }
        }
        return NONE;
    }

    private static String shared(String name) {
        if (name == null) {
            return null;
        }
        // Two ways per set, the newer first: names that collide in a set are kept both.
        int set = mix(name.hashCode()) & (RECENT_NAMES.length - 2);
        String newer = RECENT_NAMES[set];
        if (name.equals(newer)) {
            return newer;
        }
        String older = RECENT_NAMES[set + 1];
        if (name.equals(older)) {
            return older;
        }
        RECENT_NAMES[set + 1] = newer;
        RECENT_NAMES[set] = name;
        return name;
    }

    private int nameBucket(long parentId, String name) {
        return mix(parentId * 31 + name.hashCode()) & (nameBuckets.length - 1);
    }

    private static int mix(long h) {
        h *= 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void linkName(int slot) {
        int bucket = nameBucket(parents[slot], names[slot]);
        nextByName[slot] = nameBuckets[bucket];
        nameBuckets[bucket] = slot;
    }

    private void unlinkName(int slot) {
        int bucket = nameBucket(parents[slot], names[slot]);
        if (nameBuckets[bucket] == slot) {
            nameBuckets[bucket] = nextByName[slot];
            return;
        }
        for (int s = nameBuckets[bucket]; s != NONE; s = nextByName[s]) {
            if (nextByName[s] == slot) {
                nextByName[s] = nextByName[slot];
                return;
            }
        }
    }

    private int newSlot(EntryType type, long parentId, String name) {
        int slot;
        if (freeSlots != NONE) {
            slot = freeSlots;
            freeSlots = nextByName[slot];
        } else {
            if (slotsUsed + 1 == flags.length) {
                grow();
            }
            slot = ++slotsUsed; // the first, the root, takes slot 1
        }
        parents[slot] = parentId;
        names[slot] = shared(name);
        lookups[slot] = 0;
        nlinks[slot] = 0;
        flags[slot] = (byte) type.ordinal();
        nextByName[slot] = NONE;
        nodes++;
        return slot;
    }

    private void freeSlot(int slot) {
        reuses[slot]++;
        names[slot] = null;
        flags[slot] = FREE;
        nextByName[slot] = freeSlots;
        freeSlots = slot;
        nodes--;
    }

    /** Index buckets for this many slots: a power of two, at most one slot per bucket on average. */
    private static int bucketsFor(int capacity) {
        return Integer.highestOneBit(capacity);
    }

    private void allocate(int capacity) {
        reuses = new int[capacity];
        parents = new long[capacity];
        names = new String[capacity];
        lookups = new long[capacity];
        nlinks = new int[capacity];
        flags = new byte[capacity];
        nextByName = new int[capacity];
        nameBuckets = new int[bucketsFor(capacity)];
        Arrays.fill(nameBuckets, NONE);
    }

    /** Grows the slots by half and rebuilds the name index (no slot is free: the table is full). */
    private void grow() {
        int capacity = flags.length + flags.length / 2;
        reuses = Arrays.copyOf(reuses, capacity);
        parents = Arrays.copyOf(parents, capacity);
        names = Arrays.copyOf(names, capacity);
        lookups = Arrays.copyOf(lookups, capacity);
        nlinks = Arrays.copyOf(nlinks, capacity);
        flags = Arrays.copyOf(flags, capacity);
        nextByName = new int[capacity];
        nameBuckets = new int[bucketsFor(capacity)];
        Arrays.fill(nameBuckets, NONE);
        for (int slot = ROOT_SLOT; slot <= slotsUsed; slot++) {
            nextByName[slot] = NONE;
            if (names[slot] != null && (flags[slot] & (DETACHED | FREE)) == 0) {
                linkName(slot);
            }
        }
    }
}
