package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer directory as containers/storage unpacks an image layer for a mount program: its
 * whiteouts are {@code .wh.NAME} files and its opaque directories hold {@code .wh..wh..opq}.
 */
class ImageLayerWhiteoutsTest {

    @TempDir
    Path root;
    Layer layer;

    @BeforeEach
    void imageLayer() throws IOException {
        Files.createDirectories(root.resolve("etc/apt"));
        Files.writeString(root.resolve(".wh.gone"), "");
        Files.writeString(root.resolve(".wh.gonedir"), "");
        Files.writeString(root.resolve("etc/.wh.sources.list"), "");
        Files.writeString(root.resolve("etc/hostname"), "box\n");
        Files.writeString(root.resolve("kept"), "kept\n");
        Files.writeString(root.resolve(".wh.kept"), ""); // beside a real "kept" in the same layer
        Files.createDirectories(root.resolve("usr/share/doc"));
        Files.writeString(root.resolve("usr/share/doc/.wh..wh..opq"), "");
        Files.writeString(root.resolve("usr/share/doc/new"), "new\n");
        Files.createDirectories(root.resolve(".wh..wh.plnk"));
        Files.writeString(root.resolve(".wh..wh.plnk/123.1"), "aufs hard link store\n");
        Files.writeString(root.resolve(".wh..wh.aufs"), "");
        Files.writeString(root.resolve(".wh."), "");
        Files.createDirectories(root.resolve("fo"));
        UserDefinedFileAttributeView view = Files.getFileAttributeView(root.resolve("fo"), UserDefinedFileAttributeView.class);
        view.write("fuseoverlayfs.opaque", ByteBuffer.wrap(new byte[] {'y'}));
        view.write("kept", ByteBuffer.wrap(new byte[] {'1'}));
        layer = new NioLayerProvider().openLower(root.toUri(), LayerOptions.DEFAULTS);
    }

    @org.junit.jupiter.api.AfterEach
    void close() throws IOException {
        layer.close();
    }

    private Map<String, EntryType> listing(String dir) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of(dir))) {
            return entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type));
        }
    }

    private EntryAttributes stat(String path) throws IOException {
        return layer.stat(EntryPath.of(path)).orElseThrow(() -> new AssertionError(path + " not found"));
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    @Test
    void aWhiteoutFileHidesItsNameAndIsNeverAnEntry() throws IOException {
        assertEquals(EntryType.WHITEOUT, stat("gone").type());
        assertEquals(EntryType.WHITEOUT, stat("gonedir").type());
        assertEquals(EntryType.WHITEOUT, stat("etc/sources.list").type());
        EntryAttributes whiteout = stat("gone");
        assertEquals(0020000, whiteout.mode(), "described as the kernel's whiteout, a character device of mode 0");
        assertEquals(0, whiteout.rdev());
        assertEquals(Files.getAttribute(root.resolve(".wh.gone"), "unix:ino"), whiteout.inode());
        for (String mark : List.of(".wh.gone", "etc/.wh.sources.list", ".wh..wh.plnk", ".wh..wh.aufs", ".wh.",
                ".wh..wh.plnk/123.1", "usr/share/doc/.wh..wh..opq")) {
            assertTrue(layer.stat(EntryPath.of(mark)).isEmpty(), mark + " is a mark, not an entry");
        }
    }

    @Test
    void listingsShowWhiteoutsForTheNamesMarkedAndNoMarks() throws IOException {
        assertEquals(Map.of("gone", EntryType.WHITEOUT, "gonedir", EntryType.WHITEOUT, "kept", EntryType.REGULAR_FILE,
                "etc", EntryType.DIRECTORY, "usr", EntryType.DIRECTORY, "fo", EntryType.DIRECTORY), listing(""));
        assertEquals(Map.of("apt", EntryType.DIRECTORY, "hostname", EntryType.REGULAR_FILE,
                "sources.list", EntryType.WHITEOUT), listing("etc"));
        assertEquals(Map.of("new", EntryType.REGULAR_FILE), listing("usr/share/doc"));
    }

    @Test
    void aRealEntryWinsOverTheWhiteoutFileOfItsNameInTheSameLayer() throws IOException {
        assertEquals(EntryType.REGULAR_FILE, stat("kept").type());
        assertEquals(5, stat("kept").size());
    }

    @Test
    void aDirectoryHoldingTheOpaqueMarkOrFuseOverlayfsXattrIsOpaque() throws IOException {
        assertTrue(stat("usr/share/doc").opaque());
        assertTrue(stat("fo").opaque());
        assertFalse(stat("usr/share").opaque());
        assertFalse(stat("etc").opaque());
        assertEquals(List.of("user.kept"), layer.listXattrs(EntryPath.of("fo")), "fuse-overlayfs's xattrs are its marks");
        assertTrue(layer.readXattr(EntryPath.of("fo"), "user.fuseoverlayfs.opaque").isEmpty());
    }

    @Test
    void everyCallOnAMarkNameFailsWithEnoentAsOnTheMergedView() {
        assertErrno(Errno.ENOENT, () -> layer.openRead(EntryPath.of(".wh.gone")).close());
        assertErrno(Errno.ENOENT, () -> layer.openRead(EntryPath.of("usr/share/doc/.wh..wh..opq")).close());
        assertErrno(Errno.ENOENT, () -> layer.readLink(EntryPath.of(".wh.gone")));
        assertErrno(Errno.ENOENT, () -> layer.listXattrs(EntryPath.of(".wh.gone")));
        assertErrno(Errno.ENOENT, () -> layer.readXattr(EntryPath.of(".wh.gone"), "user.x"));
        assertErrno(Errno.ENOENT, () -> layer.list(EntryPath.of(".wh..wh.plnk")).close());
        assertErrno(Errno.ENOENT, () -> layer.openRead(EntryPath.of(".wh..wh.plnk/123.1")).close());
        assertTrue(Files.exists(root.resolve(".wh..wh.plnk/123.1"), LinkOption.NOFOLLOW_LINKS));
    }
}
