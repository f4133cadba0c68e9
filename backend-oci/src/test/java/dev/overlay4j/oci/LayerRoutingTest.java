package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which provider opens a local file: archives by their name's ending, everything else as before. */
class LayerRoutingTest {

    @TempDir
    Path tmp;

    @Test
    void tarFilesOpenAsImageLayersByTheirEndingInAnyCase() throws IOException {
        byte[] tar = new TarWriter().add(TarWriter.file("f", "x")).bytes();
        for (String name : new String[] {"a.tar", "b.TAR", "c.tar.gz", "d.tgz"}) {
            Path file = name.contains("gz") ? Files.write(tmp.resolve(name), new TarWriter().add(TarWriter.file("f", "x")).gzipBytes())
                    : Files.write(tmp.resolve(name), tar);
            try (Layer layer = Layers.openLower(file.toString(), LayerOptions.DEFAULTS)) {
                assertInstanceOf(TarLayer.class, layer, name);
                assertEquals(1, layer.stat(EntryPath.of("f")).orElseThrow().size());
            }
        }
    }

    @Test
    void zipFilesAndDirectoriesNamedLikeArchivesStayWithTheirProvider() throws IOException {
        Path zip = tmp.resolve("layer.zip");
        try (FileSystem fs = FileSystems.newFileSystem(zip, Map.of("create", "true"));
             OutputStream out = Files.newOutputStream(fs.getPath("/f"))) {
            out.write('z');
        }
        try (Layer layer = Layers.openLower(zip.toString(), LayerOptions.DEFAULTS)) {
            assertFalse(layer instanceof TarLayer);
            assertEquals(1, layer.stat(EntryPath.of("f")).orElseThrow().size());
        }
        Path dir = Files.createDirectories(tmp.resolve("unpacked.tar"));
        Files.writeString(dir.resolve("g"), "gg");
        try (Layer layer = Layers.openLower(dir.toString(), LayerOptions.DEFAULTS)) {
            assertFalse(layer instanceof TarLayer);
            assertEquals(2, layer.stat(EntryPath.of("g")).orElseThrow().size());
        }
    }
}
