package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.listing;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image as containers/storage hands it to a mount program: three layers unpacked with their
 * whiteouts as {@code .wh.NAME} files and opaque directories holding {@code .wh..wh..opq}, merged
 * as fuse-overlayfs merges them, with no mark ever visible.
 */
class ImageLayerWhiteoutsTest {

    @TempDir
    Path tmp;

    /** Layer 3 is the base image; 2 and 1 each delete and replace some of it. */
    private LayerTree image() throws IOException {
        return new LayerTree(tmp, 3)
                .file(3, "usr/share/doc/base/README", "base doc")
                .file(3, "usr/share/doc/base/COPYING", "gpl")
                .file(3, "etc/apt/sources.list", "deb base")
                .file(3, "etc/apt/trusted.gpg", "key")
                .file(3, "etc/hostname", "base")
                .file(3, "a/b2/f2", "f2")
                .file(3, "a/b2/f3", "f3")
                .file(3, "gone/inside", "x")
                // Layer 2: /usr/share/doc replaced whole (rm -rf, then new content), one apt file and a tree deleted.
                .file(2, "usr/share/doc/.wh..wh..opq", "")
                .file(2, "usr/share/doc/layer2/README", "layer2 doc")
                .file(2, "etc/apt/.wh.sources.list", "")
                .file(2, ".wh.gone", "")
                // Layer 1: /etc/apt deleted whole, /a/b2/f2 deleted; a file that is new here beside a stale mark.
                .file(1, "etc/.wh.apt", "")
                .file(1, "a/b2/.wh.f2", "")
                .file(1, "a/new", "new")
                .file(1, "a/.wh.new", "");
    }

    @Test
    void deletedFilesAndDirectoriesStayDeletedAndNoMarkIsListed() throws IOException {
        LayerTree t = image();
        try (Overlay o = t.open()) {
            assertEquals(Map.of("a", "d", "etc", "d", "usr", "d"), listing(o, ""));
            assertEquals(Map.of("hostname", "f"), listing(o, "etc"));
            assertEquals(Map.of("f3", "f"), listing(o, "a/b2"));
            assertEquals(Map.of("b2", "d", "new", "f"), listing(o, "a"), "a real entry wins over a mark in its own layer");
            assertEquals("new", read(o, "a/new"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("etc/apt")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("etc/apt/trusted.gpg")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a/b2/f2")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("gone")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("gone/inside")));
        }
    }

    @Test
    void anOpaqueDirectoryHidesWhatIsBelowItAndNotItsOwnLayer() throws IOException {
        LayerTree t = image();
        try (Overlay o = t.open()) {
            assertEquals(Map.of("layer2", "d"), listing(o, "usr/share/doc"));
            assertEquals("layer2 doc", read(o, "usr/share/doc/layer2/README"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("usr/share/doc/base")));
        }
    }

    @Test
    void markNamesFailWithEnoentLikeAnyMissingName() throws IOException {
        LayerTree t = image();
        try (Overlay o = t.open()) {
            for (String mark : List.of("etc/.wh.apt", "a/b2/.wh.f2", "a/.wh.new", "usr/share/doc/.wh..wh..opq", ".wh.gone",
                    "etc/apt/.wh.sources.list")) {
                assertErrno(Errno.ENOENT, () -> o.stat(p(mark)));
                assertErrno(Errno.ENOENT, () -> read(o, mark));
            }
            assertErrno(Errno.ENOENT, () -> o.unlink(p("a/b2/.wh.f2")));
        }
    }

    @Test
    void changesOverImageLayersLandInTheUpperInTheKernelsForm() throws IOException {
        LayerTree t = image();
        try (Overlay o = t.open()) {
            o.unlink(p("etc/hostname"));
            assertTrue(t.isWhiteoutOnDisk("etc/hostname"));
            o.createDirectory(p("etc/apt"), LayerTree.DIR);
            assertEquals(Map.of(), listing(o, "etc/apt"), "the lower etc/apt stays deleted");
            assertEquals(Optional.of("y"), t.upperXattr("etc/apt", "trusted.overlay.opaque"));
            assertErrno(Errno.ENOTEMPTY, () -> o.removeDirectory(p("a/b2")));
            o.unlink(p("a/b2/f3"));
            o.removeDirectory(p("a/b2"));
            assertTrue(t.isWhiteoutOnDisk("a/b2"));
            assertEquals(Map.of("new", "f"), listing(o, "a"));
        }
    }

    @Test
    void namesBeginningWithTheWhiteoutPrefixCannotBeCreated() throws IOException {
        LayerTree t = image();
        try (Overlay o = t.open()) {
            assertErrno(Errno.EINVAL, () -> LayerTree.write(o, "a/.wh.f3", "x"));
            assertErrno(Errno.EINVAL, () -> o.createDirectory(p(".wh.etc"), LayerTree.DIR));
            assertErrno(Errno.EINVAL, () -> o.createSymlink(p("a/.wh..wh..opq"), "x", LayerTree.FILE));
            assertErrno(Errno.EINVAL, () -> o.rename(p("a/new"), p("a/.wh.b2"), RenameMode.REPLACE));
            assertEquals(Map.of("b2", "d", "new", "f"), listing(o, "a"));
        }
        try (var names = Files.list(t.upper())) {
            assertTrue(names.noneMatch(n -> n.getFileName().toString().startsWith(".wh.")));
        }
    }

    @Test
    void anUpperHoldingWhiteoutFilesIsReadAndWrittenOver() throws IOException {
        // As fuse-overlayfs leaves it where it could not mknod: a .wh. file and an opaque directory's mark.
        LayerTree t = image().file(0, "a/b2/.wh.f3", "").file(0, "usr/.wh..wh..opq", "").file(0, "usr/local", "l");
        try (Overlay o = t.open()) {
            assertEquals(Map.of(), listing(o, "a/b2"));
            assertEquals(Map.of("local", "f"), listing(o, "usr"));
            LayerTree.write(o, "a/b2/f3", "again");
            assertEquals("again", read(o, "a/b2/f3"));
            assertFalse(Files.exists(t.upper().resolve("a/b2/.wh.f3"), LinkOption.NOFOLLOW_LINKS));
            o.unlink(p("a/b2/f3"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a/b2/f3")));
            assertTrue(t.isWhiteoutOnDisk("a/b2/f3"));
            o.unlink(p("usr/local"));
            o.removeDirectory(p("usr"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("usr")));
            for (DirectoryEntry e : o.listDirectory(p(""))) {
                assertFalse(e.name().startsWith(".wh."), e.name());
            }
        }
    }
}
