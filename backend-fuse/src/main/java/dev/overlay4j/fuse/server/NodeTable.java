package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's inodes as this server numbers them: each node id stands for one name in one
 * parent, so that a node's path can be rebuilt for the path-based overlay API. The kernel
 * counts its references to a node (one per LOOKUP-like reply) and gives them back with FORGET;
 * a node is dropped when its count reaches zero. Node ids are never reused, so the generation
 * number of every node can stay 0 ({@code nodeid:generation} is unique for the mount's life).
 *
 * <p>Unlink, rmdir and rename update the table as the kernel updates its dentries: a removed
 * or replaced name detaches its node, which keeps its id until forgotten but has no path.
 */
public final class NodeTable {

    public static final long ROOT_ID = 1;

    private static final class Node {
        final long id;
        final EntryType type;
        /** The link count last seen: what the kernel caches of a file with several names differs. */
        int nlink;
        Node parent;
        String name;
        long lookups;
        boolean detached;

        Node(long id, EntryType type, Node parent, String name) {
            this.id = id;
            this.type = type;
            this.parent = parent;
            this.name = name;
        }
    }

    private record Key(long parent, String name) {
    }

    private final Node root = new Node(ROOT_ID, EntryType.DIRECTORY, null, null);
    private final Map<Long, Node> byId = new HashMap<>();
    private final Map<Key, Node> byName = new HashMap<>();
    private long nextId = ROOT_ID + 1;

    public NodeTable() {
        byId.put(ROOT_ID, root);
    }

    /** The path of a node: ENOENT when it has been removed (or one of its ancestors), ESTALE when unknown. */
    public synchronized EntryPath path(long nodeid) throws IOException {
        Node node = node(nodeid);
        List<String> names = new ArrayList<>();
        for (Node n = node; n != root; n = n.parent) {
            if (n.detached || n.parent == null) {
                throw Errno.ENOENT.exception("node " + nodeid, "removed from the overlay");
            }
            names.add(n.name);
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
        Node node = root;
        for (String name : path.names()) {
            node = byName.get(new Key(node.id, name));
            if (node == null) {
                return -1;
            }
        }
        return node.id;
    }

    /** The type of entry the node stands for, or null when it is unknown. */
    public synchronized EntryType type(long nodeid) {
        Node node = byId.get(nodeid);
        return node == null ? null : node.type;
    }

    /** The link count of the node's entry when last looked up (or linked through the mount); 0 when unknown. */
    public synchronized int linkCount(long nodeid) {
        Node node = byId.get(nodeid);
        return node == null ? 0 : node.nlink;
    }

    /** After LINK: the node's file has one more name. */
    public synchronized void linked(long nodeid) {
        Node node = byId.get(nodeid);
        if (node != null) {
            node.nlink++;
        }
    }

    /**
     * {@link #lookedUp(long, String, EntryType)} for an entry with these attributes, whose link
     * count the node then remembers.
     */
    public synchronized long lookedUp(long parentId, String name, EntryAttributes attributes) throws IOException {
        long nodeid = lookedUp(parentId, name, attributes.type());
        byId.get(nodeid).nlink = attributes.nlink();
        return nodeid;
    }

    /**
     * A node for a file the kernel holds without a name (TMPFILE), with the one reference the
     * reply gives; it has no path until {@link #named}.
     */
    public synchronized long unnamed(EntryType type) {
        Node node = new Node(nextId++, type, null, null);
        node.detached = true;
        node.lookups = 1;
        byId.put(node.id, node);
        return node.id;
    }

    /**
     * After LINK of a node that never had a name (an unnamed file): the node takes the new name,
     * so the kernel's inode and the name stay one, with one more reference for the reply.
     *
     * @return false, changing nothing, when the node has or had a name (it then keeps its own)
     */
    public synchronized boolean named(long nodeid, long parentId, String name, EntryAttributes attributes)
            throws IOException {
        Node node = byId.get(nodeid);
        if (node == null || node.parent != null || node.name != null) {
            return false;
        }
        Node parent = node(parentId);
        Node previous = byName.get(new Key(parentId, name));
        if (previous != null) {
            detach(previous);
        }
        node.parent = parent;
        node.name = name;
        node.detached = false;
        node.nlink = attributes.nlink();
        node.lookups++;
        byName.put(new Key(parentId, name), node);
        return true;
    }

    /** Whether {@code nodeid} is {@code ancestorId} or lies beneath it. */
    public synchronized boolean isWithin(long nodeid, long ancestorId) {
        for (Node n = byId.get(nodeid); n != null; n = n.parent) {
            if (n.id == ancestorId) {
                return true;
            }
        }
        return false;
    }

    /** Whether the node is known to the table. */
    public synchronized boolean contains(long nodeid) {
        return byId.containsKey(nodeid);
    }

    /**
     * Records that the kernel now holds one more reference to {@code name} in {@code parentId}:
     * the existing node of that name when it still has that type, else a new one.
     *
     * @return the node id to answer with
     */
    public synchronized long lookedUp(long parentId, String name, EntryType type) throws IOException {
        Node parent = node(parentId);
        Key key = new Key(parentId, name);
        Node node = byName.get(key);
        if (node != null && node.type != type) {
            // The name now holds a different kind of entry: give the kernel a fresh inode.
            detach(node);
            node = null;
        }
        if (node == null) {
            node = new Node(nextId++, type, parent, name);
            byId.put(node.id, node);
            byName.put(key, node);
        }
        node.lookups++;
        return node.id;
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
        Node node = byId.get(nodeid);
        if (node == null) {
            return false;
        }
        node.lookups -= count;
        if (node.lookups > 0) {
            return false;
        }
        byId.remove(nodeid);
        if (!node.detached) {
            byName.remove(new Key(node.parent.id, node.name), node);
        }
        return true;
    }

    /** After unlink or rmdir: the name no longer leads to its node. */
    public synchronized void removed(long parentId, String name) {
        Node node = byName.get(new Key(parentId, name));
        if (node != null) {
            detach(node);
        }
    }

    /** After a rename that replaced any target: the source node now has the target's name. */
    public synchronized void renamed(long parentId, String name, long newParentId, String newName) throws IOException {
        Node target = byName.get(new Key(newParentId, newName));
        if (target != null) {
            detach(target);
        }
        Node source = byName.remove(new Key(parentId, name));
        if (source != null) {
            source.parent = node(newParentId);
            source.name = newName;
            byName.put(new Key(newParentId, newName), source);
        }
    }

    /** After RENAME_EXCHANGE: the two names swapped their nodes. */
    public synchronized void exchanged(long parentId, String name, long otherParentId, String otherName)
            throws IOException {
        Node first = byName.remove(new Key(parentId, name));
        Node second = byName.remove(new Key(otherParentId, otherName));
        if (first != null) {
            first.parent = node(otherParentId);
            first.name = otherName;
            byName.put(new Key(otherParentId, otherName), first);
        }
        if (second != null) {
            second.parent = node(parentId);
            second.name = name;
            byName.put(new Key(parentId, name), second);
        }
    }

    /** The number of nodes the kernel holds references to, the root included. */
    public synchronized int size() {
        return byId.size();
    }

    private void detach(Node node) {
        byName.remove(new Key(node.parent.id, node.name), node);
        node.detached = true;
    }

    private Node node(long nodeid) throws IOException {
        Node node = byId.get(nodeid);
        if (node == null) {
            throw Errno.ESTALE.exception("node " + nodeid, "unknown to the server");
        }
        return node;
    }
}
