package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * One seed of the differential test: generate layers, give each side an identical copy,
 * apply the same operations to both and compare every outcome (with how it moved the mtime and
 * ctime of every entry), then the final merged trees, then what the reference sees when it
 * mounts the upper dir the candidate wrote, and what the candidate sees in the reference's.
 */
final class DifferentialRun {
    private static final int CONTEXT_OPS = 12;
    /**
     * With -Ddifferential.keepGoing=true a run goes on after a differing op or tree and reports
     * them all (up to MAX_MISMATCHES ops); later ones may be consequences of earlier ones.
     */
    private static final boolean KEEP_GOING = Boolean.getBoolean("differential.keepGoing");
    private static final int MAX_MISMATCHES = 20;

    /**
     * Who runs the operations and how the layers are made.
     *
     * @param layers the generator's options
     * @param actor  the user every operation and every look at the trees runs as (the layers are
     *               then that user's), or null for root
     */
    record Setup(LayerGenerator.Options layers, Identity actor) {
        static final Setup PRIVILEGED = new Setup(LayerGenerator.Options.PRIVILEGED, null);
    }

    private final long seed;
    private final int opCount;
    private final OverlayUnderTest.Kind reference;
    private final OverlayUnderTest.Kind candidate;
    private final Path dir;
    private final Setup setup;
    private final OverlayUnderTest.Features features;
    /** The xattr namespaces both sides show. */
    private final Set<String> namespaces;
    private final List<String> failures = new ArrayList<>();
    /** How many operations each set of known differences decided. */
    private final java.util.Map<String, Integer> knownDifferences = new java.util.TreeMap<>();

    DifferentialRun(long seed, int opCount, OverlayUnderTest.Kind reference, OverlayUnderTest.Kind candidate,
            Path dir) {
        this(seed, opCount, reference, candidate, dir, Setup.PRIVILEGED);
    }

    DifferentialRun(long seed, int opCount, OverlayUnderTest.Kind reference, OverlayUnderTest.Kind candidate,
            Path dir, Setup setup) {
        this.seed = seed;
        this.opCount = opCount;
        this.reference = reference;
        this.candidate = candidate;
        this.dir = dir;
        this.setup = setup;
        this.features = reference.features().and(candidate.features());
        this.namespaces = features.realPaths() ? Observe.ALL_NAMESPACES : Observe.USER_NAMESPACE;
    }

    /** Runs a look at a tree or an operation as the run's actor. */
    private interface Actor {
        <T> T run(Callable<T> action) throws IOException;
    }

    private static <T> T runHere(Callable<T> action) throws IOException {
        try {
            return action.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    void run() throws IOException {
        LayerGenerator.Template template = LayerGenerator.generate(seed, dir.resolve("template"), setup.layers());
        Layout referenceLayout = Layout.create(LayerGenerator.copy(template, dir.resolve("ref/lowers")),
                dir.resolve("ref"));
        Layout candidateLayout = Layout.create(LayerGenerator.copy(template, dir.resolve("cand/lowers")),
                dir.resolve("cand"));
        Path referenceScratch = Files.createDirectories(dir.resolve("ref/mnt"));
        Path candidateScratch = Files.createDirectories(dir.resolve("cand/mnt"));
        // Other users must reach the mounts (JUnit makes its temp dir 0700).
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        // The actor's layers are its own already; the rest of the layout must be too.
        chownForActor(dir.resolve("ref"), referenceLayout.upper(), referenceLayout.work(), referenceScratch,
                dir.resolve("cand"), candidateLayout.upper(), candidateLayout.work(), candidateScratch);

        try (Callers callers = new Callers()) {
            Actor act = setup.actor() == null ? DifferentialRun::runHere : callers.of(setup.actor())::call;
            runOn(template, referenceLayout, candidateLayout, referenceScratch, candidateScratch, callers, act);
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(String.join("\n\n", failures));
        }
    }

    private void runOn(LayerGenerator.Template template, Layout referenceLayout, Layout candidateLayout,
            Path referenceScratch, Path candidateScratch, Callers callers, Actor act) throws IOException {
        TreeSnapshot referenceTree;
        TreeSnapshot referenceTreeWhole;
        TreeSnapshot candidateTree;
        try (OverlayUnderTest ref = reference.open(referenceLayout, referenceScratch);
                OverlayUnderTest cand = candidate.open(candidateLayout, candidateScratch)) {
            TreeSnapshot initial = act.run(() -> TreeSnapshot.of(ref.root(), namespaces));
            TreeSnapshot candidateInitial = act.run(() -> TreeSnapshot.of(cand.root(), namespaces));
            check(() -> initial.assertSame(stage("merged trees before any operation"),
                    reference.name(), candidateInitial, candidate.name()));
            List<KnownDifference> known = KnownDifference.of(candidate);
            OpGenerator generator = new OpGenerator(seed, template, features, callers,
                    setup.layers().overlayXattrs(), op -> avoided(known, op));
            check(() -> applyAll(generator, ref.root(), cand.root(), act));
            referenceTree = act.run(() -> TreeSnapshot.of(ref.root(), namespaces));
            referenceTreeWhole = act.run(() -> TreeSnapshot.of(ref.root(), wholeNamespaces(reference)));
            candidateTree = act.run(() -> TreeSnapshot.of(cand.root(), namespaces));
            check(() -> referenceTree.assertSame(stage("merged trees after " + opCount + " operations"),
                    reference.name(), candidateTree, candidate.name()));
        }

        // The upper dir the candidate wrote must mean the same tree to the reference, trusted.* xattrs included.
        Layout remount = candidateLayout.withFreshWork(dir.resolve("cand/work-remount"));
        Path remountScratch = Files.createDirectories(dir.resolve("cand/remnt"));
        chownForActor(remount.work(), remountScratch);
        try (OverlayUnderTest kernel = reference.open(remount, remountScratch)) {
            TreeSnapshot remounted = act.run(() -> TreeSnapshot.of(kernel.root(), wholeNamespaces(reference)));
            WritersIndex index = WritersIndex.of(remounted, remount.upper());
            check(() -> index.leftOut(referenceTreeWhole).assertSame(
                    stage(reference.name() + " mounting the upper dir " + candidate.name() + " wrote"
                            + index.describe()),
                    reference.name() + " (live)", index.leftOut(remounted), reference.name() + " (remounted)"));
        }
        // And the candidate must read the reference's upper dir as the reference did.
        if (candidate != reference) {
            Layout referenceUpper = referenceLayout.withFreshWork(dir.resolve("ref/work-reread"));
            Path rereadScratch = Files.createDirectories(dir.resolve("ref/remnt"));
            chownForActor(referenceUpper.work(), rereadScratch);
            try (OverlayUnderTest cand = candidate.open(referenceUpper, rereadScratch)) {
                TreeSnapshot reread = act.run(() -> TreeSnapshot.of(cand.root(), namespaces));
                WritersIndex index = WritersIndex.of(reread, referenceUpper.upper());
                check(() -> index.leftOut(referenceTree).assertSame(
                        stage(candidate.name() + " opening the upper dir " + reference.name() + " wrote"
                                + index.describe()),
                        reference.name(), index.leftOut(reread), candidate.name()));
            }
        }
        // Lower layers are read-only for both.
        for (int i = 0; i < template.lowers().size(); i++) {
            TreeSnapshot original = TreeSnapshot.of(template.lowers().get(i), Observe.ALL_NAMESPACES);
            String stage = stage("lower layer L" + (i + 1) + " after the run");
            TreeSnapshot referenceLower = TreeSnapshot.of(referenceLayout.lowers().get(i), Observe.ALL_NAMESPACES);
            TreeSnapshot candidateLower = TreeSnapshot.of(candidateLayout.lowers().get(i), Observe.ALL_NAMESPACES);
            check(() -> original.assertSame(stage, "generated", referenceLower, reference.name()));
            check(() -> original.assertSame(stage, "generated", candidateLower, candidate.name()));
        }
    }

    private Set<String> wholeNamespaces(OverlayUnderTest.Kind kind) {
        return kind.features().realPaths() ? Observe.ALL_NAMESPACES : Observe.USER_NAMESPACE;
    }

    private void chownForActor(Path... paths) throws IOException {
        if (setup.actor() != null) {
            for (Path path : paths) {
                Shell.check("chown", setup.actor().uid() + ":" + setup.actor().gid(), path.toString());
            }
        }
    }

    /**
     * What of a tree depends on the writer's index of lower hard links, which lives in the work
     * dir (the kernel's index/, overlay4j's overlay4j-index), not in the upper dir, so that an
     * overlay opened on the upper dir with a fresh work dir cannot show it: the names that show a
     * lower hard link with no upper entry of their own (once another name of that file was
     * copied up they show the indexed copy, the fresh overlay the lower file), and the link count
     * of upper files linked into the index. What these show while the writer runs is compared
     * operation by operation and in the final trees.
     */
    private record WritersIndex(Set<String> lowerNames, Set<String> linkedUpperFiles) {
        static WritersIndex of(TreeSnapshot tree, Path upper) throws IOException {
            Set<String> lowerNames = new TreeSet<>();
            tree.entries().forEach((path, text) -> {
                if (!path.equals("/") && !text.startsWith("dir ") && !text.contains(" nlink=1 ")
                        && !Files.exists(upper.resolve(path), LinkOption.NOFOLLOW_LINKS)) {
                    lowerNames.add(path);
                }
            });
            // An upper file with more links than names in the upper dir is linked into the index too.
            java.util.Map<Object, List<String>> names = new java.util.HashMap<>();
            java.util.Map<Object, Integer> links = new java.util.HashMap<>();
            try (var paths = Files.walk(upper)) {
                for (Path path : paths.toList()) {
                    if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                        Object inode = Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
                        names.computeIfAbsent(inode, key -> new ArrayList<>()).add(upper.relativize(path).toString());
                        links.put(inode, (Integer) Files.getAttribute(path, "unix:nlink", LinkOption.NOFOLLOW_LINKS));
                    }
                }
            }
            Set<String> linkedUpperFiles = new TreeSet<>();
            names.forEach((inode, upperNames) -> {
                if (links.get(inode) > upperNames.size()) {
                    linkedUpperFiles.addAll(upperNames);
                }
            });
            return new WritersIndex(lowerNames, linkedUpperFiles);
        }

        TreeSnapshot leftOut(TreeSnapshot tree) {
            return tree.without(lowerNames).withoutNlink(linkedUpperFiles);
        }

        String describe() {
            if (lowerNames.isEmpty() && linkedUpperFiles.isEmpty()) {
                return "";
            }
            return " (not compared, as they depend on the writer's index of lower hard links: the entries "
                    + lowerNames + ", the link counts of " + linkedUpperFiles + ")";
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

    /**
     * Whether every change of a file after a stat of it gets a new ctime here: with the kernel's
     * multigrain timestamps (Linux 6.13+ on ext4, xfs, btrfs, tmpfs) a change after a look gets a
     * fine-grained time. Otherwise a change in the same clock tick as the previous one keeps its
     * time, and the run waits a tick before each operation so that no move goes unseen.
     */
    private static boolean ctimeMovesAtEveryChange(Path dir) throws IOException {
        Path probe = Files.createTempFile(dir, "ctime-probe", "");
        try {
            for (int i = 0; i < 50; i++) {
                Object before = Files.getAttribute(probe, "unix:ctime");
                Files.setAttribute(probe, "unix:mode", i % 2 == 0 ? 0600 : 0644);
                if (before.equals(Files.getAttribute(probe, "unix:ctime"))) {
                    return false;
                }
            }
            return true;
        } finally {
            Files.delete(probe);
        }
    }

    /** A coarse clock tick is 10 ms at most (CONFIG_HZ 100 and more). */
    private static final long CLOCK_TICK_MILLIS = 10;

    private void applyAll(OpGenerator generator, Path referenceRoot, Path candidateRoot, Actor act)
            throws IOException {
        List<String> history = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        boolean waitForTick = !ctimeMovesAtEveryChange(dir);
        try {
            TreeWalk referenceWalk = act.run(() -> TreeWalk.of(referenceRoot));
            TreeWalk candidateWalk = act.run(() -> TreeWalk.of(candidateRoot));
            for (int i = 0; i < opCount && mismatches.size() < MAX_MISMATCHES; i++) {
                if (waitForTick) {
                    try {
                        Thread.sleep(CLOCK_TICK_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted between operations", e);
                    }
                }
                Op op = generator.next(referenceWalk.live());
                Outcome expected = apply(op, referenceRoot, referenceWalk, act);
                Outcome actual = apply(op, candidateRoot, candidateWalk, act);
                referenceWalk = expected.walk();
                candidateWalk = actual.walk();
                String mismatch = compare(i, op, expected, actual, history);
                if (mismatch != null) {
                    mismatches.add(mismatch);
                    if (!KEEP_GOING) {
                        break;
                    }
                }
            }
        } finally {
            if (!knownDifferences.isEmpty()) {
                System.out.println("KNOWN DIFFERENCES " + stage("operations decided by them: " + knownDifferences
                        + " (with -Ddifferential.trace=DIR the trace names each)"));
            }
            writeTrace(history);
        }
        if (!mismatches.isEmpty()) {
            throw new AssertionError(String.join("\n\n", mismatches));
        }
    }

    /** What an operation did on one side: its outcome, the times it moved, and the tree after it. */
    private record Outcome(String result, List<TreeWalk.Change> changes, TreeWalk walk) {
        String text() {
            return result + " | times: " + TreeWalk.render(changes);
        }
    }

    /** Whether a known difference keeps the generator from making {@code op}; counts as the difference showing. */
    private boolean avoided(List<KnownDifference> known, Op op) {
        for (KnownDifference difference : known) {
            if (difference.avoids(op)) {
                KnownDifference.shown(candidate, difference);
                return true;
            }
        }
        return false;
    }

    /** Both outcomes of {@code op} as compared when the known differences in {@code known} are left out. */
    private static List<String> comparedWithout(List<KnownDifference> known, Op op, Outcome expected, Outcome actual) {
        KnownDifference.Times times = new KnownDifference.Times(expected.changes(), actual.changes());
        String expectedResult = expected.result();
        String actualResult = actual.result();
        for (KnownDifference difference : known) {
            times = difference.leftOut(op, expected.result(), times);
            expectedResult = difference.leftOut(op, expectedResult);
            actualResult = difference.leftOut(op, actualResult);
        }
        return List.of(expectedResult + " | times: " + TreeWalk.render(times.expected()),
                actualResult + " | times: " + TreeWalk.render(times.actual()));
    }

    private static boolean agreeWithout(List<KnownDifference> known, Op op, Outcome expected, Outcome actual) {
        List<String> compared = comparedWithout(known, op, expected, actual);
        return compared.get(0).equals(compared.get(1));
    }

    private static Outcome apply(Op op, Path root, TreeWalk before, Actor act) throws IOException {
        String outcome = act.run(() -> op.outcome(root));
        TreeWalk after = act.run(() -> TreeWalk.of(root));
        return new Outcome(outcome, TreeWalk.changes(before, after, op), after);
    }

    /**
     * A description of the difference, or null when the outcomes agree, or differ only in what a
     * {@link KnownDifference} of the candidate leaves out (then reported on stdout).
     */
    private String compare(int i, Op op, Outcome expectedOutcome, Outcome actualOutcome, List<String> history) {
        String expected = expectedOutcome.text();
        String actual = actualOutcome.text();
        if (expected.equals(actual)) {
            history.add("#" + i + " " + op + " => " + expected);
            return null;
        }
        List<KnownDifference> known = KnownDifference.of(candidate);
        if (!known.isEmpty() && agreeWithout(known, op, expectedOutcome, actualOutcome)) {
            List<KnownDifference> deciding = known.stream()
                    .filter(one -> agreeWithout(List.of(one), op, expectedOutcome, actualOutcome))
                    .toList();
            if (deciding.isEmpty()) {
                // Several together: those that leave out anything of this operation.
                List<String> strict = List.of(expected, actual);
                deciding = known.stream()
                        .filter(one -> !comparedWithout(List.of(one), op, expectedOutcome, actualOutcome).equals(strict))
                        .toList();
            }
            deciding.forEach(one -> KnownDifference.shown(candidate, one));
            String decided = deciding.toString();
            knownDifferences.merge(decided, 1, Integer::sum);
            history.add("#" + i + " " + op + " => KNOWN DIFFERENCE " + decided + "\n    " + reference.name() + ": "
                    + expected + "\n    " + candidate.name() + ": " + actual);
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
