package dev.overlay4j.example.memory;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One inode of a {@link MemoryStore}: what {@code lstat} reports, plus a directory's names, a
 * file's bytes or a symlink's target. Every name of a hard-linked file is the same node. Guarded
 * by the store's lock.
 */
final class Node {

    final EntryType type;
    final long inode;
    int permissions;
    int uid;
    int gid;
    long atimeNanos;
    long mtimeNanos;
    long ctimeNanos;
    /** The names of a non-directory in the tree, the work area and the index together. */
    int links = 1;
    final long rdev;
    final Map<String, byte[]> xattrs = new LinkedHashMap<>();
    /** The overlay's own marks, by key ({@code opaque}, {@code redirect}, {@code origin}...); never listed as xattrs. */
    final Map<String, byte[]> overlayXattrs = new LinkedHashMap<>();
    /** A directory's entries, else null. */
    final TreeMap<String, Node> children;
    /** A symlink's target, else null. */
    final String target;
    byte[] data = new byte[0];
    int size;

    Node(EntryType type, long inode, int permissions, int uid, int gid, long now, String target, long rdev) {
        this.type = type;
        this.inode = inode;
        this.permissions = permissions;
        this.uid = uid;
        this.gid = gid;
        this.atimeNanos = now;
        this.mtimeNanos = now;
        this.ctimeNanos = now;
        this.children = type == EntryType.DIRECTORY ? new TreeMap<>() : null;
        this.target = target;
        this.rdev = rdev;
    }

    boolean isDirectory() {
        return type == EntryType.DIRECTORY;
    }

    EntryAttributes attributes() {
        long length = switch (type) {
            case REGULAR_FILE -> size;
            case SYMLINK -> target.getBytes(StandardCharsets.UTF_8).length;
            default -> 0;
        };
        int nlink = links;
        if (isDirectory()) {
            nlink = 2 + (int) children.values().stream().filter(Node::isDirectory).count();
        }
        byte[] opaque = overlayXattrs.get("opaque");
        byte[] redirect = overlayXattrs.get("redirect");
        return new EntryAttributes(type, permissions, uid, gid, length, (length + 511) / 512, atimeNanos,
                mtimeNanos, ctimeNanos, nlink, inode, rdev,
                isDirectory() && opaque != null && new String(opaque, StandardCharsets.UTF_8).equals("y"),
                isDirectory() && redirect != null ? new String(redirect, StandardCharsets.UTF_8) : null);
    }
}
