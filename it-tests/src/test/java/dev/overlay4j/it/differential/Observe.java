package dev.overlay4j.it.differential;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.overlay4j.api.Errno;

/**
 * What the differential test compares, normalized so that only what overlayfs defines is
 * compared: never absolute inode numbers, ctimes or new mtimes (the two sides run at different
 * instants: {@link TreeWalk} compares how each operation moved them), no atime, and no
 * directory sizes (they depend on the backing filesystem's block allocation history, not on
 * overlay semantics).
 */
final class Observe {
    /**
     * Every timestamp the test sets on purpose (in the layers and by SetMtime) lies before this
     * instant, every timestamp the system sets lies after it. Old times are compared exactly;
     * new ones only as "recent", since the two sides run at different instants.
     */
    static final Instant SET_TIMES_BEFORE = Instant.parse("2021-01-01T00:00:00Z");

    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final LinkOption[] FOLLOW = {};

    private Observe() {
    }

    static LinkOption[] links(boolean follow) {
        return follow ? FOLLOW : NOFOLLOW;
    }

    /**
     * The errno an operation failed with: Errno.of reads the JDK's exception types and its
     * strerror reasons, however the JDK words them; an UncheckedIOException or a
     * DirectoryIteratorException (from a directory stream) carries its IOException.
     */
    static Errno errnoOf(Throwable error) {
        return Errno.of(switch (error) {
            case UncheckedIOException unchecked -> unchecked.getCause();
            case DirectoryIteratorException iteration -> iteration.getCause();
            default -> error;
        });
    }

    /** An errno outcome; exceptions that are not I/O errors are kept by class so they never match a real errno. */
    static String failure(Throwable error) {
        if (error instanceof IOException || error instanceof UncheckedIOException
                || error instanceof DirectoryIteratorException || error instanceof UnsupportedOperationException) {
            return "ERR " + errnoOf(error);
        }
        return "THROWN " + error;
    }

    static String time(FileTime time) {
        return time.toInstant().isBefore(SET_TIMES_BEFORE) ? time.toInstant().toString() : "recent";
    }

    static String hash(byte[] content) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
            return "size=" + content.length + " sha=" + HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The xattr namespaces compared where both sides can show them (security.* and system.* belong to others). */
    static final Set<String> ALL_NAMESPACES = Set.of("user", "trusted");
    static final Set<String> USER_NAMESPACE = Set.of("user");

    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;
    static final int S_IFIFO = 0010000;

    /**
     * lstat (or stat when following links) as compared: type, mode with the set-id and sticky
     * bits, owner and group, size of non-dirs, link count, mtime.
     */
    static String stat(Path path, boolean follow) throws IOException {
        Map<String, Object> stat = Files.readAttributes(path, "unix:mode,uid,gid,nlink,size,lastModifiedTime",
                links(follow));
        int mode = (Integer) stat.get("mode");
        StringBuilder text = new StringBuilder(type(mode)).append(' ')
                .append(String.format("%04o", mode & 07777)).append(' ')
                .append(stat.get("uid")).append(':').append(stat.get("gid"));
        if ((mode & S_IFMT) != S_IFDIR) {
            text.append(" size=").append(stat.get("size"));
        }
        if ((mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK) {
            long rdev = (Long) Files.getAttribute(path, "unix:rdev", links(follow));
            // glibc's major()/minor() split of a dev_t
            text.append(" rdev=").append((rdev >>> 8) & 0xfff | (rdev >>> 32) & ~0xfffL).append(',')
                    .append(rdev & 0xff | (rdev >>> 12) & ~0xffL);
        }
        text.append(" nlink=").append(stat.get("nlink"));
        return text.append(" mtime=").append(time((FileTime) stat.get("lastModifiedTime"))).toString();
    }

    static String type(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFLNK -> "symlink";
            case S_IFDIR -> "dir";
            case S_IFREG -> "file";
            case S_IFCHR -> "chardev";
            case S_IFBLK -> "blockdev";
            case S_IFIFO -> "fifo";
            default -> "other";
        };
    }

    static String statOrError(Path path) {
        try {
            return stat(path, false);
        } catch (IOException | RuntimeException e) {
            return failure(e);
        }
    }

    static String listing(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (var entries = Files.newDirectoryStream(dir)) {
            entries.forEach(entry -> names.add(entry.getFileName().toString()));
        }
        names.sort(null);
        return names.toString();
    }

    /** The user xattrs of a file or directory (following links), sorted: {name=value, ...}. */
    static String xattrs(Path path, boolean follow) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(path, UserDefinedFileAttributeView.class,
                links(follow));
        if (view == null) {
            return "xattrs-unsupported";
        }
        TreeMap<String, String> values = new TreeMap<>();
        for (String name : view.list()) {
            values.put(name, readXattr(view, name));
        }
        return values.toString();
    }

    /**
     * Every xattr of the entry itself (not following a symlink) in the namespaces {@code
     * namespaces} (e.g. "user", "trusted"), sorted: {user.k0=v1, trusted.k2=v3}. On the default
     * file system through the l*xattr calls, elsewhere through the user view (user.* only).
     */
    static String allXattrs(Path path, Set<String> namespaces) throws IOException {
        TreeMap<String, String> values = new TreeMap<>();
        if (path.getFileSystem() == FileSystems.getDefault()) {
            for (String name : Native.llistxattr(path)) {
                if (namespaces.contains(name.substring(0, Math.max(0, name.indexOf('.'))))) {
                    try {
                        values.put(name, Native.lgetxattr(path, name));
                    } catch (IOException e) {
                        values.put(name, "(listed, get " + failure(e) + ")");
                    }
                }
            }
        } else if (namespaces.contains("user") && !Files.isSymbolicLink(path)) { // no user.* on symlinks
            UserDefinedFileAttributeView view = Files.getFileAttributeView(path, UserDefinedFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return "xattrs-unsupported";
            }
            for (String name : view.list()) {
                values.put("user." + name, readXattr(view, name));
            }
        }
        return values.toString();
    }

    static String readXattr(UserDefinedFileAttributeView view, String name) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(view.size(name));
        view.read(name, buffer);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }

    static UserDefinedFileAttributeView xattrView(Path path) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(path, UserDefinedFileAttributeView.class);
        if (view == null) {
            throw new UnsupportedOperationException("no UserDefinedFileAttributeView for " + path);
        }
        return view;
    }
}
