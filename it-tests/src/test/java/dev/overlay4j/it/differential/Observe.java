package dev.overlay4j.it.differential;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

import dev.overlay4j.api.Errno;

/**
 * What the differential test compares, normalized so that only what overlayfs defines is
 * compared: never inode numbers, ctime or atime, and no directory sizes (they depend on the
 * backing filesystem's block allocation history, not on overlay semantics).
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
     * strerror reasons, however the JDK words them; an UncheckedIOException (from a directory
     * stream) carries its IOException.
     */
    static Errno errnoOf(Throwable error) {
        return Errno.of(error instanceof UncheckedIOException unchecked ? unchecked.getCause() : error);
    }

    /** An errno outcome; exceptions that are not I/O errors are kept by class so they never match a real errno. */
    static String failure(Throwable error) {
        if (error instanceof IOException || error instanceof UncheckedIOException
                || error instanceof UnsupportedOperationException) {
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

    /** lstat (or stat when following links) as compared: type, mode, size and nlink of non-dirs, mtime. */
    static String stat(Path path, boolean follow) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, links(follow));
        StringBuilder text = new StringBuilder(type(attributes)).append(' ')
                .append(PosixFilePermissions.toString(attributes.permissions()));
        if (!attributes.isDirectory()) {
            text.append(" size=").append(attributes.size())
                    .append(" nlink=").append(Files.getAttribute(path, "unix:nlink", links(follow)));
        }
        return text.append(" mtime=").append(time(attributes.lastModifiedTime())).toString();
    }

    static String statOrError(Path path) {
        try {
            return stat(path, false);
        } catch (IOException | RuntimeException e) {
            return failure(e);
        }
    }

    static String type(PosixFileAttributes attributes) {
        if (attributes.isSymbolicLink()) {
            return "symlink";
        }
        if (attributes.isDirectory()) {
            return "dir";
        }
        return attributes.isRegularFile() ? "file" : "other";
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
