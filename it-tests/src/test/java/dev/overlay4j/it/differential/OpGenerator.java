package dev.overlay4j.it.differential;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The seeded operation sequence. Paths are drawn mostly from what currently exists in the
 * reference (kernel) tree, the rest from names any layer or earlier operation used and from
 * new names, which is where copy-up, whiteouts, opaque dirs and redirects come into play.
 * Since the kernel is deterministic (the kernel-vs-kernel test checks that), a seed always
 * yields the same sequence.
 */
final class OpGenerator {
    private static final String[] NEW_NAMES = {"n0", "n1", "n2", "n3", "n4"};
    private static final String[] MODES = {"rw-r--r--", "rwxr-xr-x", "r--------", "rwx------", "r-xr-xr-x",
        "rw-rw-rw-", "---------"};

    /** What exists in the merged tree right now (never the root): all entries, dirs, regular files. */
    record Live(List<String> entries, List<String> dirs, List<String> files) {
    }

    private final SplittableRandom random;
    private final List<String> pool;
    private final LinkedHashSet<String> known;
    private final List<List<String>> hardLinks;
    private final OverlayUnderTest.Features features;
    private final Callers callers;
    private final String privateXattrs;
    private final java.util.function.Predicate<Op> avoided;
    private final List<Weighted> table;
    private final int totalWeight;
    /** The operations another user may run (everything but those that hold handles or nest). */
    private final List<Weighted> userTable;
    private final int userWeight;
    private Live live = new Live(List.of(), List.of(), List.of());

    private record Weighted(int weight, Supplier<Op> make) {
    }

    /**
     * @param template      the generated layers: their paths and hard links
     * @param features      what both overlays compared can be asked
     * @param callers       the threads that run operations as other users (when {@code features} has identities)
     * @param privateXattrs the overlay's own xattr prefix ("trusted.overlay." or "user.overlay.")
     * @param avoided       operations not to make (see {@link KnownDifference#avoids}); others are drawn instead
     */
    OpGenerator(long seed, LayerGenerator.Template template, OverlayUnderTest.Features features, Callers callers,
            String privateXattrs, java.util.function.Predicate<Op> avoided) {
        this.avoided = avoided;
        // A different stream than the layer generator's, so changing one does not shift the other.
        this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.pool = new ArrayList<>(template.paths());
        this.known = new LinkedHashSet<>(template.paths());
        this.hardLinks = template.hardLinks();
        this.features = features;
        this.callers = callers;
        this.privateXattrs = privateXattrs;
        List<Weighted> basic = List.of(
                new Weighted(8, this::stat),
                new Weighted(7, () -> new Op.Read(filePath())),
                new Weighted(6, () -> new Op.ListDir(random.nextInt(8) == 0 ? "" : dirPath())),
                new Weighted(8, () -> new Op.Create(newPath(), content())),
                new Weighted(5, () -> new Op.Overwrite(filePath(), content())),
                new Weighted(4, () -> new Op.WriteAt(filePath(), random.nextInt(8) == 0 ? 9000 : random.nextInt(300),
                        content())),
                new Weighted(4, () -> new Op.Append(filePath(), content())),
                new Weighted(3, () -> new Op.Truncate(filePath(), random.nextInt(4) == 0 ? 0 : random.nextInt(500))),
                new Weighted(7, () -> new Op.Mkdir(newPath())),
                new Weighted(8, () -> new Op.Delete(path())),
                new Weighted(2, () -> new Op.DeleteTree(dirPath())),
                new Weighted(2, () -> new Op.RecreateDir(dirPath())),
                new Weighted(12, this::move),
                new Weighted(4, () -> new Op.Symlink(newPath(), symlinkTarget())),
                new Weighted(2, () -> new Op.ReadLink(path())),
                new Weighted(3, () -> new Op.Link(newPath(), path())),
                new Weighted(4, () -> new Op.Chmod(path(), MODES[random.nextInt(MODES.length)])),
                new Weighted(3, () -> new Op.SetMtime(path(), LayerGenerator.oldTime(random).toMillis())),
                new Weighted(4, () -> new Op.XattrSet(path(), xattrName(), "w" + random.nextInt(1000))),
                new Weighted(2, () -> new Op.XattrGet(path(), xattrName())),
                new Weighted(2, () -> new Op.XattrRemove(path(), xattrName())),
                new Weighted(2, () -> new Op.XattrList(path())),
                new Weighted(3, () -> new Op.SetMode(path(), mode())),
                new Weighted(3, this::chown));
        List<Weighted> real = !features.realPaths() ? List.of() : List.of(
                new Weighted(4, () -> new Op.LXattrSet(path(), anyXattrName(), "t" + random.nextInt(1000))),
                new Weighted(2, () -> new Op.LXattrGet(path(), anyXattrName())),
                new Weighted(2, () -> new Op.LXattrRemove(path(), anyXattrName())),
                new Weighted(1, () -> new Op.LXattrList(path())));
        List<Weighted> all = new ArrayList<>(basic);
        all.addAll(real);
        this.userTable = List.copyOf(all);
        this.userWeight = weight(userTable);
        all.add(new Weighted(1, () -> new Op.SameFile(path(), path())));
        all.add(new Weighted(3, this::heldRead));
        if (!hardLinks.isEmpty()) {
            all.add(new Weighted(8, this::onHardLink));
        }
        if (features.identities()) {
            all.add(new Weighted(25, this::asUser));
        }
        this.table = List.copyOf(all);
        this.totalWeight = weight(table);
    }

    private static int weight(List<Weighted> table) {
        return table.stream().mapToInt(Weighted::weight).sum();
    }

    /** The next operation, choosing paths with {@code live} as the current merged tree. */
    Op next(Live current) {
        this.live = current;
        Op op = draw(table, totalWeight);
        while (avoided.test(op)) {
            op = draw(table, totalWeight);
        }
        return op;
    }

    private Op draw(List<Weighted> from, int total) {
        int roll = random.nextInt(total);
        for (Weighted entry : from) {
            roll -= entry.weight();
            if (roll < 0) {
                return entry.make().get();
            }
        }
        throw new IllegalStateException("weights");
    }

    private Op asUser() {
        Identity who = Identity.USERS.get(random.nextInt(Identity.USERS.size()));
        return new Op.AsUser(who, draw(userTable, userWeight), callers);
    }

    /** A change through one name of a generated hard link, then a look at all its names. */
    private Op onHardLink() {
        List<String> names = hardLinks.get(random.nextInt(hardLinks.size()));
        String name = pick(random, names);
        Op inner = switch (random.nextInt(12)) {
            case 0 -> new Op.WriteAt(name, random.nextInt(50), content());
            case 1 -> new Op.Append(name, content());
            case 2 -> new Op.Overwrite(name, content());
            case 3 -> new Op.Truncate(name, random.nextInt(30));
            case 4 -> new Op.Chmod(name, MODES[random.nextInt(MODES.length)]);
            case 5 -> new Op.Chown(name, owner()[0], owner()[1], false);
            case 6 -> new Op.XattrSet(name, xattrName(), "l" + random.nextInt(100));
            case 7 -> new Op.Delete(name);
            case 8 -> new Op.Move(name, newPath(), Op.MoveMode.ATOMIC);
            case 9 -> new Op.Link(newPath(), name);
            case 10 -> new Op.SetMtime(name, LayerGenerator.oldTime(random).toMillis());
            default -> new Op.Read(name);
        };
        if (features.identities() && random.nextInt(4) == 0) {
            inner = new Op.AsUser(Identity.USERS.get(random.nextInt(Identity.USERS.size())), inner, callers);
        }
        Set<String> namespaces = features.realPaths() ? Observe.ALL_NAMESPACES : Observe.USER_NAMESPACE;
        return new Op.OnHardLink(names, inner, namespaces);
    }

    private int mode() {
        int[] modes = random.nextBoolean() ? LayerGenerator.FILE_MODES : LayerGenerator.DIR_MODES;
        return modes[random.nextInt(modes.length)];
    }

    private int[] owner() {
        return Identity.OWNERS[random.nextInt(Identity.OWNERS.length)];
    }

    /** chown to one of the owners: uid and gid, or one of them only. */
    private Op chown() {
        int[] owner = owner();
        int roll = random.nextInt(4);
        return new Op.Chown(path(), roll == 1 ? -1 : owner[0], roll == 2 ? -1 : owner[1], random.nextInt(3) == 0);
    }

    /** user.*, trusted.* or the overlay's own prefix (which both sides must refuse). */
    private String anyXattrName() {
        int roll = random.nextInt(10);
        String prefix = roll < 5 ? "user." : roll < 9 ? "trusted." : privateXattrs;
        return prefix + xattrName();
    }

    private static String pick(SplittableRandom random, List<String> from) {
        return from.get(random.nextInt(from.size()));
    }

    /** Mostly an existing entry; else a name used before, a new name, or a random deep path. */
    private String path() {
        int roll = random.nextInt(100);
        if (roll < 65 && !live.entries().isEmpty()) {
            return pick(random, live.entries());
        } else if (roll < 85) {
            return pick(random, pool);
        }
        return roll < 95 ? newPath() : randomDeepPath();
    }

    private String filePath() {
        return random.nextInt(2) == 0 && !live.files().isEmpty() ? pick(random, live.files()) : path();
    }

    private String dirPath() {
        return random.nextInt(2) == 0 && !live.dirs().isEmpty() ? pick(random, live.dirs()) : path();
    }

    /** A name that may not exist yet: a new or layer-alphabet leaf in an existing dir (mostly) or the root. */
    private String newPath() {
        int roll = random.nextInt(10);
        String parent;
        if (roll < 6 && !live.dirs().isEmpty()) {
            parent = pick(random, live.dirs());
        } else if (roll < 8) {
            parent = "";
        } else {
            parent = pick(random, pool);
        }
        String leaf = random.nextInt(3) == 0 ? LayerGenerator.ALPHABETS[0][random.nextInt(4)]
                : NEW_NAMES[random.nextInt(NEW_NAMES.length)];
        return remember(parent.isEmpty() ? leaf : parent + "/" + leaf);
    }

    private String randomDeepPath() {
        StringBuilder path = new StringBuilder();
        int depth = 1 + random.nextInt(4);
        for (int level = 0; level < depth; level++) {
            String[] alphabet = LayerGenerator.ALPHABETS[Math.min(level, LayerGenerator.ALPHABETS.length - 1)];
            path.append(level == 0 ? "" : "/").append(alphabet[random.nextInt(alphabet.length)]);
        }
        return path.toString();
    }

    private String remember(String path) {
        if (known.add(path)) {
            pool.add(path);
        }
        return path;
    }

    private Op stat() {
        return new Op.Stat(random.nextInt(8) == 0 ? "" : path(), random.nextInt(3) == 0);
    }

    private Op move() {
        String source = random.nextInt(3) == 0 && !live.dirs().isEmpty() ? pick(random, live.dirs()) : path();
        int roll = random.nextInt(100);
        String target;
        if (roll < 40) {
            target = path();
        } else if (roll < 80) {
            target = newPath();
        } else if (roll < 92) {
            // into its own subtree: EINVAL from rename(2), whatever the JDK checks first
            target = remember(source + "/" + NEW_NAMES[random.nextInt(NEW_NAMES.length)]);
        } else {
            int slash = source.lastIndexOf('/');
            target = slash < 0 ? source : source.substring(0, slash);
        }
        Op.MoveMode[] modes = Op.MoveMode.values();
        Op.MoveMode mode = modes[random.nextInt(modes.length)];
        if (mode == Op.MoveMode.REPLACE && (target.equals(source) || target.startsWith(source + "/"))) {
            // The JDK's REPLACE_EXISTING removes an existing target before calling rename(2), so
            // moving into the source's own subtree deletes the target and then fails with EINVAL.
            // That is the JDK's emulation, not overlayfs, and the javadoc allows either result,
            // so such moves are done as a plain rename(2).
            mode = Op.MoveMode.ATOMIC;
        }
        return new Op.Move(source, target, mode);
    }

    /** Targets without "..": see LayerGenerator#symlinkTarget. */
    private String symlinkTarget() {
        int roll = random.nextInt(10);
        if (roll < 6) {
            return path();
        } else if (roll < 8) {
            return NEW_NAMES[random.nextInt(NEW_NAMES.length)];
        }
        return LayerGenerator.ALPHABETS[0][random.nextInt(LayerGenerator.ALPHABETS[0].length)];
    }

    private String xattrName() {
        return LayerGenerator.XATTR_NAMES[random.nextInt(LayerGenerator.XATTR_NAMES.length)];
    }

    private Op heldRead() {
        String path = filePath();
        Op inner = switch (random.nextInt(8)) {
            case 0 -> new Op.Overwrite(path, content());
            case 1 -> new Op.Append(path, content());
            case 2 -> new Op.Truncate(path, random.nextInt(100));
            case 3 -> new Op.Delete(path);
            case 4 -> new Op.Move(path, newPath(), Op.MoveMode.ATOMIC);
            case 5 -> new Op.Chmod(path, MODES[random.nextInt(MODES.length)]);
            case 6 -> new Op.XattrSet(path, xattrName(), "h" + random.nextInt(100));
            default -> new Op.WriteAt(path, random.nextInt(50), content());
        };
        return new Op.HeldRead(path, inner);
    }

    private Op.Content content() {
        int roll = random.nextInt(10);
        int length = roll == 0 ? 0 : roll < 8 ? 1 + random.nextInt(400) : 4000 + random.nextInt(9000);
        return new Op.Content(random.nextLong(), length);
    }
}
