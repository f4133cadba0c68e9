package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.spi.LayerProvider;
import dev.overlay4j.testkit.LayerProviderContract;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

class NioLayerProviderTest extends LayerProviderContract {

    @Override
    protected LayerProvider provider() {
        return new NioLayerProvider();
    }

    @Override
    protected URI existingLowerLocation(Path scratch) throws IOException {
        return Files.createDirectories(scratch.resolve("lower")).toUri();
    }

    @Override
    protected URI missingLocation(Path scratch) {
        return scratch.resolve("missing-layer").toUri();
    }

    @Override
    protected boolean supportsUpper() {
        return true;
    }

    @Override
    protected URI[] upperAndWorkLocations(Path scratch) throws IOException {
        return new URI[] {Files.createDirectories(scratch.resolve("upper")).toUri(),
                Files.createDirectories(scratch.resolve("work")).toUri()};
    }

    private Path jar() throws IOException {
        Path jar = scratch.resolve("app.jar");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new ZipEntry("top.txt"));
            out.write("top".getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new ZipEntry("sub/dir/inner.txt"));
            out.write("inner".getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    @Test
    void schemesAreFileJarAndTheInstalledNioProviders() {
        assertTrue(provider().schemes().containsAll(java.util.Set.of("file", "jar", "jrt")));
        assertTrue(Layers.installedSchemes().contains("file"));
    }

    @Test
    void aJarUriWithASubtreeOpensThatSubtree() throws IOException {
        URI uri = URI.create("jar:" + jar().toUri() + "!/sub/dir/");
        try (Layer layer = Layers.openLower(uri.toString(), LayerOptions.DEFAULTS)) {
            assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("inner.txt")).orElseThrow().type());
            assertTrue(layer.stat(EntryPath.of("top.txt")).isEmpty());
            try (ReadableContent content = layer.openRead(EntryPath.of("inner.txt"))) {
                ByteBuffer buffer = ByteBuffer.allocate(5);
                content.read(buffer, 0);
                assertArrayEquals("inner".getBytes(StandardCharsets.UTF_8), buffer.array());
            }
        }
    }

    @Test
    void aPlainPathToAJarOpensItAsAZipLayerWithDefaultPermissionsAndTheProcessOwner() throws IOException {
        try (Layer layer = Layers.openLower(jar().toString(), LayerOptions.DEFAULTS)) {
            var file = layer.stat(EntryPath.of("top.txt")).orElseThrow();
            assertEquals(0644, file.permissions());
            assertEquals(LinuxCalls.geteuid(), file.uid());
            var dir = layer.stat(EntryPath.of("sub")).orElseThrow();
            assertEquals(EntryType.DIRECTORY, dir.type());
            assertEquals(0755, dir.permissions());
            assertEquals(file.inode(), layer.stat(EntryPath.of("top.txt")).orElseThrow().inode());
        }
    }

    @Test
    void anyInstalledNioFilesystemOpensAsALowerLayer() throws IOException {
        try (Layer layer = Layers.openLower("jrt:/java.base", LayerOptions.DEFAULTS)) {
            assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("java/lang/Object.class")).orElseThrow().type());
        }
    }

    @Test
    void readOnlyStoresCannotBeAnUpperLayer() throws IOException {
        URI jar = URI.create("jar:" + jar().toUri() + "!/");
        IOException thrown = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> provider().openUpper(jar, scratch.toUri(), LayerOptions.DEFAULTS));
        assertEquals(Errno.EOPNOTSUPP, Errno.of(thrown));
    }
}
