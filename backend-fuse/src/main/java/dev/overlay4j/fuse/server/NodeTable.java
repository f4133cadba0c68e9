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
 *
 * <p>A walk of a big tree leaves the kernel holding every node, in every mount a shared server
 * hosts, so a node is a slot in parallel arrays, about 35 bytes and its name, rather than a
 * map entry, a boxed id, a key record and an object (about 215 bytes).
 */
public final class NodeTable {

    public static final long ROOT_ID = 1;

    private static final int NONE = -1;
    private static final int ROOT_SLOT = (int) ROOT_ID;
    private static final byte DETACHED = (byte) 0x80;
    private static final byte FREE = 0x40;
    private static final byte TYPE = 0x3f;
    private static final EntryType[] TYPES = EntryType.values();
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK = 1 << CHUNK_SHIFT;
    private static final int MASK = CHUNK - 1;

    /**
     * Names recently stored by any table in the process. Mounts of the same layers hold the same
     * names, and a shared server hosts many: each takes the copy another already holds. Lossy
     * (a set keeps the last two names that hashed to it) and racy by design: a lost entry costs
     * only a copy, and reference writes are atomic.
     */
    private static final String[] RECENT_NAMES = new String[1 << 16];

    /**
     * {@link #CHUNK} slots. Chunks are added as the table grows, so growing copies nothing
     * and a table holds at most one chunk it does not fill.
     */
    private static final class Chunk {
        /** How often each slot was reused: the high half of its node's id. */
        final int[] reuses = new int[CHUNK];
        /** The id of the node's parent; 0 for the root and for a node that never had a name. */
        final long[] parents = new long[CHUNK];
        final String[] names = new String[CHUNK];
        final long[] lookups = new long[CHUNK];
        /** The link count last seen: what the kernel caches of a file with several names differs. */
        final int[] nlinks = new int[CHUNK];
        /** The entry type's ordinal, DETACHED once the name no longer leads to the node, FREE. */
        final byte[] flags = new byte[CHUNK];
        /** Hash chains of attached nodes by parent and name; for a free slot, the next free slot. */
        final int[] next = new int[CHUNK];
    }

    private Chunk[] chunks = {new Chunk()};
    /** Heads of the name chains; doubled when the nodes outnumber them. */
    private int[] nameBuckets = newBuckets(CHUNK);
    /** The highest slot used so far; slot 0 stays empty, as no node has id 0. */
    private int slotsUsed;
    private int freeSlots = NONE;
    private int nodes;

    public NodeTable() {
        long root = id(newSlot(EntryType.DIRECTORY, 0, null));
        assert root == ROOT_ID;
    }

    /** The path of a node: ENOENT when it has been removed (or one of its ancestors), ESTALE when unknown. */
    public synchronized EntryPath path(long nodeid) throws IOException {
        int slot = slot(nodeid);
        List<String> reversed = new ArrayList<>();
        while (slot != ROOT_SLOT) {
            Chunk c = chunk(slot);
            int i = slot & MASK;
            int parent = c.parents[i] == 0 ? NONE : slotOrNone(c.parents[i]);
            if ((c.flags[i] & DETACHED) != 0 || parent == NONE) {
                throw Errno.ENOENT.exception("node " + nodeid, "removed from the overlay");
            }
            reversed.add(c.names[i]);
            slot = parent;
        }
        return EntryPath.ofNames(reversed.reversed());
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
            int slot = attached(id, name);
            if (slot == NONE) {
                return -1;
            }
            id = id(slot);
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
        return slot == NONE ? 0 : chunk(slot).nlinks[slot & MASK];
    }

    /** After LINK: the node's file has one more name. */
    public synchronized void linked(long nodeid) {
        int slot = slotOrNone(nodeid);
        if (slot != NONE) {
            chunk(slot).nlinks[slot & MASK]++;
        }
    }

    /**
     * {@link #lookedUp(long, String, EntryType)} for an entry with these attributes, whose link
     * count the node then remembers.
     */
    public synchronized long lookedUp(long parentId, String name, EntryAttributes attributes) throws IOException {
        long nodeid = lookedUp(parentId, name, attributes.type());
        int slot = slot(nodeid);
        chunk(slot).nlinks[slot & MASK] = attributes.nlink();
        return nodeid;
    }

    /**
     * A node for a file the kernel holds without a name (TMPFILE), with the one reference the
     * reply gives; it has no path until {@link #named}.
     */
    public synchronized long unnamed(EntryType type) {
        int slot = newSlot(type, 0, null);
        Chunk c = chunk(slot);
        c.flags[slot & MASK] |= DETACHED;
        c.lookups[slot & MASK] = 1;
        return id(slot);
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
        if (slot == NONE || chunk(slot).parents[slot & MASK] != 0 || chunk(slot).names[slot & MASK] != null) {
            return false;
        }
        slot(parentId);
        int previous = attached(parentId, name);
        if (previous != NONE) {
            detach(previous);
        }
        Chunk c = chunk(slot);
        int i = slot & MASK;
        c.parents[i] = parentId;
        c.names[i] = shared(name);
        c.flags[i] &= ~DETACHED;
        c.nlinks[i] = attributes.nlink();
        c.lookups[i]++;
        linkName(slot);
        return true;
    }

    /** Whether {@code nodeid} is {@code ancestorId} or lies beneath it. */
    public synchronized boolean isWithin(long nodeid, long ancestorId) {
        for (int slot = slotOrNone(nodeid); slot != NONE; slot = parentSlot(slot)) {
            if (id(slot) == ancestorId) {
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
        int slot = attached(parentId, name);
        if (slot != NONE && type(slot) != type) {
            // The name now holds a different kind of entry: give the kernel a fresh inode.
            detach(slot);
            slot = NONE;
        }
        if (slot == NONE) {
            slot = newSlot(type, parentId, name);
            linkName(slot);
        }
        chunk(slot).lookups[slot & MASK]++;
        return id(slot);
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
        Chunk c = chunk(slot);
        int i = slot & MASK;
        c.lookups[i] -= count;
        if (c.lookups[i] > 0) {
            return false;
        }
        if ((c.flags[i] & DETACHED) == 0) {
            unlinkName(slot);
        }
        freeSlot(slot);
        return true;
    }

    /** After unlink or rmdir: the name no longer leads to its node. */
    public synchronized void removed(long parentId, String name) {
        int slot = attached(parentId, name);
        if (slot != NONE) {
            detach(slot);
        }
    }

    /** After a rename that replaced any target: the source node now has the target's name. */
    public synchronized void renamed(long parentId, String name, long newParentId, String newName) throws IOException {
        int target = attached(newParentId, newName);
        if (target != NONE) {
            detach(target);
        }
        int source = attached(parentId, name);
        if (source != NONE) {
            slot(newParentId);
            rename(source, newParentId, newName);
        }
    }

    /** After RENAME_EXCHANGE: the two names swapped their nodes. */
    public synchronized void exchanged(long parentId, String name, long otherParentId, String otherName)
            throws IOException {
        slot(parentId);
        slot(otherParentId);
        int first = attached(parentId, name);
        int second = attached(otherParentId, otherName);
        if (first != NONE) {
            unlinkName(first);
        }
        if (second != NONE) {
            unlinkName(second);
        }
        if (first != NONE) {
            place(first, otherParentId, otherName);
        }
        if (second != NONE) {
            place(second, parentId, name);
        }
    }

    /** The number of nodes the kernel holds references to, the root included. */
    public synchronized int size() {
        return nodes;
    }

    private Chunk chunk(int slot) {
        return chunks[slot >>> CHUNK_SHIFT];
    }

    private long id(int slot) {
        return (long) chunk(slot).reuses[slot & MASK] << 32 | slot;
    }

    private EntryType type(int slot) {
        return TYPES[chunk(slot).flags[slot & MASK] & TYPE];
    }

    /** The slot of the node's parent, or NONE for the root, an unnamed node or a forgotten parent. */
    private int parentSlot(int slot) {
        long parent = chunk(slot).parents[slot & MASK];
        return parent == 0 ? NONE : slotOrNone(parent);
    }

    private void detach(int slot) {
        unlinkName(slot);
        chunk(slot).flags[slot & MASK] |= DETACHED;
    }

    private void rename(int slot, long parentId, String name) {
        unlinkName(slot);
        place(slot, parentId, name);
    }

    /** Gives an unlinked node its name and links it. */
    private void place(int slot, long parentId, String name) {
        chunk(slot).parents[slot & MASK] = parentId;
        chunk(slot).names[slot & MASK] = shared(name);
        linkName(slot);
    }

    private int slot(long nodeid) throws IOException {
        int slot = slotOrNone(nodeid);
        if (slot == NONE) {
            throw Errno.ESTALE.exception("node " + nodeid, "unknown to the server");
        }
        return slot;
    }

    private int slotOrNone(long nodeid) {
        int slot = (int) nodeid;
        if (slot <= 0 || slot > slotsUsed) {
            return NONE;
        }
        Chunk c = chunk(slot);
        int i = slot & MASK;
        return (c.flags[i] & FREE) != 0 || c.reuses[i] != (int) (nodeid >>> 32) ? NONE : slot;
    }

    /** The attached node named {@code name} in {@code parentId}, or NONE. */
    private int attached(long parentId, String name) {
        for (int s = nameBuckets[nameBucket(parentId, name)]; s != NONE; ) {
            Chunk c = chunk(s);
            int i = s & MASK;
            if (c.parents[i] == parentId && c.names[i].equals(name)) {
                return s;
            }
            s = c.next[i];
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
        Chunk c = chunk(slot);
        int i = slot & MASK;
        int bucket = nameBucket(c.parents[i], c.names[i]);
        c.next[i] = nameBuckets[bucket];
        nameBuckets[bucket] = slot;
    }

    private void unlinkName(int slot) {
        Chunk c = chunk(slot);
        int i = slot & MASK;
        int bucket = nameBucket(c.parents[i], c.names[i]);
        if (nameBuckets[bucket] == slot) {
            nameBuckets[bucket] = c.next[i];
            return;
        }
        for (int s = nameBuckets[bucket]; s != NONE; s = chunk(s).next[s & MASK]) {
            if (chunk(s).next[s & MASK] == slot) {
                chunk(s).next[s & MASK] = c.next[i];
                return;
            }
        }
    }

    private int newSlot(EntryType type, long parentId, String name) {
        if (nodes + 1 > nameBuckets.length) {
            rehashNames(); // before the new slot has a name: its caller links it
        }
        int slot;
        if (freeSlots != NONE) {
            slot = freeSlots;
            freeSlots = chunk(slot).next[slot & MASK];
        } else {
            slot = ++slotsUsed; // the first, the root, takes slot 1
            if (slot >>> CHUNK_SHIFT == chunks.length) {
                chunks = Arrays.copyOf(chunks, chunks.length + 1);
                chunks[chunks.length - 1] = new Chunk();
            }
        }
        Chunk c = chunk(slot);
        int i = slot & MASK;
        c.parents[i] = parentId;
        c.names[i] = shared(name);
        c.lookups[i] = 0;
        c.nlinks[i] = 0;
        c.flags[i] = (byte) type.ordinal();
        c.next[i] = NONE;
        nodes++;
        return slot;
    }

    private void freeSlot(int slot) {
        Chunk c = chunk(slot);
        int i = slot & MASK;
        c.reuses[i]++;
        c.names[i] = null;
        c.flags[i] = FREE;
        c.next[i] = freeSlots;
        freeSlots = slot;
        nodes--;
    }

    private static int[] newBuckets(int count) {
        int[] buckets = new int[count];
        Arrays.fill(buckets, NONE);
        return buckets;
    }

    /** Doubles the name chains' heads and links every attached node again. */
    private void rehashNames() {
        nameBuckets = newBuckets(nameBuckets.length * 2);
        for (int slot = ROOT_SLOT; slot <= slotsUsed; slot++) {
            Chunk c = chunk(slot);
            int i = slot & MASK;
            if (c.names[i] != null && (c.flags[i] & (DETACHED | FREE)) == 0) {
                linkName(slot);
            }
        }
    }
}
