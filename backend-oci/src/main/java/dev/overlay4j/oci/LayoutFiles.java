package dev.overlay4j.oci;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the files of an OCI image layout are read from: a local directory, or a directory of
 * any other layer (an S3 prefix, a zip file...), whose files are read with its positional reads
 * and so through whatever that layer caches. Paths are relative to the layout's root, with
 * {@code /} between names.
 */
sealed interface LayoutFiles extends Closeable {

    /** Whether the layout's root is a directory. */
    boolean isDirectory() throws IOException;

    /** Whether {@code path} is a regular file. */
    boolean isFile(String path) throws IOException;

    long size(String path) throws IOException;

    byte[] readAll(String path) throws IOException;

    /** A layer blob, for a {@link TarLayer}, which closes it. */
    Blob open(String path, String description) throws IOException;

    /** How to name {@code path} in messages. */
    String describe(String path);

    /** Closes what the layout holds once the blobs opened from it are closed too. */
    @Override
    void close() throws IOException;

    /** A layout in a local directory. */
    record Local(Path dir) implements LayoutFiles {
        @Override
        public boolean isDirectory() {
            return Files.isDirectory(dir);
        }

        @Override
        public boolean isFile(String path) {
            return Files.isRegularFile(dir.resolve(path));
        }

        @Override
        public long size(String path) throws IOException {
            return Files.size(dir.resolve(path));
        }

        @Override
        public byte[] readAll(String path) throws IOException {
            return Files.readAllBytes(dir.resolve(path));
        }

        @Override
        public Blob open(String path, String description) throws IOException {
            Path file = dir.resolve(path);
            if (!Files.isRegularFile(file)) {
                throw Errno.ENOENT.exception(file, "the blob of layer " + description + " is missing from the layout");
            }
            return new FileBlob(file);
        }

        @Override
        public String describe(String path) {
            return dir.resolve(path).toString();
        }

        @Override
        public void close() {
        }
    }

    /**
     * A layout in a directory of another layer, which stays open while the layout or any blob
     * opened from it is: the last to close closes it.
     */
    final class InLayer implements LayoutFiles {
        private final Layer layer;
        private final EntryPath root;
        private int users = 1;

        InLayer(Layer layer, EntryPath root) {
            this.layer = layer;
            this.root = root;
        }

        private Optional<EntryAttributes> stat(String path) throws IOException {
            return layer.stat(path.isEmpty() ? root : root.resolve(EntryPath.of(path)));
        }

        @Override
        public boolean isDirectory() throws IOException {
            return stat("").map(a -> a.type() == EntryType.DIRECTORY).orElse(false);
        }

        @Override
        public boolean isFile(String path) throws IOException {
            return stat(path).map(a -> a.type() == EntryType.REGULAR_FILE).orElse(false);
        }

        @Override
        public long size(String path) throws IOException {
            return stat(path).orElseThrow(() -> Errno.ENOENT.exception(describe(path))).size();
        }

        @Override
        public byte[] readAll(String path) throws IOException {
            try (ContentBlob blob = new ContentBlob(layer.openRead(root.resolve(EntryPath.of(path))), describe(path), null)) {
                ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(blob.size()));
                blob.read(bytes, 0);
                if (bytes.hasRemaining()) {
                    throw Errno.EIO.exception(describe(path), "shorter than its size");
                }
                return bytes.array();
            }
        }

        @Override
        public Blob open(String path, String description) throws IOException {
            if (!isFile(path)) {
                throw Errno.ENOENT.exception(describe(path), "the blob of layer " + description + " is missing from the layout");
            }
            ReadableContent content = layer.openRead(root.resolve(EntryPath.of(path)));
            synchronized (this) {
                users++;
            }
            return new ContentBlob(content, describe(path), this);
        }

        @Override
        public String describe(String path) {
            return layer.description() + " " + (path.isEmpty() ? root : root.resolve(EntryPath.of(path)));
        }

        @Override
        public void close() throws IOException {
            boolean last;
            synchronized (this) {
                last = --users == 0;
            }
            if (last) {
                layer.close();
            }
        }
    }

    /** A file of another layer as a blob. */
    final class ContentBlob implements Blob {
        private final ReadableContent content;
        private final String description;
        private final long size;
        private final LayoutFiles owner;

        ContentBlob(ReadableContent content, String description, LayoutFiles owner) throws IOException {
            this.content = content;
            this.description = description;
            this.size = content.size();
            this.owner = owner;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            int total = 0;
            while (dst.hasRemaining()) {
                int n = content.read(dst, position + total);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
            return total;
        }

        @Override
        public String describe() {
            return description;
        }

        @Override
        public void close() throws IOException {
            try {
                content.close();
            } finally {
                if (owner != null) {
                    owner.close();
                }
            }
        }
    }
}
