package dev.overlay4j.core;

import dev.overlay4j.api.EntryPath;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The merged state of directories lookup has found, as a tree from the root (the kernel's
 * dentry cache does the same for overlayfs): which layers' directories merge at a path, at
 * which paths in them after redirects, and with which opaque and redirect marks. With it, a
 * lookup of {@code /a/b/c} looks up only {@code c}, in the layers of the cached {@code /a/b}.
 *
 * <p>Why it stays right: a directory's merged state depends only on its own upper entry, its
 * parent's merged state and the lower layers. Lower layers never change, and the upper layer
 * changes only through this engine, which calls {@link #invalidate} with the path of every name
 * it creates, removes, renames, marks or copies up, after the change; that drops the directory
 * and everything cached below it. A lookup that raced with an invalidation does not store its
 * result: {@link #add} refuses results computed before the latest {@link #generation}.
 * Entries here carry the attributes lookup saw then: callers use them for structure only and
 * stat the top layer again for attributes. The names of lower directories kept for negative
 * lookups need no invalidation as long as lower layers do not change; when one reports that it
 * did (an object store written by others), {@link #lowerChanged} drops them too.
 *
 * <p>Bounded: after {@link #CAPACITY} additions since the last reset, everything is dropped.
 */
final class DirectoryCache {

    static final int CAPACITY = 16_384;

    /** Names remembered for negative lookups, over all directories, until the next reset. */
    static final int NAMES_BUDGET = 1 << 20;

    /**
     * A cached directory, the cached directories in it by name, and, once the directory has been
     * listed, the names each of its lower directories holds (lower layers never change), so that
     * a lookup skips the lower layers that do not have a name.
     */
    static final class Node {
        final MergedEntry directory;
        final ConcurrentHashMap<String, Node> children = new ConcurrentHashMap<>();
        private final AtomicReferenceArray<Set<String>> lowerNames;

        Node(MergedEntry directory) {
            this.directory = directory;
            this.lowerNames = new AtomicReferenceArray<>(directory.lowers().size());
        }

        /** The names of the directory's {@code index}th lower directory, or null when not known. */
        Set<String> lowerNames(int index) {
            return lowerNames.get(index);
        }

        private void forgetLowerNames() {
            for (int i = 0; i < lowerNames.length(); i++) {
                lowerNames.set(i, null);
            }
        }
    }

    private final Node root;
    /** Bumped by every invalidation; guarded by this. */
    private volatile long generation;
    /** Nodes added since the last reset; guarded by this. */
    private int added;
    /** Names remembered since the last reset. */
    private final AtomicInteger namesKept = new AtomicInteger();

    DirectoryCache(MergedEntry root) {
        this.root = new Node(root);
    }

    Node root() {
        return root;
    }

    /** Read before a lookup whose result is to be {@link #add}ed. */
    long generation() {
        return generation;
    }

    /**
     * Caches {@code directory} as {@code name} in {@code parent} unless an invalidation happened
     * since {@code seen} was read.
     *
     * @return the node now cached under that name, or an uncached node when the result was refused
     */
    synchronized Node add(Node parent, String name, MergedEntry directory, long seen) {
        if (seen != generation) {
            return new Node(directory);
        }
        Node present = parent.children.get(name);
        if (present != null) {
            return present;
        }
        if (++added > CAPACITY) {
            root.children.clear();
            added = 0;
            namesKept.set(0);
            generation++;
            return new Node(directory);
        }
        Node node = new Node(directory);
        parent.children.put(name, node);
        return node;
    }

    /** The node that caches exactly {@code directory} (the same object), or null. */
    Node nodeOf(MergedEntry directory) {
        Node node = find(directory.path());
        return node != null && node.directory == directory ? node : null;
    }

    /** Remembers the names of a node's {@code index}th lower directory, within the budget. */
    void rememberLowerNames(Node node, int index, Set<String> names) {
        if (node.lowerNames.get(index) == null && namesKept.addAndGet(names.size()) <= NAMES_BUDGET) {
            node.lowerNames.set(index, SharedNameSets.canonical(Set.copyOf(names)));
        }
    }

    /** The cached node of {@code path}, or null. */
    Node find(EntryPath path) {
        Node node = root;
        for (int i = 0; i < path.nameCount() && node != null; i++) {
            node = node.children.get(path.name(i));
        }
        return node;
    }

    /**
     * A lower layer changed at {@code path}: drops what is cached there and below, and the lower
     * names remembered of its directory (the root's own too, for the root), which may have
     * gained or lost that name.
     */
    synchronized void lowerChanged(EntryPath path) {
        invalidate(path);
        Node directory = path.isRoot() ? root : find(path.parent());
        if (directory != null) {
            directory.forgetLowerNames();
        }
    }

    /** Drops what is cached at {@code path} and below it; the root drops everything. */
    synchronized void invalidate(EntryPath path) {
        generation++;
        if (path.isRoot()) {
            root.children.clear();
            added = 0;
            namesKept.set(0);
            return;
        }
        Node parent = find(path.parent());
        if (parent != null) {
            parent.children.remove(path.fileName());
        }
    }
}
