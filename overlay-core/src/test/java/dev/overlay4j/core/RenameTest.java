package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.listing;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenameTest {

    @TempDir
    Path tmp;

    @Test
    void renamingLowerFileCopiesItUpAndWhitesOutTheOldName() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "data");
        try (Overlay o = t.open()) {
            o.rename(p("a"), p("b"), RenameMode.REPLACE);
            assertEquals("data", read(o, "b"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a")));
            assertTrue(t.isWhiteoutOnDisk("a"));
            assertEquals(Map.of("b", "f"), listing(o, ""));
        }
    }

    @Test
    void renamingOntoRemovedNameUsesItsWhiteout() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "A").file(1, "b", "B");
        try (Overlay o = t.open()) {
            o.unlink(p("b"));
            o.rename(p("a"), p("b"), RenameMode.NOREPLACE);
            assertEquals("A", read(o, "b"));
            assertTrue(t.isWhiteoutOnDisk("a"));
            assertEquals(Map.of("b", "f"), listing(o, ""));
        }
    }

    @Test
    void renamingPureUpperFileLeavesNoWhiteout() throws Exception {
        LayerTree t = new LayerTree(tmp, 1);
        try (Overlay o = t.open()) {
            LayerTree.write(o, "a", "x");
            o.rename(p("a"), p("b"), RenameMode.REPLACE);
            assertEquals(List.of("b"), t.upperNames(""));
        }
    }

    @Test
    void replaceOverLowerFileHidesIt() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "A").file(1, "b", "B");
        try (Overlay o = t.open()) {
            o.rename(p("a"), p("b"), RenameMode.REPLACE);
            assertEquals("A", read(o, "b"));
            assertEquals(Map.of("b", "f"), listing(o, ""));
        }
    }

    @Test
    void exchangeSwapsLowerEntries() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "A").file(1, "d/x", "x");
        try (Overlay o = t.open()) {
            o.rename(p("a"), p("d"), RenameMode.EXCHANGE);
            assertEquals("A", read(o, "d"));
            assertEquals("x", read(o, "a/x"));
        }
    }

    @Test
    void errnosFollowRenameat2() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x").file(1, "g", "y").file(1, "d/x", "x").dir(1, "e")
                .dir(1, "full/sub");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOENT, () -> o.rename(p("missing"), p("z"), RenameMode.REPLACE));
            assertErrno(Errno.EEXIST, () -> o.rename(p("f"), p("g"), RenameMode.NOREPLACE));
            assertErrno(Errno.ENOENT, () -> o.rename(p("f"), p("z"), RenameMode.EXCHANGE));
            assertErrno(Errno.EISDIR, () -> o.rename(p("f"), p("e"), RenameMode.REPLACE));
            assertErrno(Errno.ENOTDIR, () -> o.rename(p("e"), p("f"), RenameMode.REPLACE));
            assertErrno(Errno.ENOTEMPTY, () -> o.rename(p("e"), p("full"), RenameMode.REPLACE));
            assertErrno(Errno.EINVAL, () -> o.rename(p("full"), p("full/sub/x"), RenameMode.REPLACE));
            assertErrno(Errno.ENOTEMPTY, () -> o.rename(p("full/sub"), p("full"), RenameMode.REPLACE));
            assertErrno(Errno.EBUSY, () -> o.rename(p(""), p("z"), RenameMode.REPLACE));
            o.rename(p("f"), p("f"), RenameMode.REPLACE);
            assertEquals("x", read(o, "f"));
            assertFalse(java.nio.file.Files.exists(t.upper().resolve("f")), "a no-op copies nothing up");
        }
    }

    @Test
    void renamingMergedDirectorySetsAbsoluteRedirectAndWhitesOutOldName() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(2, "a/b/deep", "d").file(1, "a/b/mid", "m");
        try (Overlay o = t.open()) {
            long inode = o.stat(p("a/b")).inode();
            o.createDirectory(p("x"), LayerTree.DIR);
            o.rename(p("a/b"), p("x/moved"), RenameMode.REPLACE);
            assertEquals(Map.of("deep", "f", "mid", "f"), listing(o, "x/moved"));
            assertEquals("d", read(o, "x/moved/deep"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("a/b")));
            assertEquals(inode, o.stat(p("x/moved")).inode());
            assertEquals(Optional.of("/a/b"), t.upperXattr("x/moved", "trusted.overlay.redirect"));
            assertTrue(t.isWhiteoutOnDisk("a/b"));
            assertEquals(List.of(), t.upperNames("x/moved"), "only the directory was copied up");
        }
        try (Overlay o = t.open()) {
            assertEquals(Map.of("deep", "f", "mid", "f"), listing(o, "x/moved"), "after reopening");
        }
    }

    @Test
    void redirectedDirectoryDoesNotMergeWithTheTargetNamesLowerDirectory() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "src/s", "s").dir(1, "dst");
        try (Overlay o = t.open()) {
            o.rename(p("src"), p("dst"), RenameMode.REPLACE);
            assertEquals(Map.of("s", "f"), listing(o, "dst"));
            assertEquals(Map.of("dst", "d"), listing(o, ""));
        }
    }

    @Test
    void renamingRedirectedDirectoryAgainKeepsItsRedirect() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/f", "x");
        try (Overlay o = t.open()) {
            o.rename(p("a"), p("b"), RenameMode.REPLACE);
            o.rename(p("b"), p("c"), RenameMode.REPLACE);
            assertEquals(Optional.of("/a"), t.upperXattr("c", "trusted.overlay.redirect"));
            assertEquals("x", read(o, "c/f"));
            assertEquals(Map.of("c", "d"), listing(o, ""));
            assertFalse(t.isWhiteoutOnDisk("b"), "b had no lower entry");
        }
    }

    @Test
    void withoutRedirectDirRenamingDirectoryWithLowerContentIsExdev() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/f", "x");
        try (Overlay o = t.open(b -> b.redirectDir(false))) {
            assertErrno(Errno.EXDEV, () -> o.rename(p("a"), p("b"), RenameMode.REPLACE));
            o.createDirectory(p("u"), LayerTree.DIR);
            LayerTree.write(o, "u/f", "y");
            o.rename(p("u"), p("v"), RenameMode.REPLACE);
            assertEquals("y", read(o, "v/f"));
            o.rename(p("a/f"), p("g"), RenameMode.REPLACE);
            assertEquals("x", read(o, "g"));
        }
    }

    @Test
    void pureUpperDirectoryMovedOverRemovedLowerDirectoryStaysUnmerged() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/lower", "x");
        try (Overlay o = t.open()) {
            o.createDirectory(p("n"), LayerTree.DIR);
            o.unlink(p("d/lower"));
            o.rename(p("n"), p("d"), RenameMode.REPLACE);
            assertEquals(Map.of(), listing(o, "d"));
            assertEquals(Optional.of("y"), t.upperXattr("d", "trusted.overlay.opaque"));
        }
    }

    @Test
    void aRenameOntoANonEmptyUpperDirectoryFailsAfterTheCopyUpsAsTheKernelsDoes() throws Exception {
        // The kernel checks a target with lower content before copying anything up, a pure upper
        // one in the upper layer's rename: by then the source is copied up, with its redirect.
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/e/f", "x").dir(1, "b");
        try (Overlay o = t.open()) {
            o.createDirectory(p("b/full"), LayerTree.DIR);
            LayerTree.write(o, "b/full/g", "y");
            assertErrno(Errno.ENOTEMPTY, () -> o.rename(p("a/e"), p("b/full"), RenameMode.REPLACE));
            assertEquals("x", read(o, "a/e/f"));
            assertEquals(Map.of("g", "f"), listing(o, "b/full"));
        }
        assertEquals(List.of("e"), t.upperNames("a"), "the source is copied up");
        assertEquals(Optional.of("/a/e"), t.upperXattr("a/e", "trusted.overlay.redirect"));
    }

    @Test
    void aRenameOntoANonEmptyMergedDirectoryFailsBeforeCopyingAnythingUp() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/e/f", "x").file(1, "b/full/g", "y");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOTEMPTY, () -> o.rename(p("a/e"), p("b/full"), RenameMode.REPLACE));
        }
        assertEquals(List.of(), t.upperNames(""));
    }
}
