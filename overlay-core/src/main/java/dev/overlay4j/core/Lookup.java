package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Path lookup through the layers, as the kernel's {@code ovl_lookup} does it (fs/overlayfs/namei.c).
 *
 * <p>A name is looked up in the upper layer, then in the lower directories its parent merges,
 * top to bottom. A whiteout ends the lookup and hides the name; a non-directory ends it and is
 * the entry (the topmost wins, and a non-directory below a directory is ignored); directories
 * merge until an opaque one. A directory's redirect changes where the layers below are searched:
 * an absolute one restarts at that path from the root of every lower layer below, a relative one
 * renames the last component within the same parent.
 */
final class Lookup {

    /** The kernel's "origin" xattr: set on entries the kernel copied up (a file handle we cannot decode). */
    private static final String KERNEL_ORIGIN_KEY = "origin";

    private final LayerStack layers;

    Lookup(LayerStack layers) {
        this.layers = layers;
    }

    MergedEntry root() throws IOException {
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
        MergedEntry current = root();
        for (int i = 0; i < path.nameCount(); i++) {
            if (!current.isDirectory()) {
                throw Errno.ENOTDIR.exception(path, current.path() + " is not a directory");
            }
            Optional<MergedEntry> next = child(current, path.name(i));
            if (next.isEmpty()) {
                if (i == path.nameCount() - 1) {
                    return Optional.empty();
                }
                throw Errno.ENOENT.exception(path, path.subpath(i + 1) + " does not exist");
            }
            current = next.get();
        }
        return Optional.of(current);
    }

    /** The entry at {@code path}; ENOENT when it does not exist. */
    MergedEntry get(EntryPath path) throws IOException {
        return find(path).orElseThrow(() -> Errno.ENOENT.exception(path));
    }

    /** The directory at {@code path}; ENOENT or ENOTDIR otherwise. */
    MergedEntry directory(EntryPath path) throws IOException {
        MergedEntry entry = get(path);
        if (!entry.isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        return entry;
    }

    static void checkName(EntryPath path, String name) throws IOException {
        if (!EntryPath.fitsNameMax(name)) {
            throw Errno.ENAMETOOLONG.exception(path, "a name is longer than " + EntryPath.NAME_MAX + " bytes");
        }
    }

    /** Looks up one name in a merged directory. */
    Optional<MergedEntry> child(MergedEntry parent, String name) throws IOException {
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
                    return Optional.of(entry(path, upper, List.of(), parent, name));
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
                LayerEntry dir = parentStack.get(cursor++);
                layer = dir.layer();
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
                return Optional.of(entry(path, null, List.of(new LayerEntry(layer, layerPath, attributes))));
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
        if (parent != null && !upper.isDirectory()
                && layers.upper().readOverlayXattr(upper.path(), KERNEL_ORIGIN_KEY).isPresent()) {
            // Copied up by the kernel: its origin is the lower entry of the same name and type, if still there.
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
