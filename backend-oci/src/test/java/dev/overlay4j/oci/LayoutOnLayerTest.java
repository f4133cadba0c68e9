package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code oci:URI}: an image layout that lies in another layer (here a zip file and a directory layer) is read through it. */
class LayoutOnLayerTest {

    @TempDir
    Path tmp;

    /** The blob files of the image's layers and of its manifest, once {@link #layout} made them. */
    private final List<Path> layerBlobs = new ArrayList<>();
    private Path manifestBlob;

    /** A layout of a two-layer image: a plain tar below, a gzip tar of 20,200 members above. */
    private ImageLayoutWriter layout() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("layout"));
        List<String> layers = List.of(
                image.blob(ImageLayoutWriter.TAR, new TarWriter().add(TarWriter.file("base", "b\n")).bytes(), ""),
                image.blob(ImageLayoutWriter.TAR_GZIP, IndexCacheTest.twentyThousandMembers().gzipBytes(), ""));
        String manifest = image.manifest(layers, ImageLayoutWriter.ref("latest"));
        image.topIndex(List.of(manifest));
        for (String layer : layers) {
            layerBlobs.add(blobFile(image, layer));
        }
        manifestBlob = blobFile(image, manifest);
        return image;
    }

    private static Path blobFile(ImageLayoutWriter image, String descriptor) {
        return image.dir.resolve("blobs/sha256").resolve(descriptor.replaceAll(".*\"digest\": \"sha256:([0-9a-f]+)\".*", "$1"));
    }

    private Path zip(Path dir) throws IOException {
        Path zip = tmp.resolve("layout.zip");
        try (FileSystem fs = FileSystems.newFileSystem(zip, Map.of("create", "true"));
             Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.toList()) {
                Path target = fs.getPath("/", dir.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        return zip;
    }

    private static List<Map<String, String>> snapshots(List<Layer> layers) throws IOException {
        List<Map<String, String>> snapshots = new ArrayList<>();
        try {
            for (Layer layer : layers) {
                snapshots.add(LayerSnapshot.of(layer, true));
            }
        } finally {
            for (Layer layer : layers) {
                layer.close();
            }
        }
        return snapshots;
    }

    @Test
    void aLayoutInAZipFileOrADirectoryLayerShowsWhatTheLocalLayoutShows() throws IOException {
        ImageLayoutWriter image = layout();
        LayerOptions options = new LayerOptions(false, Map.of(IndexCache.OPTION, "off"));
        List<Map<String, String>> local = snapshots(Layers.openLowers("oci:" + image.dir + "?ref=latest", options));
        assertEquals(2, local.size());
        assertEquals(20_203, local.get(0).size());

        Path zip = zip(image.dir);
        assertEquals(local, snapshots(Layers.openLowers("oci:" + zip.toUri() + "?ref=latest&indexCache=off", LayerOptions.DEFAULTS)));
        assertEquals(local, snapshots(Layers.openLowers("oci:" + image.dir.toUri() + "?ref=latest", options)));
    }

    /** A layer that counts the bytes read from its files and whether it is closed. */
    private static final class CountingLayer implements Layer {
        final Layer layer;
        final AtomicLong bytesRead = new AtomicLong();
        boolean closed;

        CountingLayer(Layer layer) {
            this.layer = layer;
        }

        @Override
        public String description() {
            return "counting " + layer.description();
        }

        @Override
        public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
            return layer.stat(path);
        }

        @Override
        public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
            return layer.list(directory);
        }

        @Override
        public ReadableContent openRead(EntryPath file) throws IOException {
            ReadableContent content = layer.openRead(file);
            return new ReadableContent() {
                @Override
                public long size() throws IOException {
                    return content.size();
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    int n = content.read(dst, position);
                    bytesRead.addAndGet(Math.max(n, 0));
                    return n;
                }

                @Override
                public void close() throws IOException {
                    content.close();
                }
            };
        }

        @Override
        public String readLink(EntryPath link) throws IOException {
            return layer.readLink(link);
        }

        @Override
        public List<String> listXattrs(EntryPath path) throws IOException {
            return layer.listXattrs(path);
        }

        @Override
        public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
            return layer.readXattr(path, name);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            layer.close();
        }
    }

    private static List<Layer> open(CountingLayer layer, IndexCache cache) throws IOException {
        try (LayoutFiles files = new LayoutFiles.InLayer(layer, EntryPath.ROOT)) {
            return OciLayerProvider.openLayers(files, "counted layout", "latest", Platform.host(), cache);
        }
    }

    @Test
    void withTheIndexesCachedOpeningReadsOnlyTheLayoutsSmallFilesAndTheLastLayerClosesTheLayout() throws IOException {
        ImageLayoutWriter image = layout();
        Path zip = zip(image.dir);
        long layoutFiles = Files.size(image.dir.resolve("index.json")) + Files.size(manifestBlob);
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        CountingLayer first = new CountingLayer(Layers.openLower(zip.toString(), LayerOptions.DEFAULTS));
        List<Layer> opened = open(first, cache);
        long gzipBlob = Files.size(layerBlobs.get(1));
        assertTrue(first.bytesRead.get() >= layoutFiles + gzipBlob, "the first open read the gzip layer whole: " + first.bytesRead.get());
        List<Map<String, String>> expected = snapshots(opened);
        assertTrue(first.closed);

        CountingLayer second = new CountingLayer(Layers.openLower(zip.toString(), LayerOptions.DEFAULTS));
        List<Layer> layers = open(second, cache);
        assertEquals(layoutFiles, second.bytesRead.get(), "index.json and the manifest alone: no byte of a layer");
        layers.getFirst().close();
        assertTrue(!second.closed, "one layer still uses the zip");
        assertEquals(expected.get(1), LayerSnapshot.of(layers.get(1), true));
        layers.get(1).close();
        assertTrue(second.closed, "the last layer closed the zip");
    }
}
