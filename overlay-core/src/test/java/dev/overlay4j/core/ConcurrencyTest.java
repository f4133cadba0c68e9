package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyTest {

    private static final int THREADS = 8;
    private static final int SLICE = 100;

    @TempDir
    Path tmp;

    @Test
    void concurrentCopyUpsOfOneFileAndOfManyFilesLoseNoWrite() throws Exception {
        LayerTree t = new LayerTree(tmp, 2).file(2, "a/b/shared", ".".repeat(THREADS * SLICE));
        for (int i = 0; i < THREADS; i++) {
            t.file(1 + i % 2, "a/b/own" + i, "lower" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Overlay o = t.open()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                int thread = i;
                done.add(pool.submit((Callable<Void>) () -> {
                    start.await();
                    String slice = String.valueOf((char) ('a' + thread)).repeat(SLICE);
                    try (OverlayFile f = o.open(p("a/b/shared"), Set.of(StandardOpenOption.WRITE), null)) {
                        f.write(ByteBuffer.wrap(slice.getBytes(StandardCharsets.US_ASCII)), (long) thread * SLICE);
                    }
                    try (OverlayFile f = o.open(p("a/b/own" + thread), Set.of(StandardOpenOption.WRITE,
                            StandardOpenOption.APPEND), null)) {
                        f.write(ByteBuffer.wrap("+mine".getBytes(StandardCharsets.US_ASCII)), 0);
                    }
                    LayerTree.write(o, "a/new" + thread, "new" + thread);
                    assertEquals(THREADS, o.listDirectory(p("a/b")).size() - 1);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < THREADS; i++) {
                expected.append(String.valueOf((char) ('a' + i)).repeat(SLICE));
                assertEquals("lower" + i + "+mine", read(o, "a/b/own" + i));
                assertEquals("new" + i, read(o, "a/new" + i));
            }
            assertEquals(expected.toString(), read(o, "a/b/shared"));
            assertEquals(expected.toString(), Files.readString(t.upper().resolve("a/b/shared")));
            try (var s = Files.list(t.work().resolve("work"))) {
                assertEquals(0, s.count(), "no staged entry is left behind");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
