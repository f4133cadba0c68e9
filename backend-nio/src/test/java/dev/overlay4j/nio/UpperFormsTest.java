package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import dev.overlay4j.nio.WhiteoutFormats.MarkForm;
import dev.overlay4j.nio.WhiteoutFormats.UpperForm;
import dev.overlay4j.nio.WhiteoutFormats.WhiteoutForm;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Which whiteout and opaque forms an upper layer writes, exactly as they land on disk. */
class UpperFormsTest {

    @TempDir
    Path scratch;
    final NewEntryAttributes owned = new NewEntryAttributes(0755, LinuxCalls.geteuid(), LinuxCalls.getegid());

    private WritableDirectoryLayer open(Path base, UpperForm form) throws IOException {
        Path upper = Files.createDirectories(base.resolve("upper"));
        Path work = Files.createDirectories(base.resolve("work"));
        return UpperDirectories.open(upper, work, LayerOptions.DEFAULTS, form);
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    private static Set<String> onDisk(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void onAnOrdinaryFileSystemTheKernelsFormsAreWritten() throws IOException {
        // mknod of a 0/0 whiteout needs no privilege since Linux 5.8; trusted.* needs CAP_SYS_ADMIN.
        assumeTrue(LinuxCalls.geteuid() == 0, "SKIPPED: trusted.* xattrs need root; this test runs as uid "
                + LinuxCalls.geteuid());
        try (WritableDirectoryLayer layer = open(scratch, null)) {
            assertEquals(UpperForm.KERNEL, layer.form());
            layer.createWhiteout(EntryPath.of("w"));
        }
        assertEquals(0020000, mode(scratch.resolve("upper/w")));
    }

    @Test
    void anUpperOnOverlayfsWritesWhiteoutsAsFilesForOverlayfsRefusesThemEvenToRoot() throws Exception {
        assumeTrue(LinuxCalls.geteuid() == 0, "SKIPPED: mounting overlayfs needs root");
        Path lower = Files.createDirectories(scratch.resolve("ovl-lower"));
        Path upper = Files.createDirectories(scratch.resolve("ovl-upper"));
        Path work = Files.createDirectories(scratch.resolve("ovl-work"));
        Path merged = Files.createDirectories(scratch.resolve("merged"));
        Process mount = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir="
                + upper + ",workdir=" + work, merged.toString()).redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(mount.waitFor() == 0, "SKIPPED: mount -t overlay failed: " + output);
        try {
            try (WritableDirectoryLayer layer = open(merged, null)) {
                assertEquals(new UpperForm(WhiteoutForm.MARK_FILE, MarkForm.XATTR), layer.form());
                layer.createWhiteout(EntryPath.of("gone"));
                layer.createFile(EntryPath.of("a"), owned).close();
                layer.renameLeavingWhiteout(EntryPath.of("a"), EntryPath.of("b"), RenameMode.NOREPLACE);
                assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("gone")).orElseThrow().type());
                assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("a")).orElseThrow().type());
            }
            assertEquals(Set.of(".wh.gone", ".wh.a", "b"), onDisk(merged.resolve("upper")));
        } finally {
            assertEquals(0, new ProcessBuilder("umount", merged.toString()).inheritIO().start().waitFor());
        }
    }

    @Test
    void whiteoutFilesAreEmptyFilesOfMode0700AsFuseOverlayfsMakesThem() throws IOException {
        try (WritableDirectoryLayer layer = open(scratch, new UpperForm(WhiteoutForm.MARK_FILE, MarkForm.XATTR))) {
            layer.createDirectory(EntryPath.of("d"), owned);
            layer.createWhiteout(EntryPath.of("d/gone"));
        }
        Path mark = scratch.resolve("upper/d/.wh.gone");
        assertEquals(Set.of(".wh.gone"), onDisk(scratch.resolve("upper/d")));
        assertTrue(Files.isRegularFile(mark, LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, Files.size(mark));
        assertEquals(0100700, mode(mark), "a regular file of mode 0700 (a umask never takes the owner's bits)");
    }

    @Test
    void withoutOverlayXattrsOpaqueDirectoriesGetFuseOverlayfsXattrAndTheOpaqueFile() throws IOException {
        try (WritableDirectoryLayer layer = open(scratch, new UpperForm(WhiteoutForm.DEVICE, MarkForm.FUSE_OVERLAYFS))) {
            layer.createDirectory(EntryPath.of("d"), owned);
            layer.setOpaque(EntryPath.of("d"), true);
            assertTrue(layer.stat(EntryPath.of("d")).orElseThrow().opaque());
            assertEquals(List.of(), layer.listXattrs(EntryPath.of("d")));
            UserDefinedFileAttributeView view = Files.getFileAttributeView(scratch.resolve("upper/d"),
                    UserDefinedFileAttributeView.class);
            assertEquals(List.of("fuseoverlayfs.opaque"), view.list());
            ByteBuffer value = ByteBuffer.allocate(2);
            assertEquals(1, view.read("fuseoverlayfs.opaque", value));
            assertEquals('y', value.get(0));
            assertEquals(Set.of(".wh..wh..opq"), onDisk(scratch.resolve("upper/d")));

            layer.setOpaque(EntryPath.of("d"), false);
            assertFalse(layer.stat(EntryPath.of("d")).orElseThrow().opaque());
            assertEquals(List.of(), view.list());
            assertEquals(Set.of(), onDisk(scratch.resolve("upper/d")));

            assertErrno(Errno.EXDEV, () -> layer.setRedirect(EntryPath.of("d"), "/elsewhere"));
            assertThrows(UnsupportedOperationException.class, layer::indexArea);
        }
    }

    @Test
    void namesBeginningWithTheWhiteoutPrefixCannotBeCreatedAndFuseOverlayfsXattrsNotSet() throws IOException {
        try (WritableDirectoryLayer layer = open(scratch, null)) {
            layer.createFile(EntryPath.of("f"), owned).close();
            EntryPath mark = EntryPath.of(".wh.f");
            assertErrno(Errno.EINVAL, () -> layer.createFile(mark, owned).close());
            assertErrno(Errno.EINVAL, () -> layer.createDirectory(mark, owned));
            assertErrno(Errno.EINVAL, () -> layer.createSymlink(mark, "f", owned));
            assertErrno(Errno.EINVAL, () -> layer.createWhiteout(EntryPath.of(".wh..wh..opq")));
            assertErrno(Errno.EINVAL, () -> layer.link(EntryPath.of("f"), mark));
            assertErrno(Errno.EINVAL, () -> layer.rename(EntryPath.of("f"), mark, RenameMode.REPLACE));
            layer.workArea().createFile(EntryPath.of("staged"), owned).close();
            assertErrno(Errno.EINVAL, () -> layer.publish(EntryPath.of("staged"), mark, RenameMode.REPLACE));
            assertErrno(Errno.EPERM, () -> layer.setXattr(EntryPath.of("f"), "user.fuseoverlayfs.opaque",
                    new byte[] {'y'}, XattrMode.CREATE_OR_REPLACE));
            assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("f")).orElseThrow().type());
        }
        assertEquals(Set.of("f"), onDisk(scratch.resolve("upper")));
    }

    @Test
    void anUpperWrittenInOneFormReadsBackInAnyOther() throws IOException {
        try (WritableDirectoryLayer layer = open(scratch, new UpperForm(WhiteoutForm.MARK_FILE, MarkForm.FUSE_OVERLAYFS))) {
            layer.createWhiteout(EntryPath.of("gone"));
            layer.createDirectory(EntryPath.of("opaque"), owned);
            layer.setOpaque(EntryPath.of("opaque"), true);
        }
        try (WritableDirectoryLayer layer = open(scratch, UpperForm.KERNEL);
             Layer lower = new NioLayerProvider().openLower(scratch.resolve("upper").toUri(), LayerOptions.DEFAULTS)) {
            for (Layer l : List.of(layer, lower)) {
                assertEquals(EntryType.WHITEOUT, l.stat(EntryPath.of("gone")).orElseThrow().type());
                assertTrue(l.stat(EntryPath.of("opaque")).orElseThrow().opaque());
            }
            // Written over in the kernel's forms: the .wh. file goes, a device takes the name.
            layer.createFile(EntryPath.of("new"), owned).close();
            layer.rename(EntryPath.of("new"), EntryPath.of("gone"), RenameMode.REPLACE);
            assertEquals(Set.of("gone", "opaque"), onDisk(scratch.resolve("upper")));
            layer.workArea().createWhiteout(EntryPath.of("w"));
            layer.publish(EntryPath.of("w"), EntryPath.of("gone"), RenameMode.REPLACE);
            assertEquals(0020000, mode(scratch.resolve("upper/gone")));
            try (Stream<dev.overlay4j.api.DirectoryEntry> entries = layer.list(EntryPath.ROOT)) {
                assertEquals(Map.of("gone", EntryType.WHITEOUT, "opaque", EntryType.DIRECTORY), entries.collect(
                        Collectors.toMap(dev.overlay4j.api.DirectoryEntry::name, dev.overlay4j.api.DirectoryEntry::type)));
            }
        }
    }
}
