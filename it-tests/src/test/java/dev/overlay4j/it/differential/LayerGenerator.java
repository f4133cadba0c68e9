package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Generates three lower layers from a seed, in the kernel's on-disk format: files of varied
 * sizes and modes (set-id bits among them), directories that merge across layers (set-group-ID,
 * sticky and world-writable ones among them), names that are a file in one layer and a
 * directory in another, symlinks, hard links (a file with two or three names across the
 * directories of one layer), whiteouts (char device 0/0) and opaque directories in the upper
 * two lowers, user.* and trusted.* xattrs (trusted.* on symlinks too), entries owned by the
 * {@link Identity} users and group, and fixed old timestamps on everything. Names come from
 * small alphabets so layers collide often.
 */
final class LayerGenerator {
    static final int LAYERS = 3;
    static final String[][] ALPHABETS = {{"a", "b", "c", "d", "e", "f"}, {"a", "b", "c", "d", "e"}, {"a", "b", "c", "d"}};
    static final int[] FILE_MODES = {0644, 0600, 0755, 0444, 0640, 0664, 0666, 04755, 02755, 06777, 02644};
    static final int[] DIR_MODES = {0755, 0700, 0555, 0775, 0777, 01777, 02775, 03777, 02755};
    static final String[] XATTR_NAMES = {"k0", "k1", "k2", "k3"};
    /** The other names a few files of each layer get. */
    private static final String[] LINK_NAMES = {"h0", "h1", "a", "b"};

    private enum Kind { FILE, LINK, DIR, OPAQUE_DIR, SYMLINK, WHITEOUT }

    /**
     * How the layers are made.
     *
     * @param hardLinks       whether files get more names
     * @param owner           the one owner {uid, gid} of every entry, or null for owners drawn from {@link Identity#OWNERS}
     * @param overlayXattrs   the prefix of the overlay's own xattrs ("trusted.overlay." or with userxattr "user.overlay.")
     * @param ownerFullRights whether every directory mode gives its owner rwx (see
     *                        {@link KnownDifference#UNPRIVILEGED_SERVER_HAS_ONLY_THE_USERS_RIGHTS})
     */
    record Options(boolean hardLinks, int[] owner, String overlayXattrs, boolean ownerFullRights) {
        static final Options PRIVILEGED = new Options(true, null, "trusted.overlay.", false);
    }

    /**
     * The generated layers (top first), every path named in any of them (whiteouts included),
     * and the names of each file that has several, across the directories of one layer.
     */
    record Template(List<Path> lowers, List<String> paths, List<List<String>> hardLinks) {
    }

    private final SplittableRandom random;
    private final Options options;

    private LayerGenerator(long seed, Options options) {
        this.random = new SplittableRandom(seed);
        this.options = options;
    }

    static Template generate(long seed, Path dir) throws IOException {
        return generate(seed, dir, Options.PRIVILEGED);
    }

    static Template generate(long seed, Path dir, Options options) throws IOException {
        return new LayerGenerator(seed, options).generate(dir);
    }

    private Template generate(Path dir) throws IOException {
        List<Path> lowers = new ArrayList<>();
        List<Map<String, Kind>> layers = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>();
        List<List<String>> hardLinks = new ArrayList<>();
        for (int layer = 0; layer < LAYERS; layer++) {
            Path root = Files.createDirectories(dir.resolve("L" + (layer + 1)));
            lowers.add(root);
            Map<String, Kind> entries = fill(root, layer < LAYERS - 1, hardLinks);
            layers.add(entries);
            paths.addAll(entries.keySet());
        }
        dropWhiteoutsInUnmergedDirs(lowers, layers);
        return new Template(lowers, List.copyOf(paths), List.copyOf(hardLinks));
    }

    /**
     * Removes whiteouts that sit in a directory no other layer merges with. The kernel reads
     * such a directory straight from its one layer, so readdir lists the whiteout as a character
     * device while lookup of the same name says ENOENT; overlay4j hides it in both (a deliberate
     * difference, see the README). Such whiteouts hide nothing, and no operation creates them.
     */
    private static void dropWhiteoutsInUnmergedDirs(List<Path> lowers, List<Map<String, Kind>> layers)
            throws IOException {
        for (int layer = 0; layer < layers.size(); layer++) {
            for (Map.Entry<String, Kind> entry : layers.get(layer).entrySet()) {
                if (entry.getValue() != Kind.WHITEOUT) {
                    continue;
                }
                String name = entry.getKey();
                String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
                if (mergedDirLayers(layers, parent).equals(List.of(layer))) {
                    Files.delete(lowers.get(layer).resolve(name));
                }
            }
        }
    }

    /** The layers whose directories make up the merged directory {@code dir}, top first (kernel lookup rules). */
    private static List<Integer> mergedDirLayers(List<Map<String, Kind>> layers, String dir) {
        List<Integer> stack = new ArrayList<>();
        for (int layer = 0; layer < layers.size(); layer++) {
            stack.add(layer);
        }
        String prefix = "";
        for (String name : dir.isEmpty() ? new String[0] : dir.split("/")) {
            prefix = prefix.isEmpty() ? name : prefix + "/" + name;
            List<Integer> next = new ArrayList<>();
            for (int layer : stack) {
                Kind kind = layers.get(layer).get(prefix);
                if (kind == null) {
                    continue;
                }
                if (kind == Kind.DIR || kind == Kind.OPAQUE_DIR) {
                    next.add(layer);
                }
                if (kind != Kind.DIR) {
                    break; // an opaque dir, a whiteout or a non-directory: nothing below shows through
                }
            }
            stack = next;
        }
        return stack;
    }

    /** Fills one layer; whiteouts and opaque dirs only where a layer below can be hidden. */
    private Map<String, Kind> fill(Path root, boolean hidesLayersBelow, List<List<String>> hardLinks)
            throws IOException {
        Map<String, Kind> entries = new LinkedHashMap<>();
        int count = 25 + random.nextInt(15);
        for (int i = 0; i < count; i++) {
            String path = randomPath();
            if (entries.containsKey(path) || !parentsAreDirs(root, path, entries, hidesLayersBelow)) {
                continue;
            }
            Kind kind = randomKind(hidesLayersBelow);
            create(root, path, kind);
            entries.put(path, kind);
        }
        if (options.hardLinks()) {
            addHardLinks(root, entries, hardLinks);
        }
        finish(root, entries);
        return entries;
    }

    /** Gives up to three files of the layer one or two more names, in directories of the same layer. */
    private void addHardLinks(Path root, Map<String, Kind> entries, List<List<String>> hardLinks) throws IOException {
        List<String> files = entries.entrySet().stream().filter(e -> e.getValue() == Kind.FILE)
                .map(Map.Entry::getKey).toList();
        List<String> dirs = new ArrayList<>(List.of(""));
        entries.forEach((name, kind) -> {
            if (kind == Kind.DIR || kind == Kind.OPAQUE_DIR) {
                dirs.add(name);
            }
        });
        int linked = Math.min(files.size(), 1 + random.nextInt(3));
        for (int i = 0; i < linked; i++) {
            String file = files.get(random.nextInt(files.size()));
            if (hardLinks.stream().anyMatch(group -> group.contains(file))) {
                continue;
            }
            List<String> names = new ArrayList<>(List.of(file));
            int more = 1 + random.nextInt(2);
            for (int j = 0; j < more * 3 && names.size() <= more; j++) {
                String dir = dirs.get(random.nextInt(dirs.size()));
                String leaf = LINK_NAMES[random.nextInt(LINK_NAMES.length)];
                String name = dir.isEmpty() ? leaf : dir + "/" + leaf;
                if (!entries.containsKey(name)) {
                    Files.createLink(root.resolve(name), root.resolve(file));
                    entries.put(name, Kind.LINK);
                    names.add(name);
                }
            }
            if (names.size() > 1) {
                hardLinks.add(List.copyOf(names));
            }
        }
    }

    private String randomPath() {
        int depth = 1 + random.nextInt(3);
        StringBuilder path = new StringBuilder();
        for (int level = 0; level < depth; level++) {
            String[] alphabet = ALPHABETS[level];
            path.append(level == 0 ? "" : "/").append(alphabet[random.nextInt(alphabet.length)]);
        }
        return path.toString();
    }

    /** Creates missing parents as (sometimes opaque) dirs; false when a parent is not a dir here. */
    private boolean parentsAreDirs(Path root, String path, Map<String, Kind> entries, boolean hidesLayersBelow)
            throws IOException {
        int slash = path.indexOf('/');
        while (slash >= 0) {
            String parent = path.substring(0, slash);
            Kind existing = entries.get(parent);
            if (existing == null) {
                Kind kind = hidesLayersBelow && random.nextInt(10) == 0 ? Kind.OPAQUE_DIR : Kind.DIR;
                create(root, parent, kind);
                entries.put(parent, kind);
            } else if (existing != Kind.DIR && existing != Kind.OPAQUE_DIR) {
                return false;
            }
            slash = path.indexOf('/', slash + 1);
        }
        return true;
    }

    private Kind randomKind(boolean hidesLayersBelow) {
        int roll = random.nextInt(100);
        if (hidesLayersBelow && roll >= 80) {
            return roll >= 92 ? Kind.OPAQUE_DIR : Kind.WHITEOUT;
        }
        if (roll < 50) {
            return Kind.FILE;
        }
        return roll < 72 ? Kind.DIR : Kind.SYMLINK;
    }

    private void create(Path root, String name, Kind kind) throws IOException {
        Path path = root.resolve(name);
        switch (kind) {
            case FILE -> {
                Files.write(path, new Op.Content(random.nextLong(), randomSize()).bytes());
                maybeAddXattrs(path, XATTR_NAMESPACES);
            }
            case DIR, OPAQUE_DIR -> {
                Files.createDirectory(path);
                if (kind == Kind.OPAQUE_DIR) {
                    Native.lsetxattr(path, options.overlayXattrs() + "opaque", "y");
                }
                maybeAddXattrs(path, XATTR_NAMESPACES);
            }
            case SYMLINK -> {
                Files.createSymbolicLink(path, path.getFileSystem().getPath(symlinkTarget(name)));
                maybeAddXattrs(path, SYMLINK_XATTR_NAMESPACES); // Linux allows no user.* on a symlink
            }
            case WHITEOUT -> Native.mknodWhiteout(path);
            case LINK -> throw new IllegalArgumentException("hard links are made by addHardLinks");
        }
    }

    private int randomSize() {
        int roll = random.nextInt(20);
        if (roll < 3) {
            return 0;
        } else if (roll < 11) {
            return 1 + random.nextInt(200);
        } else if (roll < 17) {
            return 200 + random.nextInt(6000);
        } else if (roll < 19) {
            return 4096 * (1 + random.nextInt(2)) + random.nextInt(3) - 1;
        }
        return 20_000 + random.nextInt(50_000);
    }

    /**
     * Relative targets without "..": where a link points must not depend on where the mount
     * sits, since the kernel resolves ".." above the merged root into the host's tree while
     * overlay4j's root is "/". (Links get renamed to other depths during the run.)
     */
    private String symlinkTarget(String linkPath) {
        int roll = random.nextInt(10);
        if (roll < 6) {
            return randomPath();
        } else if (roll < 8) {
            String[] alphabet = ALPHABETS[random.nextInt(ALPHABETS.length)];
            return alphabet[random.nextInt(alphabet.length)];
        } else if (roll < 9) {
            return "missing";
        }
        return linkPath.substring(linkPath.lastIndexOf('/') + 1);
    }

    private static final String[] XATTR_NAMESPACES = {"user.", "trusted."};
    private static final String[] SYMLINK_XATTR_NAMESPACES = {"trusted."};

    private void maybeAddXattrs(Path path, String[] namespaces) throws IOException {
        if (random.nextInt(4) == 0) {
            int count = 1 + random.nextInt(3);
            for (int i = 0; i < count; i++) {
                String name = namespaces[random.nextInt(namespaces.length)]
                        + XATTR_NAMES[random.nextInt(XATTR_NAMES.length)];
                Native.lsetxattr(path, name, "v" + random.nextInt(1000));
            }
        }
    }

    /**
     * Owners, modes and old mtimes last, deepest first, so creating children does not touch
     * them; the owner before the mode, since chown clears set-id bits.
     */
    private void finish(Path root, Map<String, Kind> entries) throws IOException {
        List<String> names = new ArrayList<>(entries.keySet());
        names.sort(Comparator.comparingLong((String name) -> name.chars().filter(c -> c == '/').count())
                .reversed().thenComparing(Comparator.naturalOrder()));
        names.add("");
        for (String name : names) {
            Kind kind = entries.getOrDefault(name, Kind.DIR);
            if (kind == Kind.WHITEOUT) {
                continue;
            }
            Path path = name.isEmpty() ? root : root.resolve(name);
            int[] owner = options.owner();
            if (owner == null && !name.isEmpty() && random.nextInt(2) == 0) {
                owner = Identity.OWNERS[random.nextInt(Identity.OWNERS.length)];
            }
            if (owner != null) {
                Files.setAttribute(path, "unix:uid", owner[0], LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", owner[1], LinkOption.NOFOLLOW_LINKS);
            }
            if (kind == Kind.FILE || kind == Kind.LINK) {
                Files.setAttribute(path, "unix:mode", FILE_MODES[random.nextInt(FILE_MODES.length)]);
            } else if (kind != Kind.SYMLINK && !name.isEmpty()) {
                int mode = DIR_MODES[random.nextInt(DIR_MODES.length)];
                Files.setAttribute(path, "unix:mode", options.ownerFullRights() ? mode | 0700 : mode);
            }
            FileTime time = oldTime(random);
            Files.getFileAttributeView(path, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(time, null, null);
        }
    }

    /** A millisecond timestamp in 2001..2020, i.e. before {@link Observe#SET_TIMES_BEFORE}. */
    static FileTime oldTime(SplittableRandom random) {
        long from = java.time.Instant.parse("2001-01-01T00:00:00Z").toEpochMilli();
        long to = Observe.SET_TIMES_BEFORE.toEpochMilli() - 1;
        return FileTime.fromMillis(random.nextLong(from, to));
    }

    /** Copies the generated layers with cp -a (keeping whiteouts, hard links, owners, trusted xattrs and times) into {@code dir}. */
    static List<Path> copy(Template template, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> copies = new ArrayList<>();
        for (Path lower : template.lowers()) {
            Path copy = dir.resolve(lower.getFileName().toString());
            Shell.check("cp", "-a", lower.toString(), copy.toString());
            copies.add(copy);
        }
        return copies;
    }
}
