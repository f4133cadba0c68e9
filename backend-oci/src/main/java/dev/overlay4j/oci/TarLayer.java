package dev.overlay4j.oci;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One image layer, a tar archive, as a read-only layer. Its {@link LayerIndex} (read from the
 * {@link IndexCache}, or by one pass over the archive) becomes a {@link TarTree} when it opens; a
 * file's bytes are read from the archive when asked for. The tree is immutable once built, so
 * reads need no locks.
 */
final class TarLayer implements Layer {

    private final String description;
    private final ArchiveBytes archive;
    private final TarTree tree;

    private TarLayer(String description, ArchiveBytes archive, TarTree tree) {
        this.description = description;
        this.archive = archive;
        this.tree = tree;
    }

    /**
     * Opens the tar archive {@code file}, plain or compressed, as a loose file: its index is
     * cached under the file's path, inode, size and times.
     */
    static TarLayer open(Path file, String description, IndexCache cache) throws IOException {
        checkArchive(file, description);
        return open(file, IndexKey.ofFile(file), description, cache);
    }

    /** Opens the tar archive {@code file}, whose index is cached under {@code key}. */
    static TarLayer open(Path file, IndexKey key, String description, IndexCache cache) throws IOException {
        checkArchive(file, description);
        Blob blob;
        try {
            blob = new FileBlob(file);
        } catch (IOException e) {
            throw Errno.EIO.exception(file, "cannot open the archive of layer " + description + ": " + e.getMessage());
        }
        return open(blob, key, description, cache);
    }

    private static void checkArchive(Path file, String description) throws IOException {
        if (!Files.exists(file)) {
            throw Errno.ENOENT.exception(file, "the archive of layer " + description + " does not exist; fix the path");
        }
        if (!Files.isRegularFile(file)) {
            throw Errno.EINVAL.exception(file, "layer " + description + " names an archive, but this is not a regular file");
        }
    }

    /**
     * Opens the archive in {@code blob}: its index from {@code cache} when it holds one for
     * {@code key}, else by reading every header once (and keeping the index there). Closes the
     * blob when it fails.
     */
    static TarLayer open(Blob blob, IndexKey key, String description, IndexCache cache) throws IOException {
        try {
            LayerIndex index = cache.load(key, blob.size()).orElse(null);
            if (index != null && index.outdated()) {
                index.discard();
                index = null;
            }
            if (index == null) {
                index = LayerIndex.build(blob, GzipIndexer.DEFAULT_INTERVAL);
                // Read back what was kept: its checkpoints' windows then stay on disk, not in memory.
                index = cache.store(key, index).orElse(index);
            }
            return new TarLayer(description, index.archive(blob), TarTree.of(index.entries(), description));
        } catch (IOException | RuntimeException e) {
            try {
                blob.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof FileSystemException) {
                throw e;
            }
            throw Errno.EIO.exception(blob.describe(), "cannot read layer " + description + " as a tar archive: " + e.getMessage());
        }
    }

    /** The members refused while reading the layer, with why. */
    List<String> refused() {
        return tree.refused();
    }

    @Override
    public String description() {
        return description;
    }

    private FileSystemException error(Errno errno, EntryPath path, String detail) {
        return errno.exception(path.toString(), null, (detail == null ? "" : detail + "; ") + "in layer " + description);
    }

    /** The directory that holds {@code path}'s last name, null when missing; ENOTDIR through a non-directory. */
    private TarTree.Node parentOf(EntryPath path) throws IOException {
        TarTree.Node node = tree.root();
        for (int i = 0; i < path.nameCount() - 1; i++) {
            node = node.children.get(path.name(i));
            if (node == null) {
                return null;
            }
            if (!node.isDirectory()) {
                throw error(Errno.ENOTDIR, path, null);
            }
        }
        return node;
    }

    /** The node at {@code path}, or null when no entry (or only a whiteout) has that name. */
    private TarTree.Node node(EntryPath path) throws IOException {
        if (path.isRoot()) {
            return tree.root();
        }
        TarTree.Node parent = parentOf(path);
        return parent == null ? null : parent.children.get(path.fileName());
    }

    private TarTree.Node existing(EntryPath path) throws IOException {
        TarTree.Node node = node(path);
        if (node == null) {
            throw error(Errno.ENOENT, path, null);
        }
        return node;
    }

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        if (path.isRoot()) {
            return Optional.of(attributes(tree.root()));
        }
        TarTree.Node parent = parentOf(path);
        if (parent == null) {
            return Optional.empty();
        }
        TarTree.Node node = parent.children.get(path.fileName());
        if (node != null) {
            return Optional.of(attributes(node));
        }
        Long whiteout = parent.whiteouts.get(path.fileName());
        return whiteout == null ? Optional.empty() : Optional.of(whiteout(whiteout));
    }

    private static EntryAttributes attributes(TarTree.Node node) {
        TarTree.Inode i = node.inode;
        return new EntryAttributes(i.type, i.permissions, i.uid, i.gid, i.size, (i.size + 511) / 512,
                i.atimeNanos, i.mtimeNanos, i.ctimeNanos, i.nlink, i.number, i.rdev, node.opaque, null);
    }

    private static EntryAttributes whiteout(long inode) {
        return new EntryAttributes(EntryType.WHITEOUT, 0, 0, 0, 0, 0, 0, 0, 0, 1, inode, 0, false, null);
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
        TarTree.Node dir = existing(directory);
        if (!dir.isDirectory()) {
            throw error(Errno.ENOTDIR, directory, null);
        }
        List<DirectoryEntry> entries = new ArrayList<>(dir.children.size() + dir.whiteouts.size());
        for (Map.Entry<String, TarTree.Node> child : dir.children.entrySet()) {
            entries.add(new DirectoryEntry(child.getKey(), child.getValue().inode.type, child.getValue().inode.number));
        }
        for (Map.Entry<String, Long> whiteout : dir.whiteouts.entrySet()) {
            if (!dir.children.containsKey(whiteout.getKey())) { // a real entry wins over a mark in its own layer
                entries.add(new DirectoryEntry(whiteout.getKey(), EntryType.WHITEOUT, whiteout.getValue()));
            }
        }
        return entries.stream();
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        TarTree.Node node = existing(file);
        switch (node.inode.type) {
            case REGULAR_FILE -> {
                return new MemberContent(node.inode, file);
            }
            case DIRECTORY -> throw error(Errno.EISDIR, file, null);
            case SYMLINK -> throw error(Errno.ELOOP, file, "a symlink is not followed");
            default -> throw error(Errno.EINVAL, file, "not a regular file");
        }
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        TarTree.Node node = existing(link);
        if (node.inode.type != EntryType.SYMLINK) {
            throw error(Errno.EINVAL, link, "not a symlink");
        }
        return node.inode.target;
    }

    /** Overlay marks a tar of an overlayfs directory may carry: this layer's marks are its {@code .wh.} members. */
    private static boolean isOverlayMark(String xattr) {
        return xattr.startsWith("trusted.overlay.") || xattr.startsWith("user.overlay.");
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        List<String> names = new ArrayList<>();
        for (String name : existing(path).inode.xattrs.keySet()) {
            if (!isOverlayMark(name)) {
                names.add(name);
            }
        }
        return names;
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        byte[] value = existing(path).inode.xattrs.get(name);
        return value == null || isOverlayMark(name) ? Optional.empty() : Optional.of(value.clone());
    }

    @Override
    public void close() throws IOException {
        archive.close();
    }

    @Override
    public String toString() {
        return "TarLayer[" + description + "]";
    }

    /** A regular file's bytes: its stretch of the uncompressed archive. */
    private final class MemberContent implements ReadableContent {
        private final TarTree.Inode inode;
        private final EntryPath path;

        MemberContent(TarTree.Inode inode, EntryPath path) {
            this.inode = inode;
            this.path = path;
        }

        @Override
        public long size() {
            return inode.size;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (position < 0) {
                throw error(Errno.EINVAL, path, "negative read position " + position);
            }
            if (position >= inode.size) {
                return -1;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            int want = (int) Math.min(dst.remaining(), inode.size - position);
            ByteBuffer window = dst.slice(dst.position(), want);
            int n;
            try {
                n = archive.read(window, inode.dataOffset + position);
            } catch (FileSystemException e) {
                throw e;
            } catch (IOException e) {
                throw error(Errno.EIO, path, e.getMessage());
            }
            if (n < want) {
                throw error(Errno.EIO, path, "the archive ends inside this file's data (truncated layer?)");
            }
            dst.position(dst.position() + n);
            return n;
        }

        @Override
        public Optional<EntryAttributes> stat() {
            return Optional.empty();
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return path + " in layer " + description;
        }
    }
}
