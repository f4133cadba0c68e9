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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The differential test against the kernel's overlayfs: same generated lower layers (whiteouts,
 * opaque dirs, hard links, owners and set-id modes, user.* and trusted.* xattrs), same seeded
 * operations (some run as other users) through {@code mount -t overlay} (redirect_dir=on,
 * index=on: what overlay4j does by default) and through overlay4j: its in-process
 * {@code overlay:} FileSystem and its FUSE mount, with and without passthrough. Every outcome
 * (value or errno, with the owner, mode, link count of what it touched, and whether it moved
 * each entry's mtime and ctime), the final merged trees, what the kernel sees mounting the upper
 * dir overlay4j wrote and what overlay4j sees in the kernel's must match. One run does it all
 * as a user without privileges (the kernel in a user namespace, overlay4j through fusermount3,
 * both with userxattr). {@link KnownDifference} names what is left out, and why.
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

    /** Runs that passed, by candidate kind, and the kinds: for {@link #everyKnownDifferenceStillShows}. */
    private static final Map<String, Integer> passedRuns = new ConcurrentHashMap<>();
    private static final Map<String, OverlayUnderTest.Kind> candidates = new ConcurrentHashMap<>();

    /** Why the kernel side cannot run here, or null when it can; probed once. */
    private static String kernelUnavailable;
    private static boolean kernelProbed;

    @TempDir
    Path dir;

    /** Runs one comparison and counts it as passed. */
    private static void run(DifferentialRun run, OverlayUnderTest.Kind candidate) throws IOException {
        run.run();
        passedRuns.merge(candidate.name(), 1, Integer::sum);
        candidates.put(candidate.name(), candidate);
    }

    /**
     * A known difference that no longer shows in the default runs of the kinds that list it has
     * been fixed: it must leave {@link KnownDifference#of}, so that the comparison is strict
     * again. (Checked over the kinds whose default runs all passed: other seeds need not meet
     * every case, and a failed run stopped early.)
     */
    @AfterAll
    static void everyKnownDifferenceStillShows() {
        if (System.getProperty("differential.seeds") != null || System.getProperty("differential.ops") != null) {
            return; // not the default runs: nothing to conclude
        }
        Map<KnownDifference, Boolean> showed = new java.util.EnumMap<>(KnownDifference.class);
        for (OverlayUnderTest.Kind kind : candidates.values()) {
            int expected = kind.name().equals(Unprivileged.OVERLAY4J_NAME) ? 1 : parseSeeds(DEFAULT_SEEDS).size();
            if (passedRuns.get(kind.name()) == expected) {
                for (KnownDifference difference : KnownDifference.of(kind)) {
                    if (!difference.showsInDefaultRuns()) {
                        continue;
                    }
                    showed.merge(difference, KnownDifference.hasShown(kind, difference), Boolean::logicalOr);
                }
            }
        }
        List<KnownDifference> fixed = showed.entrySet().stream().filter(entry -> !entry.getValue())
                .map(Map.Entry::getKey).toList();
        assertTrue(fixed.isEmpty(), "the known differences " + fixed + " no longer show in the default runs of the"
                + " kinds that list them: remove them from KnownDifference.of");
    }

    static Stream<Long> seeds() {
        return parseSeeds(System.getProperty("differential.seeds", DEFAULT_SEEDS)).stream();
    }

    static int ops() {
        return Integer.parseInt(System.getProperty("differential.ops", String.valueOf(DEFAULT_OPS)).strip());
    }

    /** The seeds of the kernel's run against itself: the first three by default (the harness check), else all given. */
    static Stream<Long> harnessSeeds() {
        String given = System.getProperty("differential.seeds");
        return given == null ? seeds().limit(3) : seeds();
    }

    /** The harness itself: two kernel mounts over identical copies must agree on everything, times included. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("harnessSeeds")
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

    /** The comparison sees hard links: without index=on the kernel breaks a lower hard link at copy-up. */
    @Test
    void harnessReportsALowerHardLinkBrokenByCopyUp() throws IOException {
        assumeKernelOverlay();
        DifferentialRun run = new DifferentialRun(42, DEFAULT_OPS, KernelOverlay.KIND, KernelOverlay.KIND_INDEX_OFF, dir);
        AssertionError mismatch = assertThrows(AssertionError.class, run::run);
        String message = mismatch.getMessage();
        // The first change of a name of a lower hard link: index=on keeps its two names one file.
        assertTrue(message.contains("outcomes differ") && message.contains("\n  kernel: ")
                && message.split("\n  kernel: ")[1].contains(" nlink=2 ")
                && message.split("\n  kernel\\(index=off\\): ")[1].contains(" nlink=1 "), message);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jMatchesKernelOperationByOperationAndInItsUpperDir(long seed) throws IOException {
        assumeKernelOverlay();
        if (!Overlay4jFileSystem.providerInstalled()) {
            abort("DIFFERENTIAL SKIPPED: no FileSystemProvider for scheme '" + Overlay4jFileSystem.SCHEME
                    + "' on the test class path (it-tests needs the module that provides the overlay: FileSystem)");
        }
        run(new DifferentialRun(seed, ops(), KernelOverlay.KIND, Overlay4jFileSystem.KIND, dir), Overlay4jFileSystem.KIND);
    }

    /** The same through the FUSE mount: the kernel's VFS and caches in front of the engine. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jThroughFuseMatchesKernelOperationByOperationAndInItsUpperDir(long seed) throws IOException {
        assumeKernelOverlayAndFuse();
        run(new DifferentialRun(seed, ops(), KernelOverlay.KIND, Overlay4jFuseMount.KIND, dir), Overlay4jFuseMount.KIND);
    }

    /** The same with passthrough on, where every open goes through the server (seeds of their own). */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void overlay4jThroughFuseWithPassthroughMatchesKernel(long seed) throws IOException {
        assumeKernelOverlayAndFuse();
        run(new DifferentialRun(seed + 7919, ops(), KernelOverlay.KIND, Overlay4jFuseMount.KIND_PASSTHROUGH, dir),
                Overlay4jFuseMount.KIND_PASSTHROUGH);
    }

    /**
     * One run as a user without privileges: the kernel's overlayfs mounted in a user namespace
     * (userxattr), overlay4j mounted through fusermount3 (userxattr, redirect_dir=off), every
     * operation and look at the trees by that user; the first of the seeds.
     */
    @Test
    void overlay4jMountedByAUserWithoutPrivilegesMatchesTheKernelInAUserNamespace() throws IOException {
        assumeKernelOverlay();
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Unprivileged[] prepared = new Unprivileged[1];
        String unavailable = Unprivileged.prepare(dir, prepared);
        if (unavailable != null) {
            abort("DIFFERENTIAL SKIPPED: " + unavailable);
        }
        try (Unprivileged user = prepared[0]) {
            run(new DifferentialRun(seeds().findFirst().orElseThrow(), ops(), user.kernel, user.overlay4j,
                    dir.resolve("run"), user.setup()), user.overlay4j);
        }
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
