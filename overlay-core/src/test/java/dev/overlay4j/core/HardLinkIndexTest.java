package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lower hard links stay one file after copy-up, as with the kernel's index=on. */
class HardLinkIndexTest {

    @TempDir
    Path tmp;

    /** Lower layer with {@code d/a} = "old" and its hard link {@code d/b}. */
    private LayerTree hardLinkedLower() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/a", "old");
        Files.createLink(t.layer(1).resolve("d/b"), t.layer(1).resolve("d/a"));
        return t;
    }

    private static void append(Overlay o, String path, String text) throws IOException {
        try (OverlayFile f = o.open(p(path), Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND), null)) {
            f.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private Path indexDir(LayerTree t) {
        return t.work().resolve("overlay4j-index");
    }

    private List<Path> indexEntries(LayerTree t) throws IOException {
        try (Stream<Path> entries = Files.list(indexDir(t))) {
            return entries.toList();
        }
    }

    private static long ino(Path file) throws IOException {
        return (Long) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    private static int nlink(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void writingOneNameOfALowerHardLinkChangesAllItsNamesAndSurvivesReopening() throws Exception {
        LayerTree t = hardLinkedLower();
        try (Overlay o = t.open()) {
            long inode = o.stat(p("d/a")).inode();
            append(o, "d/a", "+a");
            assertEquals("old+a", read(o, "d/b"));
            assertEquals(inode, o.stat(p("d/a")).inode());
            assertEquals(inode, o.stat(p("d/b")).inode());
            assertEquals(List.of("a"), t.upperNames("d"), "b is seen through the index, not copied");
            append(o, "d/b", "+b");
            assertEquals("old+a+b", read(o, "d/a"));
            o.setPermissions(p("d/b"), 0600);
            assertEquals(0600, o.stat(p("d/a")).permissions());
            assertEquals(o.stat(p("d/a")), o.stat(p("d/b")));
        }
        Path a = t.upper().resolve("d/a");
        Path b = t.upper().resolve("d/b");
        List<Path> index = indexEntries(t);
        assertEquals(1, index.size());
        assertEquals(ino(index.getFirst()), ino(a));
        assertEquals(ino(a), ino(b));
        assertEquals(3, nlink(a), "a, b and the index entry");
        assertEquals("old+a+b", Files.readString(index.getFirst()));
        try (Overlay o = t.open()) {
            assertEquals("old+a+b", read(o, "d/a"));
            assertEquals("old+a+b", read(o, "d/b"));
            assertEquals(o.stat(p("d/a")).inode(), o.stat(p("d/b")).inode());
            o.unlink(p("d/a"));
            assertEquals("old+a+b", read(o, "d/b"));
            assertEquals(List.of("b"), LayerTree.names(o, "d"));
        }
        assertEquals(EntryType.CHARACTER_DEVICE.formatBits(), mode(a) & 0170000, "a whiteout hides the lower a");
        assertEquals(2, nlink(b), "b and the index entry, which stays");
    }

    private static int mode(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void aNameFirstCopiedUpAfterReopeningIsLinkedToTheIndexEntryNotCopiedAgain() throws Exception {
        LayerTree t = hardLinkedLower();
        try (Overlay o = t.open()) {
            LayerTree.write(o, "d/a", "new");
        }
        try (Overlay o = t.open()) {
            assertEquals("new", read(o, "d/b"));
            o.setTimes(p("d/b"), WritableLayer.TIME_OMIT, 7_000_000_000L);
            assertEquals(7_000_000_000L, o.stat(p("d/a")).mtimeNanos());
            o.link(p("d/b"), p("c"));
            assertEquals(o.stat(p("d/a")).inode(), o.stat(p("c")).inode());
        }
        long shared = ino(indexEntries(t).getFirst());
        assertEquals(shared, ino(t.upper().resolve("d/a")));
        assertEquals(shared, ino(t.upper().resolve("d/b")));
        assertEquals(shared, ino(t.upper().resolve("c")));
        assertEquals(4, nlink(t.upper().resolve("c")));
    }

    @Test
    void aReadHandleOnAnotherNameSeesTheCopiedUpData() throws Exception {
        LayerTree t = hardLinkedLower();
        try (Overlay o = t.open(); OverlayFile b = o.open(p("d/b"), Set.of(StandardOpenOption.READ), null)) {
            append(o, "d/a", "+a");
            assertEquals("old+a", read(b));
        }
    }

    @Test
    void aLowerFileWithOneLinkIsCopiedUpWithoutIndexEntry() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "one");
        try (Overlay o = t.open()) {
            append(o, "f", "+");
            assertEquals("one+", read(o, "f"));
        }
        assertEquals(List.of(), indexEntries(t));
        assertEquals(1, nlink(t.upper().resolve("f")));
    }

    @Test
    void hardLinksOfDifferentLowerInodesGetSeparateIndexEntries() throws Exception {
        LayerTree t = hardLinkedLower().file(1, "x", "x");
        Files.createLink(t.layer(1).resolve("y"), t.layer(1).resolve("x"));
        try (Overlay o = t.open()) {
            append(o, "d/a", "+a");
            append(o, "y", "+y");
            assertEquals("old+a", read(o, "d/b"));
            assertEquals("x+y", read(o, "x"));
            assertNotEquals(o.stat(p("x")).inode(), o.stat(p("d/b")).inode());
        }
        assertEquals(2, indexEntries(t).size());
    }

    /** Lower layer with one file of three names: {@code d/a}, {@code d/b} and {@code e/c}. */
    private LayerTree threeNamedLower() throws IOException {
        LayerTree t = hardLinkedLower();
        Files.createDirectories(t.layer(1).resolve("e"));
        Files.createLink(t.layer(1).resolve("e/c"), t.layer(1).resolve("d/a"));
        return t;
    }

    private static List<Integer> nlinks(Overlay o, String... paths) throws IOException {
        List<Integer> counts = new java.util.ArrayList<>();
        for (String path : paths) {
            counts.add(o.stat(p(path)).nlink());
        }
        return counts;
    }

    @Test
    void theLinkCountIsTheNumberOfNamesInTheOverlayThroughCopyUpLinkUnlinkAndReopening() throws Exception {
        LayerTree t = threeNamedLower();
        try (Overlay o = t.open()) {
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/a", "d/b", "e/c"));
            append(o, "d/a", "+a");
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/a", "d/b", "e/c"), "copy-up adds no name");
            append(o, "e/c", "+c");
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/a", "d/b", "e/c"), "nor does copying up a second one");
            o.link(p("d/b"), p("e/n"));
            assertEquals(List.of(4, 4, 4, 4), nlinks(o, "d/a", "d/b", "e/c", "e/n"));
            o.unlink(p("d/a"));
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/b", "e/c", "e/n"));
        }
        try (Overlay o = t.open()) {
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/b", "e/c", "e/n"));
            o.rename(p("e/n"), p("e/c"), dev.overlay4j.api.RenameMode.REPLACE);
            assertEquals(List.of(3, 3, 3), nlinks(o, "d/b", "e/c", "e/n"), "two names of one file: rename does nothing");
            o.unlink(p("e/n"));
            assertEquals(List.of(2, 2), nlinks(o, "d/b", "e/c"));
            assertEquals("old+a+c", read(o, "d/b"));
        }
    }

    @Test
    void removingANameThatIsStillLowerCopiesItUpFirstSoTheOthersCountOneLess() throws Exception {
        LayerTree t = threeNamedLower();
        try (Overlay o = t.open()) {
            long ctimeBefore = o.stat(p("d/b")).ctimeNanos();
            o.unlink(p("d/a"));
            assertEquals(List.of(2, 2), nlinks(o, "d/b", "e/c"));
            assertEquals("old", read(o, "d/b"));
            assertNotEquals(ctimeBefore, o.stat(p("d/b")).ctimeNanos(), "d/b now shows the index copy, changed");
            assertEquals(List.of("b"), LayerTree.names(o, "d"));
            o.createDirectory(p("f"), LayerTree.DIR);
            LayerTree.write(o, "f/x", "x");
            o.rename(p("f/x"), p("e/c"), dev.overlay4j.api.RenameMode.REPLACE);
            assertEquals(1, o.stat(p("d/b")).nlink(), "renamed over, e/c is another file now");
            assertEquals("x", read(o, "e/c"));
        }
        assertEquals(1, indexEntries(t).size());
        assertEquals(EntryType.CHARACTER_DEVICE.formatBits(), mode(t.upper().resolve("d/a")) & 0170000);
    }

    @Test
    void anXattrSetThroughANameSeenThroughTheIndexChangesTheFileWithoutCopyingThatNameUp() throws Exception {
        LayerTree t = threeNamedLower();
        try (Overlay o = t.open()) {
            append(o, "d/a", "+a");
            o.setXattr(p("e/c"), "user.k", "v".getBytes(StandardCharsets.UTF_8), dev.overlay4j.api.XattrMode.CREATE);
            assertEquals("v", new String(o.readXattr(p("d/b"), "user.k"), StandardCharsets.UTF_8));
            o.removeXattr(p("d/b"), "user.k");
            assertEquals(List.of(), o.listXattrs(p("e/c")));
        }
        assertEquals(List.of("d"), t.upperNames(""), "e is not copied up, as the kernel leaves it");
        assertEquals(List.of("a"), t.upperNames("d"));
    }
}
