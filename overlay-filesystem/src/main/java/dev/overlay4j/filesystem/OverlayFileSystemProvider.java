package dev.overlay4j.filesystem;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code overlay:} scheme of {@code java.nio.file}.
 *
 * <pre>{@code
 * FileSystem fs = FileSystems.newFileSystem(URI.create("overlay:/"),
 *         Map.of("lowerdir", "/layers/top:/layers/base", "upperdir", "/rw/upper", "workdir", "/rw/work"));
 * }</pre>
 *
 * {@code overlay:/} opens a new anonymous file system every time; {@code overlay://NAME/} opens
 * one that {@code getFileSystem} and {@code Path.of(URI)} find by its name while it is open.
 * Anonymous file systems get a generated name, so {@link Path#toUri()} always round-trips.
 * The env keys are those of the kernel's mount options: {@code lowerdir} (a String with ':'
 * between layers, topmost first, or a List of String, Path or URI), {@code upperdir} and
 * {@code workdir} (String or Path), {@code redirect_dir}, {@code userxattr}, {@code volatile} and
 * {@code ro}, and fuse-overlayfs's {@code uidmapping}, {@code gidmapping}, {@code squash_to_root},
 * {@code squash_to_uid}, {@code squash_to_gid} and {@code static_nlink};
 * without {@code upperdir} the file system is read-only. Alternatively the single key
 * {@code config} gives a whole {@link OverlayConfig}, which is how layers the caller opened
 * itself are passed:
 *
 * <pre>{@code
 * OverlayConfig config = OverlayConfig.builder().lower(myLayer).lower("/layers/base").build();
 * FileSystem fs = FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("config", config));
 * }</pre>
 *
 * The file system owns the layers from then on and closes them when it closes.
 */
public final class OverlayFileSystemProvider extends FileSystemProvider {

    public static final String SCHEME = "overlay";

    private static final String ANONYMOUS_PREFIX = "anonymous-";

    private final ConcurrentMap<String, OverlayFileSystem> open = new ConcurrentHashMap<>();
    private final AtomicLong anonymousCount = new AtomicLong();

    /** Called by {@link java.util.ServiceLoader}. */
    public OverlayFileSystemProvider() {
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    /** The file system name a URI gives, or {@code null} for an anonymous one ({@code overlay:/}). */
    private static String nameOf(URI uri) {
        if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals(SCHEME)) {
            throw new IllegalArgumentException("not an overlay: URI: " + uri);
        }
        if (uri.isOpaque() || uri.getQuery() != null || uri.getFragment() != null) {
            throw new IllegalArgumentException("an overlay URI is overlay:/ or overlay://NAME/, not " + uri);
        }
        String authority = uri.getAuthority();
        if (authority != null && (authority.isEmpty() || uri.getUserInfo() != null || uri.getPort() >= 0)) {
            throw new IllegalArgumentException("bad overlay file system name in " + uri);
        }
        return authority;
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
        String name = nameOf(uri);
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            throw new IllegalArgumentException("an overlay file system URI has no path, not \"" + path + "\": " + uri);
        }
        if (name != null && open.containsKey(name)) {
            throw new FileSystemAlreadyExistsException(uri.toString());
        }
        OverlayConfig config = EnvOptions.toConfig(env);
        ProcessIdentity identity = ProcessIdentity.current();
        Overlay overlay = Overlay.open(config);
        try {
            return register(name, overlay, identity, uri);
        } catch (RuntimeException e) {
            try {
                overlay.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private OverlayFileSystem register(String name, Overlay overlay, ProcessIdentity identity, URI uri) {
        Principals principals = Principals.ofHost();
        if (name != null) {
            OverlayFileSystem fs = new OverlayFileSystem(this, name, overlay, identity, principals, this::closed);
            if (open.putIfAbsent(name, fs) != null) {
                throw new FileSystemAlreadyExistsException(uri.toString());
            }
            return fs;
        }
        while (true) {
            String generated = ANONYMOUS_PREFIX + anonymousCount.incrementAndGet();
            OverlayFileSystem fs = new OverlayFileSystem(this, generated, overlay, identity, principals, this::closed);
            if (open.putIfAbsent(generated, fs) == null) {
                return fs;
            }
        }
    }

    private void closed(OverlayFileSystem fs) {
        open.remove(fs.name(), fs);
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
        String name = nameOf(uri);
        OverlayFileSystem fs = name == null ? null : open.get(name);
        if (fs == null) {
            throw new FileSystemNotFoundException("no open overlay file system named by " + uri);
        }
        return fs;
    }

    @Override
    public Path getPath(URI uri) {
        OverlayFileSystem fs = (OverlayFileSystem) getFileSystem(uri);
        String path = uri.getPath();
        return fs.getPath(path == null || path.isEmpty() ? "/" : path);
    }

    private static FileOperations operations(Path path) {
        return OverlayPath.of(path).getFileSystem().operations();
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        return operations(path).newChannel(OverlayPath.of(path), options, attrs);
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        return operations(path).newChannel(OverlayPath.of(path), options, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
            throws IOException {
        return operations(dir).newDirectoryStream(OverlayPath.of(dir), filter);
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        operations(dir).createDirectory(OverlayPath.of(dir), attrs);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        operations(link).createSymbolicLink(OverlayPath.of(link), target, attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
        OverlayPath existingPath = OverlayPath.of(existing);
        if (existingPath.getFileSystem() != OverlayPath.of(link).getFileSystem()) {
            throw Errno.EXDEV.exception(existing.toString(), link.toString(), null);
        }
        operations(link).createLink(OverlayPath.of(link), existingPath);
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        return operations(link).readSymbolicLink(OverlayPath.of(link));
    }

    @Override
    public void delete(Path path) throws IOException {
        operations(path).delete(OverlayPath.of(path));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        CopyMove.copy(OverlayPath.of(source), OverlayPath.of(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        CopyMove.move(OverlayPath.of(source), OverlayPath.of(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
        return operations(path).isSameFile(OverlayPath.of(path), path2);
    }

    @Override
    public boolean isHidden(Path path) {
        Path name = OverlayPath.of(path).getFileName();
        return name != null && name.toString().startsWith(".");
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
        OverlayPath overlayPath = OverlayPath.of(path);
        overlayPath.getFileSystem().operations().attributes(overlayPath, true); // the path must exist
        return overlayPath.getFileSystem().store();
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        operations(path).checkAccess(OverlayPath.of(path), modes);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        OverlayPath overlayPath = OverlayPath.of(path);
        boolean follow = FileOperations.followLinks(options);
        if (type == BasicFileAttributeView.class) {
            return (V) new AttributeView("basic", overlayPath, follow);
        }
        if (type == PosixFileAttributeView.class) {
            return (V) new AttributeView("posix", overlayPath, follow);
        }
        if (type == FileOwnerAttributeView.class) {
            return (V) new AttributeView("owner", overlayPath, follow);
        }
        if (type == UserDefinedFileAttributeView.class) {
            return (V) new XattrView(overlayPath, follow);
        }
        return null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
            throws IOException {
        if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
            throw new UnsupportedOperationException(type.getName() + " not supported by the overlay file system");
        }
        return (A) operations(path).attributes(OverlayPath.of(path), FileOperations.followLinks(options));
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        return NamedAttributes.read(OverlayPath.of(path), attributes, FileOperations.followLinks(options));
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        NamedAttributes.set(OverlayPath.of(path), attribute, value, FileOperations.followLinks(options));
    }
}
