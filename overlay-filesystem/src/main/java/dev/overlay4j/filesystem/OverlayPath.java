package dev.overlay4j.filesystem;

import java.io.IOException;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * A path of an {@link OverlayFileSystem}: Unix syntax, absolute from the overlay root or
 * relative. Purely syntactic, like {@code sun.nio.fs.UnixPath}: {@code "."} and {@code ".."}
 * stay until {@link #normalize()}, and nothing touches the file system except
 * {@link #toRealPath}. The empty path has one empty name, as in the JDK.
 */
final class OverlayPath implements Path {

    private final OverlayFileSystem fs;
    private final boolean absolute;
    /** The names; the empty path is the single name {@code ""}. */
    private final List<String> names;

    private OverlayPath(OverlayFileSystem fs, boolean absolute, List<String> names) {
        this.fs = fs;
        this.absolute = absolute;
        this.names = names;
    }

    static OverlayPath parse(OverlayFileSystem fs, String first, String... more) {
        StringBuilder joined = new StringBuilder(first);
        for (String segment : more) {
            if (!segment.isEmpty()) {
                if (!joined.isEmpty()) {
                    joined.append('/');
                }
                joined.append(segment);
            }
        }
        String text = joined.toString();
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            throw new InvalidPathException(text, "Nul character not allowed", nul);
        }
        List<String> names = new ArrayList<>();
        for (String name : text.split("/")) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        boolean absolute = text.startsWith("/");
        if (!absolute && names.isEmpty()) {
            names.add("");
        }
        return new OverlayPath(fs, absolute, List.copyOf(names));
    }

    static OverlayPath root(OverlayFileSystem fs) {
        return new OverlayPath(fs, true, List.of());
    }

    private OverlayPath with(boolean isAbsolute, List<String> newNames) {
        if (!isAbsolute && newNames.isEmpty()) {
            newNames = List.of("");
        }
        return new OverlayPath(fs, isAbsolute, List.copyOf(newNames));
    }

    boolean isEmpty() {
        return !absolute && names.size() == 1 && names.getFirst().isEmpty();
    }

    /** The names of a path that is not empty (none for the empty path). */
    List<String> names() {
        return isEmpty() ? List.of() : names;
    }

    static OverlayPath of(Path path) {
        Objects.requireNonNull(path, "path");
        if (!(path instanceof OverlayPath overlayPath)) {
            throw new ProviderMismatchException("not a path of the overlay file system: " + path);
        }
        return overlayPath;
    }

    @Override
    public OverlayFileSystem getFileSystem() {
        return fs;
    }

    @Override
    public boolean isAbsolute() {
        return absolute;
    }

    @Override
    public Path getRoot() {
        return absolute ? fs.root() : null;
    }

    @Override
    public Path getFileName() {
        if (names.isEmpty()) {
            return null;
        }
        return names.size() == 1 && !absolute ? this : with(false, List.of(names.getLast()));
    }

    @Override
    public Path getParent() {
        if (names.isEmpty() || isEmpty()) {
            return null;
        }
        if (names.size() == 1) {
            return absolute ? fs.root() : null;
        }
        return with(absolute, names.subList(0, names.size() - 1));
    }

    @Override
    public int getNameCount() {
        return names.size();
    }

    @Override
    public Path getName(int index) {
        if (index < 0 || index >= names.size()) {
            throw new IllegalArgumentException("no name " + index + " in " + this);
        }
        return with(false, List.of(names.get(index)));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
        if (beginIndex < 0 || beginIndex >= names.size() || endIndex <= beginIndex || endIndex > names.size()) {
            throw new IllegalArgumentException("no subpath [" + beginIndex + ", " + endIndex + ") in " + this);
        }
        return with(false, names.subList(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
        if (!(Objects.requireNonNull(other) instanceof OverlayPath that) || that.fs != fs
                || that.absolute != absolute || that.names.size() > names.size()) {
            return false;
        }
        return names.subList(0, that.names.size()).equals(that.names);
    }

    @Override
    public boolean endsWith(Path other) {
        if (!(Objects.requireNonNull(other) instanceof OverlayPath that) || that.fs != fs) {
            return false;
        }
        if (that.absolute) {
            return absolute && names.equals(that.names);
        }
        if (that.names.size() > names.size()) {
            return false;
        }
        return names.subList(names.size() - that.names.size(), names.size()).equals(that.names);
    }

    @Override
    public OverlayPath normalize() {
        List<String> out = new ArrayList<>();
        for (String name : names()) {
            if (name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                if (!out.isEmpty() && !out.getLast().equals("..")) {
                    out.removeLast();
                } else if (!absolute) {
                    out.add(name); // a relative path keeps the ".." it cannot cancel; the root's parent is the root
                }
                continue;
            }
            out.add(name);
        }
        return out.equals(names()) ? this : with(absolute, out);
    }

    @Override
    public OverlayPath resolve(Path other) {
        OverlayPath that = of(other);
        if (that.absolute) {
            return that;
        }
        if (that.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return that;
        }
        List<String> joined = new ArrayList<>(names);
        joined.addAll(that.names);
        return with(absolute, joined);
    }

    @Override
    public Path relativize(Path other) {
        OverlayPath that = of(other);
        if (that.absolute != absolute) {
            throw new IllegalArgumentException("'other' is different type of Path: " + this + " and " + that);
        }
        List<String> base = normalize().names();
        List<String> target = that.normalize().names();
        int common = 0;
        while (common < base.size() && common < target.size() && base.get(common).equals(target.get(common))) {
            common++;
        }
        List<String> out = new ArrayList<>();
        for (String name : base.subList(common, base.size())) {
            if (name.equals("..")) {
                throw new IllegalArgumentException("cannot relativize " + that + " against " + this);
            }
            out.add("..");
        }
        out.addAll(target.subList(common, target.size()));
        return with(false, out);
    }

    @Override
    public URI toUri() {
        return fs.uriOf(toAbsolutePath());
    }

    @Override
    public OverlayPath toAbsolutePath() {
        return absolute ? this : fs.root().resolve(this);
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
        return fs.operations().toRealPath(this, options);
    }

    @Override
    public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
        throw new UnsupportedOperationException("the overlay file system has no watch service");
    }

    @Override
    public Iterator<Path> iterator() {
        List<Path> parts = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            parts.add(getName(i));
        }
        return parts.iterator();
    }

    @Override
    public int compareTo(Path other) {
        return toString().compareTo(of(other).toString());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof OverlayPath that && that.fs == fs && that.absolute == absolute && that.names.equals(names);
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        String joined = String.join("/", names);
        return absolute ? "/" + joined : joined;
    }
}
