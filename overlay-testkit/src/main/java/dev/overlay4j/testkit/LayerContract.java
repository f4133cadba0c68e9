package dev.overlay4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link Layer} must do. Extend it and build the layer a test asks for in
 * {@link #openLayer}; declare what your store cannot hold with the capability methods, and the
 * tests that need it are skipped (not passed).
 */
public abstract class LayerContract {

    /** A fixed modification time with a non-zero nanosecond part, on an even second. */
    protected static final long MTIME = 1_600_000_000_123_456_789L;
    /** Larger than the usual buffers (1 MiB) and not a multiple of any block size. */
    protected static final int BIG_SIZE = 3 * 1024 * 1024 + 17;

    @TempDir
    protected Path scratch;

    /** Opens a layer holding exactly {@code tree}; {@code scratch} is an empty directory to build it in. */
    protected abstract Layer openLayer(LayerTree tree, Path scratch) throws IOException;

    /** Whether the layer keeps extended attributes (and overlay marks in them). */
    protected boolean supportsXattrs() {
        return true;
    }

    protected boolean supportsSymlinks() {
        return true;
    }

    /** Whether the layer holds whiteouts, opaque directories and redirects. */
    protected boolean supportsWhiteouts() {
        return true;
    }

    /**
     * Whether the layer holds redirects of renamed directories; by default whenever it holds
     * whiteouts. Image layers have whiteouts and opaque directories but no redirects.
     */
    protected boolean supportsRedirects() {
        return supportsWhiteouts();
    }

    /** Whether the layer keeps the permission bits it is given (else it reports 0644 / 0755). */
    protected boolean keepsPermissions() {
        return true;
    }

    /** The resolution of modification times the layer keeps, in nanoseconds. */
    protected long mtimeResolutionNanos() {
        return 1;
    }

    /** The bytes {@code 0, 1, ..., 250, 0, 1, ...}: every position has a known value. */
    protected static byte[] pattern(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i % 251);
        }
        return bytes;
    }

    protected static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private Layer open(LayerTree.Builder tree) throws IOException {
        return openLayer(tree.build(), scratch);
    }

    private static void assertErrno(Errno expected, org.junit.jupiter.api.function.Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    private static Map<String, EntryType> listing(Layer layer, String dir) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of(dir))) {
            return entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type, (a, b) -> {
                throw new AssertionError("name listed twice");
            }, TreeMap::new));
        }
    }

    @Test
    public void statReportsTypePermissionsSizeAndMtimeOfAFile() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("d/f", utf8("hello world"), 0640, MTIME))) {
            EntryAttributes a = layer.stat(EntryPath.of("d/f")).orElseThrow();
            assertEquals(EntryType.REGULAR_FILE, a.type());
            assertEquals(keepsPermissions() ? 0640 : 0644, a.permissions());
            assertEquals(11, a.size());
            long resolution = mtimeResolutionNanos();
            assertEquals(Math.floorDiv(MTIME, resolution), Math.floorDiv(a.mtimeNanos(), resolution),
                    "mtime " + a.mtimeNanos() + " to the resolution of " + resolution + " ns");
            assertTrue(a.nlink() >= 1);
            assertNotEquals(0, a.inode());
            assertFalse(a.opaque());
            assertNull(a.redirect());
        }
    }

    @Test
    public void statReportsDirectoriesAndTheRoot() throws IOException {
        try (Layer layer = open(LayerTree.builder().directory("d", 0750))) {
            EntryAttributes d = layer.stat(EntryPath.of("d")).orElseThrow();
            assertEquals(EntryType.DIRECTORY, d.type());
            assertEquals(keepsPermissions() ? 0750 : 0755, d.permissions());
            assertEquals(EntryType.DIRECTORY, layer.stat(EntryPath.ROOT).orElseThrow().type());
        }
    }

    @Test
    public void statOfAMissingEntryIsEmpty() throws IOException {
        try (Layer layer = open(LayerTree.builder().directory("d", 0755))) {
            assertTrue(layer.stat(EntryPath.of("nothing")).isEmpty());
            assertTrue(layer.stat(EntryPath.of("d/nothing")).isEmpty());
            assertTrue(layer.stat(EntryPath.of("nothing/below")).isEmpty());
        }
    }

    @Test
    public void statThroughAFileFailsWithEnotdir() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("f", utf8("x"), 0644, MTIME))) {
            assertErrno(Errno.ENOTDIR, () -> layer.stat(EntryPath.of("f/below")));
        }
    }

    @Test
    public void inodesAreStableNonZeroAndDistinct() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("a", utf8("a"), 0644, MTIME).file("b", utf8("b"), 0644, MTIME))) {
            long a = layer.stat(EntryPath.of("a")).orElseThrow().inode();
            assertEquals(a, layer.stat(EntryPath.of("a")).orElseThrow().inode());
            assertNotEquals(0, a);
            assertNotEquals(a, layer.stat(EntryPath.of("b")).orElseThrow().inode());
        }
    }

    @Test
    public void listReportsExactlyTheNamesAndTheirTypes() throws IOException {
        LayerTree.Builder tree = LayerTree.builder()
                .file("d/f", utf8("f"), 0644, MTIME)
                .directory("d/sub", 0755);
        if (supportsSymlinks()) {
            tree.symlink("d/link", "f");
        }
        try (Layer layer = open(tree)) {
            Map<String, EntryType> expected = new TreeMap<>(Map.of("f", EntryType.REGULAR_FILE, "sub", EntryType.DIRECTORY));
            if (supportsSymlinks()) {
                expected.put("link", EntryType.SYMLINK);
            }
            assertEquals(expected, listing(layer, "d"));
            assertEquals(Map.of("d", EntryType.DIRECTORY), listing(layer, ""));
            assertEquals(Map.of(), listing(layer, "d/sub"));
        }
    }

    @Test
    public void listOfAMissingDirectoryFailsWithEnoentAndOfAFileWithEnotdir() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("f", utf8("x"), 0644, MTIME))) {
            assertErrno(Errno.ENOENT, () -> layer.list(EntryPath.of("missing")).close());
            assertErrno(Errno.ENOTDIR, () -> layer.list(EntryPath.of("f")).close());
        }
    }

    @Test
    public void positionalReadsReturnTheBytesAtThatPosition() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("f", utf8("hello world"), 0644, MTIME));
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertEquals(11, content.size());
            ByteBuffer buffer = ByteBuffer.allocate(5);
            assertEquals(5, content.read(buffer, 6));
            assertEquals("world", new String(buffer.array(), StandardCharsets.UTF_8));
            buffer.clear();
            assertEquals(5, content.read(buffer, 0));
            assertEquals("hello", new String(buffer.array(), StandardCharsets.UTF_8));
        }
    }

    @Test
    public void readingAtOrPastTheEndReturnsMinusOne() throws IOException {
        try (Layer layer = open(LayerTree.builder().file("f", utf8("abc"), 0644, MTIME).file("empty", new byte[0], 0644, MTIME));
             ReadableContent content = layer.openRead(EntryPath.of("f"));
             ReadableContent empty = layer.openRead(EntryPath.of("empty"))) {
            assertEquals(-1, content.read(ByteBuffer.allocate(4), 3));
            assertEquals(-1, content.read(ByteBuffer.allocate(4), 100));
            assertEquals(-1, empty.read(ByteBuffer.allocate(4), 0));
            ByteBuffer tail = ByteBuffer.allocate(10);
            assertEquals(1, content.read(tail, 2));
            assertEquals('c', tail.get(0));
        }
    }

    @Test
    public void aLargeFileReadsBackExactlyAcrossBufferBoundaries() throws IOException {
        byte[] expected = pattern(BIG_SIZE);
        try (Layer layer = open(LayerTree.builder().file("big", expected, 0644, MTIME));
             ReadableContent content = layer.openRead(EntryPath.of("big"))) {
            assertEquals(BIG_SIZE, content.size());
            byte[] actual = new byte[BIG_SIZE];
            ByteBuffer chunk = ByteBuffer.allocateDirect(65_537);
            long position = 0;
            while (true) {
                chunk.clear();
                int n = content.read(chunk, position);
                if (n < 0) {
                    break;
                }
                chunk.flip().get(actual, (int) position, n);
                position += n;
            }
            assertArrayEquals(expected, actual);
            ByteBuffer back = ByteBuffer.allocate(3); // going backwards after reading forward
            assertEquals(3, content.read(back, 1_048_575));
            assertArrayEquals(new byte[] {expected[1_048_575], expected[1_048_576], expected[1_048_577]}, back.array());
        }
    }

    @Test
    public void aLargeFileReadsBackExactlyIntoALargeHeapBuffer() throws IOException {
        byte[] expected = pattern(BIG_SIZE);
        try (Layer layer = open(LayerTree.builder().file("big", expected, 0644, MTIME));
             ReadableContent content = layer.openRead(EntryPath.of("big"))) {
            ByteBuffer all = ByteBuffer.allocate(BIG_SIZE + 10).position(7); // not at the array's start
            long position = 0;
            for (int n; (n = content.read(all, position)) > 0; ) {
                position += n;
            }
            assertEquals(BIG_SIZE, position);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(all.array(), 7, 7 + BIG_SIZE));
        }
    }

    @Test
    public void openReadOfADirectoryFailsWithEisdirAndOfAMissingFileWithEnoent() throws IOException {
        try (Layer layer = open(LayerTree.builder().directory("d", 0755))) {
            assertErrno(Errno.EISDIR, () -> layer.openRead(EntryPath.of("d")).close());
            assertErrno(Errno.ENOENT, () -> layer.openRead(EntryPath.of("missing")).close());
        }
    }

    @Test
    public void readLinkReturnsTheTargetAsStored() throws IOException {
        assumeTrue(supportsSymlinks(), "SKIPPED: this layer cannot hold symlinks");
        try (Layer layer = open(LayerTree.builder().symlink("l", "../some/where").file("f", utf8("x"), 0644, MTIME))) {
            assertEquals("../some/where", layer.readLink(EntryPath.of("l")));
            EntryAttributes a = layer.stat(EntryPath.of("l")).orElseThrow();
            assertEquals(EntryType.SYMLINK, a.type());
            assertEquals("../some/where".length(), a.size());
            assertErrno(Errno.EINVAL, () -> layer.readLink(EntryPath.of("f")));
            assertErrno(Errno.ELOOP, () -> layer.openRead(EntryPath.of("l")).close());
            assertErrno(Errno.ENOENT, () -> layer.readLink(EntryPath.of("missing")));
        }
    }

    @Test
    public void aSymlinkOnTheWayIsNeverFollowed() throws IOException {
        assumeTrue(supportsSymlinks(), "SKIPPED: this layer cannot hold symlinks");
        try (Layer layer = open(LayerTree.builder().file("real/f", utf8("x"), 0644, MTIME).symlink("l", "real"))) {
            assertTrue(layer.stat(EntryPath.of("l")).orElseThrow().isSymlink());
            assertErrno(Errno.ENOTDIR, () -> layer.openRead(EntryPath.of("l/f")).close());
            assertErrno(Errno.ENOTDIR, () -> layer.list(EntryPath.of("l")).close());
        }
    }

    @Test
    public void xattrsAreListedAndReadButOverlayMarksAreHidden() throws IOException {
        assumeTrue(supportsXattrs(), "SKIPPED: this layer cannot hold extended attributes");
        assumeTrue(supportsWhiteouts(), "SKIPPED: this layer cannot hold overlay marks");
        try (Layer layer = open(LayerTree.builder().opaqueDirectory("d").file("d/f", utf8("x"), 0644, MTIME)
                .xattr("d/f", "user.color", utf8("blue")).xattr("d", "user.kind", new byte[0]))) {
            assertEquals(java.util.List.of("user.color"), layer.listXattrs(EntryPath.of("d/f")));
            assertArrayEquals(utf8("blue"), layer.readXattr(EntryPath.of("d/f"), "user.color").orElseThrow());
            assertArrayEquals(new byte[0], layer.readXattr(EntryPath.of("d"), "user.kind").orElseThrow());
            assertEquals(java.util.List.of("user.kind"), layer.listXattrs(EntryPath.of("d")));
            assertTrue(layer.readXattr(EntryPath.of("d/f"), "user.missing").isEmpty());
        }
    }

    @Test
    public void whiteoutsAreReportedByStatAndList() throws IOException {
        assumeTrue(supportsWhiteouts(), "SKIPPED: this layer cannot hold whiteouts");
        try (Layer layer = open(LayerTree.builder().whiteout("gone").directory("d", 0755).whiteout("d/gone2"))) {
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("gone")).orElseThrow().type());
            assertEquals(Map.of("gone", EntryType.WHITEOUT, "d", EntryType.DIRECTORY), listing(layer, ""));
            assertEquals(Map.of("gone2", EntryType.WHITEOUT), listing(layer, "d"));
        }
    }

    @Test
    public void opaqueDirectoriesAndRedirectsAreReported() throws IOException {
        assumeTrue(supportsWhiteouts(), "SKIPPED: this layer cannot hold overlay marks");
        LayerTree.Builder tree = LayerTree.builder().opaqueDirectory("o").directory("plain", 0755);
        if (supportsRedirects()) {
            tree.redirectedDirectory("r", "/old/place");
        }
        try (Layer layer = open(tree)) {
            EntryAttributes o = layer.stat(EntryPath.of("o")).orElseThrow();
            assertTrue(o.opaque());
            assertNull(o.redirect());
            if (supportsRedirects()) {
                EntryAttributes r = layer.stat(EntryPath.of("r")).orElseThrow();
                assertFalse(r.opaque());
                assertEquals("/old/place", r.redirect());
            }
            EntryAttributes plain = layer.stat(EntryPath.of("plain")).orElseThrow();
            assertFalse(plain.opaque());
            assertNull(plain.redirect());
        }
    }

    @Test
    public void metadataQueriesOnAMissingEntryFailWithEnoent() throws IOException {
        try (Layer layer = open(LayerTree.builder().directory("d", 0755))) {
            assertErrno(Errno.ENOENT, () -> layer.listXattrs(EntryPath.of("d/missing")));
            assertErrno(Errno.ENOENT, () -> layer.readXattr(EntryPath.of("d/missing"), "user.x"));
        }
    }
}
