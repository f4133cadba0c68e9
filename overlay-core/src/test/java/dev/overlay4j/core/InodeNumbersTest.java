package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InodeNumbersTest {

    @TempDir
    Path tmp;

    private static long realInode(Path p) throws Exception {
        return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void inodeIsLayerIndexPlusOneInTheHighBitsOverTheRealInode() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(2, "low", "x").file(1, "mid", "x").dir(2, "d").dir(1, "d");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "up", "x");
            assertEquals(3L << 48 | realInode(t.layer(2).resolve("low")), o.stat(p("low")).inode());
            assertEquals(2L << 48 | realInode(t.layer(1).resolve("mid")), o.stat(p("mid")).inode());
            assertEquals(1L << 48 | realInode(t.upper().resolve("up")), o.stat(p("up")).inode());
            assertEquals(2L << 48 | realInode(t.layer(1).resolve("d")), o.stat(p("d")).inode(),
                    "a merged directory's origin is its topmost lower directory");
        }
    }

    @Test
    void overflowingRealInodeIsFoldedIntoTheLowBits() {
        long folded = InodeNumbers.compose(1, 1L << 50 | 7);
        assertEquals(2L, folded >>> 48);
        assertNotEquals(InodeNumbers.compose(1, 1L << 51 | 7), folded);
        assertEquals(2L << 48 | 5, InodeNumbers.compose(1, 5));
    }

    @Test
    void copyUpKeepsTheInodeForFilesAndDirectories() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "x");
        try (Overlay o = t.open()) {
            long file = o.stat(p("d/f")).inode();
            long dir = o.stat(p("d")).inode();
            LayerTree.write(o, "d/f", "y");
            assertEquals(file, o.stat(p("d/f")).inode());
            assertEquals(dir, o.stat(p("d")).inode());
        }
    }

    @Test
    void renameKeepsTheInodeOfCopiedUpFilesAndDirectories() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x").file(1, "d/g", "y");
        long file;
        long dir;
        try (Overlay o = t.open()) {
            file = o.stat(p("f")).inode();
            dir = o.stat(p("d")).inode();
            o.rename(p("f"), p("renamed"), RenameMode.REPLACE);
            o.rename(p("d"), p("moved"), RenameMode.REPLACE);
            assertEquals(file, o.stat(p("renamed")).inode());
            assertEquals(dir, o.stat(p("moved")).inode());
        }
        try (Overlay o = t.open()) {
            assertEquals(file, o.stat(p("renamed")).inode(), "after reopening");
            assertEquals(dir, o.stat(p("moved")).inode(), "after reopening");
        }
    }

    @Test
    void inodesAreTheSameAfterReopening() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(2, "a/b", "x").file(1, "a/c", "x");
        long root;
        long a;
        long b;
        long c;
        long n;
        try (Overlay o = t.open()) {
            LayerTree.write(o, "a/new", "x");
            root = o.stat(p("")).inode();
            a = o.stat(p("a")).inode();
            b = o.stat(p("a/b")).inode();
            c = o.stat(p("a/c")).inode();
            n = o.stat(p("a/new")).inode();
        }
        try (Overlay o = t.open()) {
            assertEquals(root, o.stat(p("")).inode());
            assertEquals(a, o.stat(p("a")).inode());
            assertEquals(b, o.stat(p("a/b")).inode());
            assertEquals(c, o.stat(p("a/c")).inode());
            assertEquals(n, o.stat(p("a/new")).inode());
        }
    }

    @Test
    void lowerHardLinksShareAnInode() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "x");
        Files.createLink(t.layer(1).resolve("b"), t.layer(1).resolve("a"));
        try (Overlay o = t.open()) {
            assertEquals(o.stat(p("a")).inode(), o.stat(p("b")).inode());
        }
    }

    @Test
    void theNamesOfAFileTheKernelCopiedUpAndLinkedShareOneInodeNumber() throws Exception {
        // As the kernel leaves it after copying up d/f (origin xattr) and linking it as g.
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "x").file(0, "d/f", "x");
        LayerTree.run("setfattr", "-n", "trusted.overlay.origin", "-v", "0sAPsdAAE=", t.upper().resolve("d/f").toString());
        Files.createLink(t.upper().resolve("g"), t.upper().resolve("d/f"));
        try (Overlay o = t.open()) {
            assertEquals(o.stat(p("d/f")).inode(), o.stat(p("g")).inode());
            assertEquals(1L << 48 | realInode(t.upper().resolve("g")), o.stat(p("g")).inode());
        }
    }
}
