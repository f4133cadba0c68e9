package dev.overlay4j.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A normalized path from the root of a layer or of the overlay: zero or more names, each
 * non-empty, not {@code "."} or {@code ".."}, without {@code '/'} or NUL. The root has no names.
 * Immutable; compares by its names.
 */
public final class EntryPath implements Comparable<EntryPath> {

    /** The longest name Linux accepts (NAME_MAX), in UTF-8 bytes. */
    public static final int NAME_MAX = 255;

    public static final EntryPath ROOT = new EntryPath(new String[0]);

    private final String[] names;

    private EntryPath(String[] names) {
        this.names = names;
    }

    /**
     * Parses a slash-separated path; leading, trailing and repeated slashes and {@code "."}
     * names are dropped. {@code ".."} is refused because a layer path never climbs out of its root.
     * Names longer than {@link #NAME_MAX} bytes are accepted: whoever looks a path up reports
     * ENAMETOOLONG (see {@link #fitsNameMax}), as the kernel does at lookup and not at parsing.
     *
     * @throws IllegalArgumentException for {@code ".."} or NUL
     */
    public static EntryPath of(String path) {
        List<String> out = new ArrayList<>();
        for (String name : path.split("/")) {
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            out.add(name);
        }
        return out.isEmpty() ? ROOT : new EntryPath(checked(out.toArray(String[]::new)));
    }

    /** Builds a path from names, each of which must be a valid single name. */
    public static EntryPath ofNames(List<String> names) {
        return names.isEmpty() ? ROOT : new EntryPath(checked(names.toArray(String[]::new)));
    }

    /** Whether {@code name} is a valid single name (see the class comment). */
    public static boolean isValidName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.indexOf('/') < 0 && name.indexOf('\0') < 0;
    }

    /** Whether {@code name} fits in NAME_MAX bytes of UTF-8. */
    public static boolean fitsNameMax(String name) {
        return name.length() <= NAME_MAX / 3
                || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= NAME_MAX;
    }

    private static String[] checked(String[] names) {
        for (String name : names) {
            if (!isValidName(name)) {
                throw new IllegalArgumentException("not a valid file name: \"" + name + "\"");
            }
        }
        return names;
    }

    public boolean isRoot() {
        return names.length == 0;
    }

    public int nameCount() {
        return names.length;
    }

    public String name(int index) {
        return names[index];
    }

    /** The last name; the empty string for the root. */
    public String fileName() {
        return names.length == 0 ? "" : names[names.length - 1];
    }

    /** The parent path; the root's parent is the root. */
    public EntryPath parent() {
        return names.length <= 1 ? ROOT : new EntryPath(Arrays.copyOf(names, names.length - 1));
    }

    /** This path with one more name. */
    public EntryPath resolve(String name) {
        if (!isValidName(name)) {
            throw new IllegalArgumentException("not a valid file name: \"" + name + "\"");
        }
        String[] longer = Arrays.copyOf(names, names.length + 1);
        longer[names.length] = name;
        return new EntryPath(longer);
    }

    /** This path followed by all names of {@code other}. */
    public EntryPath resolve(EntryPath other) {
        if (other.isRoot()) {
            return this;
        }
        if (isRoot()) {
            return other;
        }
        String[] joined = Arrays.copyOf(names, names.length + other.names.length);
        System.arraycopy(other.names, 0, joined, names.length, other.names.length);
        return new EntryPath(joined);
    }

    /** Whether this path equals {@code ancestor} or lies below it. */
    public boolean startsWith(EntryPath ancestor) {
        if (ancestor.names.length > names.length) {
            return false;
        }
        for (int i = 0; i < ancestor.names.length; i++) {
            if (!names[i].equals(ancestor.names[i])) {
                return false;
            }
        }
        return true;
    }

    /** The first {@code count} names. */
    public EntryPath subpath(int count) {
        return count == 0 ? ROOT : new EntryPath(Arrays.copyOf(names, count));
    }

    /** The names below {@code ancestor}, which this path must start with. */
    public EntryPath relativize(EntryPath ancestor) {
        if (!startsWith(ancestor)) {
            throw new IllegalArgumentException(this + " does not lie below " + ancestor);
        }
        return new EntryPath(Arrays.copyOfRange(names, ancestor.names.length, names.length));
    }

    public List<String> names() {
        return Collections.unmodifiableList(Arrays.asList(names));
    }

    /** The path relative to the root, without a leading slash; {@code ""} for the root. */
    public String relativeString() {
        return String.join("/", names);
    }

    /** The path with a leading slash; {@code "/"} for the root. */
    @Override
    public String toString() {
        return "/" + relativeString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof EntryPath path && Arrays.equals(names, path.names);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(names);
    }

    @Override
    public int compareTo(EntryPath other) {
        return Arrays.compare(names, other.names);
    }
}
