package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.DIR;
import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.listing;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lookups below a directory see every change the overlay makes to it, although the merged
 * state of directories is cached: each test first looks below a directory (which caches it),
 * then changes it, then looks again.
 */
class DirectoryCacheTest {

    @TempDir
    Path tmp;

    @Test
    void aDirectoryRemovedAndMadeAgainNoLongerMergesTheLowerOne() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/old", "lower");
        try (Overlay o = t.open()) {
            assertEquals("lower", read(o, "d/old"));
            o.unlink(p("d/old"));
            o.removeDirectory(p("d"));
            o.createDirectory(p("d"), DIR);
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/old")));
            assertEquals(Map.of(), listing(o, "d"));
        }
    }

    @Test
    void aRenamedDirectoryIsFoundUnderItsNewNameOnly() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/sub/f", "content");
        try (Overlay o = t.open()) {
            assertEquals("content", read(o, "a/sub/f"));
            o.rename(p("a"), p("b"), RenameMode.NOREPLACE);
            assertEquals("content", read(o, "b/sub/f"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a/sub/f")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a")));
        }
    }

    @Test
    void exchangedDirectoriesSwapTheirContentForLookups() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "x/inx", "X").file(1, "y/iny", "Y");
        try (Overlay o = t.open()) {
            assertEquals("X", read(o, "x/inx"));
            assertEquals("Y", read(o, "y/iny"));
            o.rename(p("x"), p("y"), RenameMode.EXCHANGE);
            assertEquals("X", read(o, "y/inx"));
            assertEquals("Y", read(o, "x/iny"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("x/inx")));
        }
    }

    @Test
    void aDirectoryCopiedUpByAMetadataChangeShowsWhatIsCreatedInItLater() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/e/lower", "L");
        try (Overlay o = t.open()) {
            assertEquals("L", read(o, "d/e/lower"));
            o.setPermissions(p("d/e"), 0700); // copies d and d/e up while only the read lock is held
            LayerTree.write(o, "d/e/new", "N");
            assertEquals("N", read(o, "d/e/new"));
            assertEquals(Map.of("lower", "f", "new", "f"), listing(o, "d/e"));
            assertEquals(0700, o.stat(p("d/e")).permissions());
        }
    }

    @Test
    void afterAListingLookupsFindEachNameInTheLayerThatHasIt() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(1, "d/top", "1").file(2, "d/bottom", "2")
                .file(1, "d/both", "1 wins").file(2, "d/both", "2").whiteout(1, "d/hidden").file(2, "d/hidden", "2")
                .file(2, "d/was/f", "moved").dir(0, "d").redirect(0, "d/renamed", "was");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("top", "f", "bottom", "f", "both", "f", "renamed", "d", "was", "d"), listing(o, "d"));
            assertEquals("moved", read(o, "d/renamed/f")); // found under its old name in the lower layer
            assertEquals("1", read(o, "d/top"));
            assertEquals("2", read(o, "d/bottom"));
            assertEquals("1 wins", read(o, "d/both"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/hidden")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/nowhere")));
        }
    }

    @Test
    void aLowerLayerChangeTheOverlayIsToldOfShowsDespiteTheListingItRemembered() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/old", "1").file(1, "top", "t");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("old", "f"), listing(o, "d"));
            assertEquals(Map.of("d", "d", "top", "f"), listing(o, ""));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/new")));
            Files.writeString(t.layer(1).resolve("d/new"), "late");
            Files.writeString(t.layer(1).resolve("also"), "late");
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/new"))); // the names the listing saw still rule
            o.invalidate(p("d/new"));
            o.invalidate(p("also"));
            assertEquals("late", read(o, "d/new"));
            assertEquals("late", read(o, "also"));
            assertEquals(Map.of("old", "f", "new", "f"), listing(o, "d"));
        }
    }

    @Test
    void statOfACachedDirectoryReportsItsCurrentAttributes() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "x");
        try (Overlay o = t.open()) {
            assertEquals("x", read(o, "d/f"));
            o.setTimes(p("d"), 5_000_000_000L, 7_000_000_000L);
            assertEquals(7_000_000_000L, o.stat(p("d")).mtimeNanos());
            LayerTree.write(o, "d/g", "y");
            assertEquals(Map.of("f", "f", "g", "f"), listing(o, "d"));
        }
    }
}
