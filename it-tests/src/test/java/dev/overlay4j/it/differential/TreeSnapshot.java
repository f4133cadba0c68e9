package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A whole tree as compared: relative path -> type, mode, owner, size (non-dirs), nlink, mtime,
 * content hash, symlink target, the xattrs of the namespaces both sides can show, and the other
 * names of the same inode (hard links). Directory sizes, absolute inode numbers, ctime and atime
 * are left out (see {@link Observe}).
 */
public record TreeSnapshot(SortedMap<String, String> entries, SortedMap<String, SortedSet<String>> links) {
    private static final int SHOWN_DIFFERENCES = 25;

    /** @param xattrNamespaces the xattr namespaces compared (see {@link Observe#allXattrs}) */
    public static TreeSnapshot of(Path root, Set<String> xattrNamespaces) throws IOException {
        TreeMap<String, String> entries = new TreeMap<>();
        TreeMap<Long, TreeSet<String>> names = new TreeMap<>();
        walk(root, "", entries, names, xattrNamespaces);
        TreeMap<String, SortedSet<String>> links = new TreeMap<>();
        for (TreeSet<String> group : names.values()) {
            if (group.size() > 1) {
                for (String name : group) {
                    TreeSet<String> others = new TreeSet<>(group);
                    others.remove(name);
                    links.put(name, others);
                }
            }
        }
        return new TreeSnapshot(entries, links);
    }

    /** How an entry shows in a comparison: its text and the other names of its inode. */
    private String shown(String path) {
        String text = entries.get(path);
        if (text == null) {
            return "(absent)";
        }
        SortedSet<String> others = links.get(path);
        return others == null || others.isEmpty() ? text : text + " links=" + others;
    }

    private static void walk(Path path, String name, Map<String, String> entries, Map<Long, TreeSet<String>> names,
            Set<String> xattrNamespaces) throws IOException {
        String key = name.isEmpty() ? "/" : name;
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(path, "unix:mode,ino", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            // Listed but not found: the kernel lists a whiteout in a lower dir that merges with nothing.
            entries.put(key, "listed, lstat " + Observe.failure(e));
            return;
        }
        int type = (Integer) attributes.get("mode") & Observe.S_IFMT;
        StringBuilder text = new StringBuilder(Observe.stat(path, false));
        // A user may not read everything (a file or directory the operations chmod'ed): that is compared too.
        try {
            if (type == Observe.S_IFREG) {
                text.append(' ').append(Observe.hash(Files.readAllBytes(path)));
            } else if (type == Observe.S_IFLNK) {
                text.append(" -> ").append(Files.readSymbolicLink(path));
            }
            text.append(" xattrs=").append(Observe.allXattrs(path, xattrNamespaces));
        } catch (IOException e) {
            text.append(" unreadable: ").append(Observe.failure(e));
        }
        List<Path> children = new ArrayList<>();
        if (type == Observe.S_IFDIR) {
            try (var stream = Files.newDirectoryStream(path)) {
                stream.forEach(children::add);
            } catch (IOException | DirectoryIteratorException e) {
                text.append(" unlisted: ").append(Observe.failure(e));
                children.clear();
            }
        }
        entries.put(key, text.toString());
        if (type != Observe.S_IFDIR) {
            names.computeIfAbsent((Long) attributes.get("ino"), ino -> new TreeSet<>()).add(key);
            return;
        }
        for (Path child : children) {
            String childName = child.getFileName().toString();
            walk(child, name.isEmpty() ? childName : name + "/" + childName, entries, names, xattrNamespaces);
        }
    }

    /** This snapshot without the entries named in {@code paths}, also as other names of an inode. */
    public TreeSnapshot without(Set<String> paths) {
        TreeMap<String, String> kept = new TreeMap<>(entries);
        kept.keySet().removeAll(paths);
        TreeMap<String, SortedSet<String>> keptLinks = new TreeMap<>();
        links.forEach((name, others) -> {
            if (!paths.contains(name)) {
                TreeSet<String> remaining = new TreeSet<>(others);
                remaining.removeAll(paths);
                keptLinks.put(name, remaining);
            }
        });
        return new TreeSnapshot(kept, keptLinks);
    }

    /** This snapshot with the link counts of the entries named in {@code paths} left out. */
    public TreeSnapshot withoutNlink(Set<String> paths) {
        TreeMap<String, String> kept = new TreeMap<>(entries);
        for (String path : paths) {
            kept.computeIfPresent(path, (name, text) -> text.replaceFirst(" nlink=[0-9]+ ", " nlink=? "));
        }
        return new TreeSnapshot(kept, links);
    }

    /** The entries that differ, one line each, or an empty list when the trees are equal. */
    List<String> differences(String thisName, TreeSnapshot other, String otherName) {
        List<String> lines = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>(entries.keySet());
        paths.addAll(other.entries.keySet());
        for (String path : paths) {
            String mine = shown(path);
            String theirs = other.shown(path);
            if (!mine.equals(theirs)) {
                lines.add(path + "\n      " + thisName + ": " + mine + "\n      " + otherName + ": " + theirs);
            }
        }
        return lines;
    }

    /** Fails naming every differing entry (up to a limit) when the trees differ. */
    public void assertSame(String stage, String thisName, TreeSnapshot other, String otherName) {
        List<String> lines = differences(thisName, other, otherName);
        if (!lines.isEmpty()) {
            StringBuilder message = new StringBuilder(stage).append(": ").append(lines.size())
                    .append(" entries differ");
            lines.stream().limit(SHOWN_DIFFERENCES).forEach(line -> message.append("\n  ").append(line));
            throw new AssertionError(message);
        }
    }
}
