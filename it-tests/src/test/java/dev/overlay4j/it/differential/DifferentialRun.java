package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One seed of the differential test: generate layers, give each side an identical copy,
 * apply the same operations to both and compare every outcome, then the final merged trees,
 * then what the kernel sees when it mounts the upper dir the candidate wrote.
 */
final class DifferentialRun {
    private static final int CONTEXT_OPS = 12;
    /** How often the generator's view of what exists is re-read from the reference tree. */
    private static final int LIVE_REFRESH_OPS = 3;
    /**
     * With -Ddifferential.keepGoing=true a run goes on after a differing op or tree and reports
     * them all (up to MAX_MISMATCHES ops); later ones may be consequences of earlier ones.
     */
    private static final boolean KEEP_GOING = Boolean.getBoolean("differential.keepGoing");
    private static final int MAX_MISMATCHES = 20;

    private final long seed;
    private final int opCount;
    private final OverlayUnderTest.Kind reference;
    private final OverlayUnderTest.Kind candidate;
    private final Path dir;
    private final List<String> failures = new ArrayList<>();

    DifferentialRun(long seed, int opCount, OverlayUnderTest.Kind reference, OverlayUnderTest.Kind candidate,
            Path dir) {
        this.seed = seed;
        this.opCount = opCount;
        this.reference = reference;
        this.candidate = candidate;
        this.dir = dir;
    }

    void run() throws IOException {
        LayerGenerator.Template template = LayerGenerator.generate(seed, dir.resolve("template"));
        Layout referenceLayout = Layout.create(LayerGenerator.copy(template, dir.resolve("ref/lowers")),
                dir.resolve("ref"));
        Layout candidateLayout = Layout.create(LayerGenerator.copy(template, dir.resolve("cand/lowers")),
                dir.resolve("cand"));

        TreeSnapshot referenceTree;
        TreeSnapshot candidateTree;
        try (OverlayUnderTest ref = reference.open(referenceLayout, Files.createDirectories(dir.resolve("ref/mnt")));
                OverlayUnderTest cand = candidate.open(candidateLayout,
                        Files.createDirectories(dir.resolve("cand/mnt")))) {
            TreeSnapshot initial = TreeSnapshot.of(ref.root());
            TreeSnapshot candidateInitial = TreeSnapshot.of(cand.root());
            check(() -> initial.assertSame(stage("merged trees before any operation"),
                    reference.name(), candidateInitial, candidate.name()));
            check(() -> applyAll(new OpGenerator(seed, template.paths()), ref.root(), cand.root()));
            referenceTree = TreeSnapshot.of(ref.root());
            candidateTree = TreeSnapshot.of(cand.root());
            check(() -> referenceTree.assertSame(stage("merged trees after " + opCount + " operations"),
                    reference.name(), candidateTree, candidate.name()));
        }

        // The upper dir the candidate wrote must mean the same tree to the kernel.
        Layout remount = candidateLayout.withFreshWork(dir.resolve("cand/work-remount"));
        try (KernelOverlay kernel = KernelOverlay.mount(remount, Files.createDirectories(dir.resolve("cand/remnt")))) {
            TreeSnapshot remounted = TreeSnapshot.of(kernel.root());
            check(() -> remounted.assertSame(stage("kernel mounting the upper dir " + candidate.name() + " wrote"),
                    "kernel", candidateTree, candidate.name()));
        }
        // And the candidate must read the kernel's upper dir as the kernel did.
        if (candidate != KernelOverlay.KIND) {
            Layout kernelUpper = referenceLayout.withFreshWork(dir.resolve("ref/work-reread"));
            try (OverlayUnderTest cand = candidate.open(kernelUpper, Files.createDirectories(dir.resolve("ref/remnt")))) {
                TreeSnapshot reread = TreeSnapshot.of(cand.root());
                check(() -> referenceTree.assertSame(stage(candidate.name() + " opening the upper dir the kernel wrote"),
                        "kernel", reread, candidate.name()));
            }
        }
        // Lower layers are read-only for both.
        for (int i = 0; i < template.lowers().size(); i++) {
            TreeSnapshot original = TreeSnapshot.of(template.lowers().get(i));
            String stage = stage("lower layer L" + (i + 1) + " after the run");
            TreeSnapshot referenceLower = TreeSnapshot.of(referenceLayout.lowers().get(i));
            TreeSnapshot candidateLower = TreeSnapshot.of(candidateLayout.lowers().get(i));
            check(() -> original.assertSame(stage, "generated", referenceLower, reference.name()));
            check(() -> original.assertSame(stage, "generated", candidateLower, candidate.name()));
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(String.join("\n\n", failures));
        }
    }

    private interface Check {
        void run() throws IOException;
    }

    /** Fails at once, or with keepGoing collects the failure and goes on. */
    private void check(Check check) throws IOException {
        try {
            check.run();
        } catch (AssertionError failure) {
            if (!KEEP_GOING) {
                throw failure;
            }
            failures.add(failure.getMessage());
        }
    }

    private void applyAll(OpGenerator generator, Path referenceRoot, Path candidateRoot) throws IOException {
        List<String> history = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        try {
            OpGenerator.Live live = null;
            for (int i = 0; i < opCount && mismatches.size() < MAX_MISMATCHES; i++) {
                if (i % LIVE_REFRESH_OPS == 0) {
                    live = OpGenerator.Live.of(referenceRoot);
                }
                String mismatch = compare(i, generator.next(live), referenceRoot, candidateRoot, history);
                if (mismatch != null) {
                    mismatches.add(mismatch);
                    if (!KEEP_GOING) {
                        break;
                    }
                }
            }
        } finally {
            writeTrace(history);
        }
        if (!mismatches.isEmpty()) {
            throw new AssertionError(String.join("\n\n", mismatches));
        }
    }

    /** Applies one op to both sides; a description of the difference, or null when the outcomes agree. */
    private String compare(int i, Op op, Path referenceRoot, Path candidateRoot, List<String> history) {
        String expected = op.outcome(referenceRoot);
        String actual = op.outcome(candidateRoot);
        if (expected.equals(actual)) {
            history.add("#" + i + " " + op + " => " + expected);
            return null;
        }
        StringBuilder message = new StringBuilder(stage("op #" + i + " of " + opCount))
                .append(": outcomes differ\n  op: ").append(op)
                .append("\n  ").append(reference.name()).append(": ").append(expected)
                .append("\n  ").append(candidate.name()).append(": ").append(actual)
                .append("\n  preceding ops (with the ").append(reference.name()).append(" outcome):");
        history.stream().skip(Math.max(0, history.size() - CONTEXT_OPS))
                .forEach(line -> message.append("\n    ").append(line));
        history.add("#" + i + " " + op + " => MISMATCH\n    " + reference.name() + ": " + expected
                + "\n    " + candidate.name() + ": " + actual);
        return message.toString();
    }

    /** With -Ddifferential.trace=DIR, every compared op and its outcome goes to DIR/seed-S-CANDIDATE.log. */
    private void writeTrace(List<String> history) throws IOException {
        String traceDir = System.getProperty("differential.trace");
        if (traceDir != null && !traceDir.isBlank()) {
            Path file = Files.createDirectories(Path.of(traceDir))
                    .resolve("seed-" + seed + "-" + candidate.name() + ".log");
            Files.write(file, history);
        }
    }

    private String stage(String what) {
        return reference.name() + " vs " + candidate.name() + ", seed " + seed + " (reproduce with -Ddifferential.seeds="
                + seed + " -Ddifferential.ops=" + opCount + "), " + what;
    }
}
