package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fstat of an open file whose name is gone reports the file itself, as the kernel's overlayfs
 * does from the real inode (each expectation below was measured on {@code mount -t overlay},
 * index=on, tmpfs and ext4): an upper file unlinked has no link left, a lower file whose name
 * was whited out keeps its lower link count, and a copied-up lower hard link counts its upper
 * names only once all are gone.
 */
class OpenFileStatTest {

    private static final Set<StandardOpenOption> READ = Set.of(StandardOpenOption.READ);
    private static final Set<StandardOpenOption> WRITE = Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE);

    @TempDir
    Path tmp;

    @Test
    void anUpperFileOpenedForReadingHasNoLinkLeftOnceUnlinked() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(0, "up", "upper bytes");
        try (Overlay o = t.open(); OverlayFile f = o.open(p("up"), READ, null)) {
            assertEquals(1, f.stat().nlink());
            long inode = f.stat().inode();
            o.unlink(p("up"));
            assertEquals(0, f.stat().nlink());
            assertEquals(inode, f.stat().inode(), "the overlay's inode number stays");
            assertEquals(11, f.stat().size());
        }
    }

    @Test
    void aFileOpenedForWritingKeepsItsSizeAndTimesAfterUnlinkAndWrites() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "low", "lower");
        try (Overlay o = t.open(); OverlayFile f = o.open(p("low"), WRITE, null)) {
            o.unlink(p("low"));
            f.write(ByteBuffer.wrap(new byte[10000]), 0);
            assertEquals(0, f.stat().nlink());
            assertEquals(10000, f.stat().size());
            assertEquals(true, f.stat().blocks() > 0, "blocks of the real file");
        }
    }

    @Test
    void aLowerFileWhoseNameIsWhitedOutKeepsItsLowerLinkCount() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "low", "lower");
        try (Overlay o = t.open(); OverlayFile f = o.open(p("low"), READ, null)) {
            o.unlink(p("low"));
            assertEquals(1, f.stat().nlink());
        }
    }

    @Test
    void anUpperHardLinkCountsTheNamesLeft() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(0, "a", "x");
        Files.createLink(t.upper().resolve("b"), t.upper().resolve("a"));
        try (Overlay o = t.open(); OverlayFile f = o.open(p("a"), WRITE, null)) {
            assertEquals(2, f.stat().nlink());
            o.unlink(p("a"));
            assertEquals(1, f.stat().nlink());
            o.unlink(p("b"));
            assertEquals(0, f.stat().nlink());
        }
    }

    @Test
    void aCopiedUpLowerHardLinkHasNoLinkLeftOnceItsNamesAreGone() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a", "x");
        Files.createLink(t.layer(1).resolve("b"), t.layer(1).resolve("a"));
        try (Overlay o = t.open(); OverlayFile f = o.open(p("a"), WRITE, null)) {
            o.link(p("b"), p("c")); // copies b up: the index copy now has the names a, b and c
            o.unlink(p("a"));
            o.unlink(p("b"));
            o.unlink(p("c"));
            assertEquals(0, f.stat().nlink(), "the index's own link is no name");
        }
    }

    @Test
    void aFileRenamedOverItsNameStillReportsItself() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(0, "a", "old").file(0, "b", "new file");
        try (Overlay o = t.open(); OverlayFile f = o.open(p("a"), READ, null)) {
            long inode = f.stat().inode();
            o.rename(p("b"), p("a"), RenameMode.REPLACE);
            assertEquals(0, f.stat().nlink());
            assertEquals(3, f.stat().size());
            assertEquals(inode, f.stat().inode());
        }
    }
}
