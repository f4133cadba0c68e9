package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** What the members of an image layer's tar become: every kind the image spec names, and the hostile ones. */
class TarMembersTest {

    @TempDir
    Path tmp;

    private TarLayer open(TarWriter tar) throws IOException {
        return TarLayer.open(tar.write(tmp.resolve("layer.tar")), "layer.tar", IndexCache.NONE);
    }

    private static EntryAttributes stat(Layer layer, String path) throws IOException {
        return layer.stat(EntryPath.of(path)).orElseThrow(() -> new AssertionError(path + " is missing"));
    }

    private static Map<String, EntryType> listing(Layer layer, String dir) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of(dir))) {
            return entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type, (a, b) -> {
                throw new AssertionError("listed twice");
            }, TreeMap::new));
        }
    }

    private static String read(Layer layer, String path) throws IOException {
        try (ReadableContent content = layer.openRead(EntryPath.of(path))) {
            ByteBuffer buffer = ByteBuffer.allocate((int) content.size());
            long position = 0;
            for (int n; buffer.hasRemaining() && (n = content.read(buffer, position)) > 0; ) {
                position += n;
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    @Test
    void whiteoutAndOpaqueMarksAreReportedAndNeverListedAsNames() throws IOException {
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file(".wh.gone", ""))
                .add(TarWriter.dir("etc/"))
                .add(TarWriter.file("etc/.wh.motd", ""))
                .add(TarWriter.file("etc/hostname", "box\n"))
                .add(TarWriter.file("kept", "kept\n"))
                .add(TarWriter.file(".wh.kept", ""))
                .add(TarWriter.dir("usr/share/doc/"))
                .add(TarWriter.file("usr/share/doc/.wh..wh..opq", ""))
                .add(TarWriter.file("usr/share/doc/new", "new\n"))
                .add(TarWriter.dir(".wh..wh.plnk/"))
                .add(TarWriter.file(".wh..wh.plnk/123.1", "aufs hard link store"))
                .add(TarWriter.device("dev0", '3', 0, 0)))) {
            assertEquals(Map.of("gone", EntryType.WHITEOUT, "dev0", EntryType.WHITEOUT, "etc", EntryType.DIRECTORY,
                    "kept", EntryType.REGULAR_FILE, "usr", EntryType.DIRECTORY), listing(layer, ""));
            assertEquals(Map.of("hostname", EntryType.REGULAR_FILE, "motd", EntryType.WHITEOUT), listing(layer, "etc"));
            assertEquals(EntryType.WHITEOUT, stat(layer, "gone").type());
            assertEquals(EntryType.WHITEOUT, stat(layer, "etc/motd").type());
            assertEquals("kept\n", read(layer, "kept"), "a real entry wins over a mark in its own layer");
            assertTrue(stat(layer, "usr/share/doc").opaque());
            assertEquals(false, stat(layer, "usr/share").opaque());
            assertEquals(Map.of("new", EntryType.REGULAR_FILE), listing(layer, "usr/share/doc"));
            assertTrue(layer.stat(EntryPath.of(".wh.gone")).isEmpty());
            assertTrue(layer.stat(EntryPath.of(".wh..wh.plnk")).isEmpty());
            assertErrno(Errno.ENOENT, () -> layer.openRead(EntryPath.of("gone")).close());
            assertEquals(List.of(), layer.refused());
        }
    }

    @Test
    void hardLinksShareInodeBytesAndLinkCount() throws IOException {
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file("bin/busybox", "ELF").mode(0755).owner(0, 0))
                .add(TarWriter.hardLink("bin/sh", "bin/busybox"))
                .add(TarWriter.hardLink("./bin/ls", "./bin/busybox"))
                .add(TarWriter.file("single", "one")))) {
            EntryAttributes original = stat(layer, "bin/busybox");
            EntryAttributes sh = stat(layer, "bin/sh");
            assertEquals(original.inode(), sh.inode());
            assertEquals(original.inode(), stat(layer, "bin/ls").inode());
            assertEquals(3, sh.nlink());
            assertEquals(0755, sh.permissions());
            assertEquals("ELF", read(layer, "bin/sh"));
            assertEquals(1, stat(layer, "single").nlink());
            assertEquals(2, stat(layer, "bin").nlink());
            assertEquals(3, stat(layer, "").nlink());
        }
    }

    @Test
    void symlinksKeepTheirTargetsAsStoredAndAreNeverFollowed() throws IOException {
        String longTarget = "../".repeat(10) + "x".repeat(150);
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.symlink("lib", "usr/lib"))
                .add(TarWriter.symlink("etc/localtime", "/usr/share/zoneinfo/UTC"))
                .add(TarWriter.symlink("far", longTarget)))) {
            assertEquals("usr/lib", layer.readLink(EntryPath.of("lib")));
            assertEquals("/usr/share/zoneinfo/UTC", layer.readLink(EntryPath.of("etc/localtime")));
            assertEquals(longTarget, layer.readLink(EntryPath.of("far")));
            EntryAttributes lib = stat(layer, "lib");
            assertEquals(EntryType.SYMLINK, lib.type());
            assertEquals(7, lib.size());
            assertEquals(0777, lib.permissions());
            assertErrno(Errno.ELOOP, () -> layer.openRead(EntryPath.of("lib")).close());
            assertErrno(Errno.ENOTDIR, () -> layer.stat(EntryPath.of("lib/libc.so")));
        }
    }

    @Test
    void devicesAndFifosKeepTheirTypeAndNumbers() throws IOException {
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.device("dev/null", '3', 1, 3).mode(0666))
                .add(TarWriter.device("dev/sda1", '4', 8, 1).mode(0660).owner(0, 6))
                .add(TarWriter.device("dev/big", '4', 259, 65536))
                .add(TarWriter.device("run/fifo", '6', 0, 0).mode(0620)))) {
            EntryAttributes nul = stat(layer, "dev/null");
            assertEquals(EntryType.CHARACTER_DEVICE, nul.type());
            assertEquals(0666, nul.permissions());
            assertEquals(0x103, nul.rdev());
            EntryAttributes sda1 = stat(layer, "dev/sda1");
            assertEquals(EntryType.BLOCK_DEVICE, sda1.type());
            assertEquals(0x801, sda1.rdev());
            assertEquals(6, sda1.gid());
            // glibc's makedev(259, 65536): minor bits above 8 go to bit 20 and up.
            assertEquals((259L << 8) | (65536L << 12), stat(layer, "dev/big").rdev());
            EntryAttributes fifo = stat(layer, "run/fifo");
            assertEquals(EntryType.FIFO, fifo.type());
            assertEquals(0620, fifo.permissions());
            assertEquals(0, fifo.rdev());
            assertErrno(Errno.EINVAL, () -> layer.openRead(EntryPath.of("dev/null")).close());
        }
    }

    @Test
    void modesOwnersAndNanosecondTimesComeFromTheHeadersAndPaxRecords() throws IOException {
        long mtime = 1_700_000_000_123_456_789L;
        long atime = 1_700_000_100_000_000_001L;
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file("usr/bin/sudo", "x").mode(04755).owner(0, 0).mtime(mtime).atime(atime))
                .add(TarWriter.file("home/u/f", "y").mode(0600).owner(1000, 1001).mtime(1_600_000_000_000_000_000L))
                .add(TarWriter.file("big-ids", "z").owner(3_000_000_000L, 70_000_000L))
                .add(TarWriter.dir("tmp/").mode(01777)))) {
            EntryAttributes sudo = stat(layer, "usr/bin/sudo");
            assertEquals(04755, sudo.permissions());
            assertEquals(0104755, sudo.mode());
            assertEquals(mtime, sudo.mtimeNanos());
            assertEquals(atime, sudo.atimeNanos());
            EntryAttributes f = stat(layer, "home/u/f");
            assertEquals(1000, f.uid());
            assertEquals(1001, f.gid());
            assertEquals(0600, f.permissions());
            assertEquals(1_600_000_000_000_000_000L, f.mtimeNanos());
            assertEquals(1, f.size());
            assertEquals((int) 3_000_000_000L, stat(layer, "big-ids").uid());
            assertEquals(70_000_000, stat(layer, "big-ids").gid());
            assertEquals(01777, stat(layer, "tmp").permissions());
            EntryAttributes implicit = stat(layer, "home");
            assertEquals(0755, implicit.permissions());
            assertEquals(0, implicit.uid());
        }
    }

    @Test
    void paxXattrsAreListedAndReadExactlyButOverlayMarksAreHidden() throws IOException {
        byte[] capability = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file("usr/bin/ping", "p").xattr("security.capability", capability)
                        .xattr("user.mime_type", "application/x-elf".getBytes(StandardCharsets.UTF_8))
                        .xattr("user.empty", new byte[0]))
                .add(TarWriter.dir("d/").xattr("trusted.overlay.opaque", new byte[] {'y'}).xattr("user.kind", new byte[] {'k'})))) {
            assertEquals(List.of("security.capability", "user.mime_type", "user.empty"), layer.listXattrs(EntryPath.of("usr/bin/ping")));
            assertArrayEquals(capability, layer.readXattr(EntryPath.of("usr/bin/ping"), "security.capability").orElseThrow());
            assertArrayEquals(new byte[0], layer.readXattr(EntryPath.of("usr/bin/ping"), "user.empty").orElseThrow());
            assertEquals(List.of("user.kind"), layer.listXattrs(EntryPath.of("d")));
            assertTrue(layer.readXattr(EntryPath.of("d"), "trusted.overlay.opaque").isEmpty());
            assertTrue(layer.readXattr(EntryPath.of("usr/bin/ping"), "user.none").isEmpty());
            assertErrno(Errno.ENOENT, () -> layer.listXattrs(EntryPath.of("nothing")));
        }
    }

    @Test
    void longNamesReadTheSameFromGnuAndPaxMembers() throws IOException {
        String dir = "a".repeat(90) + "/" + "b".repeat(90);
        String name = dir + "/" + "c".repeat(200);
        String target = "t".repeat(180);
        for (TarWriter.LongNames form : TarWriter.LongNames.values()) {
            Path file = new TarWriter(form)
                    .add(TarWriter.file(name, "deep"))
                    .add(TarWriter.symlink(dir + "/link", target))
                    .add(TarWriter.hardLink(dir + "/hard", name))
                    .write(tmp.resolve(form + ".tar"));
            try (TarLayer layer = TarLayer.open(file, form.toString(), IndexCache.NONE)) {
                assertEquals("deep", read(layer, name), form.toString());
                assertEquals(target, layer.readLink(EntryPath.of(dir + "/link")), form.toString());
                assertEquals(stat(layer, name).inode(), stat(layer, dir + "/hard").inode(), form.toString());
                assertEquals(Map.of("c".repeat(200), EntryType.REGULAR_FILE, "link", EntryType.SYMLINK,
                        "hard", EntryType.REGULAR_FILE), listing(layer, dir), form.toString());
            }
        }
    }

    @Test
    void hostileMembersAreRefusedWithAWarningAndNeverEscapeTheLayer() throws IOException {
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file("/etc/passwd", "root::0:0"))
                .add(TarWriter.file("../evil", "x"))
                .add(TarWriter.file("ok/../../evil2", "x"))
                .add(TarWriter.symlink("escape", "/"))
                .add(TarWriter.file("escape/etc/shadow", "x"))
                .add(TarWriter.file("plain", "p"))
                .add(TarWriter.file("plain/below", "x"))
                .add(TarWriter.hardLink("h1", "/etc/passwd"))
                .add(TarWriter.hardLink("h2", "../outside"))
                .add(TarWriter.hardLink("h3", "not/there"))
                .add(TarWriter.dir("dir/"))
                .add(TarWriter.hardLink("h4", "dir"))
                .add(TarWriter.file("good", "good")))) {
            assertEquals(Map.of("escape", EntryType.SYMLINK, "plain", EntryType.REGULAR_FILE, "dir", EntryType.DIRECTORY,
                    "good", EntryType.REGULAR_FILE), listing(layer, ""));
            assertEquals("/", layer.readLink(EntryPath.of("escape")));
            assertEquals("p", read(layer, "plain"));
            assertEquals("good", read(layer, "good"));
            List<String> refused = layer.refused();
            assertEquals(9, refused.size(), () -> String.join("\n", refused));
            assertTrue(refused.get(0).contains("\"/etc/passwd\"") && refused.get(0).contains("absolute"), refused.get(0));
            assertTrue(refused.get(1).contains("\"../evil\"") && refused.get(1).contains(".."), refused.get(1));
            assertTrue(refused.get(3).contains("\"escape/etc/shadow\"") && refused.get(3).contains("not a directory"), refused.get(3));
            assertTrue(refused.get(8).contains("directory"), refused.get(8));
        }
    }

    @Test
    void aLaterMemberOfTheSameNameReplacesTheEarlierOne() throws IOException {
        try (TarLayer layer = open(new TarWriter()
                .add(TarWriter.file("f", "first"))
                .add(TarWriter.hardLink("keep", "f"))
                .add(TarWriter.file("f", "second"))
                .add(TarWriter.dir("d/").mode(0700))
                .add(TarWriter.file("d/x", "x"))
                .add(TarWriter.dir("d/").mode(0750)))) {
            assertEquals("second", read(layer, "f"));
            assertEquals("first", read(layer, "keep"), "the link keeps the file it was made to");
            assertEquals(1, stat(layer, "f").nlink());
            assertEquals(0750, stat(layer, "d").permissions());
            assertEquals(Map.of("x", EntryType.REGULAR_FILE), listing(layer, "d"));
        }
    }

    @Test
    void aTruncatedOrForeignArchiveFailsWithEioNamingTheLayer() throws IOException {
        byte[] whole = new TarWriter().add(TarWriter.file("f", "x".repeat(2000))).bytes();
        Path truncated = Files.write(tmp.resolve("truncated.tar"), java.util.Arrays.copyOf(whole, 1000));
        IOException thrown = assertThrows(IOException.class, () -> TarLayer.open(truncated, "truncated.tar", IndexCache.NONE).close());
        assertEquals(Errno.EIO, Errno.of(thrown));
        assertTrue(thrown.getMessage().contains("truncated.tar"), thrown.getMessage());
        Path foreign = Files.writeString(tmp.resolve("foreign.tar"), "this is not a tar archive\n".repeat(40));
        IOException notTar = assertThrows(IOException.class, () -> TarLayer.open(foreign, "foreign.tar", IndexCache.NONE).close());
        assertEquals(Errno.EIO, Errno.of(notTar));
        assertTrue(notTar.getMessage().contains("checksum"), notTar.getMessage());
        assertErrno(Errno.ENOENT, () -> TarLayer.open(tmp.resolve("missing.tar"), "missing.tar", IndexCache.NONE).close());
    }

    @Test
    void aGzipLayerReadsAnywhereInAnyOrder() throws IOException {
        byte[] big = new byte[5 << 20];
        new java.util.Random(7).nextBytes(big);
        TarWriter tar = new TarWriter().add(TarWriter.file("a", big)).add(TarWriter.file("b", "bee"));
        try (TarLayer layer = TarLayer.open(tar.writeGzip(tmp.resolve("l.tar.gz")), "l.tar.gz", IndexCache.NONE);
             ReadableContent a = layer.openRead(EntryPath.of("a"))) {
            assertEquals("bee", read(layer, "b"));
            for (long position : new long[] {4_000_000, 10, 5_000_000, 0, (5 << 20) - 3}) {
                ByteBuffer buffer = ByteBuffer.allocate(3);
                assertEquals(3, a.read(buffer, position));
                assertArrayEquals(java.util.Arrays.copyOfRange(big, (int) position, (int) position + 3), buffer.array(), "at " + position);
            }
            assertEquals(-1, a.read(ByteBuffer.allocate(1), 5 << 20));
        }
    }

    @Test
    void aZstdLayerReadsLikeThePlainOne() throws IOException {
        byte[] big = new byte[3 << 20];
        new java.util.Random(11).nextBytes(big);
        Path zst = tmp.resolve("l.tar.zst");
        try (OutputStream out = new io.airlift.compress.zstd.ZstdOutputStream(Files.newOutputStream(zst))) {
            out.write(new TarWriter().add(TarWriter.file("a", big)).add(TarWriter.symlink("s", "a")).bytes());
        }
        try (TarLayer layer = TarLayer.open(zst, "l.tar.zst", IndexCache.NONE); ReadableContent a = layer.openRead(EntryPath.of("a"))) {
            assertEquals("a", layer.readLink(EntryPath.of("s")));
            for (long position : new long[] {2_000_000, 5, (3 << 20) - 2}) {
                ByteBuffer buffer = ByteBuffer.allocate(2);
                assertEquals(2, a.read(buffer, position));
                assertArrayEquals(java.util.Arrays.copyOfRange(big, (int) position, (int) position + 2), buffer.array(), "at " + position);
            }
        }
    }
}
