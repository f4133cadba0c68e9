package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the directory layer stores and reads overlay marks: the xattr prefix and the layer tools' xattr whiteouts. */
class OverlayMarksTest {

    @TempDir
    Path scratch;
    final NioLayerProvider provider = new NioLayerProvider();
    final NewEntryAttributes owned = new NewEntryAttributes(0755, LinuxCalls.geteuid(), LinuxCalls.getegid());

    private WritableLayer upper(LayerOptions options) throws IOException {
        Path upper = Files.createDirectories(scratch.resolve("upper"));
        Path work = Files.createDirectories(scratch.resolve("work"));
        return provider.openUpper(upper.toUri(), work.toUri(), options);
    }

    @Test
    void withUserxattrMarksLiveInUserOverlayAndAreHidden() throws IOException {
        LayerOptions userxattr = new LayerOptions(true, Map.of());
        try (WritableLayer layer = upper(userxattr)) {
            layer.createDirectory(EntryPath.of("d"), owned);
            layer.setOpaque(EntryPath.of("d"), true);
            layer.setRedirect(EntryPath.of("d"), "/elsewhere");
            assertEquals(List.of(), layer.listXattrs(EntryPath.of("d")));
        }
        UserDefinedFileAttributeView view = Files.getFileAttributeView(scratch.resolve("upper/d"), UserDefinedFileAttributeView.class);
        assertEquals(List.of("overlay.opaque", "overlay.redirect"), view.list().stream().sorted().toList());
        ByteBuffer value = ByteBuffer.allocate(1);
        view.read("overlay.opaque", value);
        assertEquals('y', value.get(0));
        try (Layer lower = provider.openLower(scratch.resolve("upper").toUri(), userxattr);
             Layer trusted = provider.openLower(scratch.resolve("upper").toUri(), LayerOptions.DEFAULTS)) {
            assertTrue(lower.stat(EntryPath.of("d")).orElseThrow().opaque());
            assertEquals("/elsewhere", lower.stat(EntryPath.of("d")).orElseThrow().redirect());
            assertFalse(trusted.stat(EntryPath.of("d")).orElseThrow().opaque(), "without userxattr, user.overlay.* is no mark");
        }
    }

    @Test
    void xattrWhiteoutsAreWhiteoutsToLookupsAndHiddenFromListingsWhereTheDirectoryIsMarkedOpaqueX() throws IOException {
        try (WritableLayer layer = upper(LayerOptions.DEFAULTS)) {
            layer.createDirectory(EntryPath.of("d"), owned);
            layer.writeOverlayXattr(EntryPath.of("d"), "opaque", new byte[] {'x'});
            layer.createFile(EntryPath.of("d/gone"), owned).close();
            layer.writeOverlayXattr(EntryPath.of("d/gone"), "whiteout", new byte[0]);
            layer.createFile(EntryPath.of("d/empty"), owned).close();
            layer.createDirectory(EntryPath.of("plain"), owned);
            layer.createFile(EntryPath.of("plain/marked"), owned).close();
            layer.writeOverlayXattr(EntryPath.of("plain/marked"), "whiteout", new byte[0]);

            assertFalse(layer.stat(EntryPath.of("d")).orElseThrow().opaque(), "opaque=x means: holds xattr whiteouts");
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("d/gone")).orElseThrow().type());
            assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("d/empty")).orElseThrow().type());
            // As the kernel (6.18, measured): its lookup takes the file for a whiteout in any
            // directory, its readdir checks (and hides) such files only where the directory is marked x.
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("plain/marked")).orElseThrow().type());
            try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of("plain"))) {
                assertEquals(Map.of("marked", EntryType.REGULAR_FILE),
                        entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type)));
            }
            try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of("d"))) {
                assertEquals(Map.of("gone", EntryType.WHITEOUT, "empty", EntryType.REGULAR_FILE),
                        entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type)));
            }
            assertArrayEquals(new byte[] {'x'}, layer.readOverlayXattr(EntryPath.of("d"), "opaque").orElseThrow());
        }
    }

    @Test
    void whiteoutsAreCharacterDevicesZeroZeroOnDisk() throws IOException {
        try (WritableLayer layer = upper(LayerOptions.DEFAULTS)) {
            layer.createWhiteout(EntryPath.of("w"));
        }
        Map<String, Object> unix = Files.readAttributes(scratch.resolve("upper/w"), "unix:mode,rdev",
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        assertEquals(0020000, (Integer) unix.get("mode"));
        assertEquals(0L, (Long) unix.get("rdev"));
    }

    @Test
    void statReportsTheNumbersOfLstat() throws IOException {
        Path dir = Files.createDirectories(scratch.resolve("lower"));
        Path file = Files.writeString(dir.resolve("f"), "12345");
        Files.createLink(dir.resolve("hard"), file);
        Map<String, Object> unix = Files.readAttributes(file, "unix:*", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        try (Layer layer = provider.openLower(dir.toUri(), LayerOptions.DEFAULTS)) {
            var a = layer.stat(EntryPath.of("f")).orElseThrow();
            assertEquals(((Number) unix.get("ino")).longValue(), a.inode());
            assertEquals(unix.get("uid"), a.uid());
            assertEquals(unix.get("gid"), a.gid());
            assertEquals(2, a.nlink());
            assertEquals(5, a.size());
            assertEquals(((Integer) unix.get("mode")) & 07777, a.permissions());
            assertEquals(((java.nio.file.attribute.FileTime) unix.get("lastModifiedTime")).to(java.util.concurrent.TimeUnit.NANOSECONDS),
                    a.mtimeNanos());
            try (Stream<DirectoryEntry> entries = layer.list(EntryPath.ROOT)) {
                for (Entry<String, Long> e : entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::inode)).entrySet()) {
                    assertEquals(a.inode(), e.getValue(), "listing inode of " + e.getKey());
                }
            }
        }
    }
}
