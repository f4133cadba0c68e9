package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Path lookup through the layers, as the kernel's {@code ovl_lookup} does it (fs/overlayfs/namei.c).
 *
 * <p>A name is looked up in the upper layer, then in the lower directories its parent merges,
 * top to bottom. A whiteout ends the lookup and hides the name; a non-directory ends it and is
 * the entry (the topmost wins, and a non-directory below a directory is ignored); directories
 * merge until an opaque one. A directory's redirect changes where the layers below are searched:
 * an absolute one restarts at that path from the root of every lower layer below, a relative one
 * renames the last component within the same parent. A lower hard link without upper entry
 * whose inode another of its names copied up is seen through the {@link HardLinkIndex}.
 */
final class Lookup {

    /** The kernel's "origin" xattr: set on entries the kernel copied up (a file handle we cannot decode). */
    private static final String KERNEL_ORIGIN_KEY = "origin";

    private final LayerStack layers;
    /** Null without an upper index: lower hard links are then seen as they are in their layer. */
    private final HardLinkIndex index;
    private volatile DirectoryCache cache;

    Lookup(LayerStack layers, HardLinkIndex index) {
        this.layers = layers;
        this.index = index;
    }

    /** The cache, made on first use (opening the overlay does not look anything up). */
    private DirectoryCache cache() throws IOException {
        DirectoryCache c = cache;
        if (c == null) {
            synchronized (this) {
                c = cache;
                if (c == null) {
                    c = new DirectoryCache(root());
                    cache = c;
                }
            }
        }
        return c;
    }

    /** Forgets what is cached at {@code path} and below, and its directory's lower names: a lower layer changed there. */
    void lowerChanged(EntryPath path) {
        DirectoryCache c = cache;
        if (c != null) {
            c.lowerChanged(path);
        }
    }

    /** Forgets the merged state cached at {@code path} and below: call after every change of that name in the upper layer. */
    void invalidate(EntryPath path) {
        DirectoryCache c = cache;
        if (c != null) {
            c.invalidate(path);
        }
    }

    private MergedEntry root() throws IOException {
        LayerEntry upper = null;
        if (layers.hasUpper()) {
            upper = new LayerEntry(LayerStack.UPPER, EntryPath.ROOT, rootOf(LayerStack.UPPER));
        }
        List<LayerEntry> lowers = new ArrayList<>();
        for (int i = 1; i <= layers.lowerCount(); i++) {
            lowers.add(new LayerEntry(i, EntryPath.ROOT, rootOf(i)));
        }
        return entry(EntryPath.ROOT, upper, lowers);
    }

    private EntryAttributes rootOf(int layer) throws IOException {
        Layer l = layers.layer(layer);
        EntryAttributes attributes = l.stat(EntryPath.ROOT).orElseThrow(
                () -> Errno.EIO.exception("/", "the root of layer " + l.description() + " is missing"));
        if (!attributes.isDirectory()) {
            throw Errno.ENOTDIR.exception("/", "the root of layer " + l.description() + " is not a directory");
        }
        return attributes;
    }

    /** The entry at {@code path}, or empty when the last name does not exist (ENOENT/ENOTDIR for earlier names). */
    Optional<MergedEntry> find(EntryPath path) throws IOException {
        DirectoryCache c = cache();
        long seen = c.generation();
        if (path.isRoot()) {
            return Optional.of(refreshed(c.root().directory));
        }
        DirectoryCache.Node parent = directoryNode(c, seen, path.parent(), path);
        String name = path.fileName();
        DirectoryCache.Node cached = parent.children.get(name);
        if (cached != null) {
            MergedEntry now = refreshedOrNull(cached.directory);
            if (now != null) {
                return Optional.of(now);
            }
        }
        Optional<MergedEntry> found = child(parent.directory, name, parent);
        if (found.isPresent() && found.get().isDirectory()) {
            c.add(parent, name, found.get(), seen);
        }
        return found;
    }

    /** The entry at {@code path}; ENOENT when it does not exist. */
    MergedEntry get(EntryPath path) throws IOException {
        return find(path).orElseThrow(() -> Errno.ENOENT.exception(path));
    }

    /**
     * The merged structure of the directory at {@code path} (its layers, their paths and marks);
     * ENOENT or ENOTDIR otherwise. Its attributes may be old: use {@link #get} for those.
     */
    MergedEntry directory(EntryPath path) throws IOException {
        DirectoryCache c = cache();
        return directoryNode(c, c.generation(), path, path).directory;
    }

    /**
     * Walks to the directory {@code directory} through the cache, looking up and caching what is
     * missing. Errors name {@code whole}, the path the caller was asked for.
     */
    private DirectoryCache.Node directoryNode(DirectoryCache c, long seen, EntryPath directory, EntryPath whole)
            throws IOException {
        DirectoryCache.Node node = c.root();
        int count = directory.nameCount();
        for (int i = 0; i < count; i++) {
            String name = directory.name(i);
            DirectoryCache.Node next = node.children.get(name);
            if (next == null) {
                Optional<MergedEntry> found = child(node.directory, name, node);
                if (found.isEmpty()) {
                    throw directory == whole && i == count - 1
                            ? Errno.ENOENT.exception(whole)
                            : Errno.ENOENT.exception(whole, whole.subpath(i + 1) + " does not exist");
                }
                if (!found.get().isDirectory()) {
                    throw directory == whole && i == count - 1
                            ? Errno.ENOTDIR.exception(whole)
                            : Errno.ENOTDIR.exception(whole, found.get().path() + " is not a directory");
                }
                next = c.add(node, name, found.get(), seen);
            }
            node = next;
        }
        return node;
    }

    /**
     * {@link #child}, answered from the cache when {@code parent} is the cached structure of its
     * path and the name is a cached directory; a directory found is cached. For walks that need
     * the structure of each name, not its current attributes.
     */
    Optional<MergedEntry> cachedChild(MergedEntry parent, String name) throws IOException {
        DirectoryCache c = cache();
        long seen = c.generation();
        DirectoryCache.Node node = c.find(parent.path());
        if (node == null || node.directory != parent) {
            return child(parent, name);
        }
        DirectoryCache.Node cached = node.children.get(name);
        if (cached != null) {
            return Optional.of(cached.directory);
        }
        Optional<MergedEntry> found = child(parent, name, node);
        if (found.isPresent() && found.get().isDirectory()) {
            return Optional.of(c.add(node, name, found.get(), seen).directory);
        }
        return found;
    }

    /** A cached directory with the current attributes of its top layer. */
    private MergedEntry refreshed(MergedEntry directory) throws IOException {
        MergedEntry now = refreshedOrNull(directory);
        if (now == null) {
            throw Errno.EIO.exception(directory.path(), "the directory changed in layer "
                    + layers.layer(directory.top().layer()).description() + " behind the overlay's back");
        }
        return now;
    }

    /**
     * The cached directory with its top layer's current attributes, or null (and the cache
     * entry dropped) when that layer no longer has the same directory there: someone changed
     * the layer behind the overlay's back, and a full lookup must decide.
     */
    private MergedEntry refreshedOrNull(MergedEntry directory) throws IOException {
        LayerEntry top = directory.top();
        Optional<EntryAttributes> now = layers.layer(top.layer()).stat(top.path());
        if (now.isEmpty() || !now.get().isDirectory() || now.get().opaque() != top.attributes().opaque()
                || !Objects.equals(now.get().redirect(), top.attributes().redirect())) {
            invalidate(directory.path());
            return null;
        }
        LayerEntry fresh = new LayerEntry(top.layer(), top.path(), now.get());
        return directory.hasUpper()
                ? new MergedEntry(directory.path(), fresh, directory.lowers(), directory.inode())
                : new MergedEntry(directory.path(), null, replaceFirst(directory.lowers(), fresh), directory.inode());
    }

    private static List<LayerEntry> replaceFirst(List<LayerEntry> entries, LayerEntry first) {
        List<LayerEntry> copy = new ArrayList<>(entries);
        copy.set(0, first);
        return copy;
    }

    static void checkName(EntryPath path, String name) throws IOException {
        if (!EntryPath.fitsNameMax(name)) {
            throw Errno.ENAMETOOLONG.exception(path, "a name is longer than " + EntryPath.NAME_MAX + " bytes");
        }
    }

    /** Looks up one name in a merged directory. */
    Optional<MergedEntry> child(MergedEntry parent, String name) throws IOException {
        DirectoryCache c = cache;
        return child(parent, name, c == null ? null : c.nodeOf(parent));
    }

    /**
     * Remembers the names of one of a directory's lower directories, just listed, when the
     * directory is the cached structure of its path: later lookups there skip that layer for
     * names it does not have.
     *
     * @param index the position of the lower directory in {@code directory.lowers()}
     */
    void listedLower(MergedEntry directory, int index, Set<String> names) {
        DirectoryCache c = cache;
        DirectoryCache.Node node = c == null ? null : c.nodeOf(directory);
        if (node != null) {
            c.rememberLowerNames(node, index, names);
        }
    }

    /** Whether {@link #listedLower} can keep the names of {@code directory}'s lower directories. */
    boolean keepsNamesOf(MergedEntry directory) {
        DirectoryCache c = cache;
        return c != null && c.nodeOf(directory) != null;
    }

    /** {@link #child}, skipping lower layers that {@code node} knows lack the name (node may be null). */
    private Optional<MergedEntry> child(MergedEntry parent, String name, DirectoryCache.Node node) throws IOException {
        EntryPath path = parent.path().resolve(name);
        checkName(path, name);
        LayerEntry upper = null;
        boolean stop = false;
        EntryPath absolute = null;
        String lowerName = name;
        if (parent.hasUpper()) {
            Optional<EntryAttributes> found = layers.upper().stat(path);
            if (found.isPresent()) {
                EntryAttributes attributes = found.get();
                if (attributes.isWhiteout()) {
                    return Optional.empty();
                }
                upper = new LayerEntry(LayerStack.UPPER, path, attributes);
                if (!attributes.isDirectory()) {
                    MergedEntry file = entry(path, upper, List.of(), parent, name);
                    return Optional.of(index == null ? file : index.withIndexedNlink(file));
                }
                if (attributes.opaque()) {
                    stop = true;
                } else if (attributes.redirect() != null) {
                    Redirect redirect = Redirect.parse(path, attributes.redirect());
                    if (redirect.absolute() != null) {
                        absolute = redirect.absolute();
                    } else {
                        lowerName = redirect.name();
                    }
                }
            }
        }
        List<LayerEntry> lowers = new ArrayList<>();
        List<LayerEntry> parentStack = parent.lowers();
        int cursor = 0;
        int nextLayer = 1;
        while (!stop) {
            int layer;
            EntryPath layerPath;
            if (absolute == null) {
                if (cursor >= parentStack.size()) {
                    break;
                }
                Set<String> listed = node == null ? null : node.lowerNames(cursor);
                LayerEntry dir = parentStack.get(cursor++);
                layer = dir.layer();
                if (listed != null && !listed.contains(lowerName)) {
                    nextLayer = layer + 1;
                    continue; // the listing of this unchanging directory shows the name is not there
                }
                layerPath = dir.path().resolve(lowerName);
            } else {
                if (nextLayer > layers.lowerCount()) {
                    break;
                }
                layer = nextLayer;
                layerPath = absolute;
            }
            nextLayer = layer + 1;
            Found found = absolute == null ? statIn(layer, layerPath) : walkIn(layer, layerPath);
            if (found.stopAfter()) {
                stop = true;
            }
            if (found.attributes() == null) {
                continue;
            }
            EntryAttributes attributes = found.attributes();
            if (attributes.isWhiteout()) {
                break;
            }
            if (!attributes.isDirectory()) {
                if (upper != null || !lowers.isEmpty()) {
                    break; // a directory above hides every non-directory below
                }
                MergedEntry lower = entry(path, null, List.of(new LayerEntry(layer, layerPath, attributes)));
                return Optional.of(index == null ? lower : index.seenThrough(lower));
            }
            lowers.add(new LayerEntry(layer, layerPath, attributes));
            if (attributes.opaque()) {
                stop = true;
            } else if (attributes.redirect() != null) {
                Redirect redirect = Redirect.parse(path, attributes.redirect());
                if (redirect.absolute() != null) {
                    absolute = redirect.absolute();
                } else if (absolute != null) {
                    absolute = absolute.parent().resolve(redirect.name());
                } else {
                    lowerName = redirect.name();
                }
            }
        }
        if (upper == null && lowers.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(entry(path, upper, lowers));
    }

    /**
     * Whether a lower layer has {@code name} under {@code parent} (the kernel's
     * {@code ovl_lower_positive}): the first of the parent's lower directories that has the name
     * decides, and a whiteout there means no. Decides whether removing the name needs a whiteout.
     */
    boolean lowerPositive(MergedEntry parent, String name) throws IOException {
        return topLowerByName(parent, name).isPresent();
    }

    private Optional<LayerEntry> topLowerByName(MergedEntry parent, String name) throws IOException {
        for (LayerEntry dir : parent.lowers()) {
            EntryPath layerPath = dir.path().resolve(name);
            Optional<EntryAttributes> found = layers.layer(dir.layer()).stat(layerPath);
            if (found.isPresent()) {
                return found.get().isWhiteout()
                        ? Optional.empty()
                        : Optional.of(new LayerEntry(dir.layer(), layerPath, found.get()));
            }
        }
        return Optional.empty();
    }

    /** What one lower layer holds at a path, and whether layers below must not be searched. */
    private record Found(EntryAttributes attributes, boolean stopAfter) {
    }

    private Found statIn(int layer, EntryPath layerPath) throws IOException {
        return new Found(stat(layer, layerPath), false);
    }

    private EntryAttributes stat(int layer, EntryPath layerPath) throws IOException {
        try {
            return layers.layer(layer).stat(layerPath).orElse(null);
        } catch (IOException e) {
            if (Errno.of(e) == Errno.ENOTDIR || Errno.of(e) == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    /**
     * Looks up a redirect's absolute path in one layer, name by name: a missing name means
     * "not here, try below", a whiteout or non-directory on the way ends the search, and an opaque
     * directory on the way lets this layer answer but none below it.
     */
    private Found walkIn(int layer, EntryPath absolute) throws IOException {
        boolean stopAfter = false;
        for (int i = 1; i < absolute.nameCount(); i++) {
            EntryAttributes step = stat(layer, absolute.subpath(i));
            if (step == null) {
                return new Found(null, stopAfter);
            }
            if (!step.isDirectory()) {
                return new Found(null, true);
            }
            if (step.opaque()) {
                stopAfter = true;
            }
        }
        return new Found(stat(layer, absolute), stopAfter);
    }

    private MergedEntry entry(EntryPath path, LayerEntry upper, List<LayerEntry> lowers) throws IOException {
        return entry(path, upper, lowers, null, null);
    }

    /** Builds the entry and decides its inode number (see {@link InodeNumbers}). */
    private MergedEntry entry(EntryPath path, LayerEntry upper, List<LayerEntry> lowers, MergedEntry parent, String name)
            throws IOException {
        return new MergedEntry(path, upper, lowers, inodeOf(upper, lowers, parent, name));
    }

    private long inodeOf(LayerEntry upper, List<LayerEntry> lowers, MergedEntry parent, String name) throws IOException {
        if (upper != null) {
            Optional<Long> recorded = layers.upper().readOverlayXattr(upper.path(), InodeNumbers.XATTR_KEY)
                    .flatMap(InodeNumbers::decode);
            if (recorded.isPresent()) {
                return recorded.get();
            }
        }
        if (!lowers.isEmpty()) {
            LayerEntry origin = lowers.getFirst();
            return InodeNumbers.compose(origin.layer(), origin.attributes().inode());
        }
        if (parent != null && !upper.isDirectory() && upper.attributes().nlink() == 1
                && layers.upper().readOverlayXattr(upper.path(), KERNEL_ORIGIN_KEY).isPresent()) {
            // Copied up by the kernel: its origin is the lower entry of the same name and type, if still there.
            // Not for a file with several names: they would get different numbers; the upper inode's is one.
            Optional<LayerEntry> origin = topLowerByName(parent, name);
            if (origin.isPresent() && origin.get().attributes().type() == upper.attributes().type()) {
                return InodeNumbers.compose(origin.get().layer(), origin.get().attributes().inode());
            }
        }
        return InodeNumbers.compose(LayerStack.UPPER, upper.attributes().inode());
    }

    /** A directory's redirect: an absolute path from the overlay root, or a new name in the same parent. */
    record Redirect(EntryPath absolute, String name) {

        static Redirect parse(EntryPath directory, String value) throws IOException {
            try {
                if (value.startsWith("/")) {
                    return new Redirect(EntryPath.of(value), null);
                }
                if (EntryPath.isValidName(value)) {
                    return new Redirect(null, value);
                }
            } catch (IllegalArgumentException e) {
                // falls through to the error below
            }
            throw Errno.EIO.exception(directory, "invalid redirect \"" + value + "\"");
        }
    }
}
