package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Symlinks stored in a zip by {@code zip -y} are symlinks in the layer, with their targets. */
class ZipSymlinksTest {

    @TempDir
    Path scratch;

    private Path zipOf(Path tree) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/zip")), "SKIPPED: Info-ZIP's zip is not installed (apt-get install zip)");
        Path archive = scratch.resolve("layer.zip");
        Process zip = new ProcessBuilder("zip", "-q", "-r", "-y", archive.toString(), ".").directory(tree.toFile())
                .redirectErrorStream(true).start();
        String output = new String(zip.getInputStream().readAllBytes());
        assertEquals(0, zip.waitFor(), output);
        return archive;
    }

    @Test
    void symlinksOfAZipMadeWithZipYAreSymlinks() throws Exception {
        Path tree = Files.createDirectories(scratch.resolve("tree"));
        Files.createDirectories(tree.resolve("a"));
        Files.writeString(tree.resolve("a/file"), "content\n");
        Files.createSymbolicLink(tree.resolve("a/link"), Path.of("file"));
        Files.createSymbolicLink(tree.resolve("absolute"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(tree.resolve("dirlink"), Path.of("a"));
        Path archive = zipOf(tree);
        for (URI location : new URI[] {archive.toUri(), URI.create("jar:" + archive.toUri() + "!/")}) {
            try (Layer layer = new NioLayerProvider().openLower(location, LayerOptions.DEFAULTS)) {
                EntryAttributes link = layer.stat(EntryPath.of("a/link")).orElseThrow();
                assertEquals(EntryType.SYMLINK, link.type(), location.toString());
                assertEquals(4, link.size());
                assertEquals(0777, link.mode() & 07777);
                assertEquals("file", layer.readLink(EntryPath.of("a/link")));
                assertEquals("/etc/passwd", layer.readLink(EntryPath.of("absolute")));
                assertEquals(EntryType.SYMLINK, layer.stat(EntryPath.of("dirlink")).orElseThrow().type());
                assertEquals("a", layer.readLink(EntryPath.of("dirlink")));
                assertEquals(Errno.ELOOP, Errno.of(assertThrows(IOException.class, () -> layer.openRead(EntryPath.of("a/link")))));
                assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("a/file")).orElseThrow().type());
                assertEquals(Errno.EINVAL, Errno.of(assertThrows(IOException.class, () -> layer.readLink(EntryPath.of("a/file")))));
                Map<String, EntryType> listing = layer.list(EntryPath.of("a"))
                        .collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type));
                assertEquals(Map.of("file", EntryType.REGULAR_FILE, "link", EntryType.SYMLINK), listing);
            }
        }
    }

    @Test
    void aZipWithoutUnixModesHasNoSymlinks() throws Exception {
        Path archive = scratch.resolve("plain.zip");
        try (var fs = java.nio.file.FileSystems.newFileSystem(archive, Map.of("create", "true"))) {
            Files.writeString(fs.getPath("/link"), "file");
        }
        assertEquals(java.util.Set.of(), ZipSymlinks.of(archive));
    }
}
