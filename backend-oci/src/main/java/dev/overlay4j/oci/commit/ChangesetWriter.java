package dev.overlay4j.oci.commit;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;

/**
 * Writes what an upper dir changes as the members of an image layer, the image spec's "layer
 * changeset" ({@code layer.md}): its entries as they are, its whiteouts as {@code .wh.NAME}
 * members, and after the member of each opaque directory a {@code .wh..wh..opq} member. The
 * upper dir is read through the {@link Layer} SPI, so whiteouts and opaque directories are what
 * its backend says they are, as a mount reads them.
 *
 * <p>Two things of an overlayfs upper dir have no form in an image layer, because their content
 * lives in the lower layers: a renamed directory (a redirect) is written as an opaque directory
 * holding its whole merged content, its old name being a whiteout in the upper already; a
 * metadata-only copy-up (metacopy) is written with its data from the lower layers. Both need
 * those layers ({@link MergedTree}); without them such an upper dir is refused rather than
 * written as an image that means something else.
 *
 * <p>Members come in a fixed order: in each directory, the names in the byte order of their
 * UTF-8 form as the layer names them ({@code .wh.NAME} for a whiteout), each directory followed
 * by its contents. The first name of a file with several names in the layer carries its data,
 * the others are hard-link members. Overlay-private xattrs ({@code trusted.overlay.*},
 * {@code user.overlay.*}) are never written. Sockets, which a tar cannot hold, are left out with
 * a warning.
 */
final class ChangesetWriter {

    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE_MARK = ".wh..wh..opq";
    private static final List<String> OVERLAY_XATTR_PREFIXES = List.of("trusted.overlay.", "user.overlay.");
    private static final Comparator<byte[]> BYTE_ORDER = Arrays::compareUnsigned;

    private final Layer upper;
    private final MergedTree merged;
    private final TarOutput tar;
    private final LongUnaryOperator mtime;
    private final List<String> warnings = new ArrayList<>();
    /** The first member name of each file with several names seen so far. */
    private final Map<LinkKey, String> firstNames = new HashMap<>();
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
    private long members;

    /** A file's identity: its inode in the upper dir, or in the merged view for content only the lowers have. */
    private record LinkKey(boolean fromMerged, long inode) {
    }

    /**
     * One entry to write.
     *
     * @param fromMerged whether its metadata and content come from the merged view (it lies below a
     *                   renamed directory and the upper dir does not have it)
     * @param below      whether it lies below a renamed directory, whose whole content is written
     */
    private record Item(EntryPath path, byte[] sortName, EntryAttributes attributes, boolean fromMerged, boolean below) {
    }

    /**
     * @param merged the upper dir over its lower layers, or null when the commit has none
     * @param mtime  the modification time to write for each stored one, both in nanoseconds
     */
    ChangesetWriter(Layer upper, MergedTree merged, TarOutput tar, LongUnaryOperator mtime) {
        this.upper = upper;
        this.merged = merged;
        this.tar = tar;
        this.mtime = mtime;
    }

    /** Members written so far, whiteouts and opaque marks included. */
    long members() {
        return members;
    }

    /** What was left out, one line each. */
    List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Writes every member of the layer; the archive is finished by the caller. */
    void write() throws IOException {
        EntryAttributes root = upper.stat(EntryPath.ROOT)
                .orElseThrow(() -> new IOException(upper.description() + " has no root directory"));
        if (!root.isDirectory()) {
            throw new IOException(upper.description() + " is not a directory");
        }
        // The root has no member of its own (an image's root is the container's), but may be opaque.
        if (root.opaque()) {
            mark("", root);
        }
        Deque<Item> pending = new ArrayDeque<>();
        children(new Item(EntryPath.ROOT, new byte[0], root, false, false), pending);
        while (!pending.isEmpty()) {
            Item item = pending.pop();
            if (item.attributes().isDirectory()) {
                directory(item, pending);
            } else {
                nonDirectory(item);
            }
        }
    }

    private void directory(Item item, Deque<Item> pending) throws IOException {
        EntryAttributes a = item.attributes();
        String name = item.path().relativeString() + "/";
        header(name, TarOutput.DIRECTORY, "", a, 0, xattrs(item));
        if (!item.below() && renamed(a)) {
            if (merged == null) {
                throw new IOException(display(item.path()) + " is a renamed directory (its overlay redirect is \""
                        + a.redirect() + "\") whose content lies in the lower layers, which an image layer cannot point to: "
                        + "give the lower layers (lowerdir) to write it with its merged content");
            }
            mark(name, a);
            children(new Item(item.path(), item.sortName(), a, item.fromMerged(), true), pending);
            return;
        }
        if (!item.below() && a.opaque()) {
            mark(name, a);
        }
        children(item, pending);
    }

    /** A directory the kernel renamed keeps its redirect until it is made opaque. */
    private static boolean renamed(EntryAttributes a) {
        return a.redirect() != null && !a.opaque();
    }

    /** Pushes the entries of a directory, so that they come off the stack in name order. */
    private void children(Item dir, Deque<Item> pending) throws IOException {
        List<Item> items = new ArrayList<>();
        if (dir.below()) {
            for (String name : merged.list(dir.path())) {
                items.add(mergedChild(dir.path().resolve(name)));
            }
        } else {
            List<String> names;
            try (Stream<DirectoryEntry> entries = upper.list(dir.path())) {
                names = entries.map(DirectoryEntry::name).toList();
            }
            for (String name : names) {
                EntryPath path = dir.path().resolve(name);
                // stat, not the listing's type: it is the lookup rule, the one the overlay follows.
                Optional<EntryAttributes> found = upper.stat(path);
                if (found.isEmpty()) {
                    // Leaving it out would write a layer without it: a name that is not UTF-8 comes back changed.
                    throw new IOException(display(path) + " is listed but cannot be looked up: its name is not valid UTF-8, "
                            + "or it was removed while the layer was written");
                }
                if (name.startsWith(WHITEOUT_PREFIX)) {
                    throw new IOException(display(path) + ": a name starting with " + WHITEOUT_PREFIX
                            + " would read back from an image layer as a whiteout");
                }
                String inLayer = found.get().isWhiteout() ? WHITEOUT_PREFIX + name : name;
                items.add(new Item(path, utf8(inLayer), found.get(), false, false));
            }
        }
        items.sort(Comparator.comparing(Item::sortName, BYTE_ORDER));
        items.reversed().forEach(pending::push);
    }

    /** An entry below a renamed directory: the upper dir's own where it has one, else the merged view's. */
    private Item mergedChild(EntryPath path) throws IOException {
        Optional<EntryAttributes> own;
        try {
            own = upper.stat(path);
        } catch (IOException e) {
            if (Errno.of(e) != Errno.ENOTDIR) {
                throw e;
            }
            own = Optional.empty();
        }
        byte[] sortName = utf8(path.fileName());
        if (own.isPresent() && !own.get().isWhiteout()) {
            return new Item(path, sortName, own.get(), false, true);
        }
        return new Item(path, sortName, merged.stat(path), true, true);
    }

    private void nonDirectory(Item item) throws IOException {
        EntryAttributes a = item.attributes();
        EntryPath path = item.path();
        String name = path.relativeString();
        if (a.isWhiteout()) {
            String parent = path.parent().relativeString();
            header((parent.isEmpty() ? "" : parent + "/") + WHITEOUT_PREFIX + path.fileName(), TarOutput.REGULAR, "",
                    marker(a), 0, Map.of());
            return;
        }
        byte type = switch (a.type()) {
            case REGULAR_FILE -> TarOutput.REGULAR;
            case SYMLINK -> TarOutput.SYMLINK;
            case CHARACTER_DEVICE -> TarOutput.CHARACTER_DEVICE;
            case BLOCK_DEVICE -> TarOutput.BLOCK_DEVICE;
            case FIFO -> TarOutput.FIFO;
            default -> 0;
        };
        if (type == 0) {
            warnings.add(display(path) + " is a " + a.type().toString().toLowerCase(java.util.Locale.ROOT)
                    + ", which a tar cannot hold: left out");
            return;
        }
        if (a.nlink() > 1) {
            String first = firstNames.putIfAbsent(new LinkKey(item.fromMerged(), a.inode()), name);
            if (first != null) {
                header(name, TarOutput.HARD_LINK, first, a, 0, Map.of());
                return;
            }
        }
        switch (a.type()) {
            case REGULAR_FILE -> regularFile(item, name);
            case SYMLINK -> header(name, type, item.fromMerged() ? merged.readLink(path) : upper.readLink(path), a, 0, xattrs(item));
            default -> header(name, type, "", a, a.rdev(), xattrs(item));
        }
    }

    private void regularFile(Item item, String name) throws IOException {
        EntryAttributes a = item.attributes();
        boolean metacopy = !item.fromMerged() && upper.readOverlayXattr(item.path(), "metacopy").isPresent();
        if (metacopy && merged == null) {
            throw new IOException(display(item.path()) + " is a metadata-only copy-up (overlay metacopy) whose data lies in "
                    + "the lower layers: give the lower layers (lowerdir) to write it with its data");
        }
        try (ReadableContent data = metacopy ? readable(merged.metacopyData(item.path()))
                : item.fromMerged() ? readable(merged.open(item.path())) : upper.openRead(item.path())) {
            if (metacopy && data.size() != a.size()) {
                throw new IOException(display(item.path()) + " is a metacopy of " + a.size() + " bytes, but its data in the "
                        + "lower layers has " + data.size());
            }
            header(name, TarOutput.REGULAR, "", a, 0, xattrs(item));
            long position = 0;
            while (position < a.size()) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), a.size() - position));
                int n = data.read(buffer, position);
                if (n < 0) {
                    throw new IOException(display(item.path()) + " became shorter while it was written (" + position
                            + " of " + a.size() + " bytes)");
                }
                buffer.flip();
                tar.data(buffer);
                position += n;
            }
        }
    }

    /** A whiteout or opaque mark: an empty file whose metadata means nothing, but its time. */
    private static EntryAttributes marker(EntryAttributes of) {
        return new EntryAttributes(EntryType.REGULAR_FILE, 0, 0, 0, 0, 0, of.mtimeNanos(), of.mtimeNanos(),
                of.mtimeNanos(), 1, 0, 0, false, null);
    }

    private void mark(String directoryName, EntryAttributes directory) throws IOException {
        header(directoryName + OPAQUE_MARK, TarOutput.REGULAR, "", marker(directory), 0, Map.of());
    }

    private void header(String name, byte type, String linkName, EntryAttributes a, long rdev, Map<String, byte[]> xattrs)
            throws IOException {
        long size = type == TarOutput.REGULAR ? a.size() : 0;
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        tar.header(new TarOutput.Header(name, type, linkName, a.permissions(), Integer.toUnsignedLong(a.uid()),
                Integer.toUnsignedLong(a.gid()), size, mtime.applyAsLong(a.mtimeNanos()), major, minor, xattrs));
        members++;
    }

    /** The entry's xattrs, overlay-private ones left out, in byte order of their names. */
    private Map<String, byte[]> xattrs(Item item) throws IOException {
        List<String> names = item.fromMerged() ? merged.listXattrs(item.path()) : upper.listXattrs(item.path());
        if (names.isEmpty()) {
            return Map.of();
        }
        List<String> kept = new ArrayList<>();
        for (String name : names) {
            if (OVERLAY_XATTR_PREFIXES.stream().noneMatch(name::startsWith)) {
                kept.add(name);
            }
        }
        kept.sort(Comparator.comparing(ChangesetWriter::utf8, BYTE_ORDER));
        Map<String, byte[]> values = new LinkedHashMap<>();
        for (String name : kept) {
            Optional<byte[]> value = item.fromMerged() ? merged.readXattr(item.path(), name)
                    : upper.readXattr(item.path(), name);
            value.ifPresent(v -> values.put(name, v));
        }
        return values;
    }

    private String display(EntryPath path) {
        String layer = upper.description();
        return layer.endsWith("/") ? layer + path.relativeString() : layer + path;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A regular file's bytes, from a layer or from an overlay. */
    /** A file read through a read-only overlay, as the content a layer's file is read as. */
    private static ReadableContent readable(OverlayFile file) {
        return new ReadableContent() {
            @Override
            public long size() throws IOException {
                return file.size();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return file.read(dst, position);
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }
}
