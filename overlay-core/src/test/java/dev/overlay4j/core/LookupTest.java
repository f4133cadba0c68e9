package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import org.junit.jupiter.api.Test;

class LookupTest {

    @Test
    void topmostNonDirectoryWins() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "a", "bottom").file(1, "a", "middle");
        try (Overlay o = t.open()) {
            assertEquals("middle", read(o, "a"));
        }
        t.file(0, "a", "upper");
        try (Overlay o = t.open()) {
            assertEquals("upper", read(o, "a"));
        }
    }

    @Test
    void nonDirectoryAboveHidesDirectoryBelow() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/x", "x").file(1, "d", "file");
        try (Overlay o = t.open()) {
            assertEquals(EntryType.REGULAR_FILE, o.stat(p("d")).type());
            assertErrno(Errno.ENOTDIR, () -> o.stat(p("d/x")));
        }
    }

    @Test
    void directoryAboveIgnoresNonDirectoryBelow() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d", "file").file(1, "d/x", "x");
        try (Overlay o = t.open()) {
            assertTrue(o.stat(p("d")).isDirectory());
            assertEquals(2, o.stat(p("d")).nlink(), "a directory of one layer keeps its own link count");
            assertEquals("x", read(o, "d/x"));
        }
    }

    @Test
    void directoriesMergeAcrossAllLayers() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/c", "c").file(1, "d/b", "b").file(0, "d/a", "a");
        try (Overlay o = t.open()) {
            assertEquals("a", read(o, "d/a"));
            assertEquals("b", read(o, "d/b"));
            assertEquals("c", read(o, "d/c"));
            assertEquals(1, o.stat(p("d")).nlink());
        }
    }

    @Test
    void whiteoutHidesNameInAllLayersBelow() throws Exception {
        MemoryLayers t = new MemoryLayers(3).file(3, "a", "3").file(2, "a", "2").whiteout(1, "a");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOENT, () -> o.stat(p("a")));
        }
    }

    @Test
    void opaqueDirectoryStopsLookupBelow() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/hidden", "h").opaque(1, "d").file(1, "d/shown", "s");
        try (Overlay o = t.open()) {
            assertEquals("s", read(o, "d/shown"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/hidden")));
            assertFalse(o.stat(p("d")).opaque(), "overlay marks are not shown");
        }
    }

    @Test
    void mergeStopsAtNonDirectoryBetweenDirectories() throws Exception {
        MemoryLayers t = new MemoryLayers(3).file(3, "d/deep", "x").file(2, "d", "file").file(1, "d/top", "t");
        try (Overlay o = t.open()) {
            assertEquals("t", read(o, "d/top"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("d/deep")));
        }
    }

    @Test
    void absoluteRedirectContinuesLowerLookupAtThatPath() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "old/f", "lower").redirect(0, "new", "/old").whiteout(0, "old");
        try (Overlay o = t.open()) {
            assertEquals("lower", read(o, "new/f"));
            assertErrno(Errno.ENOENT, () -> o.stat(p("old")));
        }
    }

    @Test
    void relativeRedirectNamesASiblingInTheParentsLowerDirectory() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "p/old/f", "lower").redirect(0, "p/new", "old").whiteout(0, "p/old");
        try (Overlay o = t.open()) {
            assertEquals("lower", read(o, "p/new/f"));
        }
    }

    @Test
    void redirectInLowerLayerIsFollowedToLayersBelow() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "a/f", "bottom").redirect(1, "b", "/a").file(1, "b/g", "g");
        try (Overlay o = t.open()) {
            assertEquals("bottom", read(o, "b/f"));
            assertEquals("g", read(o, "b/g"));
        }
    }

    @Test
    void intermediateNonDirectoryIsEnotdirAndMissingIsEnoent() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "f", "x");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOTDIR, () -> o.stat(p("f/x")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("missing/x")));
            assertErrno(Errno.ENOENT, () -> o.stat(p("missing")));
        }
    }

    @Test
    void nameLongerThan255BytesIsEnametoolong() throws Exception {
        MemoryLayers t = new MemoryLayers(1);
        try (Overlay o = t.open()) {
            String name = "é".repeat(128); // 256 bytes of UTF-8
            assertErrno(Errno.ENAMETOOLONG, () -> o.stat(EntryPath.ROOT.resolve(name)));
            assertErrno(Errno.ENAMETOOLONG, () -> o.createDirectory(EntryPath.ROOT.resolve(name), LayerTree.DIR));
        }
    }

    @Test
    void resolveFollowsSymlinksFromTheOverlayRoot() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "real/f", "x").symlink(1, "abs", "/real")
                .symlink(1, "d/rel", "../real/f").symlink(1, "up", "../../../real");
        try (Overlay o = t.open()) {
            assertEquals(p("real/f"), o.resolve(p("abs/f"), true));
            assertEquals(p("real/f"), o.resolve(p("d/rel"), true));
            assertEquals(p("d/rel"), o.resolve(p("d/rel"), false));
            assertEquals(p("real"), o.resolve(p("up"), true), "never above the root");
        }
    }

    @Test
    void resolveFailsWithEloopAfterFortyLinks() throws Exception {
        MemoryLayers t = new MemoryLayers(1).symlink(1, "a", "b").symlink(1, "b", "a");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ELOOP, () -> o.resolve(p("a"), true));
        }
    }
}
