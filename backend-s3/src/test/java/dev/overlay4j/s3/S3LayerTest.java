package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3LayerTest {

    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static S3Server server;
    private String bucket;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.inMemory();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void newBucket() {
        bucket = "layer" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
    }

    private Layer open(String prefix, String... options) throws IOException {
        return Layers.openLower(server.uri(bucket, prefix, options), LayerOptions.DEFAULTS);
    }

    private static Map<String, EntryType> names(Layer layer, String dir) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of(dir))) {
            return entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::type, (a, b) -> a, TreeMap::new));
        }
    }

    private static Map<String, String> meta(int mode, int uid, int gid, String mtime) {
        return Map.of("mode", Integer.toString(mode), "uid", Integer.toString(uid), "gid", Integer.toString(gid),
                "mtime", mtime);
    }

    private static byte[] read(ReadableContent content, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = content.read(buffer, position + buffer.position());
            if (n < 0) {
                break;
            }
        }
        byte[] out = new byte[buffer.position()];
        buffer.flip().get(out);
        return out;
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void commonPrefixesAndMarkerObjectsAreDirectories() throws IOException {
        server.put(bucket, "root/a.txt", "alpha");
        server.put(bucket, "root/implicit/b.txt", "beta");
        server.put(bucket, "root/marked/", "");
        server.put(bucket, "outside.txt", "not in the layer");
        try (Layer layer = open("root/")) {
            assertEquals(Map.of("a.txt", EntryType.REGULAR_FILE, "implicit", EntryType.DIRECTORY,
                    "marked", EntryType.DIRECTORY), names(layer, ""));
            assertEquals(Map.of("b.txt", EntryType.REGULAR_FILE), names(layer, "implicit"));
            assertEquals(Map.of(), names(layer, "marked"));
            EntryAttributes file = layer.stat(EntryPath.of("a.txt")).orElseThrow();
            assertEquals(EntryType.REGULAR_FILE, file.type());
            assertEquals(5, file.size());
            assertEquals(0644, file.permissions());
            assertEquals(0755, layer.stat(EntryPath.of("implicit")).orElseThrow().permissions());
            assertTrue(layer.stat(EntryPath.of("missing")).isEmpty());
            assertTrue(layer.stat(EntryPath.of("implicit/missing/deeper")).isEmpty());
        }
    }

    @Test
    void aListingOfSeveralPagesIsStreamedCompleteAndThenCached() throws Exception {
        Map<String, EntryType> expected = new TreeMap<>();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 1100; i++) {
                String name = "f%04d".formatted(i);
                boolean dir = i % 100 == 0;
                // One-byte objects, which could be symlinks: of unknown type until stat'ed.
                expected.put(name, dir ? EntryType.DIRECTORY : EntryType.UNKNOWN);
                pool.submit(() -> server.put(bucket, "l/" + name + (dir ? "/inner" : ""), "x"));
            }
        }
        try (Layer layer = open("l/")) {
            assertEquals(expected, names(layer, ""));
            server.put(bucket, "l/late", "after the listing");
            assertEquals(expected, names(layer, ""));
        }
    }

    @Test
    void s3fsMetadataGivesModeOwnerAndTimes() throws IOException {
        server.put(bucket, "l/script.sh", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), meta(0100750, 1234, 5678, "1700000000.25"));
        server.put(bucket, "l/etc/", new byte[0], meta(0040700, 0, 42, "1600000000"));
        try (Layer layer = open("l")) {
            EntryAttributes script = layer.stat(EntryPath.of("script.sh")).orElseThrow();
            assertEquals(0100750, script.mode());
            assertEquals(1234, script.uid());
            assertEquals(5678, script.gid());
            assertEquals(1_700_000_000_250_000_000L, script.mtimeNanos());
            EntryAttributes etc = layer.stat(EntryPath.of("etc")).orElseThrow();
            assertEquals(0040700, etc.mode());
            assertEquals(42, etc.gid());
            assertEquals(1_600_000_000_000_000_000L, etc.mtimeNanos());
        }
    }

    @Test
    void symlinksAreObjectsWithLinkModeAndTargetBody() throws IOException {
        server.put(bucket, "l/link", "../some/target".getBytes(StandardCharsets.UTF_8), meta(0120777, 0, 0, "1"));
        try (Layer layer = open("l/")) {
            EntryAttributes link = layer.stat(EntryPath.of("link")).orElseThrow();
            assertEquals(EntryType.SYMLINK, link.type());
            assertEquals("../some/target".length(), link.size());
            assertEquals("../some/target", layer.readLink(EntryPath.of("link")));
            assertEquals(Map.of("link", EntryType.SYMLINK), names(layer, ""));
            assertEquals(Errno.ELOOP, Errno.of(assertThrows(IOException.class, () -> layer.openRead(EntryPath.of("link")))));
        }
    }

    /** Puts {@code count} small files {@code dir/f00...} with s3fs metadata giving mode 0600. */
    private void smallFiles(String dir, int count) {
        for (int i = 0; i < count; i++) {
            server.put(bucket, dir + "f%02d".formatted(i), "x".getBytes(StandardCharsets.UTF_8), meta(0100600, 7, 8, "1"));
        }
    }

    /** Waits (up to 10 s) until the server has answered {@code expected} more HEADs or LISTs than {@code before}. */
    private static void awaitCount(java.util.function.IntSupplier count, int expected) throws InterruptedException {
        for (int i = 0; i < 1000 && count.getAsInt() < expected; i++) {
            Thread.sleep(10);
        }
    }

    @Test
    void aLargeListingHeadsOnlyItsEmptyObjectsAndListsSmallOnesOfUnknownTypeUntilStated() throws IOException {
        smallFiles("l/", 20);
        server.put(bucket, "l/empty", new byte[0], meta(0100640, 0, 0, "1"));
        server.put(bucket, "l/pipe", new byte[0], meta(0010644, 0, 0, "1"));
        server.put(bucket, "l/link", "f00".getBytes(StandardCharsets.UTF_8), meta(0120777, 0, 0, "1"));
        server.put(bucket, "l/big", new byte[5000], meta(0100644, 0, 0, "1"));
        // metadata=lazy, the name of this behaviour before DT_UNKNOWN, means the default now.
        for (String[] options : new String[][] {{}, {"metadata=true"}, {"metadata=lazy"}}) {
            try (Layer layer = open("l/", options)) {
                int before = server.heads();
                Map<String, EntryType> expected = new TreeMap<>();
                for (int i = 0; i < 20; i++) {
                    expected.put("f%02d".formatted(i), EntryType.UNKNOWN);
                }
                expected.put("empty", EntryType.REGULAR_FILE);
                expected.put("pipe", EntryType.FIFO);
                expected.put("link", EntryType.UNKNOWN);
                // Larger than PATH_MAX: no symlink's target is that long, so a regular file.
                expected.put("big", EntryType.REGULAR_FILE);
                assertEquals(expected, names(layer, ""), String.join(",", options));
                assertEquals(2, server.heads() - before, String.join(",", options));

                EntryAttributes link = layer.stat(EntryPath.of("link")).orElseThrow();
                assertEquals(0120777, link.mode());
                assertEquals(3, server.heads() - before);
                expected.put("link", EntryType.SYMLINK);
                assertEquals(expected, names(layer, ""));
                assertEquals(3, server.heads() - before);
            }
        }
    }

    @Test
    void aListingWithFewSmallObjectsTypesThemAll() throws IOException {
        smallFiles("l/", 3);
        server.put(bucket, "l/link", "f00".getBytes(StandardCharsets.UTF_8), meta(0120777, 0, 0, "1"));
        try (Layer layer = open("l/")) {
            int before = server.heads();
            assertEquals(Map.of("f00", EntryType.REGULAR_FILE, "f01", EntryType.REGULAR_FILE, "f02", EntryType.REGULAR_FILE,
                    "link", EntryType.SYMLINK), names(layer, ""));
            assertEquals(4, server.heads() - before);
        }
    }

    @Test
    void metadataListingTypesEverySmallObjectWhileListingAndFalseSendsNoHead() throws IOException {
        smallFiles("l/", 20);
        server.put(bucket, "l/link", "f00".getBytes(StandardCharsets.UTF_8), meta(0120777, 0, 0, "1"));
        try (Layer layer = open("l/", "metadata=listing")) {
            int before = server.heads();
            Map<String, EntryType> listed = names(layer, "");
            assertEquals(EntryType.SYMLINK, listed.get("link"));
            assertEquals(EntryType.REGULAR_FILE, listed.get("f07"));
            assertEquals(21, server.heads() - before);
        }
        try (Layer layer = open("l/", "metadata=false")) {
            int before = server.heads();
            assertEquals(EntryType.REGULAR_FILE, names(layer, "").get("link"));
            assertEquals(0, server.heads() - before);
        }
    }

    @Test
    void statsGoingThroughADirectoryHeadTheRestAheadAndEachObjectOnce() throws Exception {
        smallFiles("l/", 50);
        try (Layer layer = open("l/")) {
            assertEquals(50, names(layer, "").size());
            int before = server.heads();
            assertEquals(0100600, layer.stat(EntryPath.of("f00")).orElseThrow().mode());
            assertEquals(1, server.heads() - before);
            assertEquals(0100600, layer.stat(EntryPath.of("f01")).orElseThrow().mode());
            awaitCount(() -> server.heads() - before, 50);
            assertEquals(50, server.heads() - before);
            for (int i = 0; i < 50; i++) {
                EntryAttributes file = layer.stat(EntryPath.of("f%02d".formatted(i))).orElseThrow();
                assertEquals(0100600, file.mode());
                assertEquals(7, file.uid());
            }
            assertEquals(50, server.heads() - before);
        }
    }

    @Test
    void aListedDirectorysSubdirectoriesAreListedAheadOnce() throws Exception {
        for (int i = 0; i < 10; i++) {
            server.put(bucket, "l/d" + i + "/x", "x");
        }
        try (Layer layer = open("l/")) {
            int before = server.lists();
            assertEquals(10, names(layer, "").size());
            awaitCount(() -> server.lists() - before, 11);
            assertEquals(11, server.lists() - before);
            for (int i = 0; i < 10; i++) {
                assertEquals(Map.of("x", EntryType.REGULAR_FILE), names(layer, "d" + i));
                assertEquals(2, layer.stat(EntryPath.of("d" + i)).orElseThrow().nlink());
            }
            assertEquals(10, names(layer, "").size());
            assertEquals(11, server.lists() - before);
        }
    }

    @Test
    void metadataCacheBoundsTheObjectsWhoseHeadIsKept() throws IOException {
        smallFiles("l/", 2);
        try (Layer layer = open("l/", "metadataCache=1")) {
            int before = server.heads();
            layer.stat(EntryPath.of("f00"));
            layer.stat(EntryPath.of("f00"));
            assertEquals(1, server.heads() - before);
            layer.stat(EntryPath.of("f01"));
            layer.stat(EntryPath.of("f00"));
            assertEquals(3, server.heads() - before);
        }
    }

    @Test
    void listCacheBoundsTheEntriesOfKeptListings() throws IOException {
        smallFiles("l/", 20);
        try (Layer big = open("l/", "listCache=20"); Layer enough = open("l/", "listCache=21")) {
            int before = server.lists();
            names(big, "");
            names(big, "");
            assertEquals(2, server.lists() - before);
            names(enough, "");
            names(enough, "");
            assertEquals(3, server.lists() - before);
        }
    }

    @Test
    void ociWhiteoutsAndOpaqueMarkers() throws IOException {
        server.put(bucket, "l/.wh.gone", "");
        server.put(bucket, "l/dir/.wh..wh..opq", "");
        server.put(bucket, "l/dir/kept", "k");
        server.put(bucket, "l/plain/x", "x");
        try (Layer layer = open("l/")) {
            assertEquals(Map.of("gone", EntryType.WHITEOUT, "dir", EntryType.DIRECTORY, "plain", EntryType.DIRECTORY),
                    names(layer, ""));
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("gone")).orElseThrow().type());
            assertTrue(layer.stat(EntryPath.of(".wh.gone")).isEmpty());
            assertTrue(layer.stat(EntryPath.of("dir")).orElseThrow().opaque());
            assertFalse(layer.stat(EntryPath.of("plain")).orElseThrow().opaque());
            assertEquals(Map.of("kept", EntryType.REGULAR_FILE), names(layer, "dir"));
        }
    }

    @Test
    void hostileKeysAreSkippedAndNeverEscapeTheLayer() throws IOException {
        server.put(bucket, "l/ok", "fine");
        server.put(bucket, "l/../escape", "no");
        server.put(bucket, "l/.wh..", "no");
        server.put(bucket, "l/both", "an entry and its whiteout in one layer: the entry stays");
        server.put(bucket, "l/.wh.both", "");
        try (Layer layer = open("l/")) {
            assertEquals(Map.of("ok", EntryType.REGULAR_FILE, "both", EntryType.REGULAR_FILE), names(layer, ""));
            assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> layer.list(EntryPath.of("escape")))));
        }
    }

    @Test
    void inodesAreStableAcrossOpensAndNeverZero() throws IOException {
        server.put(bucket, "l/f", "1");
        server.put(bucket, "l/d/g", "2");
        long file;
        long dir;
        try (Layer layer = open("l/")) {
            file = layer.stat(EntryPath.of("f")).orElseThrow().inode();
            dir = layer.stat(EntryPath.of("d")).orElseThrow().inode();
            try (Stream<DirectoryEntry> entries = layer.list(EntryPath.ROOT)) {
                Map<String, Long> inodes = entries.collect(Collectors.toMap(DirectoryEntry::name, DirectoryEntry::inode));
                assertEquals(Map.of("f", file, "d", dir), inodes);
            }
        }
        try (Layer again = open("l/")) {
            assertEquals(file, again.stat(EntryPath.of("f")).orElseThrow().inode());
            assertEquals(dir, again.stat(EntryPath.of("d")).orElseThrow().inode());
        }
        assertNotEquals(0, file);
        assertNotEquals(file, dir);
    }

    @Test
    void readsAcrossBlockBoundariesReturnTheObjectsBytes() throws IOException {
        byte[] body = randomBytes(10_000 * 3 + 17, 1);
        server.put(bucket, "l/data.bin", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=2");
             ReadableContent content = layer.openRead(EntryPath.of("data.bin"))) {
            assertEquals(body.length, content.size());
            assertArrayEquals(body, read(content, 0, body.length));
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 4000, 9000), read(content, 4000, 5000));
            assertEquals(-1, content.read(ByteBuffer.allocate(10), body.length));
            ByteBuffer tail = ByteBuffer.allocate(100);
            assertEquals(7, content.read(tail, body.length - 7));
        }
    }

    /** The GETs of {@code key} in this test's bucket, as their ranges. */
    private java.util.List<String> getsOf(String key) {
        String prefix = bucket + "/" + key + " ";
        return server.gets().stream().filter(g -> g.startsWith(prefix)).map(g -> g.substring(prefix.length())).toList();
    }

    @Test
    void aSequentialReaderIsServedByOneGetThatStreamsAhead() throws IOException {
        byte[] body = randomBytes(10 * 4096 + 17, 7);
        server.put(bucket, "l/f", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=3");
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            for (int position = 0; position < body.length; position += 1000) {
                assertArrayEquals(java.util.Arrays.copyOfRange(body, position, Math.min(body.length, position + 1000)),
                        read(content, position, 1000), "at " + position);
            }
        }
        assertEquals(java.util.List.of("bytes=0-" + (body.length - 1)), getsOf("l/f"));
    }

    @Test
    void aReaderOfAFilesFirstBytesFetchesOnlyTheirBlock(@TempDir Path cacheDir) throws Exception {
        byte[] body = randomBytes(64 * 4096, 10);
        server.put(bucket, "l/f", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=6", "cacheDir=" + cacheDir);
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertArrayEquals(java.util.Arrays.copyOf(body, 1000), read(content, 0, 1000));
            Thread.sleep(300);
            // Every fetched block lands in the disk cache; a readahead of 6 from the start would show 7.
            try (Stream<Path> files = java.nio.file.Files.walk(cacheDir)) {
                assertEquals(1, files.filter(f -> f.toString().endsWith(".blk")).count());
            }
        }
    }

    @Test
    void withSeveralStreamsASequentialReaderGetsRunsOfBlocksEachFetchedOnce() throws IOException {
        byte[] body = randomBytes(16 * 4096, 11);
        server.put(bucket, "l/f", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=4", "streams=2");
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            for (int position = 0; position < body.length; position += 4096) {
                assertArrayEquals(java.util.Arrays.copyOfRange(body, position, position + 4096),
                        read(content, position, 4096), "at " + position);
            }
        }
        // readahead 4 over 2 streams: runs of at most 2 blocks; together exactly the object.
        java.util.BitSet fetched = new java.util.BitSet();
        for (String range : getsOf("l/f")) {
            String[] bounds = range.substring("bytes=".length()).split("-");
            int first = Integer.parseInt(bounds[0]) / 4096;
            int last = Integer.parseInt(bounds[1]) / 4096;
            assertTrue(last - first < 2, range);
            for (int block = first; block <= last; block++) {
                assertFalse(fetched.get(block), "block " + block + " fetched twice: " + getsOf("l/f"));
                fetched.set(block);
            }
        }
        assertEquals(16, fetched.cardinality(), getsOf("l/f").toString());
    }

    @Test
    void aReaderThatJumpsGetsOneBlockThenANewStreamWhereItGoesOn() throws IOException {
        byte[] body = randomBytes(16 * 4096, 8);
        server.put(bucket, "l/f", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=2");
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertArrayEquals(java.util.Arrays.copyOf(body, 8192), read(content, 0, 8192));
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 10 * 4096, 11 * 4096), read(content, 10 * 4096, 4096));
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 11 * 4096, 16 * 4096), read(content, 11 * 4096, 5 * 4096));
        }
        assertEquals(java.util.List.of("bytes=0-65535", "bytes=40960-45055", "bytes=45056-65535"), getsOf("l/f"));
    }

    @Test
    void readersRacingThroughASmallMemoryCacheWhoseArraysAreUsedAgainGetExactBytes() throws Exception {
        int objects = 4;
        byte[][] bodies = new byte[objects][];
        for (int i = 0; i < objects; i++) {
            bodies[i] = randomBytes(32 * 4096 + i, 20 + i);
            server.put(bucket, "l/f" + i, bodies[i], Map.of());
        }
        // Four blocks of memory: every few reads evict a block, and its array serves the next.
        try (Layer layer = open("l/", "blockSize=4096", "memoryCache=16384", "readahead=2");
             java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2 * objects)) {
            java.util.List<java.util.concurrent.Future<?>> readers = new java.util.ArrayList<>();
            for (int r = 0; r < 2 * objects; r++) {
                int object = r % objects;
                boolean sequential = r < objects;
                readers.add(pool.submit(() -> {
                    byte[] body = bodies[object];
                    Random random = new Random(object);
                    try (ReadableContent content = layer.openRead(EntryPath.of("f" + object))) {
                        for (int k = 0; k < 200; k++) {
                            int position = sequential ? (k * 700) % body.length : random.nextInt(body.length);
                            int length = Math.min(1 + random.nextInt(6000), body.length - position);
                            assertArrayEquals(java.util.Arrays.copyOfRange(body, position, position + length),
                                    read(content, position, length), "f" + object + " at " + position);
                        }
                    }
                    return null;
                }));
            }
            for (var reader : readers) {
                reader.get();
            }
        }
    }

    @Test
    void aReadPastTheCachesGetsJustItsBytesOfThePinnedVersion() throws Exception {
        byte[] body = randomBytes(3 * 4096, 12);
        server.put(bucket, "l/f", body, Map.of());
        S3Settings settings = S3Settings.parse(java.net.URI.create(server.uri(bucket, "l/", "blockSize=4096")),
                LayerOptions.DEFAULTS);
        String etag = server.client().headObject(r -> r.bucket(bucket).key("l/f")).eTag();
        try (var client = S3Clients.create(settings); BlockFetcher fetcher = new BlockFetcher(client, settings, null)) {
            ByteBuffer dst = ByteBuffer.allocate(100).position(10);
            fetcher.readPast(new ObjectVersion("l/f", etag, body.length, "f"), 1, 5, 90, dst);
            assertEquals(100, dst.position());
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 4096 + 5, 4096 + 95),
                    java.util.Arrays.copyOfRange(dst.array(), 10, 100));
            assertEquals(java.util.List.of("bytes=4101-4190"), getsOf("l/f"));
            server.put(bucket, "l/f", randomBytes(3 * 4096, 13), Map.of());
            IOException e = assertThrows(IOException.class, () -> fetcher.readPast(
                    new ObjectVersion("l/f", etag, body.length, "f"), 1, 5, 90, ByteBuffer.allocate(90)));
            assertEquals(Errno.ESTALE, Errno.of(e));
        }
    }

    @Test
    void anObjectReplacedWhileOpenFailsWithEstale() throws IOException {
        server.put(bucket, "l/f", randomBytes(3 * 4096, 2), Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=0", "memoryCache=0");
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            read(content, 0, 4096);
            server.put(bucket, "l/f", randomBytes(3 * 4096, 3), Map.of());
            IOException e = assertThrows(IOException.class, () -> read(content, 4096, 4096));
            assertEquals(Errno.ESTALE, Errno.of(e));
        }
    }

    @Test
    void missingBucketFailsAtOpenNamingTheLayerWithoutItsOptions() {
        String uri = server.uri("no-such-bucket", "p/", "timeout=5s");
        IOException e = assertThrows(IOException.class, () -> Layers.openLower(uri, LayerOptions.DEFAULTS));
        assertEquals(Errno.ENOENT, Errno.of(e));
        assertTrue(e.getMessage().contains("s3://no-such-bucket/p/"), e.getMessage());
        assertFalse(e.getMessage().contains("timeout=5s"), e.getMessage());
    }

    @Test
    void missingPrefixFailsAtOpen() {
        server.put(bucket, "other/x", "x");
        IOException e = assertThrows(IOException.class, () -> open("absent/"));
        assertEquals(Errno.ENOENT, Errno.of(e));
        assertTrue(e.getMessage().contains("no objects under s3://" + bucket + "/absent/"), e.getMessage());
    }

    @Test
    void wrongCredentialsFailAtOpenWithEaccesAndNeverShowTheSecret() {
        server.put(bucket, "l/x", "x");
        String secret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.secretAccessKey", "wrong-secret-value");
        try {
            IOException e = assertThrows(IOException.class, () -> open("l/"));
            assertEquals(Errno.EACCES, Errno.of(e));
            assertFalse(e.getMessage().contains("wrong-secret-value"), e.getMessage());
        } finally {
            System.setProperty("aws.secretAccessKey", secret);
        }
    }

    @Test
    void unreachableEndpointFailsAtOpenWithEioQuickly() {
        String uri = "s3://" + bucket + "/l/?endpoint=http%3A%2F%2F127.0.0.1%3A1&pathStyle=true&timeout=3s";
        IOException e = assertThrows(IOException.class, () -> Layers.openLower(uri, LayerOptions.DEFAULTS));
        assertEquals(Errno.EIO, Errno.of(e));
        assertTrue(e.getMessage().contains("s3://" + bucket + "/l/"), e.getMessage());
    }

    @Test
    void unknownOptionsAreRefused() {
        IOException e = assertThrows(IOException.class, () -> open("l/", "colour=blue"));
        assertEquals(Errno.EINVAL, Errno.of(e));
        assertTrue(e.getMessage().contains("colour"), e.getMessage());
        IOException streams = assertThrows(IOException.class, () -> open("l/", "streams=0"));
        assertEquals(Errno.EINVAL, Errno.of(streams));
        assertTrue(streams.getMessage().endsWith("option streams must be between 1 and 16, not 0"), streams.getMessage());
    }

    @Test
    void listingsAreCachedForTheirTtl() throws IOException {
        server.put(bucket, "l/a", "a");
        try (Layer cached = open("l/", "listTtl=10m"); Layer fresh = open("l/", "listTtl=0")) {
            assertEquals(Map.of("a", EntryType.REGULAR_FILE), names(cached, ""));
            assertEquals(Map.of("a", EntryType.REGULAR_FILE), names(fresh, ""));
            server.put(bucket, "l/b", "b");
            assertEquals(Map.of("a", EntryType.REGULAR_FILE), names(cached, ""));
            assertEquals(Map.of("a", EntryType.REGULAR_FILE, "b", EntryType.REGULAR_FILE), names(fresh, ""));
        }
    }

    @Test
    void aListingTakenAgainTellsTheListenersWhichEntriesChanged() throws IOException {
        server.put(bucket, "l/same", "same");
        server.put(bucket, "l/d/rewritten", "first");
        try (Layer layer = open("l/", "listTtl=0")) {
            java.util.List<EntryPath> changed = new java.util.concurrent.CopyOnWriteArrayList<>();
            layer.addChangeListener(changed::add);
            assertEquals(5, layer.stat(EntryPath.of("d/rewritten")).orElseThrow().size());
            assertTrue(changed.isEmpty(), "first listings report nothing: " + changed);

            server.put(bucket, "l/d/rewritten", "second version");
            server.put(bucket, "l/d/new", "new");
            assertEquals(14, layer.stat(EntryPath.of("d/rewritten")).orElseThrow().size());
            assertEquals(java.util.Set.of(EntryPath.of("d/rewritten"), EntryPath.of("d/new"), EntryPath.of("d")),
                    java.util.Set.copyOf(changed));
            changed.clear();
            layer.stat(EntryPath.of("same"));
            layer.stat(EntryPath.of("d/rewritten"));
            assertTrue(changed.isEmpty(), "unchanged listings report nothing: " + changed);
        }
    }

    @Test
    void withRefreshTheLayerNoticesAChangedObjectWithoutBeingAsked() throws Exception {
        server.put(bucket, "l/d/f", "one");
        try (Layer layer = open("l/", "refresh=100ms", "listTtl=10m")) {
            java.util.Set<EntryPath> changed = java.util.concurrent.ConcurrentHashMap.newKeySet();
            layer.addChangeListener(changed::add);
            assertEquals(3, layer.stat(EntryPath.of("d/f")).orElseThrow().size());
            server.put(bucket, "l/d/f", "two!");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            while (changed.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(java.util.Set.of(EntryPath.of("d/f")), changed);
            assertEquals(4, layer.stat(EntryPath.of("d/f")).orElseThrow().size(), "the new listing is the cached one");
        }
    }

    @Test
    void theDiskCacheServesBlocksWhenTheServerIsGone(@TempDir Path cacheDir) throws Exception {
        byte[] body = randomBytes(5 * 4096, 4);
        server.put(bucket, "l/f", body, Map.of());
        String[] options = {"blockSize=4096", "memoryCache=0", "timeout=2s", "cacheDir=" + cacheDir};
        try (Layer warm = open("l/", options); ReadableContent content = warm.openRead(EntryPath.of("f"))) {
            assertArrayEquals(body, read(content, 0, body.length));
        }
        try (Layer layer = open("l/", options); ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            server.stop();
            try {
                assertArrayEquals(body, read(content, 0, body.length));
                // In small reads, as FUSE reads: each block's file is opened once and read on.
                for (int position = 0; position < body.length; position += 1000) {
                    int length = Math.min(1000, body.length - position);
                    assertArrayEquals(java.util.Arrays.copyOfRange(body, position, position + length),
                            read(content, position, length), "at " + position);
                }
            } finally {
                server.restart();
            }
        }
    }

    @Test
    void aReadFailsWithEioWithinTheBoundWhileTheServerIsDownAndRecoversAfter() throws Exception {
        byte[] body = randomBytes(4 * 4096, 5);
        server.put(bucket, "l/f", body, Map.of());
        try (Layer layer = open("l/", "blockSize=4096", "readahead=0", "memoryCache=0", "timeout=3s");
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertArrayEquals(java.util.Arrays.copyOf(body, 4096), read(content, 0, 4096));
            server.stop();
            long started = System.nanoTime();
            try {
                IOException e = assertThrows(IOException.class, () -> read(content, 4096, 4096));
                assertEquals(Errno.EIO, Errno.of(e));
                long tookMillis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(tookMillis < 8000, "EIO after " + tookMillis + " ms");
            } finally {
                server.restart();
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 4096, 8192), read(content, 4096, 4096));
        }
    }

    @Test
    void aServerThatHangsMidReadGivesEioWithinTheBoundAndTheReadRecoversWhenItAnswersAgain() throws Exception {
        byte[] body = randomBytes(4 * 4096, 6);
        server.put(bucket, "l/f", body, Map.of());
        try (FreezableProxy proxy = new FreezableProxy(server.endpoint().getPort());
             Layer layer = Layers.openLower("s3://" + bucket + "/l/?endpoint=http%3A%2F%2F127.0.0.1%3A" + proxy.port()
                     + "&blockSize=4096&readahead=0&memoryCache=0&timeout=3s&attempts=3", LayerOptions.DEFAULTS);
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertArrayEquals(java.util.Arrays.copyOf(body, 4096), read(content, 0, 4096));
            proxy.freeze(true);
            long started = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> read(content, 4096, 4096));
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            proxy.freeze(false);
            assertEquals(Errno.EIO, Errno.of(e));
            assertTrue(tookMillis < 8000, "EIO after " + tookMillis + " ms");
            assertArrayEquals(java.util.Arrays.copyOfRange(body, 4096, 8192), read(content, 4096, 4096));
        }
    }

    @Test
    void aReadaheadStreamCutOffByAHangingServerGivesEioWithinTheBoundAndReadingRecovers() throws Exception {
        // Larger than what the sockets between here and the server buffer, so the stream must stall.
        int blockSize = 1 << 20;
        byte[] body = randomBytes(64 * blockSize, 9);
        server.put(bucket, "l/f", body, Map.of());
        try (FreezableProxy proxy = new FreezableProxy(server.endpoint().getPort());
             Layer layer = Layers.openLower("s3://" + bucket + "/l/?endpoint=http%3A%2F%2F127.0.0.1%3A" + proxy.port()
                     + "&blockSize=1M&readahead=2&timeout=3s&attempts=3", LayerOptions.DEFAULTS);
             ReadableContent content = layer.openRead(EntryPath.of("f"))) {
            assertArrayEquals(java.util.Arrays.copyOf(body, blockSize), read(content, 0, blockSize));
            proxy.freeze(true);
            long started = System.nanoTime();
            int[] readBlocks = {1};
            IOException e = assertThrows(IOException.class, () -> {
                for (; readBlocks[0] < 64; readBlocks[0]++) {
                    read(content, (long) readBlocks[0] * blockSize, blockSize);
                }
            });
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            proxy.freeze(false);
            assertEquals(Errno.EIO, Errno.of(e));
            assertTrue(tookMillis < 8000, "EIO after " + tookMillis + " ms");
            assertTrue(readBlocks[0] < 40, "the stream stalled only at block " + readBlocks[0]);
            assertArrayEquals(body, read(content, 0, body.length));
        }
    }

    @Test
    void readsOfAFileStillOpenWhenItsLayerClosesFailWithEbadf() throws IOException {
        server.put(bucket, "l/f", "content");
        Layer layer = open("l/");
        ReadableContent content = layer.openRead(EntryPath.of("f"));
        layer.close();
        assertEquals(Errno.EBADF, Errno.of(assertThrows(IOException.class, () -> read(content, 0, 7))));
        assertEquals(Errno.EBADF, Errno.of(assertThrows(IOException.class, () -> layer.stat(EntryPath.of("f")))));
    }

    @Test
    void theLayerNamesItselfWithoutOptionsOrCredentials() throws IOException {
        server.put(bucket, "l/f", "x");
        try (Layer layer = open("l/", "listTtl=1m")) {
            assertEquals("s3://" + bucket + "/l/?...", layer.description());
            assertFalse(layer.toString().contains("endpoint"), layer.toString());
            assertFalse(layer.toString().contains(S3Server.SECRET_KEY), layer.toString());
            IOException e = assertThrows(IOException.class, () -> layer.list(EntryPath.of("f")));
            assertEquals("s3://" + bucket + "/l/f", ((java.nio.file.FileSystemException) e).getFile());
        }
    }
}
