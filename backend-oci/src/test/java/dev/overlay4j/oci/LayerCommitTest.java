package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.oci.commit.CommittedLayer;
import dev.overlay4j.oci.commit.LayerCommit;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LayerCommit}: an upper dir in the kernel's format written as the image layer it means. */
class LayerCommitTest {

    /** Nanoseconds, so that every time needs a PAX record. */
    static final long T = 1_700_000_000_123_456_789L;

    @TempDir
    Path tmp;

    private static Compression compressionOf(Path layer) throws IOException {
        try (FileBlob blob = new FileBlob(layer)) {
            return Compression.of(blob);
        }
    }

    /** The members of a layer file, read back by this module's own tar reader. */
    static List<TarEntry> members(Path layer) throws IOException {
        List<TarEntry> members = new ArrayList<>();
        try (InputStream in = compressionOf(layer).decompress(Files.newInputStream(layer))) {
            TarReader reader = new TarReader(in);
            for (TarEntry e; (e = reader.next()) != null; ) {
                members.add(e);
            }
        }
        return members;
    }

    /** One line per member: type, name, link, mode, owner, size, device, time where it is not {@link #T}, xattrs. */
    static List<String> describe(List<TarEntry> members) {
        List<String> lines = new ArrayList<>();
        for (TarEntry e : members) {
            StringBuilder s = new StringBuilder().append((char) e.type()).append(' ').append(e.name());
            if (!e.linkName().isEmpty()) {
                s.append(" -> ").append(e.linkName());
            }
            s.append(String.format(" %04o %d:%d", e.mode(), e.uid(), e.gid()));
            if (e.size() > 0) {
                s.append(" size=").append(e.size());
            }
            if (e.type() == TarEntry.CHARACTER_DEVICE || e.type() == TarEntry.BLOCK_DEVICE) {
                s.append(" dev=").append(e.devMajor()).append(',').append(e.devMinor());
            }
            if (e.mtimeNanos() != T) {
                s.append(" @").append(e.mtimeNanos());
            }
            e.xattrs().forEach((k, v) -> s.append(' ').append(k).append('=').append(new String(v, StandardCharsets.UTF_8)));
            lines.add(s.toString());
        }
        return lines;
    }

    static byte[] uncompressed(Path layer) throws IOException {
        try (InputStream in = compressionOf(layer).decompress(Files.newInputStream(layer))) {
            return in.readAllBytes();
        }
    }

    static CommittedLayer commit(Path upper, Path out, String... lowers) throws IOException {
        return LayerCommit.builder(upper.toString()).lowers(List.of(lowers)).output(out).build().run();
    }

    private static String read(Layer layer, String path) throws IOException {
        try (var content = layer.openRead(EntryPath.of(path))) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) content.size());
            for (long p = 0; buffer.hasRemaining(); ) {
                p += content.read(buffer, p);
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    /** Every kind of entry the kernel's upper format holds, and names, targets and owners too long for ustar. */
    private UpperDir everyKind() throws Throwable {
        UpperDir u = new UpperDir(tmp.resolve("upper"))
                .file("bin/run.sh", "#!/bin/sh\n").mode("bin/run.sh", "rwxr-x---").owner("bin/run.sh", 1234, 5678)
                .hardLink("bin/alias", "bin/run.sh").mode("bin", "rwxr-x---")
                .file("etc/conf", "a=1\n").mode("etc/conf", "rw-r-----")
                .xattr("etc/conf", "user.color", "blue")
                .xattr("etc/conf", "trusted.overlay.origin", "kernel's file handle")
                .xattr("etc/conf", "user.overlay.origin", "an unprivileged mount's")
                .whiteout("etc/gone").hardLink("etc/gone-too", "etc/gone") // the kernel shares one whiteout inode
                .xattrWhiteout("etc/gone-xattr")
                .symlink("etc/link", "../bin/run.sh")
                .dir("var/cache").opaque("var/cache").file("var/cache/new", "fresh")
                .device("dev/null", 'c', 1, 3).device("dev/sda", 'b', 8, 0).fifo("dev/pipe")
                .file("P".repeat(120) + "/" + "q".repeat(80), "prefix")
                .file("L".repeat(150) + "/" + "m".repeat(150), "pax path")
                .symlink("far", "t/".repeat(100) + "end")
                .file("big-uid", "").owner("big-uid", 3_000_000_000L, 4_000_000_000L)
                .whiteout("removed");
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(u.path("run.sock")));
        }
        return u.mtimes(T).mtime("etc/conf", 1_600_000_000_000_000_000L);
    }

    @Test
    void everyKindOfEntryIsWrittenAsItsMemberInNameOrder() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for mknod, chown and trusted.* xattrs");
        UpperDir upper = everyKind();
        Path out = tmp.resolve("layer.tar.gz");
        CommittedLayer layer = commit(upper.root, out);

        String p = "P".repeat(120) + "/";
        String l = "L".repeat(150) + "/";
        assertEquals(List.of(
                "0 .wh.removed 0000 0:0",
                "5 " + l + " 0755 0:0",
                "0 " + l + "m".repeat(150) + " 0644 0:0 size=8",
                "5 " + p + " 0755 0:0",
                "0 " + p + "q".repeat(80) + " 0644 0:0 size=6",
                "0 big-uid 0644 3000000000:4000000000",
                "5 bin/ 0750 0:0",
                "0 bin/alias 0750 1234:5678 size=10",
                "1 bin/run.sh -> bin/alias 0750 1234:5678",
                "5 dev/ 0755 0:0",
                "3 dev/null 0644 0:0 dev=1,3",
                "6 dev/pipe 0644 0:0",
                "4 dev/sda 0644 0:0 dev=8,0",
                "5 etc/ 0755 0:0",
                "0 etc/.wh.gone 0000 0:0",
                "0 etc/.wh.gone-too 0000 0:0",
                "0 etc/.wh.gone-xattr 0000 0:0",
                "0 etc/conf 0640 0:0 size=4 @1600000000000000000 user.color=blue",
                "2 etc/link -> ../bin/run.sh 0777 0:0",
                "2 far -> " + "t/".repeat(100) + "end" + " 0777 0:0",
                "5 var/ 0755 0:0",
                "5 var/cache/ 0755 0:0",
                "0 var/cache/.wh..wh..opq 0000 0:0",
                "0 var/cache/new 0644 0:0 size=5"), describe(members(out)));
        assertEquals(List.of(upper.root + "/run.sock is a socket, which a tar cannot hold: left out"), layer.warnings());
        assertEquals(24, layer.members());
        assertEquals("application/vnd.oci.image.layer.v1.tar+gzip", layer.mediaType());
        String tarText = new String(uncompressed(out), StandardCharsets.ISO_8859_1);
        assertFalse(tarText.contains("overlay."), "no overlay-private xattr is written, under either prefix");

        // The layer as an image layer reads it: whiteouts, the opaque dir, one inode for both names.
        try (Layer read = Layers.openLower(out.toString(), LayerOptions.DEFAULTS)) {
            assertEquals(EntryType.WHITEOUT, read.stat(EntryPath.of("etc/gone")).orElseThrow().type());
            assertEquals(EntryType.WHITEOUT, read.stat(EntryPath.of("etc/gone-xattr")).orElseThrow().type());
            assertEquals(EntryType.WHITEOUT, read.stat(EntryPath.of("removed")).orElseThrow().type());
            assertTrue(read.stat(EntryPath.of("var/cache")).orElseThrow().opaque());
            assertFalse(read.stat(EntryPath.of("var")).orElseThrow().opaque());
            EntryAttributes run = read.stat(EntryPath.of("bin/run.sh")).orElseThrow();
            assertEquals(2, run.nlink());
            assertEquals(run.inode(), read.stat(EntryPath.of("bin/alias")).orElseThrow().inode());
            assertEquals("#!/bin/sh\n", read(read, "bin/run.sh"));
            assertEquals(List.of("user.color"), read.listXattrs(EntryPath.of("etc/conf")));
            assertEquals("t/".repeat(100) + "end", read.readLink(EntryPath.of("far")));
            assertEquals("pax path", read(read, l + "m".repeat(150)));
            assertEquals(T, read.stat(EntryPath.of("var/cache/new")).orElseThrow().mtimeNanos());
        }
    }

    @Test
    void gnuTarReadsTheSameMembersAndExtractsOwnersLinksAndXattrs() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for mknod, chown and trusted.* xattrs");
        UpperDir upper = everyKind();
        Path out = tmp.resolve("layer.tar");
        commit(upper.root, out);
        List<String> names = members(out).stream().map(TarEntry::name).toList();
        assertEquals(names, UpperDir.output("tar", "-tf", out.toString()).lines().toList());

        Path x = Files.createDirectories(tmp.resolve("extracted"));
        UpperDir.run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", out.toString(), "-C", x.toString());
        assertEquals(1234, Files.getAttribute(x.resolve("bin/run.sh"), "unix:uid"));
        assertEquals(Files.getAttribute(x.resolve("bin/alias"), "unix:ino"), Files.getAttribute(x.resolve("bin/run.sh"), "unix:ino"));
        assertEquals((int) 3_000_000_000L, Files.getAttribute(x.resolve("big-uid"), "unix:uid"));
        assertEquals("t/".repeat(100) + "end", Files.readSymbolicLink(x.resolve("far")).toString());
        assertEquals("pax path", Files.readString(x.resolve("L".repeat(150) + "/" + "m".repeat(150))));
        assertEquals(FileTime.from(Instant.ofEpochSecond(0, T)), Files.getLastModifiedTime(x.resolve("var/cache/new")));
        UserDefinedFileAttributeView xattrs = Files.getFileAttributeView(x.resolve("etc/conf"), UserDefinedFileAttributeView.class);
        assertEquals(List.of("color"), xattrs.list());
        assertTrue(Files.isRegularFile(x.resolve("var/cache/.wh..wh..opq")), "a plain extractor keeps the marks as files");
    }

    /** An upper dir anyone can make: the whiteout form a directory layer reads without privileges. */
    private UpperDir plain() throws IOException {
        return new UpperDir(tmp.resolve("plain"))
                .file("app/main", "main program").file("app/lib/one.so", "one").file("etc/conf", "x=1")
                .symlink("app/current", "main").file(".wh.gone", "")
                .mtimes(T).mtime("etc/conf", 1_000_000_000_000_000_000L);
    }

    @Test
    void aFixedMtimeMakesTwoCommitsOfTheSameTreeByteForByteTheSame() throws Exception {
        UpperDir upper = plain();
        for (String name : List.of("a.tar.gz", "a.tar.zst", "a.tar")) {
            Path first = tmp.resolve("first-" + name);
            Path second = tmp.resolve("second-" + name);
            LayerCommit commit = LayerCommit.builder(upper.root.toString()).mtime(Instant.ofEpochSecond(1_700_000_000L))
                    .output(first).build();
            CommittedLayer one = commit.run();
            upper.mtimes(T + 42_000_000_000L); // touched: every time changes, nothing else
            Files.setLastModifiedTime(upper.path("app/main"), FileTime.fromMillis(System.currentTimeMillis()));
            CommittedLayer two = LayerCommit.builder(upper.root.toString()).mtime(Instant.ofEpochSecond(1_700_000_000L))
                    .output(second).build().run();
            assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), name);
            assertEquals(one.digest(), two.digest());
            assertEquals(one.diffId(), two.diffId());
            for (TarEntry e : members(second)) {
                assertEquals(1_700_000_000_000_000_000L, e.mtimeNanos(), e.name());
            }
        }
        // Without a fixed time the times are the tree's.
        Path unfixed = tmp.resolve("unfixed.tar");
        commit(upper.root, unfixed);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("first-a.tar")), Files.readAllBytes(unfixed)));
        assertEquals(T + 42_000_000_000L, members(unfixed).stream().filter(e -> e.name().equals("app/lib/one.so"))
                .findFirst().orElseThrow().mtimeNanos());
    }

    @Test
    void clampingLowersOnlyLaterTimes() throws Exception {
        UpperDir upper = plain();
        Path out = tmp.resolve("clamped.tar");
        LayerCommit.builder(upper.root.toString()).mtime(Instant.ofEpochSecond(1_500_000_000L)).clampMtime(true)
                .output(out).build().run();
        assertEquals(List.of(
                "0 .wh.gone 0000 0:0 @1500000000000000000",
                "5 app/ 0755 0:0 @1500000000000000000",
                "2 app/current -> main 0777 0:0 @1500000000000000000",
                "5 app/lib/ 0755 0:0 @1500000000000000000",
                "0 app/lib/one.so 0644 0:0 size=3 @1500000000000000000",
                "0 app/main 0644 0:0 size=12 @1500000000000000000",
                "5 etc/ 0755 0:0 @1500000000000000000",
                "0 etc/conf 0644 0:0 size=3 @1000000000000000000"), describe(members(out)));
    }

    @Test
    void theDigestsAreThoseOfTheFileAndOfItsTar() throws Exception {
        UpperDir upper = plain();
        for (String name : List.of("l.tar.gz", "l.tgz", "l.tar.zst", "l.tar")) {
            Path out = tmp.resolve(name);
            CommittedLayer layer = commit(upper.root, out);
            assertEquals(out, layer.file());
            assertEquals("sha256:" + UpperDir.output("sha256sum", out.toString()).split(" ")[0], layer.digest(), name);
            assertEquals(ImageLayoutWriter.sha256(uncompressed(out)), layer.diffId(), name);
            assertEquals(Files.size(out), layer.size());
        }
        assertEquals(commit(upper.root, tmp.resolve("again.tar")).diffId(), commit(upper.root, tmp.resolve("l2.tar.gz")).diffId(),
                "one tar, however compressed");
        // Independent decompressors agree.
        assertEquals(commit(upper.root, tmp.resolve("z.tar")).digest(), "sha256:"
                + UpperDir.output("sh", "-c", "zstd -dc " + tmp.resolve("l.tar.zst") + " | sha256sum").split(" ")[0]);
        assertEquals(commit(upper.root, tmp.resolve("g.tar")).digest(), "sha256:"
                + UpperDir.output("sh", "-c", "gzip -dc " + tmp.resolve("l.tar.gz") + " | sha256sum").split(" ")[0]);
        byte[] gzip = Files.readAllBytes(tmp.resolve("l.tar.gz"));
        assertEquals(0, gzip[3], "no FNAME or other flags in the gzip header");
        assertArrayEquals(new byte[4], java.util.Arrays.copyOfRange(gzip, 4, 8), "gzip MTIME 0");
    }

    @Test
    void aRenamedDirectoryIsWrittenOpaqueWithItsMergedContentAndNeedsTheLowers() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for mknod and trusted.* xattrs");
        UpperDir lower = new UpperDir(tmp.resolve("lower"))
                .file("old/a", "lower a").file("old/b", "lower b").file("old/sub/c", "lower c").file("kept", "k")
                .mtimes(T);
        // mv old new, then in new: rm a, change b, add d (what the kernel leaves with redirect_dir=on).
        UpperDir upper = new UpperDir(tmp.resolve("upper"))
                .whiteout("old").dir("new").redirect("new", "old")
                .whiteout("new/a").file("new/b", "upper b").file("new/d", "upper d")
                .mtimes(T);
        Path out = tmp.resolve("layer.tar.gz");

        IOException refused = assertThrows(IOException.class, () -> commit(upper.root, out));
        assertEquals(upper.root + "/new is a renamed directory (its overlay redirect is \"old\") whose content lies in the "
                + "lower layers, which an image layer cannot point to: give the lower layers (lowerdir) to write it with its "
                + "merged content", refused.getMessage());
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("lower", "upper"), left.map(f -> f.getFileName().toString()).sorted().toList(),
                    "no output and no temporary file");
        }

        commit(upper.root, out, lower.root.toString());
        assertEquals(List.of(
                "0 .wh.old 0000 0:0",
                "5 new/ 0755 0:0",
                "0 new/.wh..wh..opq 0000 0:0",
                "0 new/b 0644 0:0 size=7",
                "0 new/d 0644 0:0 size=7",
                "5 new/sub/ 0755 0:0",
                "0 new/sub/c 0644 0:0 size=7"), describe(members(out)));
        assertEquals(OverlayTrees.belowRoot(List.of(upper.root.toString(), lower.root.toString())),
                OverlayTrees.belowRoot(List.of(out.toString(), lower.root.toString())),
                "the lowers and the layer mean what the lowers and the upper dir meant");
    }

    @Test
    void aMetacopyFileIsWrittenWithItsDataFromTheLowersWhereverItMoved() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for chown and trusted.* xattrs");
        Path base = new TarWriter()
                .add(TarWriter.file("data/f", "lower data"))
                .add(TarWriter.file("data/g", "moved data"))
                .write(tmp.resolve("base.tar"));
        // chmod 600 data/f; chown 42 data/f; mv data/g data/h: with metacopy=on, metadata alone is copied up.
        UpperDir upper = new UpperDir(tmp.resolve("upper"))
                .metacopy("data/f", 10).mode("data/f", "rw-------").owner("data/f", 42, 42)
                .whiteout("data/g").metacopy("data/h", 10).redirect("data/h", "/data/g")
                .mtimes(T);
        Path out = tmp.resolve("layer.tar");

        IOException refused = assertThrows(IOException.class, () -> commit(upper.root, out));
        assertEquals(upper.root + "/data/f is a metadata-only copy-up (overlay metacopy) whose data lies in the lower layers: "
                + "give the lower layers (lowerdir) to write it with its data", refused.getMessage());
        assertFalse(Files.exists(out));

        commit(upper.root, out, base.toString());
        assertEquals(List.of(
                "5 data/ 0755 0:0",
                "0 data/.wh.g 0000 0:0",
                "0 data/f 0600 42:42 size=10",
                "0 data/h 0644 0:0 size=10"), describe(members(out)));
        try (Layer read = Layers.openLower(out.toString(), LayerOptions.DEFAULTS)) {
            assertEquals("lower data", read(read, "data/f"));
            assertEquals("moved data", read(read, "data/h"));
        }
    }

    @Test
    void aFailedCommitLeavesTheOutputThatWasThere() throws Throwable {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: needs root for trusted.* xattrs");
        UpperDir upper = new UpperDir(tmp.resolve("upper")).file("a", "a").dir("moved").redirect("moved", "/elsewhere");
        Path out = Files.writeString(tmp.resolve("layer.tar"), "the earlier layer");
        assertThrows(IOException.class, () -> commit(upper.root, out));
        assertEquals("the earlier layer", Files.readString(out));
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("layer.tar", "upper"), left.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void userXattrReadsTheMarksOfAnUnprivilegedUpper() throws Throwable {
        UpperDir upper = new UpperDir(tmp.resolve("upper")).file("d/f", "f").file("e/g", "g");
        try {
            upper.xattr("d", "user.overlay.opaque", "y").xattr("e", "trusted.overlay.opaque", "y");
        } catch (AssertionError e) {
            assumeTrue(false, "SKIPPED: the file system under " + tmp + " holds no user.* or trusted.* xattrs for this user");
        }
        upper.mtimes(T);
        Path out = tmp.resolve("layer.tar");
        LayerCommit.builder(upper.root.toString()).userXattr(true).output(out).build().run();
        assertEquals(List.of(
                "5 d/ 0755 0:0",
                "0 d/.wh..wh..opq 0000 0:0",
                "0 d/f 0644 0:0 size=1",
                "5 e/ 0755 0:0",
                "0 e/g 0644 0:0 size=1"), describe(members(out)), "trusted.overlay.opaque means nothing with userxattr, "
                + "and neither prefix's marks are written as xattrs");
    }

    @Test
    void badSettingsAreRefusedWhenBuilt() {
        LayerCommit.Builder builder = LayerCommit.builder("upper");
        assertEquals("a commit needs an output file or an image layout",
                assertThrows(IllegalArgumentException.class, builder::build).getMessage());
        assertEquals("the layer's file name must end in .tar, .tar.gz, .tgz or .tar.zst (it says how to compress it): layer.zip",
                assertThrows(IllegalArgumentException.class, () -> builder.output(Path.of("layer.zip")).build()).getMessage());
        builder.output(Path.of("layer.tar"));
        assertThrows(IllegalArgumentException.class, () -> builder.clampMtime(true).build());
        builder.clampMtime(false);
        assertThrows(IllegalArgumentException.class, () -> builder.layout(Path.of("img"), "base", "no spaces").build());
        assertThrows(IllegalArgumentException.class, () -> builder.layout(Path.of("img"), "base", null).build());
        assertThrows(IllegalArgumentException.class, () -> builder.platform("linux"));
        builder.layout(Path.of("img"), "base", "v2.0-rc1/app:x");
        builder.build();
    }

}
