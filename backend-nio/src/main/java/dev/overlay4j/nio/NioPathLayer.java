package dev.overlay4j.nio;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A read-only layer on a directory of any NIO {@link java.nio.file.FileSystem}: a zip or jar file
 * (through the JDK's zip filesystem) or a third-party provider. Such stores hold no whiteouts,
 * overlay marks, device nodes or numeric owners: entries belong to the process's user, inode
 * numbers are a hash of the entry path, and permissions come from the store when it keeps them
 * ({@code zip:permissions}, POSIX attributes), else 0644 for files and 0755 for directories.
 */
final class NioPathLayer implements Layer {

    private final Path root;
    private final String description;
    /** What to close with the layer (the zip filesystem this layer opened), or null. */
    private final Closeable owned;
    private final int uid = LinuxCalls.geteuid();
    private final int gid = LinuxCalls.getegid();
    private final boolean zipView;
    private final boolean posixView;
    /** Entries of the archive stored as symlinks, which the zip filesystem shows as files (see {@link ZipSymlinks}). */
    private final Set<String> symlinkEntries;

    NioPathLayer(Path root, String description, Closeable owned) throws IOException {
        this(root, description, owned, Set.of());
    }

    NioPathLayer(Path root, String description, Closeable owned, Set<String> symlinkEntries) throws IOException {
        this.root = root;
        this.symlinkEntries = Set.copyOf(symlinkEntries);
        this.description = description;
        this.owned = owned;
        Set<String> views = root.getFileSystem().supportedFileAttributeViews();
        this.zipView = views.contains("zip");
        this.posixView = views.contains("posix");
        BasicFileAttributes rootAttributes;
        try {
            rootAttributes = Files.readAttributes(root, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            closeOwned();
            throw Errno.ENOENT.exception(description, "the layer's root directory does not exist in its store; fix the location");
        } catch (IOException | RuntimeException e) {
            closeOwned();
            throw e;
        }
        if (!rootAttributes.isDirectory()) {
            closeOwned();
            throw Errno.ENOTDIR.exception(description, "the layer's root is not a directory");
        }
    }

    private void closeOwned() throws IOException {
        if (owned != null) {
            owned.close();
        }
    }

    @Override
    public String description() {
        return description;
    }

    private Path resolve(EntryPath path) {
        Path p = root;
        for (String name : path.names()) {
            p = p.resolve(name);
        }
        return p;
    }

    private FileSystemException error(Errno errno, EntryPath path, String detail) {
        return errno.exception(path.toString(), null, (detail == null ? "" : detail + "; ") + "in layer " + description);
    }

    /** ENOTDIR when a name on the way to {@code path} is not a directory, else ENOENT. */
    private FileSystemException missing(EntryPath path) throws IOException {
        for (int i = 1; i < path.nameCount(); i++) {
            Path ancestor = resolve(path.subpath(i));
            if (Files.exists(ancestor, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(ancestor, LinkOption.NOFOLLOW_LINKS)) {
                return error(Errno.ENOTDIR, path, null);
            }
        }
        return error(Errno.ENOENT, path, null);
    }

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        Path p = resolve(path);
        BasicFileAttributes basic;
        try {
            basic = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            FileSystemException why = missing(path);
            if (why instanceof NotDirectoryException) {
                throw why;
            }
            return Optional.empty();
        }
        boolean storedLink = basic.isRegularFile() && isStoredSymlink(p);
        EntryType type = basic.isDirectory() ? EntryType.DIRECTORY
                : basic.isSymbolicLink() || storedLink ? EntryType.SYMLINK
                : basic.isRegularFile() ? EntryType.REGULAR_FILE
                : null;
        if (type == null) {
            throw error(Errno.EOPNOTSUPP, path, "an entry that is neither file, directory nor symlink");
        }
        int permissions = permissions(p, type);
        long size = storedLink ? basic.size() // the content is the target
                : type == EntryType.SYMLINK ? Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8).length
                : basic.size();
        long mtime = nanos(basic.lastModifiedTime());
        long atime = basic.lastAccessTime() == null ? mtime : nanos(basic.lastAccessTime());
        return Optional.of(new EntryAttributes(type, permissions, uid, gid, size, (size + 511) / 512, atime, mtime,
                mtime, type == EntryType.DIRECTORY ? 2 : 1, inode(path), 0, false, null));
    }

    private int permissions(Path p, EntryType type) throws IOException {
        Set<PosixFilePermission> stored = null;
        if (zipView) {
            Map<String, Object> zip = Files.readAttributes(p, "zip:permissions", LinkOption.NOFOLLOW_LINKS);
            if (zip.get("permissions") instanceof Set<?> set) {
                @SuppressWarnings("unchecked")
                Set<PosixFilePermission> permissions = (Set<PosixFilePermission>) set;
                stored = permissions;
            }
        } else if (posixView) {
            stored = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        }
        if (type == EntryType.SYMLINK) {
            return 0777;
        }
        if (stored == null) {
            return type == EntryType.DIRECTORY ? 0755 : 0644;
        }
        int bits = 0;
        for (PosixFilePermission permission : stored) {
            bits |= 0400 >> permission.ordinal();
        }
        return bits;
    }

    private static long nanos(FileTime time) {
        return time.to(TimeUnit.NANOSECONDS);
    }

    /** A stable, non-zero inode number per entry path (FNV-1a over its names). */
    static long inode(EntryPath path) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : path.toString().getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return hash == 0 ? 1 : hash & Long.MAX_VALUE | 1L << 62;
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
        Optional<EntryAttributes> attributes = stat(directory);
        if (attributes.isEmpty()) {
            throw missing(directory);
        }
        if (!attributes.get().isDirectory()) {
            throw error(Errno.ENOTDIR, directory, null);
        }
        List<DirectoryEntry> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(resolve(directory))) {
            for (Path child : stream) {
                String name = child.getFileName().toString();
                if (name.endsWith("/")) {
                    name = name.substring(0, name.length() - 1); // zipfs keeps the slash of directory entries
                }
                EntryPath childPath = directory.resolve(name);
                Optional<EntryAttributes> childAttributes = stat(childPath);
                childAttributes.ifPresent(a -> entries.add(new DirectoryEntry(childPath.fileName(), a.type(), a.inode())));
            }
        }
        return entries.stream();
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        EntryAttributes attributes = stat(file).orElseThrow(() -> error(Errno.ENOENT, file, null));
        if (attributes.isDirectory()) {
            throw error(Errno.EISDIR, file, null);
        }
        if (attributes.isSymlink()) {
            throw error(Errno.ELOOP, file, "a symlink is never followed inside a layer");
        }
        if (!attributes.isRegularFile()) {
            throw error(Errno.EINVAL, file, "not a regular file but " + attributes.type());
        }
        return new PathContent(resolve(file), attributes.size());
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        EntryAttributes attributes = stat(link).orElseThrow(() -> error(Errno.ENOENT, link, null));
        if (!attributes.isSymlink()) {
            throw error(Errno.EINVAL, link, "not a symbolic link");
        }
        Path p = resolve(link);
        return isStoredSymlink(p) ? new String(Files.readAllBytes(p), StandardCharsets.UTF_8)
                : Files.readSymbolicLink(p).toString();
    }

    private boolean isStoredSymlink(Path p) {
        if (symlinkEntries.isEmpty()) {
            return false;
        }
        String name = p.toString();
        return symlinkEntries.contains(name.startsWith("/") ? name.substring(1) : name);
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        stat(path).orElseThrow(() -> error(Errno.ENOENT, path, null));
        return List.of();
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        stat(path).orElseThrow(() -> error(Errno.ENOENT, path, null));
        return Optional.empty();
    }

    @Override
    public void close() throws IOException {
        closeOwned();
    }

    @Override
    public String toString() {
        return "NioPathLayer[" + description + "]";
    }

    /**
     * Positional reads on a store whose channels may not seek (zipfs inflates entries as a
     * stream): a seekable channel when the provider gives one, else a stream that moves
     * forward and is reopened to go back. Serialized, since both keep a position.
     */
    private static final class PathContent implements ReadableContent {
        private final Path file;
        private final long size;
        private SeekableByteChannel channel;
        private InputStream stream;
        private long streamPosition;

        PathContent(Path file, long size) throws IOException {
            this.file = file;
            this.size = size;
            SeekableByteChannel opened = Files.newByteChannel(file);
            try {
                opened.position(0);
                channel = opened;
            } catch (UnsupportedOperationException notSeekable) {
                opened.close();
            }
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public synchronized int read(ByteBuffer dst, long position) throws IOException {
            if (position >= size) {
                return -1;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            if (channel != null) {
                channel.position(position);
                return channel.read(dst);
            }
            if (stream == null || position < streamPosition) {
                if (stream != null) {
                    stream.close();
                }
                stream = Files.newInputStream(file);
                streamPosition = 0;
            }
            while (streamPosition < position) {
                long skipped = stream.skip(position - streamPosition);
                if (skipped <= 0) {
                    if (stream.read() < 0) {
                        return -1;
                    }
                    skipped = 1;
                }
                streamPosition += skipped;
            }
            int n;
            if (dst.hasArray()) {
                n = stream.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
            } else {
                byte[] chunk = new byte[Math.min(dst.remaining(), 64 * 1024)];
                n = stream.read(chunk);
                if (n > 0) {
                    dst.put(chunk, 0, n);
                }
            }
            if (n > 0) {
                streamPosition += n;
            }
            return n;
        }

        @Override
        public synchronized void close() throws IOException {
            if (channel != null) {
                channel.close();
            }
            if (stream != null) {
                stream.close();
            }
        }
    }
}
