package dev.overlay4j.it.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Walk+stat and read of bin/bench's data set through the in-process {@code overlay:} file
 * system (the lower layers, no upper) against the default file system on {@code native/},
 * a plain directory holding the same merged tree.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class OverlayTreeBenchmark {

    /** The data set directory of bin/bench: layers/l0.., native/, files.list, expect. */
    @Param("")
    public String dataset;

    @Param("2")
    public int layers;

    @Param({"plain", "overlay"})
    public String view;

    private FileSystem overlay;
    private Path root;
    private List<String> smallFiles;

    @Setup
    public void open() throws IOException {
        if (dataset.isEmpty()) {
            throw new IllegalStateException("no data set: run this through bin/bench --jmh (it passes -p dataset=DIR)");
        }
        Path data = Path.of(dataset);
        if (view.equals("overlay")) {
            String lowerdir = IntStream.range(0, layers)
                    .mapToObj(i -> data.resolve("layers/l" + i).toString())
                    .collect(Collectors.joining(":"));
            overlay = FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("lowerdir", lowerdir));
            root = overlay.getPath("/");
        } else {
            root = data.resolve("native");
        }
        String names = Files.readString(data.resolve("files.list"), StandardCharsets.UTF_8);
        smallFiles = Arrays.stream(names.split("\0")).filter(n -> !n.isEmpty()).toList();
        // A view that misses or invents files would make its timing meaningless.
        long expected = smallFiles.size() + 1L; // the small files and big.bin
        long seen = walkStat() >>> 40;
        if (seen != expected) {
            throw new IllegalStateException(view + " view of " + dataset + " has " + seen + " files, expected " + expected);
        }
    }

    @TearDown
    public void close() throws IOException {
        if (overlay != null) {
            overlay.close();
        }
    }

    /** Every entry's attributes, as {@code find -printf %s} would; returns files << 40 | low bits of the size sum. */
    @Benchmark
    public long walkStat() throws IOException {
        long[] filesAndBytes = new long[2];
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                filesAndBytes[0]++;
                filesAndBytes[1] += attrs.size();
                return FileVisitResult.CONTINUE;
            }
        });
        return filesAndBytes[0] << 40 | (filesAndBytes[1] & ((1L << 40) - 1));
    }

    /** Every small file's content. */
    @Benchmark
    public long readSmallFiles() throws IOException {
        long bytes = 0;
        for (String name : smallFiles) {
            bytes += Files.readAllBytes(root.resolve(name)).length;
        }
        return bytes;
    }
}
