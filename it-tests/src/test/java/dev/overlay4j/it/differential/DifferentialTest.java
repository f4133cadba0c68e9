package dev.overlay4j.it.differential;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The differential test against the kernel's overlayfs: same generated lower layers (with
 * whiteouts and opaque dirs), same seeded operations through {@code mount -t overlay} and
 * through overlay4j's {@code overlay:} FileSystem; every outcome (value or errno) and the
 * final merged trees must match, and the kernel mounting overlay4j's upper dir must show the
 * same tree.
 *
 * <p>More seeds or operations: {@code -Ddifferential.seeds=1,2,40-60 -Ddifferential.ops=2000}.
 * To investigate: {@code -Ddifferential.keepGoing=true} reports every differing op and tree of a
 * seed instead of the first, {@code -Ddifferential.trace=DIR} writes each seed's ops and outcomes.
 * Needs root (CAP_SYS_ADMIN); otherwise every test is skipped with a message starting
 * "DIFFERENTIAL SKIPPED:" which CI treats as a failure.
 */
class DifferentialTest {
    private static final String DEFAULT_SEEDS = "3,11,23,42,1009,77777";
    private static final int DEFAULT_OPS = 500;

    /** Why the kernel side cannot run here, or null when it can; probed once. */
    private static String kernelUnavailable;
    private static boolean kernelProbed;

    @TempDir
    Path dir;

    static Stream<Long> seeds() {
        return parseSeeds(System.getProperty("differential.seeds", DEFAULT_SEEDS)).stream();
    }

    static int ops() {
        return Integer.parseInt(System.getProperty("differential.ops", String.valueOf(DEFAULT_OPS)).strip());
    }

    /** The harness itself: two kernel mounts over identical copies must agree on everything. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void kernelAgreesWithItselfOnTheSameSeededSequence(long seed) throws IOException {
        assumeKernelOverlay();
        new DifferentialRun(seed, ops(), KernelOverlay.KIND, KernelOverlay.KIND, dir).run();
    }

    /** The comparison can fail: an overlay without redirect_dir refuses to rename merged directories. */
    @Test
    void harnessReportsTheFirstDifferingOperationOfADifferentlyConfiguredOverlay() throws IOException {
        assumeKernelOverlay();
        DifferentialRun run = new DifferentialRun(42, DEFAULT_OPS, KernelOverlay.KIND,
                KernelOverlay.KIND_REDIRECT_DIR_OFF, dir);
        AssertionError mismatch = assertThrows(AssertionError.class, run::run);
        assertTrue(mismatch.getMessage().contains("outcomes differ"), mismatch.getMessage());
        assertTrue(mismatch.getMessage().contains("ERR EXDEV") || mismatch.getMessage().contains("ERR ENOTEMPTY"),
                mismatch.getMessage());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jMatchesKernelOperationByOperationAndInItsUpperDir(long seed) throws IOException {
        assumeKernelOverlay();
        if (!Overlay4jFileSystem.providerInstalled()) {
            abort("DIFFERENTIAL SKIPPED: no FileSystemProvider for scheme '" + Overlay4jFileSystem.SCHEME
                    + "' on the test class path (it-tests needs the module that provides the overlay: FileSystem)");
        }
        new DifferentialRun(seed, ops(), KernelOverlay.KIND, Overlay4jFileSystem.KIND, dir).run();
    }

    /** The same through the FUSE mount: the kernel's VFS and caches in front of the engine. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jThroughFuseMatchesKernelOperationByOperationAndInItsUpperDir(long seed) throws IOException {
        assumeKernelOverlayAndFuse();
        new DifferentialRun(seed, ops(), KernelOverlay.KIND, Overlay4jFuseMount.KIND, dir).run();
    }

    /** The same with passthrough on, where every open goes through the server (seeds of their own). */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jThroughFuseWithPassthroughMatchesKernel(long seed) throws IOException {
        assumeKernelOverlayAndFuse();
        new DifferentialRun(seed + 7919, ops(), KernelOverlay.KIND, Overlay4jFuseMount.KIND_PASSTHROUGH, dir).run();
    }

    private static void assumeKernelOverlayAndFuse() throws IOException {
        assumeKernelOverlay();
        if (!Files.exists(Path.of("/dev/fuse"))) {
            abort("DIFFERENTIAL SKIPPED: /dev/fuse is missing, so overlay4j cannot be mounted through FUSE");
        }
    }

    private static synchronized void assumeKernelOverlay() throws IOException {
        if (!kernelProbed) {
            kernelUnavailable = probeKernelOverlay();
            kernelProbed = true;
        }
        if (kernelUnavailable != null) {
            abort("DIFFERENTIAL SKIPPED: " + kernelUnavailable);
        }
    }

    private static String probeKernelOverlay() throws IOException {
        if (!System.getProperty("os.name").equals("Linux")) {
            return "not Linux (" + System.getProperty("os.name") + "), there is no kernel overlayfs to compare with";
        }
        int uid = Native.uid();
        if (uid != 0) {
            return "not running as root (uid " + uid + "); mount -t overlay needs CAP_SYS_ADMIN";
        }
        Path probe = Files.createTempDirectory("overlay4j-differential-probe");
        try {
            Path lower = Files.createDirectories(probe.resolve("lower"));
            Layout layout = Layout.create(List.of(lower), probe);
            KernelOverlay mount;
            try {
                mount = KernelOverlay.mount(layout, probe);
            } catch (IOException e) {
                return "mount -t overlay failed: " + e.getMessage();
            }
            mount.close();
            return null;
        } finally {
            deleteTree(probe);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** "1,2,10-12" -> [1, 2, 10, 11, 12]. */
    static List<Long> parseSeeds(String text) {
        List<Long> seeds = new ArrayList<>();
        for (String part : text.split(",")) {
            String item = part.strip();
            if (item.isEmpty()) {
                continue;
            }
            int dash = item.indexOf('-', 1);
            if (dash < 0) {
                seeds.add(Long.parseLong(item));
            } else {
                long from = Long.parseLong(item.substring(0, dash).strip());
                long to = Long.parseLong(item.substring(dash + 1).strip());
                for (long seed = from; seed <= to; seed++) {
                    seeds.add(seed);
                }
            }
        }
        return seeds;
    }
}
