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
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of(extra));
        args.add(source.toString());
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
        Linker linker = Linker.nativeLinker();
        MethodHandle set = linker.downcallHandle(linker.defaultLookup().find("lsetxattr").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(value);
            int rc = (int) set.invokeExact(arena.allocateFrom(path.toString()), arena.allocateFrom(name), v,
                    (long) value.length(), 0);
            assertEquals(0, rc, "lsetxattr " + name + " on " + path);
        }
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

    @Test
    void badUsageExitsWithStatusTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new S3Push().run(List.of("only-one-argument"), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: overlay4j push [--jobs N]"));
    }
}
