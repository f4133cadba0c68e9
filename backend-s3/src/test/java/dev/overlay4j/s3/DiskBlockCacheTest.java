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
        new DiskBlockCache(dir, 1 << 20).put("v1", 3, block(7, 1000));
        DiskBlockCache reopened = new DiskBlockCache(dir, 1 << 20);
        assertArrayEquals(block(7, 1000), reopened.get("v1", 3, 1000));
        assertNull(reopened.get("v2", 3, 1000), "another object version never reads these bytes");
        assertNull(reopened.get("v1", 4, 1000));
    }

    @Test
    void aBlockOfTheWrongLengthIsAMiss() throws IOException {
        DiskBlockCache cache = new DiskBlockCache(dir, 1 << 20);
        cache.put("v", 0, block(1, 500));
        assertNull(cache.get("v", 0, 1000));
        assertNull(cache.get("v", 0, 500), "the damaged block was dropped");
    }

    @Test
    void theLeastRecentlyUsedBlocksGoWhenTheBoundIsPassed() throws Exception {
        DiskBlockCache cache = new DiskBlockCache(dir, 10_000);
        for (int i = 0; i < 5; i++) {
            cache.put("v", i, block(i, 2000));
            Thread.sleep(20); // distinct mtimes: recency is the file's mtime
        }
        assertArrayEquals(block(0, 2000), cache.get("v", 0, 2000)); // block 0 is now the most recent
        Thread.sleep(20);
        cache.put("v", 5, block(5, 2000));
        assertTrue(cachedBytes() <= 10_000, "cache holds " + cachedBytes());
        assertArrayEquals(block(0, 2000), cache.get("v", 0, 2000));
        assertNull(cache.get("v", 1, 2000), "the least recently used block was evicted");
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
                    cache.put("shared", 0, expected);
                    byte[] read = cache.get("shared", 0, expected.length);
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
