package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CopyUpTest {

    @TempDir
    Path tmp;

    @Test
    void openForWriteCopiesUpDataAndParentsWithTheirMetadata() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/b/f", "hello");
        Files.setPosixFilePermissions(t.layer(1).resolve("a/b"), PosixFilePermissions.fromString("rwx--x---"));
        Files.setPosixFilePermissions(t.layer(1).resolve("a/b/f"), PosixFilePermissions.fromString("rw-r-----"));
        Files.setLastModifiedTime(t.layer(1).resolve("a/b"), FileTime.fromMillis(1_000_000_000_000L));
        Files.setLastModifiedTime(t.layer(1).resolve("a/b/f"), FileTime.fromMillis(1_200_000_000_000L));
        LayerTree.run("setfattr", "-n", "user.note", "-v", "kept", t.layer(1).resolve("a/b/f").toString());
        try (Overlay o = t.open()) {
            EntryAttributes before = o.stat(p("a/b/f"));
            try (OverlayFile f = o.open(p("a/b/f"), Set.of(StandardOpenOption.WRITE), null)) {
                f.write(ByteBuffer.wrap("J".getBytes(StandardCharsets.UTF_8)), 0);
            }
            assertEquals("Jello", Files.readString(t.upper().resolve("a/b/f")));
            assertEquals("rwx--x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(t.upper().resolve("a/b"))));
            assertEquals(1_000_000_000_000L, Files.getLastModifiedTime(t.upper().resolve("a/b")).toMillis());
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(t.upper().resolve("a/b/f"))));
            assertEquals("kept", new String(o.readXattr(p("a/b/f"), "user.note"), StandardCharsets.UTF_8));
            assertEquals(before.inode(), o.stat(p("a/b/f")).inode());
            assertFalse(t.upperXattr("a/b", "trusted.overlay.opaque").isPresent(), "a copied-up directory is not opaque");
            assertEquals(t.upperNames(""), java.util.List.of("a"));
        }
    }

    @Test
    void copyUpListenersHearOfEveryEntryCopiedUpParentsFirstAndOfNothingElse() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/b/f", "hello").file(1, "a/g", "g");
        try (Overlay o = t.open()) {
            List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
            o.addCopyUpListener(path -> heard.add(path.toString()));
            o.setPermissions(p("a/b/f"), 0600);
            assertEquals(List.of("/a", "/a/b", "/a/b/f"), heard);
            heard.clear();
            o.setPermissions(p("a/b/f"), 0644); // in the upper layer already
            o.stat(p("a/g"));
            assertEquals(List.of(), heard);
        }
    }

    @Test
    void copiedUpDirectoryKeepsItsLowerContentMerged() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/a", "a").file(1, "d/b", "b");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "d/a", "A");
            assertEquals(Map.of("a", "f", "b", "f"), LayerTree.listing(o, "d"));
            assertEquals("b", read(o, "d/b"));
            assertEquals(java.util.List.of("a"), t.upperNames("d"));
        }
    }

    @Test
    void metadataChangesCopyUpFirst() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "p", "p").file(1, "o", "o").file(1, "t", "t").file(1, "x", "x");
        try (Overlay o = t.open()) {
            o.setPermissions(p("p"), 0600);
            o.setOwner(p("o"), 1234, 5678);
            o.setTimes(p("t"), WritableLayer.TIME_OMIT, 5_000_000_000L);
            o.setXattr(p("x"), "user.k", "v".getBytes(StandardCharsets.UTF_8), XattrMode.CREATE);
            assertEquals(0600, o.stat(p("p")).permissions());
            assertEquals(1234, o.stat(p("o")).uid());
            assertEquals(5_000_000_000L, o.stat(p("t")).mtimeNanos());
            assertEquals("v", new String(o.readXattr(p("x"), "user.k"), StandardCharsets.UTF_8));
            for (String name : new String[] {"p", "o", "t", "x"}) {
                assertTrue(Files.isRegularFile(t.upper().resolve(name)), name);
                assertEquals(name, Files.readString(t.upper().resolve(name)), name);
            }
            assertEquals("x", Files.readString(t.layer(1).resolve("x")), "the lower layer never changes");
        }
    }

    @Test
    void truncateCopiesUpAndCuts() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "123456");
        try (Overlay o = t.open()) {
            o.truncate(p("f"), 2);
            assertEquals("12", read(o, "f"));
            assertEquals("123456", Files.readString(t.layer(1).resolve("f")));
        }
    }

    @Test
    void symlinksDevicesAndFifosCopyUp() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).symlink(1, "l", "target/x");
        LayerTree.run("mkfifo", t.layer(1).resolve("fifo").toString());
        LayerTree.run("mknod", t.layer(1).resolve("null").toString(), "c", "1", "3");
        try (Overlay o = t.open()) {
            o.setOwner(p("l"), 7, 7);
            o.setOwner(p("fifo"), 7, 7);
            o.setOwner(p("null"), 7, 7);
            assertEquals("target/x", Files.readSymbolicLink(t.upper().resolve("l")).toString());
            assertEquals(EntryType.FIFO, o.stat(p("fifo")).type());
            assertEquals(EntryType.CHARACTER_DEVICE, o.stat(p("null")).type());
            assertEquals(o.stat(p("null")).rdev(), (long) (Long) Files.getAttribute(t.upper().resolve("null"), "unix:rdev"));
            assertEquals(7, (Integer) Files.getAttribute(t.upper().resolve("l"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void fileOpenedForReadingBeforeCopyUpReadsTheUpperCopyAfterIt() throws Exception {
        // The kernel's overlayfs since Linux 4.19: a read-only fd follows its file into the upper layer.
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "lower");
        try (Overlay o = t.open(); OverlayFile reader = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
            assertEquals("lower", read(reader));
            LayerTree.write(o, "f", "upper!");
            assertEquals("upper!", read(reader));
            assertEquals(6, reader.size());
            assertEquals("upper!", read(o, "f"));
        }
    }

    @Test
    void aReadHandleSaysWhenItsFileMayStillBeCopiedUp() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "lower");
        try (Overlay o = t.open()) {
            try (OverlayFile reader = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
                assertTrue(reader.mayBeCopiedUp(), "a lower file of a writable overlay");
                LayerTree.write(o, "f", "upper!");
                read(reader);
                assertFalse(reader.mayBeCopiedUp(), "it followed its file into the upper layer");
            }
            try (OverlayFile reader = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
                assertFalse(reader.mayBeCopiedUp(), "an upper file");
            }
        }
    }

    @Test
    void aReadHandleWhoseNameIsGoneKeepsReadingItsBytesWhenAnotherFileIsCopiedUp() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "d/f", "lower").file(1, "g", "other");
        try (Overlay o = t.open(); OverlayFile reader = o.open(p("d/f"), Set.of(StandardOpenOption.READ), null)) {
            o.unlink(p("d/f"));
            o.removeDirectory(p("d"));
            LayerTree.write(o, "g", "changed"); // makes the handle look for a copy-up of d/f, whose parent is gone
            assertEquals("lower", read(reader));
            assertEquals(5, reader.size());
        }
    }

    @Test
    void anotherFilesCopyUpLeavesAReadHandleOnItsLowerBytes() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "f", "lower").file(1, "g", "other");
        try (Overlay o = t.open(); OverlayFile reader = o.open(p("f"), Set.of(StandardOpenOption.READ), null)) {
            LayerTree.write(o, "g", "changed"); // another file's copy-up does not move this handle
            assertEquals("lower", read(reader));
        }
    }

    @Test
    void copyUpLeavesNothingInTheWorkArea() throws Exception {
        LayerTree t = new LayerTree(tmp, 1).file(1, "a/f", "x").dir(1, "a/d");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "a/f", "y");
            o.setPermissions(p("a/d"), 0700);
            try (var s = Files.list(t.work().resolve("work"))) {
                assertEquals(0, s.count(), "the kernel-style scratch dir work/ is empty");
            }
        }
    }

    @Test
    void withUserXattrASymlinkIsCopiedUpThoughItCannotCarryTheInodeMark() throws Exception {
        // user.* xattrs (the marks with userxattr) are refused on symlinks with EPERM.
        LayerTree t = new LayerTree(tmp, 1).symlink(1, "d/l", "target");
        try (Overlay o = t.open(b -> b.userXattr(true))) {
            o.rename(p("d/l"), p("d/m"), RenameMode.NOREPLACE);
            assertEquals("target", o.readLink(p("d/m")));
            o.setOwner(p("d/m"), 0, 0);
        }
        assertEquals(List.of("l", "m"), t.upperNames("d"));
    }
}
