package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.assertErrno;
import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.FsxAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lsattr/chattr through the engine: protattr for immutable and append-only, and what those flags refuse. */
class InodeFlagsTest {

    private static final int NOATIME = 0x80;

    @TempDir
    Path tmp;

    /** As chattr(1) does: the flags the entry has, with {@code set} added and {@code clear} taken away. */
    private static void chattr(Overlay o, String path, int set, int clear) throws IOException {
        o.setFileFlags(p(path), (o.fileFlags(p(path)) | set) & ~clear);
    }

    @Test
    void settingFlagsCopiesUpAndKeepsProtectionInProtattr() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "lower");
        try (Overlay o = t.open()) {
            chattr(o, "d/f", FsxAttributes.FLAG_IMMUTABLE | NOATIME, 0);
            assertEquals(Optional.of("i"), t.upperXattr("d/f", "trusted.overlay.protattr"));
            assertEquals(FsxAttributes.FLAG_IMMUTABLE | NOATIME,
                    o.fileFlags(p("d/f")) & (FsxAttributes.FLAG_IMMUTABLE | NOATIME));
            assertEquals(FsxAttributes.XFLAG_IMMUTABLE, o.fsxAttributes(p("d/f")).xflags() & FsxAttributes.XFLAG_IMMUTABLE);
            assertTrue(Files.exists(t.upper().resolve("d/f")), "copied up");
            chattr(o, "d/f", 0, FsxAttributes.FLAG_IMMUTABLE);
            assertEquals(Optional.empty(), t.upperXattr("d/f", "trusted.overlay.protattr"), "the mark goes with the flags");
            assertEquals(0, o.fileFlags(p("d/f")) & FsxAttributes.FLAG_IMMUTABLE);
        }
    }

    @Test
    void anImmutableFileRefusesEveryChangeWithEperm() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(0, "f", "upper").file(0, "other", "o");
        try (Overlay o = t.open()) {
            chattr(o, "f", FsxAttributes.FLAG_IMMUTABLE, 0);
            assertErrno(Errno.EPERM, () -> o.open(p("f"), Set.of(StandardOpenOption.WRITE), null));
            assertErrno(Errno.EPERM, () -> o.open(p("f"), Set.of(StandardOpenOption.APPEND), null));
            assertErrno(Errno.EPERM, () -> o.unlink(p("f")));
            assertErrno(Errno.EPERM, () -> o.rename(p("f"), p("g"), RenameMode.REPLACE));
            assertErrno(Errno.EPERM, () -> o.rename(p("other"), p("f"), RenameMode.REPLACE));
            assertErrno(Errno.EPERM, () -> o.link(p("f"), p("h")));
            assertErrno(Errno.EPERM, () -> o.setPermissions(p("f"), 0600));
            assertErrno(Errno.EPERM, () -> o.truncate(p("f"), 0));
            assertErrno(Errno.EPERM, () -> o.setXattr(p("f"), "user.x", new byte[] {1}, dev.overlay4j.api.XattrMode.CREATE));
            try (OverlayFile reading = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
                assertEquals("upper", LayerTree.read(reading));
            }
            chattr(o, "f", 0, FsxAttributes.FLAG_IMMUTABLE);
            o.unlink(p("f"));
        }
    }

    @Test
    void anAppendOnlyDirectoryKeepsItsNamesAndAnAppendOnlyFileOpensForAppendingAlone() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/old", "lower").file(0, "log", "1");
        try (Overlay o = t.open()) {
            chattr(o, "d", FsxAttributes.FLAG_APPEND, 0);
            LayerTree.write(o, "d/new", "added");
            assertErrno(Errno.EPERM, () -> o.unlink(p("d/old")));
            assertErrno(Errno.EPERM, () -> o.rename(p("d/new"), p("moved"), RenameMode.REPLACE));
            chattr(o, "log", FsxAttributes.FLAG_APPEND, 0);
            assertErrno(Errno.EPERM, () -> o.open(p("log"), Set.of(StandardOpenOption.WRITE), null));
            try (OverlayFile appending = o.open(p("log"), Set.of(StandardOpenOption.APPEND), null)) {
                appending.write(java.nio.ByteBuffer.wrap(new byte[] {'2'}), 0);
            }
            assertEquals("12", LayerTree.read(o, "log"));
        }
    }

    @Test
    void readOnlyOverlaysAndSpecialFilesAnswerAsTheKernel() throws IOException {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "x").symlink(1, "l", "f");
        try (Overlay o = t.open()) {
            assertErrno(Errno.ENOTTY, () -> o.fileFlags(p("l")));
            assertErrno(Errno.ENOTTY, () -> o.setFileFlags(p("l"), 0));
        }
        try (Overlay o = t.open(b -> b.readOnly(true))) {
            assertErrno(Errno.EROFS, () -> chattr(o, "f", NOATIME, 0));
            assertEquals(0, o.fileFlags(p("f")) & NOATIME);
        }
    }
}
