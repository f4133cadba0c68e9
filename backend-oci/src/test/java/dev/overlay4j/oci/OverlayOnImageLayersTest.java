package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine over two image layers and a directory upper: what a container started from the image sees. */
class OverlayOnImageLayersTest {

    @TempDir
    Path tmp;

    /** The base image: a small distribution. */
    private static TarWriter base() {
        return new TarWriter()
                .add(TarWriter.dir("etc/"))
                .add(TarWriter.file("etc/hostname", "base\n"))
                .add(TarWriter.file("etc/os-release", "ID=base\n"))
                .add(TarWriter.file("usr/bin/tool", "#!tool").mode(0755))
                .add(TarWriter.hardLink("usr/bin/tool-alias", "usr/bin/tool"))
                .add(TarWriter.symlink("bin", "usr/bin"))
                .add(TarWriter.file("usr/share/doc/base/README", "base doc"))
                .add(TarWriter.file("opt/old/file", "old"));
    }

    /** The layer on top: replaces, deletes, and makes one directory opaque. */
    private static TarWriter top() {
        return new TarWriter()
                .add(TarWriter.file("etc/hostname", "top\n"))
                .add(TarWriter.file("etc/.wh.os-release", ""))
                .add(TarWriter.file(".wh.opt", ""))
                .add(TarWriter.dir("usr/share/doc/"))
                .add(TarWriter.file("usr/share/doc/.wh..wh..opq", ""))
                .add(TarWriter.file("usr/share/doc/top/README", "top doc"));
    }

    private Overlay open(String lowers) throws IOException {
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        return Overlay.open(OverlayConfig.fromMountOptions(lowers + ",upperdir=" + upper + ",workdir=" + work));
    }

    private static Map<String, EntryType> listing(Overlay overlay, String dir) throws IOException {
        Map<String, EntryType> out = new TreeMap<>();
        for (DirectoryEntry e : overlay.listDirectory(EntryPath.of(dir))) {
            out.put(e.name(), e.type());
        }
        return out;
    }

    private static String read(Overlay overlay, String path) throws IOException {
        try (OverlayFile file = overlay.open(EntryPath.of(path), Set.of(StandardOpenOption.READ), null)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
            long position = 0;
            for (int n; buffer.hasRemaining() && (n = file.read(buffer, position)) > 0; ) {
                position += n;
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    private static void write(Overlay overlay, String path, String text) throws IOException {
        try (OverlayFile file = overlay.open(EntryPath.of(path),
                Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING),
                new NewEntryAttributes(0644, 0, 0))) {
            file.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private static void assertMergedImage(Overlay overlay) throws IOException {
        assertEquals(Map.of("bin", EntryType.SYMLINK, "etc", EntryType.DIRECTORY, "usr", EntryType.DIRECTORY), listing(overlay, ""));
        assertEquals(Map.of("hostname", EntryType.REGULAR_FILE), listing(overlay, "etc"));
        assertEquals("top\n", read(overlay, "etc/hostname"));
        assertEquals(Map.of("top", EntryType.DIRECTORY), listing(overlay, "usr/share/doc"));
        assertEquals("top doc", read(overlay, "usr/share/doc/top/README"));
        assertEquals("#!tool", read(overlay, "usr/bin/tool-alias"));
        assertEquals("usr/bin", overlay.readLink(EntryPath.of("bin")));
        assertEquals(0755, overlay.stat(EntryPath.of("usr/bin/tool")).permissions());
        IOException gone = assertThrows(IOException.class, () -> overlay.stat(EntryPath.of("opt/old/file")));
        assertEquals(Errno.ENOENT, Errno.of(gone));
        IOException release = assertThrows(IOException.class, () -> overlay.stat(EntryPath.of("etc/os-release")));
        assertEquals(Errno.ENOENT, Errno.of(release));
    }

    @Test
    void twoTarLayersAndAnUpperMergeAsTheImageSpecSays() throws IOException {
        Path basePath = base().writeGzip(tmp.resolve("base.tar.gz"));
        Path topPath = top().write(tmp.resolve("top.tar"));
        try (Overlay overlay = open("lowerdir=" + topPath + ":" + basePath)) {
            assertMergedImage(overlay);
            // The container writes: a copy-up from a tar layer, a new file, a deletion.
            write(overlay, "etc/hostname", "container\n");
            write(overlay, "etc/os-release", "ID=mine\n");
            overlay.unlink(EntryPath.of("usr/bin/tool"));
            assertEquals("container\n", read(overlay, "etc/hostname"));
            assertEquals(Map.of("hostname", EntryType.REGULAR_FILE, "os-release", EntryType.REGULAR_FILE), listing(overlay, "etc"));
            assertEquals(Map.of("tool-alias", EntryType.REGULAR_FILE), listing(overlay, "usr/bin"));
            assertEquals("#!tool", read(overlay, "usr/bin/tool-alias"));
        }
        assertEquals("container\n", Files.readString(tmp.resolve("upper/etc/hostname")));
        assertEquals("ID=mine\n", Files.readString(tmp.resolve("upper/etc/os-release")));
        assertTrue(Files.exists(tmp.resolve("upper/usr/bin/tool"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "a whiteout in the upper");
        assertEquals(List.of("base.tar.gz", "top.tar", "upper", "work"), Files.list(tmp).map(p -> p.getFileName().toString()).sorted().toList(),
                "the layers' files are untouched and nothing is written beside them");
    }

    @Test
    void anOciImageExpandsIntoItsLayersWhereItIsNamed() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("image"));
        image.topIndex(List.of(image.manifest(List.of(
                image.blob(ImageLayoutWriter.TAR_GZIP, base().gzipBytes(), ""),
                image.blob(ImageLayoutWriter.TAR, top().bytes(), "")), ImageLayoutWriter.ref("app"))));
        Path extra = Files.createDirectories(tmp.resolve("extra"));
        Files.writeString(extra.resolve("added"), "from a directory on top");
        try (Overlay overlay = open("lowerdir=" + extra + ",lowerdir+=oci:" + image.dir + "?ref=app")) {
            assertEquals(Map.of("added", EntryType.REGULAR_FILE, "bin", EntryType.SYMLINK, "etc", EntryType.DIRECTORY,
                    "usr", EntryType.DIRECTORY), listing(overlay, ""));
            assertEquals("from a directory on top", read(overlay, "added"));
            assertEquals(Map.of("hostname", EntryType.REGULAR_FILE), listing(overlay, "etc"));
            assertEquals("top\n", read(overlay, "etc/hostname"));
            assertEquals(Map.of("top", EntryType.DIRECTORY), listing(overlay, "usr/share/doc"));
        }
    }

    @Test
    void theSameImageWithoutAnUpperIsReadOnly() throws IOException {
        Path basePath = base().write(tmp.resolve("base.tar"));
        Path topPath = top().writeGzip(tmp.resolve("top.tgz"));
        try (Overlay overlay = Overlay.open(OverlayConfig.fromMountOptions("lowerdir=" + topPath + ":" + basePath))) {
            assertMergedImage(overlay);
            IOException thrown = assertThrows(IOException.class, () -> write(overlay, "etc/new", "x"));
            assertEquals(Errno.EROFS, Errno.of(thrown));
        }
    }
}
