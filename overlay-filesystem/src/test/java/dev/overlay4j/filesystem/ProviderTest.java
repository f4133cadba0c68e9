package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProviderTest {

    @TempDir
    Path dir;

    @Test
    void theOverlaySchemeIsInstalled() {
        assertTrue(java.nio.file.spi.FileSystemProvider.installedProviders().stream()
                .anyMatch(provider -> provider.getScheme().equals("overlay")));
    }

    @Test
    void aMissingLowerdirIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("upperdir", "/u", "workdir", "/w")));
        assertTrue(e.getMessage().contains("lowerdir"), e.getMessage());
    }

    @Test
    void aMissingLayerDirectoryIsNamed() {
        Path missing = dir.resolve("no-such-layer");
        IOException e = assertThrows(IOException.class,
                () -> FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("lowerdir", missing.toString())));
        assertTrue(String.valueOf(e.getMessage()).contains(missing.toString()), e.getMessage());
    }

    @Test
    void theConfigKeyTakesAWholeConfigurationWithLayersTheCallerOpened() throws IOException {
        Path top = Files.createDirectories(dir.resolve("top"));
        Path base = Files.createDirectories(dir.resolve("base"));
        Files.writeString(top.resolve("f"), "top");
        Files.writeString(base.resolve("f"), "base");
        Files.writeString(base.resolve("g"), "only in base");
        dev.overlay4j.api.Layer opened = dev.overlay4j.api.Layers.openLower(top.toString(),
                new dev.overlay4j.api.LayerOptions(false, Map.of()));
        dev.overlay4j.api.OverlayConfig config = dev.overlay4j.api.OverlayConfig.builder()
                .lower(opened).lower(base.toString()).build();
        try (FileSystem fs = FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("config", config))) {
            assertEquals("top", Files.readString(fs.getPath("/f")));
            assertEquals("only in base", Files.readString(fs.getPath("/g")));
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.writeString(fs.getPath("/g"), "x"));
        }
        IOException closed = assertThrows(IOException.class, () -> opened.stat(dev.overlay4j.api.EntryPath.ROOT));
        assertEquals(dev.overlay4j.api.Errno.EBADF, dev.overlay4j.api.Errno.of(closed), "the file system closed the layer");
    }

    @Test
    void theConfigKeyStandsAloneAndMustBeAConfiguration() {
        dev.overlay4j.api.OverlayConfig config = dev.overlay4j.api.OverlayConfig.builder().lower("/l").build();
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("config", config, "ro", true)));
        assertTrue(mixed.getMessage().contains("config"), mixed.getMessage());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("config", "lowerdir=/l")));
        assertTrue(wrong.getMessage().contains("OverlayConfig"), wrong.getMessage());
    }

    @Test
    void anonymousFileSystemsAreNewEachTimeAndTheirUrisRoundTrip() throws IOException {
        try (LayeredFileSystem a = LayeredFileSystem.readOnly(dir.resolve("a"));
             LayeredFileSystem b = LayeredFileSystem.readOnly(dir.resolve("b"))) {
            assertNotEquals(a.fs, b.fs);
            URI uri = a.path("/dir/a").toUri();
            assertEquals("overlay", uri.getScheme());
            assertEquals(a.path("/dir/a"), Path.of(uri));
            assertSame(a.fs, FileSystems.getFileSystem(uri));
        }
    }

    @Test
    void namedFileSystemsAreUniqueWhileOpen() throws IOException {
        Path lower = Files.createDirectories(dir.resolve("lower"));
        Files.writeString(lower.resolve("f"), "x");
        URI uri = URI.create("overlay://unique-name/");
        Map<String, Object> env = Map.of("lowerdir", lower.toString());
        FileSystem fs = FileSystems.newFileSystem(uri, env);
        try {
            assertThrows(FileSystemAlreadyExistsException.class, () -> FileSystems.newFileSystem(uri, env));
            assertSame(fs, FileSystems.getFileSystem(uri));
            Path f = Path.of(URI.create("overlay://unique-name/f"));
            assertEquals("x", Files.readString(f));
            assertEquals(URI.create("overlay://unique-name/f"), f.toUri());
        } finally {
            fs.close();
        }
        assertFalse(fs.isOpen());
        assertThrows(FileSystemNotFoundException.class, () -> FileSystems.getFileSystem(uri));
        assertThrows(ClosedFileSystemException.class, () -> Files.readString(fs.getPath("/f")));
        FileSystems.newFileSystem(uri, env).close(); // the name is free again
    }

    @Test
    void withoutUpperdirWritesThrowReadOnlyFileSystemException() throws IOException {
        try (LayeredFileSystem layers = LayeredFileSystem.readOnly(dir)) {
            assertTrue(layers.fs.isReadOnly());
            assertTrue(Files.getFileStore(layers.path("/")).isReadOnly());
            assertEquals("top", Files.readString(layers.path("/top.txt")));
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.writeString(layers.path("/top.txt"), "x"));
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.writeString(layers.path("/new"), "x"));
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.createDirectory(layers.path("/d")));
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.delete(layers.path("/top.txt")));
            assertThrows(ReadOnlyFileSystemException.class,
                    () -> Files.move(layers.path("/top.txt"), layers.path("/m"), StandardCopyOption.ATOMIC_MOVE));
            assertThrows(ReadOnlyFileSystemException.class,
                    () -> Files.setLastModifiedTime(layers.path("/top.txt"), FileTime.fromMillis(0)));
            assertThrows(ReadOnlyFileSystemException.class,
                    () -> Files.createSymbolicLink(layers.path("/l"), layers.path("top.txt")));
            assertFalse(Files.isWritable(layers.path("/top.txt")));
            assertTrue(Files.isReadable(layers.path("/top.txt")));
        }
    }

    @Test
    void theRoOptionMakesAnOverlayWithUpperReadOnly() throws IOException {
        try (LayeredFileSystem layers = LayeredFileSystem.writable(dir, Map.of("ro", "true"))) {
            assertTrue(layers.fs.isReadOnly());
            assertThrows(ReadOnlyFileSystemException.class, () -> Files.writeString(layers.path("/top.txt"), "x"));
        }
    }

    @Test
    void badUrisAreRefused() {
        Map<String, Object> env = Map.of("lowerdir", dir.toString());
        assertThrows(IllegalArgumentException.class, () -> FileSystems.newFileSystem(URI.create("overlay:/sub/dir"), env));
        assertThrows(FileSystemNotFoundException.class, () -> FileSystems.getFileSystem(URI.create("overlay://never-opened/")));
    }
}
