package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.listing;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WhiteoutAndOpaqueTest {

    @TempDir
    Path tmp;

    @Test
    void unlinkOfLowerFileLeavesCharDeviceWhiteoutInUpper() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "x");
        try (Overlay o = t.open()) {
            o.unlink(p("d/f"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/f")));
            assertEquals(Map.of(), listing(o, "d"));
            assertTrue(t.isWhiteoutOnDisk("d/f"));
            assertTrue(Files.exists(t.layer(1).resolve("d/f")));
        }
    }

    @Test
    void unlinkOfCopiedUpFileReplacesItWithWhiteout() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "f", "changed");
            o.unlink(p("f"));
            assertTrue(t.isWhiteoutOnDisk("f"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("f")));
        }
    }

    @Test
    void unlinkOfPureUpperFileRemovesItWithoutWhiteout() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).dir(1, "d");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "d/new", "x");
            o.unlink(p("d/new"));
            assertEquals(List.of(), t.upperNames("d"));
        }
    }

    @Test
    void rmdirOfMergedDirectoryLeavesWhiteoutAndNothingInWork() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "x");
        try (Overlay o = t.open()) {
            o.unlink(p("d/f"));
            o.removeDirectory(p("d"));
            assertTrue(t.isWhiteoutOnDisk("d"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d")));
            try (var s = Files.list(t.work().resolve("work"))) {
                assertEquals(0, s.count());
            }
        }
    }

    @Test
    void rmdirRequiresTheMergedViewToBeEmpty() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(2, "d/deep", "x").dir(1, "d");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOTEMPTY, () -> o.removeDirectory(p("d")));
            o.unlink(p("d/deep"));
            o.removeDirectory(p("d"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d")));
        }
    }

    @Test
    void removalErrorsMatchTheKernel() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x").dir(1, "d");
        try (Overlay o = t.open()) {
            assertErrno(Errno.EISDIR, () -> o.unlink(p("d")));
            assertErrno(Errno.ENOTDIR, () -> o.removeDirectory(p("f")));
            assertErrno(Errno.EBUSY, () -> o.removeDirectory(p("")));
            assertErrno(Errno.ENOENT, () -> o.unlink(p("missing")));
            assertErrno(Errno.ENOTDIR, () -> o.unlink(p("f/x")));
        }
    }

    @Test
    void fileCreatedOverWhiteoutReplacesIt() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "old");
        try (Overlay o = t.open()) {
            o.unlink(p("f"));
            LayerTree.write(o, "f", "new");
            assertEquals("new", read(o, "f"));
            assertTrue(Files.isRegularFile(t.upper().resolve("f"), LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void directoryCreatedInPlaceOfRemovedLowerDirectoryIsOpaque() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/old", "x");
        try (Overlay o = t.open()) {
            o.unlink(p("d/old"));
            o.removeDirectory(p("d"));
            o.createDirectory(p("d"), LayerTree.DIR);
            assertEquals(Map.of(), listing(o, "d"));
            assertEquals(Optional.of("y"), t.upperXattr("d", "trusted.overlay.opaque"));
            assertTrue(Files.isDirectory(t.upper().resolve("d"), LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void directoryCreatedInPureUpperParentIsNotOpaque() throws Exception {
        LayerTree t = new LayerTree(tmp, 1);
        try (Overlay o = t.open()) {
            o.createDirectory(p("a"), LayerTree.DIR);
            o.createDirectory(p("a/b"), LayerTree.DIR);
            assertFalse(t.upperXattr("a/b", "trusted.overlay.opaque").isPresent());
        }
    }

    @Test
    void creatingAnExistingNameIsEexist() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x").dir(1, "d").symlink(1, "l", "nowhere");
        try (Overlay o = t.open()) {
            assertErrno(Errno.EEXIST, () -> o.createDirectory(p("f"), LayerTree.DIR));
            assertErrno(Errno.EEXIST, () -> o.createSymlink(p("d"), "x", LayerTree.FILE));
            assertErrno(Errno.EEXIST, () -> o.createSpecial(p("l"), EntryType.FIFO, LayerTree.FILE, 0));
            assertErrno(Errno.EEXIST, () -> o.link(p("f"), p("d")));
            assertErrno(Errno.EEXIST, () -> o.open(p("f"), java.util.Set.of(java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE), LayerTree.FILE));
        }
    }

    @Test
    void symlinkAndFifoCreatedOverWhiteouts() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "l", "x").file(1, "p", "x");
        try (Overlay o = t.open()) {
            o.unlink(p("l"));
            o.unlink(p("p"));
            o.createSymlink(p("l"), "target", LayerTree.FILE);
            o.createSpecial(p("p"), EntryType.FIFO, LayerTree.FILE, 0);
            assertEquals("target", o.readLink(p("l")));
            assertEquals(EntryType.FIFO, o.stat(p("p")).type());
        }
    }

    @Test
    void hardLinkCopiesUpTheSourceAndSharesItsInode() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "data").file(1, "gone", "x");
        try (Overlay o = t.open()) {
            long inode = o.stat(p("f")).inode();
            o.unlink(p("gone"));
            o.link(p("f"), p("gone"));
            assertEquals(inode, o.stat(p("gone")).inode());
            assertEquals(inode, o.stat(p("f")).inode());
            assertEquals(2, o.stat(p("f")).nlink());
            LayerTree.write(o, "gone", "shared");
            assertEquals("shared", read(o, "f"));
            assertErrno(Errno.EPERM, () -> o.link(p(""), p("x")));
        }
    }

    @Test
    void xattrsShowTheTopmostEntryAndHideOverlayMarks() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).opaque(1, "d");
        LayerTree.run("setfattr", "-n", "user.a", "-v", "1", t.layer(1).resolve("d").toString());
        try (Overlay o = t.open()) {
            assertEquals(List.of("user.a"), o.listXattrs(p("d")));
            assertErrno(Errno.ENODATA, () -> o.readXattr(p("d"), "user.missing"));
            assertErrno(Errno.EOPNOTSUPP, () -> o.readXattr(p("d"), "trusted.overlay.opaque"));
            assertErrno(Errno.ENODATA, () -> o.removeXattr(p("d"), "user.missing"));
            assertFalse(Files.exists(t.upper().resolve("d")), "removing a missing xattr copies nothing up");
            o.removeXattr(p("d"), "user.a");
            assertEquals(List.of(), o.listXattrs(p("d")));
        }
    }
}
