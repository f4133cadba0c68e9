package dev.overlay4j.s3;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Throughput of the S3 layer against the raw SDK, on an in-process s3proxy (filesystem store)
 * over loopback: each figure the median of five runs, with the slowest and fastest run's in
 * brackets. Not a test: run it by hand with
 * <pre>
 * ./mvnw -q -B -pl backend-s3 test-compile dependency:build-classpath -Dmdep.outputFile=target/test.cp -Dmdep.includeScope=test
 * java -cp backend-s3/target/classes:backend-s3/target/test-classes:$(cat backend-s3/target/test.cp) dev.overlay4j.s3.S3LayerBenchmark [MiB]
 * </pre>
 */
public final class S3LayerBenchmark {

    private static final String BUCKET = "bench";
    private static final int KEYS = 10_000;
    private static final long RATE_LIMIT = 100L << 20;

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        Path dir = Files.createTempDirectory("s3bench");
        try (S3Server server = S3Server.onDisk(dir.resolve("store"))) {
            server.createBucket(BUCKET);
            Path local = dir.resolve("big.bin");
            writeRandom(local, (long) mib << 20);
            server.client().putObject(r -> r.bucket(BUCKET).key("big/big.bin"), RequestBody.fromFile(local));
            putMany(server);

            long size = (long) mib << 20;
            // Warm-up, not reported: the first requests of a JVM pay for class loading and JIT.
            for (int i = 0; i < 3; i++) {
                rawGet(server);
                layerRead(server, "blockSize=4M", 1 << 20);
            }
            report("raw SDK GET (one stream)", size, () -> time(() -> rawGet(server)));
            for (int blockMib : new int[] {4, 16}) {
                for (int parallel : new int[] {1, 4}) {
                    report("raw SDK ranged GETs of " + blockMib + " MiB, " + parallel + " at a time", size,
                            () -> time(() -> rawRanged(server, size, parallel, blockMib << 20)));
                }
            }
            for (String options : new String[] {"blockSize=4M", "blockSize=1M", "blockSize=16M&readahead=4"}) {
                report("layer cold sequential, " + options, size, () -> layerRead(server, options, 1 << 20));
            }
            report("layer cold sequential, 128 KiB reads (FUSE-sized)", size,
                    () -> layerRead(server, "blockSize=4M", 128 << 10));
            Path cache = dir.resolve("cache");
            String cached = "blockSize=4M&cacheDir=" + cache + "&cacheSize=2G";
            report("layer cold sequential, writing the disk cache", size, () -> {
                deleteTree(cache);
                return layerRead(server, cached, 1 << 20);
            });
            report("layer warm re-read from the disk cache (new layer)", size, () -> layerRead(server, cached, 1 << 20));
            report("layer warm re-read from the disk cache, 128 KiB reads", size,
                    () -> layerRead(server, cached, 128 << 10));
            report("local file in the page cache, for comparison", size, () -> time(() -> readLocal(local, 1 << 20)));
            Files.delete(local);
            try (Layer layer = open(server, "blockSize=4M&memoryCache=1G")) {
                readAll(layer, 1 << 20);
                report("layer warm re-read from memory (same layer)", size, () -> time(() -> readAll(layer, 1 << 20)));
            }

            // A store whose connections are slower than the network, as a remote one's are.
            try (FreezableProxy slow = new FreezableProxy(server.endpoint().getPort());
                 var slowClient = S3Server.client(URI.create("http://127.0.0.1:" + slow.port()))) {
                slow.limit(RATE_LIMIT);
                long part = Math.min(size, 64L << 20);
                report("raw SDK GET of 64 MiB, connections held to 100 MiB/s", part, () -> time(() -> {
                    try (InputStream in = slowClient.getObject(r -> r.bucket(BUCKET).key("big/big.bin")
                            .range("bytes=0-" + (part - 1)))) {
                        in.transferTo(OutputStream.nullOutputStream());
                    }
                }));
                for (String options : new String[] {"streams=1", "streams=4", "streams=8&readahead=32&memoryCache=256M"}) {
                    String uri = "s3://" + BUCKET + "/?endpoint=http%3A%2F%2F127.0.0.1%3A" + slow.port()
                            + "&pathStyle=true&" + options;
                    report("layer cold, 64 MiB, same connections, " + options, part, () -> layerRead(uri, 1 << 20, part));
                }
            }
            System.out.printf("%-58s %8.0f ms%n", "opening a layer and a stat (not in the figures above)",
                    time(() -> {
                        try (Layer layer = open(server, "")) {
                            layer.stat(EntryPath.of("big/big.bin")).orElseThrow();
                        }
                    }) / 1e6);
            System.out.printf("%-58s %8.0f ms%n", "raw ListObjectsV2 of " + KEYS + " keys (delimiter '/')",
                    time(() -> rawList(server)) / 1e6);
            System.out.printf("%-58s %8.0f ms%n", "layer list, metadata=false (no HEADs)",
                    time(() -> layerList(server, "metadata=false")) / 1e6);
            System.out.printf("%-58s %8.0f ms%n", "layer list, s3fs metadata (HEAD per small object)",
                    time(() -> layerList(server, "")) / 1e6);
            try (Layer layer = open(server, "")) {
                list(layer);
                System.out.printf("%-58s %8.0f ms%n", "layer list again within the listing TTL",
                        time(() -> list(layer)) / 1e6);
            }
        } finally {
            deleteTree(dir);
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    /** Work that measures itself, leaving out what it must set up first. */
    private interface TimedWork {
        long nanos() throws Exception;
    }

    private static long time(Work work) throws Exception {
        long start = System.nanoTime();
        work.run();
        return System.nanoTime() - start;
    }

    private static final int RUNS = 5;

    /**
     * Runs {@code work} twice untimed, so that the JIT has compiled what this work runs, then
     * {@link #RUNS} times: the median's throughput, and the slowest and fastest run's.
     */
    private static void report(String what, long bytes, TimedWork work) throws Exception {
        work.nanos();
        work.nanos();
        long[] nanos = new long[RUNS];
        for (int i = 0; i < RUNS; i++) {
            nanos[i] = work.nanos();
        }
        java.util.Arrays.sort(nanos);
        System.out.printf("%-58s %8.0f ms %6.0f MiB/s (%.0f-%.0f)%n", what, nanos[RUNS / 2] / 1e6,
                mibPerSecond(bytes, nanos[RUNS / 2]), mibPerSecond(bytes, nanos[RUNS - 1]), mibPerSecond(bytes, nanos[0]));
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void writeRandom(Path file, long size) throws IOException {
        byte[] chunk = new byte[1 << 20];
        Random random = new Random(1);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < size; done += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk);
            }
        }
    }

    private static void putMany(S3Server server) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < KEYS; i++) {
                String key = "many/file-%05d".formatted(i);
                pool.submit(() -> server.put(BUCKET, key, "x"));
            }
        }
    }

    private static void rawGet(S3Server server) throws IOException {
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = server.client().getObject(r -> r.bucket(BUCKET).key("big/big.bin"))) {
            while (in.read(buffer) >= 0) {
                // drain
            }
        }
    }

    private static void rawRanged(S3Server server, long size, int parallel, int block) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(parallel)) {
            java.util.List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (long offset = 0; offset < size; offset += block) {
                long first = offset;
                futures.add(pool.submit(() -> {
                    // Into one array of the range's size, as the layer reads a block.
                    try (InputStream in = server.client().getObject(r -> r.bucket(BUCKET).key("big/big.bin")
                            .range("bytes=" + first + "-" + (first + block - 1)))) {
                        byte[] bytes = new byte[block];
                        int n = 0;
                        while (n < block) {
                            int r = in.read(bytes, n, block - n);
                            if (r < 0) {
                                break;
                            }
                            n += r;
                        }
                    }
                    return null;
                }));
            }
            for (var f : futures) {
                f.get();
            }
        }
    }

    private static Layer open(S3Server server, String options) throws IOException {
        return Layers.openLower(uri(server, options), LayerOptions.DEFAULTS);
    }

    private static String uri(S3Server server, String options) {
        return server.uri(BUCKET, "big/", options.isEmpty() ? new String[0] : options.split("&")).replace("/big/", "/");
    }

    /**
     * The time a new layer takes to read the object: its caches are empty, and opening it (which
     * lists the bucket's root, 10k keys deep in s3proxy's filesystem store) is not counted.
     */
    private static long layerRead(S3Server server, String options, int readSize) throws IOException {
        return layerRead(uri(server, options), readSize, Long.MAX_VALUE);
    }

    private static long layerRead(String uri, int readSize, long upTo) throws IOException {
        try (Layer layer = Layers.openLower(uri, LayerOptions.DEFAULTS)) {
            layer.stat(EntryPath.of("big/big.bin")).orElseThrow();
            long start = System.nanoTime();
            readAll(layer, readSize, upTo);
            return System.nanoTime() - start;
        }
    }

    private static void readAll(Layer layer, int readSize) throws IOException {
        readAll(layer, readSize, Long.MAX_VALUE);
    }

    private static void readAll(Layer layer, int readSize, long upTo) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(readSize);
        try (ReadableContent content = layer.openRead(EntryPath.of("big/big.bin"))) {
            long position = 0;
            int n;
            while (position < upTo && (n = content.read(buffer.clear(), position)) >= 0) {
                position += n;
            }
        }
    }

    private static void readLocal(Path file, int readSize) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(readSize);
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file)) {
            long position = 0;
            int n;
            while ((n = channel.read(buffer.clear(), position)) >= 0) {
                position += n;
            }
        }
    }

    private static void rawList(S3Server server) {
        long count = 0;
        for (var page : server.client().listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix("many/").delimiter("/"))) {
            count += page.contents().size();
        }
        if (count != KEYS) {
            throw new IllegalStateException("listed " + count);
        }
    }

    private static void layerList(S3Server server, String options) throws IOException {
        try (Layer layer = open(server, options)) {
            list(layer);
        }
    }

    private static void list(Layer layer) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.of("many"))) {
            long count = entries.count();
            if (count != KEYS) {
                throw new IllegalStateException("listed " + count);
            }
        }
    }
}
