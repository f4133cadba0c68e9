package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.XattrMode;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReadOnlyOverlayTest {

    private static void assertEveryChangeIsErofs(Overlay o) {
        assertErrno(Errno.EROFS, () -> o.open(p("f"), Set.of(StandardOpenOption.WRITE), null));
        assertErrno(Errno.EROFS, () -> o.open(p("new"), Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), LayerTree.FILE));
        assertErrno(Errno.EROFS, () -> o.createDirectory(p("nd"), LayerTree.DIR));
        assertErrno(Errno.EROFS, () -> o.createSymlink(p("nl"), "f", LayerTree.FILE));
        assertErrno(Errno.EROFS, () -> o.createSpecial(p("np"), EntryType.FIFO, LayerTree.FILE, 0));
        assertErrno(Errno.EROFS, () -> o.link(p("f"), p("hl")));
        assertErrno(Errno.EROFS, () -> o.unlink(p("f")));
        assertErrno(Errno.EROFS, () -> o.removeDirectory(p("d")));
        assertErrno(Errno.EROFS, () -> o.rename(p("f"), p("g"), RenameMode.REPLACE));
        assertErrno(Errno.EROFS, () -> o.setPermissions(p("f"), 0600));
        assertErrno(Errno.EROFS, () -> o.setOwner(p("f"), 1, 1));
        assertErrno(Errno.EROFS, () -> o.setTimes(p("f"), 0, 0));
        assertErrno(Errno.EROFS, () -> o.truncate(p("f"), 0));
        assertErrno(Errno.EROFS, () -> o.setXattr(p("f"), "user.x", new byte[] {1}, XattrMode.CREATE_OR_REPLACE));
    }

    @Test
    void lowerOnlyOverlayReadsAndRefusesEveryChange() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "f", "bottom").file(1, "d/x", "x");
        try (Overlay o = t.openLowerOnly()) {
            assertTrue(o.isReadOnly());
            assertEquals("bottom", read(o, "f"));
            assertEquals(Map.of("x", "f"), LayerTree.listing(o, "d"));
            assertEveryChangeIsErofs(o);
            o.sync();
            try (var reader = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
                assertFalse(reader.mayBeCopiedUp(), "nothing is ever copied up without an upper layer");
            }
        }
    }

    @Test
    void readOnlyOptionShowsTheUpperButRefusesChanges() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "f", "lower").file(1, "d/x", "x").file(0, "f", "upper");
        try (Overlay o = t.open(b -> b.readOnly(true))) {
            assertEquals("upper", read(o, "f"));
            assertEveryChangeIsErofs(o);
            assertEquals(List.of("f"), t.upperNames(""));
        }
    }

    @Test
    void missingParentIsReportedBeforeErofs() throws Exception {
        MemoryLayers t = new MemoryLayers(1);
        try (Overlay o = t.openLowerOnly()) {
            assertErrno(Errno.ENOENT, () -> o.createDirectory(p("no/such"), LayerTree.DIR));
            assertErrno(Errno.ENOENT, () -> o.setPermissions(p("missing"), 0600));
        }
    }

    @Test
    void closedOverlayFailsWithEbadf() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "f", "x");
        Overlay o = t.open();
        var file = o.open(p("f"), Set.of(StandardOpenOption.READ), null);
        o.close();
        assertErrno(Errno.EBADF, () -> o.stat(p("f")));
        assertErrno(Errno.EBADF, () -> file.size());
        o.close();
    }
}
