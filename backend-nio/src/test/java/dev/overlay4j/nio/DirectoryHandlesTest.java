package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The directory descriptors the layers of one process keep open are bounded together: a JVM
 * that serves fifty mounts of three layers each must stay far below its descriptor limit.
 */
class DirectoryHandlesTest {

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static int openRoot(Arena arena) {
        int fd = LinuxCalls.openat2(arena, LinuxCalls.AT_FDCWD, "/", LinuxCalls.O_PATH | LinuxCalls.O_CLOEXEC, 0, 0);
        assertTrue(fd >= 0, "openat2: " + fd);
        return fd;
    }

    @Test
    void manyCachesTogetherKeepAtMostTheirShareOfTheProcessCapacity() throws IOException {
        int caches = 150; // fifty mounts, two lowers and an upper each
        int perCache = DirectoryHandles.CAPACITY + 44;
        long before = openDescriptors();
        List<DirectoryHandles> all = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            for (int c = 0; c < caches; c++) {
                all.add(new DirectoryHandles());
            }
            for (DirectoryHandles handles : all) {
                for (int i = 0; i < perCache; i++) {
                    handles.add(EntryPath.ROOT.resolve("d" + i), openRoot(arena), handles.generation()).release();
                }
            }
            long cached = openDescriptors() - before;
            int share = DirectoryHandles.capacity(); // with these caches open (and any a test before left open)
            assertTrue(share <= Math.max(DirectoryHandles.MIN_CAPACITY, DirectoryHandles.PROCESS_CAPACITY / caches), "share " + share);
            assertEquals((long) caches * share, cached);
            assertTrue(cached <= Math.max(DirectoryHandles.PROCESS_CAPACITY, caches * DirectoryHandles.MIN_CAPACITY), "cached " + cached);
        } finally {
            all.forEach(DirectoryHandles::close);
        }
        assertEquals(before, openDescriptors(), "closing a cache closes what it kept");
    }

    @Test
    void aCacheAloneKeepsItsOwnCapacity() throws IOException {
        long before = openDescriptors();
        DirectoryHandles handles = new DirectoryHandles();
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < DirectoryHandles.CAPACITY + 10; i++) {
                handles.add(EntryPath.ROOT.resolve("d" + i), openRoot(arena), handles.generation()).release();
            }
            assertEquals(DirectoryHandles.capacity(), openDescriptors() - before);
            assertTrue(DirectoryHandles.capacity() > DirectoryHandles.MIN_CAPACITY);
        } finally {
            handles.close();
        }
        assertEquals(before, openDescriptors());
    }
}
