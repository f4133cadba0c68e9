package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unnamed files (O_TMPFILE) through the engine: made in the upper layer, named by linkUnnamed, gone when closed. */
class UnnamedFileTest {

    @TempDir
    Path tmp;

    private static void write(OverlayFile file, String text) throws IOException {
        file.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString())
                    .filter(name -> !name.startsWith("overlay4j-index")).sorted().toList();
        }
    }

    @Test
    void anUnnamedFileInALowerDirectoryCopiesTheDirectoryUpAndVanishesWhenClosed() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/sub/keep", "k");
        try (Overlay o = t.open()) {
            List<String> workBefore = names(t.work());
            try (OverlayFile f = o.createUnnamed(p("d/sub"), LayerTree.FILE, true)) {
                write(f, "scratch");
                assertEquals("scratch", read(f));
                assertEquals(0, f.stat().nlink());
                assertEquals(0644, f.stat().permissions());
                assertTrue(Files.isDirectory(t.upper().resolve("d/sub")), "the directory was copied up");
            }
            assertEquals(List.of("d", "d/sub"), names(t.upper()), "nothing but the copied-up directories");
            assertEquals(workBefore, names(t.work()));
        }
    }

    @Test
    void linkUnnamedGivesTheFileNamesAndFstatCountsThem() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/old", "lower");
        try (Overlay o = t.open(); OverlayFile f = o.createUnnamed(p("d"), LayerTree.FILE, true)) {
            write(f, "named later");
            o.unlink(p("d/old")); // leaves a whiteout, which the name then replaces
            o.linkUnnamed(f, p("d/old"));
            assertEquals(1, f.stat().nlink());
            assertErrno(Errno.EEXIST, () -> o.linkUnnamed(f, p("d/old")));
            o.linkUnnamed(f, p("second"));
            assertEquals(2, f.stat().nlink());
            assertEquals("named later", read(o, "d/old"));
            assertEquals(o.stat(p("d/old")).inode(), f.stat().inode(), "the inode number the name shows");
            assertEquals(o.stat(p("second")).inode(), f.stat().inode());
        }
        assertEquals("named later", Files.readString(t.upper().resolve("d/old")));
    }

    @Test
    void aFileMadeWithOExclCanHaveNoName() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).dir(1, "d");
        try (Overlay o = t.open(); OverlayFile f = o.createUnnamed(p("d"), LayerTree.FILE, false)) {
            assertErrno(Errno.ENOENT, () -> o.linkUnnamed(f, p("d/x")));
        }
    }

    @Test
    void errorsAreTheKernels() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "file", "f");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOENT, () -> o.createUnnamed(p("missing"), LayerTree.FILE, true));
            assertErrno(Errno.ENOTDIR, () -> o.createUnnamed(p("file"), LayerTree.FILE, true));
            try (OverlayFile named = o.open(p("file"), java.util.Set.of(java.nio.file.StandardOpenOption.READ), null)) {
                assertErrno(Errno.ENOENT, () -> o.linkUnnamed(named, p("other")));
            }
        }
        try (Overlay o = t.open(b -> b.readOnly(true))) {
            assertErrno(Errno.EROFS, () -> o.createUnnamed(p(""), LayerTree.FILE, true));
            assertErrno(Errno.ENOENT, () -> o.createUnnamed(p("missing"), LayerTree.FILE, true));
        }
    }
}
