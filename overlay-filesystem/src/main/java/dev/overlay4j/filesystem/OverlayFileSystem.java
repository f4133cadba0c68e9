package dev.overlay4j.filesystem;

import dev.overlay4j.api.Overlay;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An overlay seen through {@code java.nio.file}: one root, one {@link OverlayFileStore}, Unix
 * path syntax. Every file operation is carried out by its {@link FileOperations}.
 */
final class OverlayFileSystem extends FileSystem {

    static final Set<String> VIEWS = Set.of("basic", "posix", "owner", "unix", "user");

    private final OverlayFileSystemProvider provider;
    private final String name;
    private final Overlay overlay;
    private final ProcessIdentity identity;
    private final Principals principals;
    private final OverlayPath root;
    private final OverlayFileStore store;
    private final FileOperations operations;
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final Consumer<OverlayFileSystem> onClose;

    /**
     * @param name    the URI authority that finds this file system while it is open
     * @param onClose told once when the file system closes
     */
    OverlayFileSystem(OverlayFileSystemProvider provider, String name, Overlay overlay, ProcessIdentity identity,
                      Principals principals, Consumer<OverlayFileSystem> onClose) {
        this.provider = provider;
        this.name = name;
        this.overlay = overlay;
        this.identity = identity;
        this.principals = principals;
        this.onClose = onClose;
        this.root = OverlayPath.root(this);
        this.store = new OverlayFileStore(this);
        this.operations = new FileOperations(this);
    }

    String name() {
        return name;
    }

    /** The overlay, for an operation on an open file system. */
    Overlay overlay() {
        ensureOpen();
        return overlay;
    }

    ProcessIdentity identity() {
        return identity;
    }

    Principals principals() {
        return principals;
    }

    OverlayPath root() {
        return root;
    }

    OverlayFileStore store() {
        return store;
    }

    FileOperations operations() {
        ensureOpen();
        return operations;
    }

    void ensureOpen() {
        if (!open.get()) {
            throw new ClosedFileSystemException();
        }
    }

    URI uriOf(OverlayPath absolute) {
        try {
            return new URI(OverlayFileSystemProvider.SCHEME, name, absolute.toString(), null, null);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("no URI for " + absolute + " in file system " + name, e);
        }
    }

    @Override
    public OverlayFileSystemProvider provider() {
        return provider;
    }

    @Override
    public void close() throws IOException {
        if (open.compareAndSet(true, false)) {
            onClose.accept(this);
            overlay.close();
        }
    }

    @Override
    public boolean isOpen() {
        return open.get();
    }

    @Override
    public boolean isReadOnly() {
        return overlay.isReadOnly();
    }

    @Override
    public String getSeparator() {
        return "/";
    }

    @Override
    public Iterable<Path> getRootDirectories() {
        ensureOpen();
        return List.of(root);
    }

    @Override
    public Iterable<FileStore> getFileStores() {
        ensureOpen();
        return List.of(store);
    }

    @Override
    public Set<String> supportedFileAttributeViews() {
        return VIEWS;
    }

    @Override
    public OverlayPath getPath(String first, String... more) {
        return OverlayPath.parse(this, first, more);
    }

    @Override
    public PathMatcher getPathMatcher(String syntaxAndPattern) {
        int colon = syntaxAndPattern.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected syntax:pattern, not \"" + syntaxAndPattern + "\"");
        }
        String syntax = syntaxAndPattern.substring(0, colon);
        String pattern = syntaxAndPattern.substring(colon + 1);
        Pattern regex = switch (syntax.toLowerCase(Locale.ROOT)) {
            case "glob" -> Pattern.compile(Globs.toRegex(pattern));
            case "regex" -> Pattern.compile(pattern);
            default -> throw new UnsupportedOperationException("syntax '" + syntax + "' not recognized");
        };
        return path -> regex.matcher(path.toString()).matches();
    }

    @Override
    public UserPrincipalLookupService getUserPrincipalLookupService() {
        return principals;
    }

    @Override
    public WatchService newWatchService() {
        throw new UnsupportedOperationException("the overlay file system has no watch service");
    }

    @Override
    public String toString() {
        return "overlay file system " + name + " (" + overlay.config() + ")";
    }
}
