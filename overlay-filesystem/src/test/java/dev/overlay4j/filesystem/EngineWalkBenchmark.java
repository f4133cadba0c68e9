package dev.overlay4j.filesystem;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A repeatable measurement, not a test: walks and stats, then reads, 20,000 files of 1 KiB in
 * 200 directories, once on a plain directory tree and once through an overlay of two lower
 * layers (every directory merged, half of each directory's files in each layer) with an empty
 * upper layer: through the {@code overlay:} file system and through the {@link Overlay} API.
 * Prints the best of five warm runs of each.
 *
 * <p>Run after {@code mvn test-compile} of overlay-filesystem:
 * {@code java --enable-native-access=ALL-UNNAMED -cp <test class path> dev.overlay4j.filesystem.EngineWalkBenchmark [base dir]};
 * without a base directory the tree is built in a temporary directory and removed afterwards,
 * with one it is built there once and kept. {@code -Donly=walk} or {@code -Donly=read} runs one part,
 * {@code -Drounds=N} takes the best of N runs instead of 5 (for a busy machine).
 */
public final class EngineWalkBenchmark {

    private static final int DIRECTORIES = 200;
    private static final int FILES_PER_DIRECTORY = 100;
    private static final int ROUNDS = Integer.getInteger("rounds", 5);

    private EngineWalkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path base = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("overlay4j-bench");
        try {
            Path plain = base.resolve("plain");
            Path lower1 = base.resolve("lower1");
            Path lower2 = base.resolve("lower2");
            if (!Files.isDirectory(plain)) {
                build(plain, lower1, lower2); // a given base directory keeps its tree for the next run
            }
            // Each overlay has its own (empty) upper layer: a workdir serves one overlay at a time.
            Path[] upper = new Path[2];
            Path[] work = new Path[2];
            for (int i = 0; i < 2; i++) {
                upper[i] = Files.createDirectories(base.resolve("upper" + i));
                work[i] = Files.createDirectories(base.resolve("work" + i));
            }
            OverlayConfig config = OverlayConfig.builder().lower(lower1.toString()).lower(lower2.toString())
                    .upper(upper[0].toString(), work[0].toString()).build();
            try (FileSystem fs = FileSystems.newFileSystem(URI.create("overlay:/"), Map.of(
                    "lowerdir", lower1 + ":" + lower2, "upperdir", upper[1].toString(), "workdir", work[1].toString()));
                 Overlay overlay = Overlay.open(config)) {
                String only = System.getProperty("only", "");
                if (!only.equals("read")) {
                    report("walk+stat", "plain", () -> walk(plain), "overlay:", () -> walk(fs.getPath("/")),
                            "Overlay API", () -> walk(overlay, EntryPath.ROOT));
                }
                if (!only.equals("walk")) {
                    report("read all", "plain", () -> read(plain), "overlay:", () -> read(fs.getPath("/")),
                            "Overlay API", () -> read(overlay, EntryPath.ROOT));
                }
            }
        } finally {
            if (args.length == 0) {
                delete(base);
            }
        }
    }

    private static void build(Path plain, Path lower1, Path lower2) throws IOException {
        byte[] content = new byte[1024];
        for (int d = 0; d < DIRECTORIES; d++) {
            String dir = String.format("d%03d", d);
            for (Path root : new Path[] {plain, lower1, lower2}) {
                Files.createDirectories(root.resolve(dir));
            }
            for (int f = 0; f < FILES_PER_DIRECTORY; f++) {
                String name = dir + "/f" + f;
                Files.write(plain.resolve(name), content);
                Files.write((f % 2 == 0 ? lower1 : lower2).resolve(name), content);
            }
        }
    }

    @FunctionalInterface
    private interface Run {
        long run() throws IOException;
    }

    private static void report(String what, String name1, Run run1, String name2, Run run2, String name3, Run run3)
            throws IOException {
        long best1 = best(run1);
        long best2 = best(run2);
        long best3 = best(run3);
        System.out.printf("%-10s %-12s %7.1f ms%n", what, name1, best1 / 1e6);
        System.out.printf("%-10s %-12s %7.1f ms  (%.2fx)%n", what, name2, best2 / 1e6, (double) best2 / best1);
        System.out.printf("%-10s %-12s %7.1f ms  (%.2fx)%n", what, name3, best3 / 1e6, (double) best3 / best1);
    }

    private static long best(Run run) throws IOException {
        long expected = run.run(); // warm-up
        run.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < ROUNDS; i++) {
            long start = System.nanoTime();
            long count = run.run();
            best = Math.min(best, System.nanoTime() - start);
            if (count != expected) {
                throw new IllegalStateException("run saw " + count + " entries, first run " + expected);
            }
        }
        return best;
    }

    private static long walk(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.mapToLong(p -> {
                try {
                    return Files.readAttributes(p, PosixFileAttributes.class).size() >= 0 ? 1 : 0;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static long walk(Overlay overlay, EntryPath directory) throws IOException {
        long count = 1;
        for (DirectoryEntry entry : overlay.listDirectory(directory)) {
            EntryPath child = directory.resolve(entry.name());
            if (overlay.stat(child).isDirectory()) {
                count += walk(overlay, child);
            } else {
                count++;
            }
        }
        return count;
    }

    private static long read(Path root) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(Files::isRegularFile).mapToLong(p -> {
                try (var channel = Files.newByteChannel(p, StandardOpenOption.READ)) {
                    long total = 0;
                    buffer.clear();
                    for (int n; (n = channel.read(buffer)) > 0; buffer.clear()) {
                        total += n;
                    }
                    return total;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static long read(Overlay overlay, EntryPath directory) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        long total = 0;
        for (DirectoryEntry entry : overlay.listDirectory(directory)) {
            EntryPath child = directory.resolve(entry.name());
            if (entry.type() == dev.overlay4j.api.EntryType.DIRECTORY) {
                total += read(overlay, child);
            } else {
                try (OverlayFile file = overlay.open(child, Set.of(StandardOpenOption.READ), null)) {
                    long position = 0;
                    buffer.clear();
                    for (int n; (n = file.read(buffer, position)) > 0; buffer.clear()) {
                        position += n;
                    }
                    total += position;
                }
            }
        }
        return total;
    }

    private static void delete(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
