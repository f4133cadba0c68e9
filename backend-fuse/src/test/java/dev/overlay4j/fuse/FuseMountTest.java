package dev.overlay4j.fuse;

import static dev.overlay4j.fuse.MountedOverlay.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An overlay mounted through the kernel, driven with java.nio on the default file system and with real programs. */
class FuseMountTest {

    @TempDir
    Path root;

    private MountedOverlay fs;
    private byte[] big;

    @BeforeEach
    void mount() throws IOException {
        MountedOverlay.createLayers(root);
        Path l1 = root.resolve("lower1");
        Path l2 = root.resolve("lower2");
        Files.writeString(l1.resolve("shared"), "from lower1\n");
        Files.writeString(l2.resolve("shared"), "from lower2\n");
        Files.writeString(l2.resolve("only2"), "bottom\n");
        Files.createDirectories(l1.resolve("dir"));
        Files.createDirectories(l2.resolve("dir/deep"));
        Files.writeString(l1.resolve("dir/x"), "x\n");
        Files.writeString(l2.resolve("dir/y"), "y\n");
        Files.writeString(l2.resolve("dir/deep/z"), "z\n");
        big = new byte[3 * 1024 * 1024 + 123];
        new Random(42).nextBytes(big);
        Files.write(l2.resolve("big"), big);
        fs = MountedOverlay.mount(root, FuseOptions.defaults());
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

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void listsTheMergedDirectories() throws IOException {
        assertEquals(Set.of("shared", "only2", "dir", "big"), names(fs.mnt));
        assertEquals(Set.of("x", "y", "deep"), names(mnt("dir")));
        String ls = run(fs.mnt, "ls", "-a", "dir");
        assertEquals(List.of(".", "..", "deep", "x", "y"), ls.lines().toList());
    }

    @Test
    void readsTheTopmostLowerFile() throws IOException {
        assertEquals("from lower1\n", Files.readString(mnt("shared")));
        assertEquals("bottom\n", run(fs.mnt, "cat", "only2"));
        assertArrayEquals(big, Files.readAllBytes(mnt("big")));
    }

    @Test
    void writingCopiesUpAndLeavesLowerLayersAlone() throws IOException {
        Files.writeString(mnt("dir/y"), "more\n", StandardOpenOption.APPEND);
        assertEquals("y\nmore\n", Files.readString(mnt("dir/y")));
        assertEquals("y\nmore\n", Files.readString(fs.upper.resolve("dir/y")));
        assertEquals("y\n", Files.readString(fs.lower2.resolve("dir/y")));

        Files.writeString(mnt("new"), "created\n");
        assertEquals("created\n", Files.readString(fs.upper.resolve("new")));
    }

    @Test
    void writesAtPositionsAndTruncates() throws IOException {
        try (FileChannel channel = FileChannel.open(mnt("big"), StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap("HELLO".getBytes(StandardCharsets.US_ASCII)), 1_000_000);
            channel.truncate(2_000_000);
        }
        byte[] expected = java.util.Arrays.copyOf(big, 2_000_000);
        System.arraycopy("HELLO".getBytes(StandardCharsets.US_ASCII), 0, expected, 1_000_000, 5);
        assertArrayEquals(expected, Files.readAllBytes(mnt("big")));
        assertArrayEquals(expected, Files.readAllBytes(fs.upper.resolve("big")));
    }

    @Test
    void removingALowerEntryLeavesAWhiteoutInTheUpperLayer() throws IOException {
        Files.delete(mnt("only2"));
        assertFalse(Files.exists(mnt("only2")));
        assertThrows(NoSuchFileException.class, () -> Files.readString(mnt("only2")));
        Map<String, Object> whiteout = Files.readAttributes(fs.upper.resolve("only2"), "unix:mode,rdev",
                LinkOption.NOFOLLOW_LINKS);
        assertEquals(0020000, (Integer) whiteout.get("mode") & 0170000);
        assertEquals(0L, whiteout.get("rdev"));
        assertEquals(Set.of("shared", "dir", "big"), names(fs.mnt));
    }

    @Test
    void makesAndRemovesDirectories() throws IOException {
        Files.createDirectory(mnt("fresh"));
        assertTrue(Files.isDirectory(fs.upper.resolve("fresh")));
        Files.delete(mnt("fresh"));
        assertFalse(Files.exists(fs.upper.resolve("fresh")));

        assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(mnt("dir/deep")));
        Files.delete(mnt("dir/deep/z"));
        Files.delete(mnt("dir/deep"));
        assertEquals(Set.of("x", "y"), names(mnt("dir")));
    }

    @Test
    void renamesFilesAndDirectories() throws IOException {
        Files.move(mnt("shared"), mnt("dir/moved"));
        assertEquals("from lower1\n", Files.readString(mnt("dir/moved")));
        assertFalse(Files.exists(mnt("shared")));
        Files.createDirectories(mnt("a/b"));
        Files.writeString(mnt("a/b/f"), "f");
        Files.move(mnt("a"), mnt("c"));
        assertEquals("f", Files.readString(mnt("c/b/f")));
        assertEquals("f", run(fs.mnt, "cat", "c/b/f"));
    }

    @Test
    void createsAndReadsSymlinks() throws IOException {
        Files.createSymbolicLink(mnt("link"), Path.of("dir/x"));
        assertEquals(Path.of("dir/x"), Files.readSymbolicLink(mnt("link")));
        assertEquals("x\n", Files.readString(mnt("link")));
        assertTrue(Files.isSymbolicLink(fs.upper.resolve("link")));
    }

    @Test
    void changesPermissionsOfLowerFiles() throws IOException {
        Files.setPosixFilePermissions(mnt("only2"), PosixFilePermissions.fromString("rwx------"));
        assertEquals("700", run(fs.mnt, "stat", "-c", "%a", "only2").strip());
        assertEquals(PosixFilePermissions.fromString("rwx------"),
                Files.getPosixFilePermissions(fs.upper.resolve("only2")));
    }

    @Test
    void setsAndReadsExtendedAttributes() throws IOException {
        run(fs.mnt, "setfattr", "-n", "user.color", "-v", "blue", "shared");
        assertEquals("blue", run(fs.mnt, "getfattr", "--only-values", "-n", "user.color", "shared"));
        String dump = run(fs.mnt, "getfattr", "-d", "shared");
        assertTrue(dump.contains("user.color=\"blue\""), dump);
        run(fs.mnt, "setfattr", "-x", "user.color", "shared");
        assertFalse(run(fs.mnt, "getfattr", "-d", "shared").contains("user.color"));
    }

    @Test
    void reportsTheStoreOfTheUpperLayer() throws IOException {
        FileStore store = Files.getFileStore(fs.mnt);
        assertEquals("fuse.overlay4j", store.type());
        assertTrue(store.getTotalSpace() > 0);
        String df = run(fs.mnt, "df", "-P", fs.mnt.toString());
        assertTrue(df.lines().anyMatch(line -> line.startsWith("overlay4j ") && line.endsWith(fs.mnt.toString())), df);
    }

    @Test
    void copiesAndArchivesTreesWithCommonTools() throws IOException {
        Path copy = root.resolve("copy");
        run(root, "cp", "-a", fs.mnt.toString(), copy.toString());
        run(root, "diff", "-r", fs.mnt.toString(), copy.toString());
        String found = run(fs.mnt, "find", ".");
        String archived = run(fs.mnt, "tar", "-cf", root.resolve("t.tar").toString(), ".");
        assertEquals("", archived);
        String listed = run(root, "tar", "-tf", "t.tar");
        assertEquals(found.lines().count(), listed.lines().count());
        run(fs.mnt, "tar", "-xf", root.resolve("t.tar").toString(), "-C", mnt("dir").toString());
        assertEquals("z\n", Files.readString(mnt("dir/dir/deep/z")));
    }

    @Test
    void servesConcurrentReaders() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                reads.add(pool.submit(() -> Files.readAllBytes(mnt("big"))));
            }
            for (Future<byte[]> read : reads) {
                assertArrayEquals(big, read.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
