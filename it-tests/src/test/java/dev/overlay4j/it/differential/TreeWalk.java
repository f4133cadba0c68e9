package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One walk of a merged tree: every entry's type and its mtime and ctime to the nanosecond.
 * The differential run walks each side after every operation; what the generator needs of the
 * reference tree ({@link #live()}) comes from the same walk, and {@link #changes} says, for
 * every entry, whether the operation left each time where it was or moved it. The two sides
 * run at different instants, so moves are compared, never absolute values (except times set on
 * purpose, which lie before {@link Observe#SET_TIMES_BEFORE}). atime is left out: relatime
 * updates it only at the first read after a change and then once a day, so whether a read moves
 * it depends on what happened before the run.
 */
record TreeWalk(SortedMap<String, TreeWalk.Entry> entries) {
    private static final long SET_TIMES_BEFORE_NANOS = TimeUnit.SECONDS.toNanos(
            Observe.SET_TIMES_BEFORE.getEpochSecond());

    /** @param type 'd', 'f', 'l', 'o' (other), or '?' when it is listed but lstat fails */
    record Entry(char type, long mtime, long ctime) {
    }

    static TreeWalk of(Path root) throws IOException {
        TreeMap<String, Entry> entries = new TreeMap<>();
        walk(root, "", entries);
        return new TreeWalk(entries);
    }

    private static void walk(Path path, String name, Map<String, Entry> entries) throws IOException {
        Map<String, Object> stat;
        try {
            stat = stat(path);
        } catch (IOException listedButMissing) {
            entries.put(name, new Entry('?', 0, 0));
            return;
        }
        char type = type((Integer) stat.get("mode"));
        List<Path> children = new ArrayList<>();
        if (type == 'd') {
            try (var stream = Files.newDirectoryStream(path)) {
                stream.forEach(children::add);
            } catch (AccessDeniedException | DirectoryIteratorException unlisted) {
                // A directory the user running the operations may not read: its times only.
                children.clear();
            }
            // Listed first, then its times: the kernel's readdir of an "impure" upper directory that
            // no longer holds a copied-up entry removes the impure xattr, a ctime change. So it falls
            // to the operation that emptied the directory, which changed it anyway, not to a later one.
            stat = stat(path);
        }
        entries.put(name, new Entry(type, nanos(stat.get("lastModifiedTime")), nanos(stat.get("ctime"))));
        for (Path child : children) {
            String childName = child.getFileName().toString();
            walk(child, name.isEmpty() ? childName : name + "/" + childName, entries);
        }
    }

    private static Map<String, Object> stat(Path path) throws IOException {
        return Files.readAttributes(path, "unix:mode,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
    }

    private static char type(int mode) {
        return switch (mode & Observe.S_IFMT) {
            case Observe.S_IFDIR -> 'd';
            case Observe.S_IFREG -> 'f';
            case Observe.S_IFLNK -> 'l';
            default -> 'o';
        };
    }

    private static long nanos(Object time) {
        return ((FileTime) time).to(TimeUnit.NANOSECONDS);
    }

    /** What exists (never the root), as the generator picks paths from it. */
    OpGenerator.Live live() {
        List<String> all = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        List<String> files = new ArrayList<>();
        entries.forEach((path, entry) -> {
            if (path.isEmpty() || entry.type() == '?') {
                return;
            }
            all.add(path);
            if (entry.type() == 'd') {
                dirs.add(path);
            } else if (entry.type() == 'f') {
                files.add(path);
            }
        });
        return new OpGenerator.Live(all, dirs, files);
    }

    /**
     * How an operation moved the times of one entry: {@code m} and {@code c} are '+' forward, '-'
     * back, '@INSTANT' to a time set on purpose or '=' unchanged; {@code added} when the entry was
     * not there before (then m and c are empty).
     */
    record Change(String path, char type, boolean added, String m, String c) {
        /** Whether the ctime moved forward and nothing else did. */
        boolean ctimeOnly() {
            return !added && m.equals("=") && c.equals("+");
        }

        /** Whether both times moved forward. */
        boolean bothForward() {
            return !added && m.equals("+") && c.equals("+");
        }

        @Override
        public String toString() {
            String shown = path.isEmpty() ? "/" : path;
            return added ? shown + " new" : shown + " m" + m + " c" + c;
        }
    }

    /** The changes as compared: "none", or the items joined. */
    static String render(List<Change> changes) {
        if (changes.isEmpty()) {
            return "none";
        }
        List<String> items = new ArrayList<>();
        changes.forEach(change -> items.add(change.toString()));
        return String.join(", ", items);
    }

    /**
     * How an operation changed the times: one {@link Change} per entry whose mtime or ctime moved
     * or that was not there before, in path order. A renamed entry (and its subtree) is compared
     * with itself under its old name. Entries that went away are the tree's business.
     */
    static List<Change> changes(TreeWalk before, TreeWalk after, Op op) {
        List<Change> changes = new ArrayList<>();
        List<String[]> renames = new ArrayList<>();
        for (String[] rename : op.renames()) {
            // Applied when it happened: the source name is gone, the target is there.
            if (!after.entries.containsKey(rename[0]) && after.entries.containsKey(rename[1])) {
                renames.add(rename);
            }
        }
        after.entries.forEach((path, now) -> {
            String origin = path;
            for (String[] rename : renames) {
                if (path.equals(rename[1]) || path.startsWith(rename[1] + "/")) {
                    origin = rename[0] + path.substring(rename[1].length());
                }
            }
            Entry then = before.entries.get(origin);
            if (then == null || then.type() != now.type()) {
                changes.add(new Change(path, now.type(), true, "", ""));
                return;
            }
            String m = move(then.mtime(), now.mtime());
            String c = move(then.ctime(), now.ctime());
            if (!m.equals("=") || !c.equals("=")) {
                changes.add(new Change(path, now.type(), false, m, c));
            }
        });
        return changes;
    }

    private static String move(long before, long after) {
        if (after == before) {
            return "=";
        }
        if (after < SET_TIMES_BEFORE_NANOS) {
            return "@" + java.time.Instant.ofEpochSecond(0, after);
        }
        return after > before ? "+" : "-";
    }
}
