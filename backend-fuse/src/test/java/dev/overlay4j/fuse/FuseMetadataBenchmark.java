package dev.overlay4j.fuse;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Not a test: times metadata-heavy shell workloads on this FUSE mount and on the kernel's
 * overlayfs over the same layers, best of a few warm runs each.
 *
 * <p>Usage (as root): {@code FuseMetadataBenchmark DATA [ROUNDS]} where DATA holds the lower
 * layers {@code l0} (top) and {@code l1}, and {@code small.tar} for the untar workload. Scratch
 * upper, work and mount directories are made under DATA and removed afterwards.
 */
public final class FuseMetadataBenchmark {

    private static final Map<String, String> WORKLOADS = new LinkedHashMap<>();

    static {
        WORKLOADS.put("find", "find . | wc -l > /dev/null");
        WORKLOADS.put("stat", "xargs -0 stat --format=%i < \"$LIST\" > /dev/null");
        WORKLOADS.put("cat", "xargs -0 cat < \"$LIST\" > /dev/null");
        WORKLOADS.put("ls-lR", "ls -lR . > /dev/null");
        WORKLOADS.put("untar", "d=untar-$RANDOM$RANDOM; mkdir $d && tar -xf \"$DATA/small.tar\" -C $d");
    }

    private FuseMetadataBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]).toAbsolutePath();
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String only = System.getProperty("bench.only", "overlay4j,kernel");
        Map<String, Map<String, Long>> results = new LinkedHashMap<>();
        if (only.contains("overlay4j")) {
            results.put("overlay4j", runOverlay4j(data, rounds));
        }
        if (only.contains("kernel")) {
            results.put("kernel", runKernel(data, rounds));
        }
        StringBuilder table = new StringBuilder(String.format("%-8s", "workload"));
        results.keySet().forEach(c -> table.append(String.format("%12s", c)));
        table.append('\n');
        for (String workload : WORKLOADS.keySet()) {
            table.append(String.format("%-8s", workload));
            for (var contender : results.values()) {
                table.append(String.format("%10d ms", contender.get(workload)));
            }
            table.append('\n');
        }
        System.out.print(table);
    }

    private static Map<String, Long> runOverlay4j(Path data, int rounds) throws Exception {
        Path scratch = scratch(data, "o4j");
        OverlayConfig config = OverlayConfig.builder()
                .lower(data.resolve("l0").toString()).lower(data.resolve("l1").toString())
                .upper(scratch.resolve("upper").toString(), scratch.resolve("work").toString()).build();
        try (Overlay overlay = Overlay.open(config);
             FuseMount mount = FuseMount.mount(overlay, scratch.resolve("mnt"), FuseOptions.defaults())) {
            System.err.println("overlay4j mounted, passthrough=" + mount.passthrough());
            long hold = Long.getLong("bench.holdSeconds", 0);
            if (hold > 0) { // to try commands on the mount by hand
                System.err.println("holding " + mount.mountpoint() + " for " + hold + " s");
                Thread.sleep(hold * 1000);
            }
            return runAll(data, mount.mountpoint(), rounds);
        } finally {
            delete(scratch);
        }
    }

    private static Map<String, Long> runKernel(Path data, int rounds) throws Exception {
        Path scratch = scratch(data, "kernel");
        Path mnt = scratch.resolve("mnt");
        shell(data, "mount -t overlay overlay -o lowerdir=" + data.resolve("l0") + ":" + data.resolve("l1")
                + ",upperdir=" + scratch.resolve("upper") + ",workdir=" + scratch.resolve("work") + " " + mnt);
        try {
            return runAll(data, mnt, rounds);
        } finally {
            shell(data, "umount " + mnt);
            delete(scratch);
        }
    }

    private static Path scratch(Path data, String name) throws IOException {
        Path scratch = data.resolve("scratch-" + name);
        delete(scratch);
        for (String dir : List.of("upper", "work", "mnt")) {
            Files.createDirectories(scratch.resolve(dir));
        }
        return scratch;
    }

    private static Map<String, Long> runAll(Path data, Path mnt, int rounds) throws Exception {
        Path list = data.resolve("list-" + mnt.getParent().getFileName());
        shell(mnt, "find . -type f -path './d*' -print0 > " + list);
        Map<String, Long> best = new LinkedHashMap<>();
        for (var workload : WORKLOADS.entrySet()) {
            String command = "export LIST=" + list + " DATA=" + data + "; " + workload.getValue();
            shell(mnt, command); // warm-up
            long min = Long.MAX_VALUE;
            for (int i = 0; i < rounds; i++) {
                long start = System.nanoTime();
                shell(mnt, command);
                min = Math.min(min, System.nanoTime() - start);
            }
            best.put(workload.getKey(), TimeUnit.NANOSECONDS.toMillis(min));
            System.err.println(mnt + " " + workload.getKey() + " " + TimeUnit.NANOSECONDS.toMillis(min) + " ms");
        }
        Files.deleteIfExists(list);
        return best;
    }

    private static void shell(Path directory, String command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", "-c", command).directory(directory.toFile()).inheritIO().start();
        if (process.waitFor() != 0) {
            throw new IOException("failed: " + command);
        }
    }

    private static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(all::add);
        }
        for (Path path : all.reversed()) {
            Files.delete(path);
        }
    }
}
