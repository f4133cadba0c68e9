package dev.overlay4j.filesystem;

import dev.overlay4j.api.Access;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code java.nio.file} operations of one overlay file system, each turned into calls on
 * its {@link Overlay}: path lookup (symlinks and {@code ".."}), open, create, delete, links,
 * access checks and attribute reads. The overlay decides every overlay rule; this class only
 * does what the kernel's VFS would do before calling a file system.
 */
final class FileOperations {

    private final OverlayFileSystem fs;

    FileOperations(OverlayFileSystem fs) {
        this.fs = fs;
    }

    private Overlay overlay() {
        return fs.overlay();
    }

    /**
     * Runs a call that changes the overlay. This is the one place where EROFS becomes the
     * {@link ReadOnlyFileSystemException} NIO callers expect from a write to a read-only file system.
     */
    <T> T changing(IoAction<T> change) throws IOException {
        try {
            return change.run();
        } catch (FileSystemException e) {
            if (Errno.of(e) == Errno.EROFS) {
                ReadOnlyFileSystemException readOnly = new ReadOnlyFileSystemException();
                readOnly.initCause(e);
                throw readOnly;
            }
            throw e;
        }
    }

    static boolean followLinks(LinkOption... options) {
        boolean follow = true;
        for (LinkOption option : options) {
            if (Objects.requireNonNull(option, "link option") == LinkOption.NOFOLLOW_LINKS) {
                follow = false;
            } else {
                throw new UnsupportedOperationException(option + " not supported");
            }
        }
        return follow;
    }

    /**
     * The overlay entry a path names: symlinks in all but the last name are followed, and in
     * the last one too when {@code followLast}. {@code ".."} goes to the parent of the directory
     * reached so far, after its links are followed, as path lookup does.
     */
    EntryPath entry(OverlayPath path, boolean followLast) throws IOException {
        EntryPath resolved = EntryPath.ROOT;
        List<String> pending = new ArrayList<>();
        for (String name : path.toAbsolutePath().names()) {
            switch (name) {
                case "." -> {
                }
                case ".." -> {
                    if (!pending.isEmpty()) {
                        resolved = overlay().resolve(resolved.resolve(EntryPath.ofNames(pending)), true);
                        pending.clear();
                        if (!overlay().stat(resolved).isDirectory()) {
                            throw Errno.ENOTDIR.exception(path);
                        }
                    }
                    resolved = resolved.parent();
                }
                default -> pending.add(name);
            }
        }
        if (pending.isEmpty()) {
            return resolved;
        }
        return overlay().resolve(resolved.resolve(EntryPath.ofNames(pending)), followLast);
    }

    /** The absolute path's names as an entry path, or null when they include "." or "..". */
    private static EntryPath withoutDots(OverlayPath path) {
        List<String> names = path.toAbsolutePath().names();
        for (String name : names) {
            if (name.equals(".") || name.equals("..")) {
                return null;
            }
        }
        try {
            return EntryPath.ofNames(names);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    OverlayFileAttributes attributes(OverlayPath path, boolean followLinks) throws IOException {
        return new OverlayFileAttributes(statLikeJdk(path, followLinks), fs.principals());
    }

    /**
     * Stats what a path names, reporting ENOTDIR (a non-directory on the way) as
     * NoSuchFileException. The JDK's default provider does so for attribute reads, access checks
     * and the source of copy and move, and callers rely on it (Files.exists, walkers).
     */
    EntryAttributes statLikeJdk(OverlayPath path, boolean followLinks) throws IOException {
        try {
            EntryPath direct = withoutDots(path);
            if (direct != null) {
                // Most paths hold no symlink: a successful lstat proves that (every earlier name was a
                // directory) and saves the walk that follows links. Otherwise the walk decides.
                try {
                    EntryAttributes attributes = overlay().stat(direct);
                    if (!followLinks || !attributes.isSymlink()) {
                        return attributes;
                    }
                } catch (FileSystemException e) {
                    // a symlink on the way, or nothing there: the walk below finds out which
                }
            }
            return overlay().stat(entry(path, followLinks));
        } catch (FileSystemException e) {
            if (Errno.of(e) == Errno.ENOTDIR) {
                throw Errno.ENOENT.exception(path);
            }
            throw e;
        }
    }

    Optional<EntryAttributes> statIfExists(EntryPath entry) throws IOException {
        try {
            return Optional.of(overlay().stat(entry));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    FileChannel newChannel(OverlayPath path, Set<? extends OpenOption> optionSet, FileAttribute<?>... attributes)
            throws IOException {
        OpenOptions options = OpenOptions.of(optionSet);
        int permissions = PermissionBits.initial(attributes, 0666);
        EntryPath direct = withoutDots(path);
        if (direct != null) {
            // Most paths hold no symlink: the engine opens them as they are, and reports ELOOP for a
            // final symlink and ENOTDIR for one on the way; only then is the path resolved.
            try {
                return open(path, direct, options, permissions);
            } catch (FileSystemException e) {
                Errno errno = Errno.of(e);
                if (errno != Errno.ELOOP && errno != Errno.ENOTDIR) {
                    throw e;
                }
            }
        }
        // O_CREAT|O_EXCL never follows a final symlink: an existing link makes it fail with EEXIST
        EntryPath entry = entry(path, !options.noFollow() && !options.createNew());
        if (options.noFollow()) {
            Optional<EntryAttributes> existing = statIfExists(entry);
            if (existing.isPresent() && existing.get().isSymlink()) {
                throw Errno.ELOOP.exception(path, "NOFOLLOW_LINKS specified");
            }
        }
        return open(path, entry, options, permissions);
    }

    private FileChannel open(OverlayPath path, EntryPath entry, OpenOptions options, int permissions)
            throws IOException {
        IoAction<OverlayFile> open = () -> overlay().open(entry, options.forEngine(), fs.identity().newEntry(permissions));
        OverlayFile file;
        try {
            file = options.write() ? changing(open) : open.run();
        } catch (FileSystemException e) {
            if (Errno.of(e) != Errno.EISDIR || options.write()) {
                throw e;
            }
            // The JDK opens a directory for reading and fails each read with EISDIR; so do we.
            file = new DirectoryFile(overlay(), entry);
        }
        OverlayFileChannel.CloseAction afterClose = options.deleteOnClose() ? () -> deleteEntry(entry) : null;
        return new OverlayFileChannel(file, options, afterClose);
    }

    DirectoryStream<Path> newDirectoryStream(OverlayPath directory, DirectoryStream.Filter<? super Path> filter)
            throws IOException {
        return new OverlayDirectoryStream(directory, overlay().listDirectory(entry(directory, true)), filter);
    }

    void createDirectory(OverlayPath directory, FileAttribute<?>... attributes) throws IOException {
        int permissions = PermissionBits.initial(attributes, 0777);
        EntryPath entry = entry(directory, false);
        changing(() -> {
            overlay().createDirectory(entry, fs.identity().newEntry(permissions));
            return null;
        });
    }

    void createSymbolicLink(OverlayPath link, Path target, FileAttribute<?>... attributes) throws IOException {
        OverlayPath.of(target);
        if (attributes.length > 0) {
            throw new UnsupportedOperationException("Initial file attributes not supported when creating symbolic link");
        }
        EntryPath entry = entry(link, false);
        changing(() -> {
            // a symlink's permissions are always 0777; the umask does not apply
            overlay().createSymlink(entry, target.toString(),
                    new NewEntryAttributes(0777, fs.identity().uid(), fs.identity().gid()));
            return null;
        });
    }

    void createLink(OverlayPath link, OverlayPath existing) throws IOException {
        // link(2) does not follow a final symlink in the existing path, and looks it up whole
        // (ENOENT, ENOTDIR) before it looks at the new name's parents.
        EntryPath existingEntry = entry(existing, false);
        overlay().stat(existingEntry);
        EntryPath linkEntry = entry(link, false);
        changing(() -> {
            overlay().link(existingEntry, linkEntry);
            return null;
        });
    }

    Path readSymbolicLink(OverlayPath link) throws IOException {
        try {
            return fs.getPath(overlay().readLink(entry(link, false)));
        } catch (FileSystemException e) {
            if (Errno.of(e) == Errno.EINVAL) {
                throw new NotLinkException(link.toString());
            }
            throw e;
        }
    }

    void delete(OverlayPath path) throws IOException {
        EntryPath entry = entry(path, false);
        deleteEntry(entry);
    }

    /** {@code rmdir} for a directory, {@code unlink} for anything else, as the JDK chooses. */
    void deleteEntry(EntryPath entry) throws IOException {
        boolean directory = overlay().stat(entry).isDirectory();
        changing(() -> {
            if (directory) {
                overlay().removeDirectory(entry);
            } else {
                overlay().unlink(entry);
            }
            return null;
        });
    }

    Path toRealPath(OverlayPath path, LinkOption... options) throws IOException {
        EntryPath entry = entry(path, followLinks(options));
        overlay().stat(entry); // the path must exist
        return fs.getPath(entry.toString());
    }

    boolean isSameFile(OverlayPath a, Path other) throws IOException {
        if (a.equals(other)) {
            return true;
        }
        if (!(other instanceof OverlayPath b) || b.getFileSystem() != fs) {
            return false;
        }
        return overlay().stat(entry(a, true)).inode() == overlay().stat(entry(b, true)).inode();
    }

    /** {@code access(2)}, by the rule every frontend applies: {@link Access#check}. */
    void checkAccess(OverlayPath path, AccessMode... modes) throws IOException {
        int mask = 0;
        for (AccessMode mode : modes) {
            mask |= switch (Objects.requireNonNull(mode, "access mode")) {
                case READ -> Access.READ;
                case WRITE -> Access.WRITE;
                case EXECUTE -> Access.EXECUTE;
            };
        }
        Access.check(statLikeJdk(path, true), mask, fs.identity(), fs.isReadOnly(), path);
    }
}
