package dev.overlay4j.testkit;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of a layer for a test: directories, files, symlinks, whiteouts, opaque and
 * redirected directories, extended attributes. Parents come before their children in
 * {@link #nodes()}; a parent that was not declared is an ordinary 0755 directory.
 */
public final class LayerTree {

    /** One entry of the tree. */
    public sealed interface Node permits Directory, File, Symlink, Whiteout {
        EntryPath path();
    }

    /** A directory; {@code redirect} may be null. */
    public record Directory(EntryPath path, int permissions, boolean opaque, String redirect,
                            Map<String, byte[]> xattrs) implements Node {
    }

    /** A regular file with its bytes and modification time (nanoseconds since the epoch). */
    public record File(EntryPath path, byte[] content, int permissions, long mtimeNanos,
                       Map<String, byte[]> xattrs) implements Node {
    }

    public record Symlink(EntryPath path, String target) implements Node {
    }

    public record Whiteout(EntryPath path) implements Node {
    }

    private final List<Node> nodes;

    private LayerTree(List<Node> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The entries, every parent before its children. */
    public List<Node> nodes() {
        return nodes;
    }

    /** Writes the tree into an empty writable layer with its own operations, as {@code owner}. */
    public void writeTo(WritableLayer layer, int uid, int gid) throws IOException {
        for (Node node : nodes) {
            switch (node) {
                case Directory d -> {
                    layer.createDirectory(d.path(), new NewEntryAttributes(d.permissions(), uid, gid));
                    if (d.opaque()) {
                        layer.setOpaque(d.path(), true);
                    }
                    if (d.redirect() != null) {
                        layer.setRedirect(d.path(), d.redirect());
                    }
                    setXattrs(layer, d.path(), d.xattrs());
                }
                case File f -> {
                    try (WritableContent content = layer.createFile(f.path(), new NewEntryAttributes(f.permissions(), uid, gid))) {
                        content.write(ByteBuffer.wrap(f.content()), 0);
                    }
                    setXattrs(layer, f.path(), f.xattrs());
                    layer.setTimes(f.path(), f.mtimeNanos(), f.mtimeNanos());
                }
                case Symlink s -> layer.createSymlink(s.path(), s.target(), new NewEntryAttributes(0777, uid, gid));
                case Whiteout w -> layer.createWhiteout(w.path());
            }
        }
    }

    private static void setXattrs(WritableLayer layer, EntryPath path, Map<String, byte[]> xattrs) throws IOException {
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            layer.setXattr(path, x.getKey(), x.getValue(), XattrMode.CREATE);
        }
    }

    /** Collects the entries of a {@link LayerTree}. */
    public static final class Builder {
        private final Map<EntryPath, Node> nodes = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder directory(String path, int permissions) {
            return add(new Directory(EntryPath.of(path), permissions, false, null, new LinkedHashMap<>()));
        }

        public Builder opaqueDirectory(String path) {
            return add(new Directory(EntryPath.of(path), 0755, true, null, new LinkedHashMap<>()));
        }

        public Builder redirectedDirectory(String path, String redirect) {
            return add(new Directory(EntryPath.of(path), 0755, false, redirect, new LinkedHashMap<>()));
        }

        public Builder file(String path, byte[] content, int permissions, long mtimeNanos) {
            return add(new File(EntryPath.of(path), content, permissions, mtimeNanos, new LinkedHashMap<>()));
        }

        public Builder symlink(String path, String target) {
            return add(new Symlink(EntryPath.of(path), target));
        }

        public Builder whiteout(String path) {
            return add(new Whiteout(EntryPath.of(path)));
        }

        /** Adds an extended attribute to a file or directory declared before. */
        public Builder xattr(String path, String name, byte[] value) {
            switch (nodes.get(EntryPath.of(path))) {
                case Directory d -> d.xattrs().put(name, value);
                case File f -> f.xattrs().put(name, value);
                case null, default -> throw new IllegalArgumentException("declare file or directory " + path + " before its xattrs");
            }
            return this;
        }

        private Builder add(Node node) {
            EntryPath parent = node.path().parent();
            if (!node.path().isRoot() && !parent.isRoot() && !nodes.containsKey(parent)) {
                directory(parent.relativeString(), 0755);
            }
            if (nodes.putIfAbsent(node.path(), node) != null) {
                throw new IllegalArgumentException(node.path() + " is declared twice");
            }
            return this;
        }

        public LayerTree build() {
            return new LayerTree(new ArrayList<>(nodes.values()));
        }
    }
}
