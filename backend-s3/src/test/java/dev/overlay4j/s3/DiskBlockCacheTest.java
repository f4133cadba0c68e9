package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskBlockCacheTest {

    @TempDir
    Path dir;

    /** The cached block's bytes, or null: the reads a layer makes, into an array of the block's size. */
    private static byte[] get(DiskBlockCache cache, String version, long index, int length) {
        byte[] bytes = new byte[length];
        return cache.read(version, index, length, bytes) ? bytes : null;
    }

    private static void put(DiskBlockCache cache, String version, long index, byte[] bytes) {
        cache.put(version, index, bytes, bytes.length);
    }

    private static byte[] block(int value, int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private long cachedBytes() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".blk")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void blocksSurviveANewCacheOnTheSameDirectory() throws IOException {
        put(new DiskBlockCache(dir, 1 << 20), "v1", 3, block(7, 1000));
        DiskBlockCache reopened = new DiskBlockCache(dir, 1 << 20);
        assertArrayEquals(block(7, 1000), get(reopened, "v1", 3, 1000));
        assertNull(get(reopened, "v2", 3, 1000), "another object version never reads these bytes");
        assertNull(get(reopened, "v1", 4, 1000));
    }

    @Test
    void aBlockOfTheWrongLengthIsAMiss() throws IOException {
        DiskBlockCache cache = new DiskBlockCache(dir, 1 << 20);
        put(cache, "v", 0, block(1, 500));
        assertNull(get(cache, "v", 0, 1000));
        assertNull(get(cache, "v", 0, 500), "the damaged block was dropped");
    }

    @Test
    void theLeastRecentlyUsedBlocksGoWhenTheBoundIsPassed() throws Exception {
        DiskBlockCache cache = new DiskBlockCache(dir, 10_000);
        for (int i = 0; i < 5; i++) {
            put(cache, "v", i, block(i, 2000));
            Thread.sleep(20); // distinct mtimes: recency is the file's mtime
        }
        assertArrayEquals(block(0, 2000), get(cache, "v", 0, 2000)); // block 0 is now the most recent
        Thread.sleep(20);
        put(cache, "v", 5, block(5, 2000));
        assertTrue(cachedBytes() <= 10_000, "cache holds " + cachedBytes());
        assertArrayEquals(block(0, 2000), get(cache, "v", 0, 2000));
        assertNull(get(cache, "v", 1, 2000), "the least recently used block was evicted");
    }

    @Test
    void concurrentWritersOfOneBlockNeverLeaveAPartialBlock() throws Exception {
        DiskBlockCache a = new DiskBlockCache(dir, 1 << 30);
        DiskBlockCache b = new DiskBlockCache(dir, 1 << 30);
        byte[] expected = block(9, 256 * 1024);
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            Future<?>[] futures = new Future<?>[40];
            for (int i = 0; i < futures.length; i++) {
                DiskBlockCache cache = i % 2 == 0 ? a : b;
                futures[i] = pool.submit(() -> {
                    put(cache, "shared", 0, expected);
                    byte[] read = get(cache, "shared", 0, expected.length);
                    if (read != null && !Arrays.equals(expected, read)) {
                        throw new AssertionError("a reader saw a partial block");
                    }
                    return null;
                });
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".part")), "no temporary file is left");
        }
    }
}
