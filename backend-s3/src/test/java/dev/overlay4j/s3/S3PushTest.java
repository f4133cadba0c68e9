package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3PushTest {

    private static S3Server server;

    @TempDir
    Path source;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("push");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private record Run(int status, String out, String err) {
    }

    private Run push(String prefix, String... extra) {
        return pushFrom(source.toString(), prefix, extra);
    }

    private Run pushFrom(String sourceSpec, String prefix, String... extra) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of(extra));
        args.add(sourceSpec);
        args.add(server.uri("push", prefix));
        int status = new S3Push().run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static final long MTIME_NANOS = 1_700_000_000_123_456_789L;

    private Path file(String rel, String content, String perms) throws IOException {
        Path p = source.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        Files.setLastModifiedTime(p, FileTime.from(Instant.ofEpochSecond(0, MTIME_NANOS)));
        return p;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertEquals(0, p.waitFor(), String.join(" ", command));
    }

    /** lsetxattr(2): the JDK cannot write {@code trusted.*}. */
    private static void setXattr(Path path, String name, String value) throws Throwable {
        assertEquals(0, lsetxattr(path, name, value), "lsetxattr " + name + " on " + path);
    }

    /** Whether the file system under {@code source} holds xattrs of this namespace, for this process. */
    private boolean canSetXattr(String name) throws Throwable {
        Path probe = Files.createFile(source.resolve("xattr-probe"));
        try {
            return lsetxattr(probe, name, "y") == 0;
        } finally {
            Files.delete(probe);
        }
    }

    private static int lsetxattr(Path path, String name, String value) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle set = linker.downcallHandle(linker.defaultLookup().find("lsetxattr").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(value);
            return (int) set.invokeExact(arena.allocateFrom(path.toString()), arena.allocateFrom(name), v,
                    (long) value.length(), 0);
        }
    }

    /** Every key under {@code prefix}, sorted. */
    private static List<String> keys(String prefix) {
        return server.client().listObjectsV2Paginator(r -> r.bucket("push").prefix(prefix)).contents().stream()
                .map(o -> o.key()).sorted().toList();
    }

    private static String body(String key) {
        return server.client().getObjectAsBytes(r -> r.bucket("push").key(key)).asUtf8String();
    }

    private static java.util.Map<String, String> metadata(String key) {
        return server.client().headObject(r -> r.bucket("push").key(key)).metadata();
    }

    private static String summary(Run run) {
        String[] lines = run.out().strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void anUpperDirRoundTripsWithModesTimesOwnersLinksWhiteoutsAndOpaqueDirs() throws Throwable {
        assumeTrue(isRoot(), "SKIPPED: needs root for mknod, chown and trusted.* xattrs");
        Path script = file("bin/run.sh", "#!/bin/sh\necho hi\n", "rwxr-x---");
        Files.setAttribute(script, "unix:uid", 1234, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(script, "unix:gid", 5678, LinkOption.NOFOLLOW_LINKS);
        file("etc/conf", "a=1\n", "rw-r-----");
        Files.createSymbolicLink(source.resolve("etc/link"), Path.of("../bin/run.sh"));
        run("mknod", source.resolve("etc/removed").toString(), "c", "0", "0");
        Files.createDirectories(source.resolve("var/cache"));
        file("var/cache/new", "fresh", "rw-r--r--");
        setXattr(source.resolve("var/cache"), "trusted.overlay.opaque", "y");
        run("mkfifo", source.resolve("var/pipe").toString());
        setXattr(source.resolve("etc/conf"), "user.color", "blue");
        Files.createDirectories(source.resolve("moved"));
        setXattr(source.resolve("moved"), "trusted.overlay.redirect", "/old/place");
        setXattr(source.resolve("moved"), "trusted.overlay.origin", "not for S3");
        Files.setPosixFilePermissions(source.resolve("bin"), PosixFilePermissions.fromString("rwxr-x---"));

        Run first = push("layer/");
        assertEquals(0, first.status(), first.err());

        try (Layer layer = Layers.openLower(server.uri("push", "layer/"), LayerOptions.DEFAULTS)) {
            EntryAttributes run = layer.stat(EntryPath.of("bin/run.sh")).orElseThrow();
            assertEquals(0100750, run.mode());
            assertEquals(1234, run.uid());
            assertEquals(5678, run.gid());
            assertEquals(MTIME_NANOS, run.mtimeNanos());
            try (ReadableContent content = layer.openRead(EntryPath.of("bin/run.sh"))) {
                ByteBuffer buffer = ByteBuffer.allocate(100);
                content.read(buffer, 0);
                assertEquals("#!/bin/sh\necho hi\n", new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
            }
            assertEquals(0750, layer.stat(EntryPath.of("bin")).orElseThrow().permissions());
            assertEquals(0640, layer.stat(EntryPath.of("etc/conf")).orElseThrow().permissions());
            assertEquals(EntryType.SYMLINK, layer.stat(EntryPath.of("etc/link")).orElseThrow().type());
            assertEquals("../bin/run.sh", layer.readLink(EntryPath.of("etc/link")));
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("etc/removed")).orElseThrow().type());
            assertTrue(layer.stat(EntryPath.of("var/cache")).orElseThrow().opaque());
            assertFalse(layer.stat(EntryPath.of("var")).orElseThrow().opaque());
            assertEquals(EntryType.FIFO, layer.stat(EntryPath.of("var/pipe")).orElseThrow().type());
            assertEquals(List.of("user.color"), layer.listXattrs(EntryPath.of("etc/conf")));
            assertArrayEquals("blue".getBytes(StandardCharsets.UTF_8),
                    layer.readXattr(EntryPath.of("etc/conf"), "user.color").orElseThrow());
            assertEquals("/old/place", layer.stat(EntryPath.of("moved")).orElseThrow().redirect());
            assertEquals(List.of(), layer.listXattrs(EntryPath.of("moved")));
        }
    }

    @Test
    void aSecondPushUploadsOnlyWhatChangedAndDeletesOnlyStaleKeysUnderThePrefix() throws IOException {
        file("a", "one", "rw-r--r--");
        file("b", "two", "rw-r--r--");
        file("d/c", "three", "rw-r--r--");
        server.put("push", "again-outside", "must survive");
        assertEquals(0, push("again/").status());

        Run unchanged = push("again/");
        assertEquals(0, unchanged.status(), unchanged.err());
        assertTrue(unchanged.out().contains("pushed 0 objects (0 B), 5 unchanged, 0 deleted, 0 failed"), unchanged.out());

        file("a", "ONE", "rw-r--r--");
        Files.setLastModifiedTime(source.resolve("a"), FileTime.fromMillis(1_000));
        Files.delete(source.resolve("b"));
        Run changed = push("again/");
        assertEquals(0, changed.status(), changed.err());
        // a, and the root's marker (deleting b changed the root's mtime); d/ and d/c stay.
        assertTrue(changed.out().contains("pushed 2 objects (3 B), 2 unchanged, 1 deleted, 0 failed"), changed.out());
        assertTrue(changed.out().contains("put again/a (3 B)"), changed.out());
        assertEquals("must survive", server.client().getObjectAsBytes(r -> r.bucket("push").key("again-outside")).asUtf8String());
    }

    @Test
    void largeFilesGoUpInPartsAndReadBackIntact() throws IOException {
        byte[] big = new byte[21 << 20];
        new Random(7).nextBytes(big);
        Files.write(source.resolve("big.bin"), big);
        Run run = push("big/", "--part-size", "5M", "--jobs", "2");
        assertEquals(0, run.status(), run.err());
        String etag = server.client().headObject(r -> r.bucket("push").key("big/big.bin")).eTag();
        assertTrue(etag.contains("-5"), "a multipart ETag names its part count: " + etag);
        try (Layer layer = Layers.openLower(server.uri("push", "big/"), LayerOptions.DEFAULTS);
             ReadableContent content = layer.openRead(EntryPath.of("big.bin"))) {
            ByteBuffer all = ByteBuffer.allocate(big.length);
            while (all.hasRemaining() && content.read(all, all.position()) > 0) {
                // read to the end
            }
            assertArrayEquals(big, all.array());
        }
    }

    /**
     * The configured xattr prefix alone decides: the old push took a mark under either prefix
     * for a whiteout (or an opaque dir), so both of these pushes would have made four marks.
     */
    @Test
    void onlyMarksUnderTheConfiguredXattrPrefixMakeWhiteoutsAndOpaqueDirs() throws Throwable {
        assumeTrue(isRoot() && canSetXattr("trusted.overlay.probe") && canSetXattr("user.overlay.probe"),
                "SKIPPED: needs root and a file system under " + source + " that holds trusted.* and user.* xattrs");
        setXattr(file("t-marked", "", "rw-r--r--"), "trusted.overlay.whiteout", "y");
        setXattr(file("u-marked", "", "rw-r--r--"), "user.overlay.whiteout", "y");
        file("t-opaque/f", "t", "rw-r--r--");
        setXattr(source.resolve("t-opaque"), "trusted.overlay.opaque", "y");
        file("u-opaque/f", "u", "rw-r--r--");
        setXattr(source.resolve("u-opaque"), "user.overlay.opaque", "y");

        Run trusted = push("tx/");
        assertEquals(0, trusted.status(), trusted.err());
        assertEquals(List.of("tx/", "tx/.wh.t-marked", "tx/t-opaque/", "tx/t-opaque/.wh..wh..opq", "tx/t-opaque/f",
                "tx/u-marked", "tx/u-opaque/", "tx/u-opaque/f"), keys("tx/"));
        Run user = push("ux/", "--userxattr");
        assertEquals(0, user.status(), user.err());
        assertEquals(List.of("ux/", "ux/.wh.u-marked", "ux/t-marked", "ux/t-opaque/", "ux/t-opaque/f", "ux/u-opaque/",
                "ux/u-opaque/.wh..wh..opq", "ux/u-opaque/f"), keys("ux/"));

        // The other prefix's mark is an ordinary xattr of an ordinary file or directory, and goes up as one.
        assertEquals("33188", metadata("tx/u-marked").get("mode"));
        assertEquals("1700000000.123456789", metadata("tx/u-marked").get("mtime"));
        try (Layer layer = Layers.openLower(server.uri("push", "tx/"), LayerOptions.DEFAULTS)) {
            EntryAttributes marked = layer.stat(EntryPath.of("u-marked")).orElseThrow();
            assertEquals(EntryType.REGULAR_FILE, marked.type());
            assertEquals(List.of("user.overlay.whiteout"), layer.listXattrs(EntryPath.of("u-marked")));
            assertFalse(layer.stat(EntryPath.of("u-opaque")).orElseThrow().opaque());
            assertEquals(List.of("user.overlay.opaque"), layer.listXattrs(EntryPath.of("u-opaque")));
            assertEquals(List.of(), layer.listXattrs(EntryPath.of("t-opaque")));
        }
        try (Layer layer = Layers.openLower(server.uri("push", "ux/"), new LayerOptions(true, java.util.Map.of()))) {
            assertEquals(EntryType.REGULAR_FILE, layer.stat(EntryPath.of("t-marked")).orElseThrow().type());
            assertEquals(List.of("trusted.overlay.whiteout"), layer.listXattrs(EntryPath.of("t-marked")));
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("u-marked")).orElseThrow().type());
            assertTrue(layer.stat(EntryPath.of("u-opaque")).orElseThrow().opaque());
            assertEquals(List.of(), layer.listXattrs(EntryPath.of("u-opaque")));
        }
    }

    /**
     * The forms the directory layer reads beyond the kernel's: the old push refused every .wh.
     * name (exit 1, nothing deleted) and pushed fuse-overlayfs's opaque xattr as a plain one.
     */
    @Test
    void markFilesAndFuseOverlayfsOpaqueDirsArePushedAsTheOverlayReadsThem() throws Throwable {
        assumeTrue(canSetXattr("user.fuseoverlayfs.probe"),
                "SKIPPED: the file system under " + source + " holds no user.* xattrs");
        file(".wh.gone", "", "rw-r--r--");
        file("kept", "real", "rw-r--r--");
        file(".wh.kept", "", "rw-r--r--"); // a real entry wins over its .wh. file
        Files.createDirectories(source.resolve(".wh..wh.plnk")); // AUFS's: hides nothing
        file("fo/f", "ff", "rw-r--r--");
        setXattr(source.resolve("fo"), "user.fuseoverlayfs.opaque", "y");
        file("oci/.wh..wh..opq", "", "rw-r--r--");
        file("oci/a", "aaa", "rw-r--r--");

        Run run = push("mk/");
        assertEquals(0, run.status(), run.err());
        assertEquals("", run.err());
        assertEquals(List.of("mk/", "mk/.wh.gone", "mk/fo/", "mk/fo/.wh..wh..opq", "mk/fo/f", "mk/kept", "mk/oci/",
                "mk/oci/.wh..wh..opq", "mk/oci/a"), keys("mk/"));
        assertTrue(summary(run).startsWith("pushed 9 objects (9 B), 0 unchanged, 0 deleted, 0 failed, to "), run.out());
        assertEquals("real", body("mk/kept"));
        assertEquals(null, metadata("mk/fo/").get("xattr"));
    }

    @Test
    void aZipLayerAndAnS3LayerPushTheirFiles() throws IOException {
        Path zip = source.resolve("layer.zip");
        FileTime mtime = FileTime.from(Instant.ofEpochSecond(1_600_000_000L));
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
            for (String[] entry : new String[][] {{"dir/", ""}, {"dir/a.txt", "alpha"}, {"b.txt", "bravo!"}}) {
                java.util.zip.ZipEntry e = new java.util.zip.ZipEntry(entry[0]);
                e.setLastModifiedTime(mtime);
                z.putNextEntry(e);
                z.write(entry[1].getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        Run run = pushFrom(zip.toString(), "zip/");
        assertEquals(0, run.status(), run.err());
        assertEquals(List.of("zip/", "zip/b.txt", "zip/dir/", "zip/dir/a.txt"), keys("zip/"));
        assertEquals("alpha", body("zip/dir/a.txt"));
        assertEquals("bravo!", body("zip/b.txt"));
        assertEquals("33188", metadata("zip/dir/a.txt").get("mode")); // a zip without modes: 0644 files
        assertEquals("1600000000", metadata("zip/dir/a.txt").get("mtime"));
        assertEquals("16877", metadata("zip/dir/").get("mode"));
        assertTrue(summary(run).startsWith("pushed 4 objects (11 B), 0 unchanged, 0 deleted, 0 failed, to "), run.out());

        // An S3 layer is a SOURCE too: a copy with the same keys, bytes and metadata.
        Run copy = pushFrom(server.uri("push", "zip/"), "copy/");
        assertEquals(0, copy.status(), copy.err());
        assertEquals(List.of("copy/", "copy/b.txt", "copy/dir/", "copy/dir/a.txt"), keys("copy/"));
        assertEquals("alpha", body("copy/dir/a.txt"));
        for (String k : List.of("mode", "uid", "gid", "mtime")) {
            assertEquals(metadata("zip/dir/a.txt").get(k), metadata("copy/dir/a.txt").get(k), k);
        }
    }

    @Test
    void aSourceThatDoesNotExistIsAUsageError() {
        Run run = pushFrom(source.resolve("missing").toString(), "none/");
        assertEquals(2, run.status());
        assertTrue(run.err().startsWith("push: ") && run.err().contains("does not exist"), run.err());
        assertEquals(List.of(), keys("none/"));
    }

    @Test
    void badUsageExitsWithStatusTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new S3Push().run(List.of("only-one-argument"), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: overlay4j push [--jobs N]"));
    }
}
