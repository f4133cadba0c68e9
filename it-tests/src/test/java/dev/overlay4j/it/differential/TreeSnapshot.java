package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A whole tree as compared: relative path -> type, mode, size, nlink (non-dirs), mtime,
 * content hash, symlink target and user xattrs. Directory sizes, inode numbers, ctime and
 * atime are left out (see {@link Observe}).
 */
record TreeSnapshot(SortedMap<String, String> entries) {
    private static final int SHOWN_DIFFERENCES = 25;

    static TreeSnapshot of(Path root) throws IOException {
        TreeMap<String, String> entries = new TreeMap<>();
        walk(root, "", entries);
        return new TreeSnapshot(entries);
    }

    private static void walk(Path path, String name, Map<String, String> entries) throws IOException {
        String key = name.isEmpty() ? "/" : name;
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            // Listed but not found: the kernel lists a whiteout in a lower dir that merges with nothing.
            entries.put(key, "listed, lstat " + Observe.failure(e));
            return;
        }
        StringBuilder text = new StringBuilder(Observe.stat(path, false));
        if (attributes.isRegularFile()) {
            text.append(' ').append(Observe.hash(Files.readAllBytes(path)));
        } else if (attributes.isSymbolicLink()) {
            text.append(" -> ").append(Files.readSymbolicLink(path));
        }
        if (attributes.isRegularFile() || attributes.isDirectory()) {
            text.append(" xattrs=").append(Observe.xattrs(path, false));
        }
        entries.put(key, text.toString());
        if (attributes.isDirectory()) {
            List<Path> children = new ArrayList<>();
            try (var stream = Files.newDirectoryStream(path)) {
                stream.forEach(children::add);
            }
            for (Path child : children) {
                String childName = child.getFileName().toString();
                walk(child, name.isEmpty() ? childName : name + "/" + childName, entries);
            }
        }
    }

    /** The entries that differ, one line each, or an empty list when the trees are equal. */
    List<String> differences(String thisName, TreeSnapshot other, String otherName) {
        List<String> lines = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>(entries.keySet());
        paths.addAll(other.entries.keySet());
        for (String path : paths) {
            String mine = entries.getOrDefault(path, "(absent)");
            String theirs = other.entries.getOrDefault(path, "(absent)");
            if (!mine.equals(theirs)) {
                lines.add(path + "\n      " + thisName + ": " + mine + "\n      " + otherName + ": " + theirs);
            }
        }
        return lines;
    }

    /** Fails naming every differing entry (up to a limit) when the trees differ. */
    void assertSame(String stage, String thisName, TreeSnapshot other, String otherName) {
        List<String> lines = differences(thisName, other, otherName);
        if (!lines.isEmpty()) {
            StringBuilder message = new StringBuilder(stage).append(": ").append(lines.size())
                    .append(" entries differ");
            lines.stream().limit(SHOWN_DIFFERENCES).forEach(line -> message.append("\n  ").append(line));
            throw new AssertionError(message);
        }
    }
}
