package dev.overlay4j.oci;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entry tree of one image layer, built once from its tar headers by the rules of the OCI
 * image spec ("Representing Changes", "Whiteouts"): a member {@code .wh.NAME} hides NAME in the
 * layers below, {@code .wh..wh..opq} makes its directory opaque, and neither is ever an entry.
 * A later member of the same name replaces an earlier one, as extracting the archive would.
 *
 * <p>Members that would escape the layer or cannot be represented are refused, each with a
 * warning, and the rest of the layer stays usable: absolute names, names with {@code ..}, names
 * below a non-directory (a symlink on the way would lead an extractor out of the layer), hard
 * links whose target is outside the layer, missing or a directory, and sparse files. Symlinks
 * are kept as stored: the layer never follows them.
 */
final class TarTree {

    private static final System.Logger LOG = System.getLogger(TarTree.class.getName());
    static final String MARK_PREFIX = ".wh.";
    static final String OPAQUE_MARK = ".wh..wh..opq";

    /** What a name stands for; hard links share one. Mutable only while the tree is built. */
    static final class Inode {
        final long number;
        EntryType type;
        int permissions;
        int uid;
        int gid;
        long size;
        long mtimeNanos;
        long atimeNanos;
        long ctimeNanos;
        long rdev;
        /** Where a regular file's bytes start in the uncompressed archive. */
        long dataOffset;
        /** A symlink's target. */
        String target;
        Map<String, byte[]> xattrs = Map.of();
        int nlink = 1;

        Inode(long number, EntryType type) {
            this.number = number;
            this.type = type;
        }
    }

    /** A name in a directory: its inode, and for a directory its names, whiteouts and opaque mark. */
    static final class Node {
        final Inode inode;
        final Map<String, Node> children;
        /** Names hidden in the layers below, each with the inode number its whiteout reports. */
        final Map<String, Long> whiteouts;
        boolean opaque;

        Node(Inode inode) {
            this.inode = inode;
            boolean directory = inode.type == EntryType.DIRECTORY;
            this.children = directory ? new LinkedHashMap<>() : Map.of();
            this.whiteouts = directory ? new LinkedHashMap<>() : Map.of();
        }

        boolean isDirectory() {
            return inode.type == EntryType.DIRECTORY;
        }
    }

    private final String description;
    private final Node root;
    private final List<String> refused = new ArrayList<>();
    private long nextInode = 1;

    private TarTree(String description) {
        this.description = description;
        this.root = new Node(directoryInode());
    }

    /** The tree of an archive's members, given in archive order. */
    static TarTree of(List<TarEntry> entries, String description) {
        TarTree tree = new TarTree(description);
        for (TarEntry entry : entries) {
            tree.add(entry);
        }
        tree.countLinks();
        return tree;
    }

    Node root() {
        return root;
    }

    /** The members refused, each with why: for tests and diagnostics. */
    List<String> refused() {
        return List.copyOf(refused);
    }

    private Inode directoryInode() {
        Inode inode = new Inode(nextInode++, EntryType.DIRECTORY);
        inode.permissions = 0755;
        return inode;
    }

    private void refuse(TarEntry entry, String why) {
        String message = "refused member \"" + entry.name() + "\" of layer " + description + ": " + why;
        refused.add(message);
        LOG.log(System.Logger.Level.WARNING, message);
    }

    /** The names of a member path inside the layer, or null when it would leave the layer ({@code why[0]} says how). */
    private static List<String> names(String path, String[] why) {
        if (path.startsWith("/")) {
            why[0] = "an absolute name";
            return null;
        }
        List<String> names = new ArrayList<>();
        for (String name : path.split("/")) {
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                why[0] = "a name with \"..\" that could leave the layer";
                return null;
            }
            if (!EntryPath.isValidName(name)) {
                why[0] = "not a valid file name";
                return null;
            }
            names.add(name);
        }
        return names;
    }

    private void add(TarEntry entry) {
        String[] why = new String[1];
        List<String> names = names(entry.name(), why);
        if (names == null) {
            refuse(entry, why[0]);
            return;
        }
        if (names.isEmpty()) {
            if (entry.type() == TarEntry.DIRECTORY) {
                apply(root.inode, entry); // "./": the root's own metadata
            }
            return;
        }
        for (int i = 0; i < names.size() - 1; i++) {
            if (names.get(i).startsWith(MARK_PREFIX)) {
                return; // inside a mark directory such as AUFS's .wh..wh.plnk: not part of the tree
            }
        }
        Node parent = root;
        for (int i = 0; i < names.size() - 1; i++) {
            Node next = parent.children.get(names.get(i));
            if (next == null) {
                next = new Node(directoryInode());
                parent.children.put(names.get(i), next);
            } else if (!next.isDirectory()) {
                refuse(entry, "it lies below \"" + String.join("/", names.subList(0, i + 1)) + "\", which is not a directory");
                return;
            }
            parent = next;
        }
        String name = names.getLast();
        if (name.startsWith(MARK_PREFIX)) {
            if (name.equals(OPAQUE_MARK)) {
                parent.opaque = true;
            } else {
                String hidden = name.substring(MARK_PREFIX.length());
                if (EntryPath.isValidName(hidden) && !hidden.startsWith(MARK_PREFIX)) {
                    parent.whiteouts.putIfAbsent(hidden, nextInode++);
                }
            }
            return;
        }
        Node node;
        switch (entry.type()) {
            case TarEntry.DIRECTORY -> {
                Node existing = parent.children.get(name);
                if (existing != null && existing.isDirectory()) {
                    apply(existing.inode, entry);
                    return;
                }
                Inode inode = directoryInode();
                apply(inode, entry);
                node = new Node(inode);
            }
            case TarEntry.REGULAR, TarEntry.REGULAR_OLD, TarEntry.CONTIGUOUS -> {
                Inode inode = new Inode(nextInode++, EntryType.REGULAR_FILE);
                apply(inode, entry);
                inode.size = entry.size();
                inode.dataOffset = entry.dataOffset();
                node = new Node(inode);
            }
            case TarEntry.SYMLINK -> {
                Inode inode = new Inode(nextInode++, EntryType.SYMLINK);
                apply(inode, entry);
                inode.permissions = 0777;
                inode.target = entry.linkName();
                inode.size = entry.linkName().getBytes(StandardCharsets.UTF_8).length;
                node = new Node(inode);
            }
            case TarEntry.CHARACTER_DEVICE, TarEntry.BLOCK_DEVICE, TarEntry.FIFO -> {
                if (entry.type() == TarEntry.CHARACTER_DEVICE && entry.devMajor() == 0 && entry.devMinor() == 0) {
                    // The kernel's whiteout, as a tar of an overlayfs upper directory holds it.
                    parent.children.remove(name);
                    parent.whiteouts.putIfAbsent(name, nextInode++);
                    return;
                }
                EntryType type = switch (entry.type()) {
                    case TarEntry.CHARACTER_DEVICE -> EntryType.CHARACTER_DEVICE;
                    case TarEntry.BLOCK_DEVICE -> EntryType.BLOCK_DEVICE;
                    default -> EntryType.FIFO;
                };
                Inode inode = new Inode(nextInode++, type);
                apply(inode, entry);
                if (type != EntryType.FIFO) {
                    inode.rdev = makedev(entry.devMajor(), entry.devMinor());
                }
                node = new Node(inode);
            }
            case TarEntry.HARD_LINK -> {
                Node target = linkTarget(entry);
                if (target == null) {
                    return;
                }
                node = new Node(target.inode);
            }
            case 'S' -> {
                refuse(entry, "sparse files are not supported");
                return;
            }
            default -> {
                refuse(entry, "typeflag '" + (char) entry.type() + "' is not a file type this layer holds");
                return;
            }
        }
        parent.children.put(name, node);
    }

    /** The existing non-directory a hard link member names, or null (refused) when there is none. */
    private Node linkTarget(TarEntry entry) {
        String[] why = new String[1];
        List<String> names = names(entry.linkName(), why);
        if (names == null) {
            refuse(entry, "a hard link to \"" + entry.linkName() + "\": " + why[0]);
            return null;
        }
        Node node = root;
        for (String name : names) {
            node = node.isDirectory() ? node.children.get(name) : null;
            if (node == null) {
                refuse(entry, "a hard link to \"" + entry.linkName() + "\", which is not an earlier member of the layer");
                return null;
            }
        }
        if (node.isDirectory()) {
            refuse(entry, "a hard link to the directory \"" + entry.linkName() + "\"");
            return null;
        }
        return node;
    }

    private static void apply(Inode inode, TarEntry entry) {
        inode.permissions = entry.mode() & 07777;
        inode.uid = (int) entry.uid();
        inode.gid = (int) entry.gid();
        inode.mtimeNanos = entry.mtimeNanos();
        inode.atimeNanos = entry.atimeNanos();
        inode.ctimeNanos = entry.ctimeNanos();
        inode.xattrs = entry.xattrs().isEmpty() ? Map.of() : new LinkedHashMap<>(entry.xattrs());
    }

    /** glibc's {@code makedev}: the 64-bit {@code dev_t} of a major and minor number. */
    static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    /** Link counts as {@code stat} reports them: names per file, 2 plus subdirectories per directory. */
    private void countLinks() {
        Map<Inode, Integer> names = new IdentityHashMap<>();
        List<Node> pending = new ArrayList<>(List.of(root));
        Map<Node, Boolean> seen = new HashMap<>();
        while (!pending.isEmpty()) {
            Node dir = pending.removeLast();
            if (seen.put(dir, true) != null) {
                continue;
            }
            int subdirectories = 0;
            for (Node child : dir.children.values()) {
                if (child.isDirectory()) {
                    subdirectories++;
                    pending.add(child);
                } else {
                    names.merge(child.inode, 1, Integer::sum);
                }
            }
            dir.inode.nlink = 2 + subdirectories;
        }
        names.forEach((inode, count) -> inode.nlink = count);
    }
}
