package dev.overlay4j.fuse;

import static dev.overlay4j.fuse.MountedOverlay.run;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What programs do with files on the mount: mappings, concurrency, real tools, and the less common system calls. */
class FuseWorkloadsTest {

    @TempDir
    Path root;

    private MountedOverlay fs;
    private byte[] lowerBytes;

    private void mount(FuseOptions options) throws IOException {
        MountedOverlay.createLayers(root);
        lowerBytes = new byte[256 * 1024 + 17];
        new Random(7).nextBytes(lowerBytes);
        Files.write(root.resolve("lower2/data"), lowerBytes);
        Files.writeString(root.resolve("lower1/hello"), "hello\n");
        Files.createDirectories(root.resolve("lower2/src/app"));
        Files.writeString(root.resolve("lower2/src/app/Main.java"), """
                package app;
                public class Main {
                    public static void main(String[] args) {
                        System.out.println(Util.greeting());
                    }
                }
                """);
        Files.createDirectories(root.resolve("lower1/src/app"));
        Files.writeString(root.resolve("lower1/src/app/Util.java"), """
                package app;
                class Util {
                    static String greeting() {
                        return "hi";
                    }
                }
                """);
        fs = MountedOverlay.mount(root, options);
    }

    private void mount() throws IOException {
        mount(FuseOptions.defaults());
    }

    @AfterEach
    void unmount() throws IOException {
        if (fs != null) {
            fs.close();
        }
    }

    private Path mnt(String path) {
        return fs.mnt.resolve(path);
    }

    private static FuseOptions options(boolean passthrough) {
        return FuseOptions.defaults().withPassthrough(passthrough);
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {true, false})
    void sharedMappingsAndReadWriteSeeEachOther(boolean passthrough) throws IOException {
        mount(options(passthrough));
        assertEquals(passthrough, fs.fuseMount().passthrough());
        Path file = mnt("mapped");
        Files.write(file, new byte[8192]);
        // A mapping in an arena is unmapped when the arena closes, so the mount is not left busy.
        try (Arena arena = Arena.ofConfined();
             FileChannel mapping = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileChannel other = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment map = mapping.map(FileChannel.MapMode.READ_WRITE, 0, 8192, arena);
            map.set(JAVA_BYTE, 100, (byte) 'M');
            assertEquals('M', readByte(other, 100));
            other.write(ByteBuffer.wrap(new byte[] {'W'}), 5000);
            assertEquals('W', map.get(JAVA_BYTE, 5000));
            map.force();
        }
        byte[] upper = Files.readAllBytes(fs.upper.resolve("mapped"));
        assertEquals('M', upper[100]);
        assertEquals('W', upper[5000]);
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {true, false})
    void aLowerFileHeldOpenForReadingCanBeWrittenAndTheReaderSeesTheNewBytes(boolean passthrough) throws IOException {
        // With passthrough on, lower files of a writable overlay are still read through the server.
        mount(options(passthrough));
        Path file = mnt("data");
        try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(lowerBytes[10], readByte(reader, 10));
            try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
                writer.write(ByteBuffer.wrap(new byte[] {7}), 10);
            }
            assertEquals(7, readByte(reader, 10), "as in the kernel's overlayfs, the reader follows the copy-up");
            try (FileChannel truncating = FileChannel.open(file, StandardOpenOption.WRITE)) {
                truncating.truncate(100);
            }
            assertEquals(100, reader.size());
        }
        assertEquals(100, Files.size(fs.upper.resolve("data")));
    }

    @Test
    void withPassthroughOfLowerFilesWritingOneHeldOpenIsRefusedWithEbusyUntilTheReaderCloses() throws IOException {
        mount(FuseOptions.defaults().withPassthroughOfLowerFiles(true));
        Path file = mnt("data");
        try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(lowerBytes[10], readByte(reader, 10));
            // The copy-up's writer would need the upper file as the inode's backing file while the
            // reader holds the lower one, and the kernel allows one backing file per inode.
            FileSystemException busy = assertThrows(FileSystemException.class,
                    () -> FileChannel.open(file, StandardOpenOption.WRITE).close());
            assertEquals("Device or resource busy", busy.getReason());
        }
        try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
            writer.write(ByteBuffer.wrap(new byte[] {7}), 10);
        }
        try (FileChannel after = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(7, readByte(after, 10));
        }
        assertEquals(7, Files.readAllBytes(fs.upper.resolve("data"))[10]);
    }

    @Test
    void aSmallFileReadAgainAfterAPassthroughWriteShowsTheNewBytes() throws IOException {
        mount(options(true));
        Path file = mnt("hello");
        assertEquals("hello\n", Files.readString(file)); // small: read through the server, pages kept
        try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
            writer.write(ByteBuffer.wrap("HELLO".getBytes(StandardCharsets.UTF_8)), 0);
        }
        assertEquals("HELLO\n", Files.readString(file));
        assertEquals("HELLO\n", Files.readString(fs.upper.resolve("hello")));
    }

    @Test
    void aSmallLowerFileHeldOpenForReadingCanBeOpenedForWriting() throws IOException {
        mount(options(true));
        Path file = mnt("hello");
        try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals('h', readByte(reader, 0));
            try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
                writer.write(ByteBuffer.wrap(new byte[] {'j'}), 0);
            }
        }
        assertEquals("jello\n", Files.readString(file));
    }

    @Test
    void aLowerFilesAclIsEnforcedLikeOverlayfsDoes() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setfacl")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "FUSE SKIPPED: needs setfacl (package acl) and setpriv");
        MountedOverlay.createLayers(root);
        Path lower = root.resolve("lower1/secret");
        Files.writeString(lower, "secret\n");
        Files.setPosixFilePermissions(lower, PosixFilePermissions.fromString("rw-r--r--"));
        run(root, "setfacl", "-m", "u:65534:---", lower.toString());
        fs = MountedOverlay.mount(root, FuseOptions.defaults());
        Process other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "cat", mnt("secret").toString()).redirectErrorStream(true).start();
        String output = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, other.waitFor(), output);
        assertTrue(output.contains("Permission denied"), output);
        assertEquals("secret\n", Files.readString(mnt("secret"))); // the owner's bits still apply to root
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {true, false})
    void aMappingOfALowerFileWritesItsCopyUp(boolean passthrough) throws IOException {
        mount(options(passthrough));
        Path file = mnt("data");
        try (Arena arena = Arena.ofConfined();
             FileChannel mapping = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment map = mapping.map(FileChannel.MapMode.READ_WRITE, 0, lowerBytes.length, arena);
            assertEquals(lowerBytes[4096], map.get(JAVA_BYTE, 4096));
            map.set(JAVA_BYTE, 4096, (byte) ~lowerBytes[4096]);
            try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
                assertEquals((byte) ~lowerBytes[4096], readByte(reader, 4096));
            }
            try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
                writer.write(ByteBuffer.wrap(new byte[] {42}), 9000);
            }
            assertEquals(42, map.get(JAVA_BYTE, 9000));
            map.force();
        }
        byte[] expected = lowerBytes.clone();
        expected[4096] = (byte) ~lowerBytes[4096];
        expected[9000] = 42;
        assertArrayEquals(expected, Files.readAllBytes(fs.upper.resolve("data")));
        assertArrayEquals(lowerBytes, Files.readAllBytes(fs.lower2.resolve("data")));
    }

    private static byte readByte(FileChannel channel, long position) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        assertEquals(1, channel.read(one, position));
        return one.get(0);
    }

    @Test
    void statOfAFileOpenForWritingShowsItsSizeAtOnce() throws IOException {
        mount();
        try (FileChannel channel = FileChannel.open(mnt("growing"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            for (int i = 1; i <= 3; i++) {
                channel.write(ByteBuffer.wrap(new byte[1000]));
                assertEquals(i * 1000L, Files.size(mnt("growing")));
                assertEquals(i * 1000L, channel.size());
            }
        }
        assertEquals(3000L, Files.size(fs.upper.resolve("growing")));
    }

    @Test
    void concurrentReadersAndWritersLoseNothing() throws Exception {
        mount();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                tasks.add(pool.submit(() -> {
                    byte[] bytes = new byte[300_000];
                    new Random(id).nextBytes(bytes);
                    try (FileChannel out = FileChannel.open(mnt("w" + id), StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE)) {
                        for (int at = 0; at < bytes.length; at += 7000) {
                            out.write(ByteBuffer.wrap(bytes, at, Math.min(7000, bytes.length - at)), at);
                        }
                    }
                    assertArrayEquals(bytes, Files.readAllBytes(mnt("w" + id)));
                    return null;
                }));
                tasks.add(pool.submit(() -> {
                    for (int i = 0; i < 5; i++) {
                        assertArrayEquals(lowerBytes, Files.readAllBytes(mnt("data")));
                    }
                    return null;
                }));
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (int t = 0; t < 3; t++) {
            byte[] bytes = new byte[300_000];
            new Random(t).nextBytes(bytes);
            assertArrayEquals(bytes, Files.readAllBytes(fs.upper.resolve("w" + t)));
        }
    }

    @Test
    void aBusyMountRefusesUnmountAndDetachesLazilyKeepingOpenFilesWorking() throws Exception {
        mount();
        byte[] first = "first part\n".getBytes(StandardCharsets.UTF_8);
        byte[] second = "second part\n".getBytes(StandardCharsets.UTF_8);
        try (FileChannel open = FileChannel.open(mnt("busy"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            open.write(ByteBuffer.wrap(first));
            Process umount = new ProcessBuilder("umount", fs.mnt.toString()).redirectErrorStream(true).start();
            String message = new String(umount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(32, umount.waitFor(), message); // mount(8): "target is busy"
            assertTrue(message.contains("busy"), message);

            run(root, "umount", "-l", fs.mnt.toString());
            assertFalse(MountedOverlay.isMounted(fs.mnt));
            open.write(ByteBuffer.wrap(second));
            open.force(true);
        }
        // The last user let go: the kernel ends the connection and the server with it.
        fs.fuseMount().awaitUnmount();
        byte[] expected = new byte[first.length + second.length];
        System.arraycopy(first, 0, expected, 0, first.length);
        System.arraycopy(second, 0, expected, first.length, second.length);
        assertArrayEquals(expected, Files.readAllBytes(fs.upper.resolve("busy")));
    }

    @Test
    void javacCompilesAProjectOnTheMount() throws IOException {
        mount();
        Path javac = Path.of(System.getProperty("java.home"), "bin", "javac");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        run(fs.mnt, javac.toString(), "-d", "out", "src/app/Main.java", "src/app/Util.java");
        assertTrue(Files.isRegularFile(fs.upper.resolve("out/app/Main.class")));
        assertEquals("hi\n", run(fs.mnt, java.toString(), "-cp", "out", "app.Main"));
    }

    @Test
    void gitInitAddAndCommitWork() throws IOException {
        mount();
        run(fs.mnt, "git", "init", "-q", "-b", "main");
        run(fs.mnt, "git", "add", "-A");
        run(fs.mnt, "git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "first");
        Files.writeString(mnt("hello"), "changed\n");
        run(fs.mnt, "git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-a", "-m",
                "second");
        assertEquals("second\nfirst\n", run(fs.mnt, "git", "log", "--format=%s"));
        assertEquals("", run(fs.mnt, "git", "status", "--porcelain"));
        run(fs.mnt, "git", "fsck", "--no-progress");
    }

    @Test
    void aTreeCopiedOutAndArchivedBackIsTheSame() throws IOException {
        mount();
        Files.createLink(mnt("src/hardlink"), mnt("hello"));
        Files.createSymbolicLink(mnt("src/symlink"), Path.of("../hello"));
        Path copy = root.resolve("copy");
        run(root, "cp", "-a", fs.mnt.toString(), copy.toString());
        run(root, "diff", "-r", "--no-dereference", fs.mnt.toString(), copy.toString());
        run(fs.mnt, "tar", "-cf", root.resolve("t.tar").toString(), "src", "data");
        Files.createDirectory(mnt("unpacked"));
        run(mnt("unpacked"), "tar", "-xf", root.resolve("t.tar").toString());
        run(root, "diff", "-r", "--no-dereference", mnt("src").toString(), mnt("unpacked/src").toString());
        assertArrayEquals(lowerBytes, Files.readAllBytes(mnt("unpacked/data")));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"WRITE", "READ_WRITE", "APPEND"})
    void anOpenForWritingCopiesALowerFileUpAtTheOpenAsTheKernelDoes(String how) throws IOException {
        mount();
        List<StandardOpenOption> options = switch (how) {
            case "WRITE" -> List.of(StandardOpenOption.WRITE);
            case "READ_WRITE" -> List.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
            default -> List.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        };
        try (FileChannel opened = FileChannel.open(mnt("hello"), options.toArray(StandardOpenOption[]::new))) {
            // Nothing written yet: the copy-up happened at the open, with the lower bytes.
            assertEquals("hello\n", Files.readString(fs.upper.resolve("hello")));
            assertEquals(6, opened.size());
        }
        try (FileChannel reading = FileChannel.open(mnt("src/app/Main.java"), StandardOpenOption.READ)) {
            assertTrue(reading.size() > 0);
            assertFalse(Files.exists(fs.upper.resolve("src")), "an open for reading copies nothing up");
        }
    }

    @Test
    void aReadOnlyOpenWithTruncationEmptiesALowerFileThroughItsCopyUpAsLinuxDoes() throws IOException {
        mount();
        // The JDK drops TRUNCATE_EXISTING from a read-only open; Python passes O_RDONLY | O_TRUNC as given.
        run(root, "python3", "-c", "import os; os.close(os.open('" + mnt("hello") + "', os.O_RDONLY | os.O_TRUNC))");
        assertEquals(0, Files.size(mnt("hello")));
        assertEquals(0, Files.size(fs.upper.resolve("hello")));
        assertEquals("hello\n", Files.readString(root.resolve("lower1/hello")));
    }

    @Test
    void filesAreOpenedThroughTheServerAndDirectoriesByTheKernelAlone() throws IOException, InterruptedException {
        mount();
        assertTrue(fs.fuseMount().kernelOpensDirectories());
        assertFalse(fs.fuseMount().passthrough());
        Files.createDirectories(mnt("many"));
        for (int i = 0; i < 600; i++) {
            Files.writeString(mnt("many/" + i), "file " + i);
        }
        try (var listing = Files.list(mnt("many"))) {
            assertEquals(600, listing.count());
        }
        for (int i = 0; i < 600; i++) {
            assertEquals("file " + i, Files.readString(mnt("many/" + i)));
        }
        // RELEASE is sent in the background after close: every handle comes back soon after.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (fs.fuseMount().openHandles() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, fs.fuseMount().openHandles());
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {true, false})
    void anOpenFileKeepsWorkingAfterItsNameIsRemovedOrReplaced(boolean passthrough) throws IOException {
        mount(options(passthrough));
        Files.writeString(mnt("scratch"), "0123456789");
        Files.writeString(mnt("other"), "other");
        try (FileChannel upper = FileChannel.open(mnt("scratch"), StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileChannel lower = FileChannel.open(mnt("hello"), StandardOpenOption.READ)) {
            Files.delete(mnt("scratch"));
            Files.delete(mnt("hello"));
            upper.write(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)), 10);
            assertEquals(13, upper.size());
            ByteBuffer bytes = ByteBuffer.allocate(13);
            upper.read(bytes, 0);
            assertEquals("0123456789abc", new String(bytes.array(), StandardCharsets.UTF_8));
            assertEquals('h', readByte(lower, 0));
            try (FileChannel replaced = FileChannel.open(mnt("other"), StandardOpenOption.READ)) {
                Files.writeString(mnt("new"), "new");
                Files.move(mnt("new"), mnt("other"), StandardCopyOption.REPLACE_EXISTING);
                assertEquals('o', readByte(replaced, 0));
            }
        }
        assertFalse(Files.exists(mnt("scratch")));
        assertFalse(Files.exists(mnt("hello")));
        assertEquals("new", Files.readString(mnt("other")));
        assertFalse(Files.exists(fs.upper.resolve("scratch")));
    }

    @ParameterizedTest(name = "passthrough={0}")
    @ValueSource(booleans = {true, false})
    void openingALowerFileWithTruncationEmptiesItsCopyUp(boolean passthrough) throws IOException {
        mount(options(passthrough));
        try (FileChannel truncated = FileChannel.open(mnt("data"), StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            assertEquals(0, truncated.size());
        }
        assertEquals(0, Files.size(mnt("data")));
        assertEquals(0, Files.size(fs.upper.resolve("data")));
        assertEquals(lowerBytes.length, Files.size(root.resolve("lower2/data")));
    }

    @Test
    void aChangeThroughOneHardLinkShowsInTheOtherNamesCachedPages() throws IOException {
        mount();
        assertEquals("hello\n", Files.readString(mnt("hello"))); // its pages are cached now
        Files.createLink(mnt("link"), mnt("hello"));
        try (FileChannel writer = FileChannel.open(mnt("link"), StandardOpenOption.WRITE)) {
            writer.write(ByteBuffer.wrap("HELLO".getBytes(StandardCharsets.UTF_8)), 0); // same size
        }
        assertEquals("HELLO\n", Files.readString(mnt("hello")));
    }

    @Test
    void hardLinksShareBytesAndLinkCount() throws IOException {
        mount();
        Files.createLink(mnt("link"), mnt("hello"));
        assertEquals(2, Files.getAttribute(mnt("hello"), "unix:nlink"));
        assertEquals(Files.getAttribute(mnt("hello"), "unix:ino"), Files.getAttribute(mnt("link"), "unix:ino"));
        Files.writeString(mnt("link"), "through the link\n");
        assertEquals("through the link\n", Files.readString(mnt("hello")));
        Files.setPosixFilePermissions(mnt("hello"), PosixFilePermissions.fromString("rw-------"));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(mnt("link")));
        Files.delete(mnt("hello"));
        assertEquals(1, Files.getAttribute(mnt("link"), "unix:nlink"));
        assertEquals("through the link\n", Files.readString(mnt("link")));
    }

    @Test
    void mknodMakesAFifo() throws IOException {
        mount();
        run(fs.mnt, "mkfifo", "-m", "640", "pipe");
        assertEquals("fifo 640", run(fs.mnt, "stat", "-c", "%F %a", "pipe").strip());
        assertEquals(0010000, (Integer) Files.getAttribute(fs.upper.resolve("pipe"), "unix:mode",
                LinkOption.NOFOLLOW_LINKS) & 0170000);
    }

    @Test
    void renameExchangeSwapsALowerAndAnUpperEntry() throws Throwable {
        mount();
        Files.writeString(mnt("mine"), "upper\n");
        assertEquals(0, Libc.renameat2(mnt("hello"), mnt("mine"), Libc.RENAME_EXCHANGE));
        assertEquals("upper\n", Files.readString(mnt("hello")));
        assertEquals("hello\n", Files.readString(mnt("mine")));
        assertEquals("hello\n", Files.readString(fs.lower1.resolve("hello")));
    }

    @Test
    void fallocateAndCopyFileRangeWork() throws Throwable {
        mount();
        int out = Libc.open(mnt("copy"), Libc.O_CREAT | Libc.O_RDWR, 0644);
        int in = Libc.open(mnt("data"), Libc.O_RDONLY, 0);
        assertTrue(out >= 0 && in >= 0, out + " " + in);
        try {
            assertEquals(0, Libc.fallocate(out, 0, 0, 1 << 20));
            assertEquals(1 << 20, Files.size(mnt("copy")));
            assertEquals(lowerBytes.length - 1000, Libc.copyFileRange(in, 1000, out, 10, lowerBytes.length - 1000));
        } finally {
            Libc.close(in);
            Libc.close(out);
        }
        byte[] copy = Files.readAllBytes(mnt("copy"));
        assertEquals(1 << 20, copy.length);
        assertArrayEquals(Arrays.copyOfRange(lowerBytes, 1000, lowerBytes.length),
                Arrays.copyOfRange(copy, 10, 10 + lowerBytes.length - 1000));
        assertArrayEquals(new byte[(1 << 20) - (10 + lowerBytes.length - 1000)],
                Arrays.copyOfRange(copy, 10 + lowerBytes.length - 1000, 1 << 20));
    }

    @Test
    void aLowerLayerChangedBehindTheMountShowsAfterInvalidation() throws IOException {
        mount();
        assertFalse(Files.exists(mnt("late")));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(mnt("hello"))));
        Files.writeString(fs.lower1.resolve("late"), "late\n");
        Files.setPosixFilePermissions(fs.lower1.resolve("hello"), PosixFilePermissions.fromString("r--------"));
        // The kernel trusts what it cached: the mount does not see the change yet.
        assertFalse(Files.exists(mnt("late")));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(mnt("hello"))));

        fs.fuseMount().invalidate(EntryPath.of("late"));
        fs.fuseMount().invalidate(EntryPath.of("hello"));
        assertEquals("late\n", Files.readString(mnt("late")));
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mnt("hello"))));
    }

    @Test
    void aChangeALowerLayerAnnouncesReachesTheKernelsCaches() throws IOException {
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/news"), "old\n");
        ChangingLayer top = new ChangingLayer(root.resolve("lower1"));
        fs = MountedOverlay.mount(root, FuseOptions.defaults(), OverlayConfig.builder().lower(top));
        assertEquals("old\n", Files.readString(mnt("news")));
        assertEquals(List.of("news"), names(fs.mnt));
        assertFalse(Files.exists(mnt("late")));
        Files.writeString(root.resolve("lower1/news"), "new!\n");
        Files.writeString(root.resolve("lower1/late"), "late\n");
        // The kernel trusts the listing and the "no such name" it cached until it is told.
        assertEquals(List.of("news"), names(fs.mnt));
        assertFalse(Files.exists(mnt("late")));

        top.changed(EntryPath.of("news"));
        top.changed(EntryPath.of("late"));
        top.changed(EntryPath.ROOT);
        // The kernel hears of it on a thread of its own: wait (boundedly) for the new view.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (names(fs.mnt).size() < 2 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        assertEquals(List.of("late", "news"), names(fs.mnt));
        assertEquals("late\n", Files.readString(mnt("late")));
        assertEquals("new!\n", Files.readString(mnt("news")));
    }

    private static List<String> names(Path directory) throws IOException {
        try (var listing = Files.list(directory)) {
            return listing.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void copyUpKeepsTheInodeNumber() throws IOException {
        mount();
        Object before = Files.getAttribute(mnt("data"), "unix:ino");
        Files.setPosixFilePermissions(mnt("data"), PosixFilePermissions.fromString("rw-------"));
        assertTrue(Files.exists(fs.upper.resolve("data")));
        assertEquals(before, Files.getAttribute(mnt("data"), "unix:ino"));
        fs.fuseMount().invalidate(EntryPath.of("data")); // the next stat asks the server
        assertEquals(before, Files.getAttribute(mnt("data"), "unix:ino"));
    }
}
