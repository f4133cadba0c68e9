package dev.overlay4j.filesystem;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * {@code Files.copy} and {@code Files.move} between paths of overlay file systems, with the
 * JDK's Unix semantics: a move is a rename, falling back to copy and delete when the rename
 * fails with EXDEV (or the paths are in different overlays); a copy copies one entry (a
 * directory without its content).
 */
final class CopyMove {

    private static final int CHUNK = 256 * 1024;

    private record Options(boolean replace, boolean copyAttributes, boolean followLinks, boolean atomic) {
        static Options of(CopyOption[] options, boolean move) {
            boolean replace = false;
            boolean copyAttributes = false;
            boolean followLinks = !move;
            boolean atomic = false;
            for (CopyOption option : options) {
                switch (Objects.requireNonNull(option, "copy option")) {
                    case StandardCopyOption.REPLACE_EXISTING -> replace = true;
                    case StandardCopyOption.COPY_ATTRIBUTES -> copyAttributes = true;
                    case LinkOption.NOFOLLOW_LINKS -> followLinks = false;
                    case StandardCopyOption.ATOMIC_MOVE -> {
                        if (!move) {
                            throw new UnsupportedOperationException("Unsupported copy option: " + option);
                        }
                        atomic = true;
                    }
                    default -> throw new UnsupportedOperationException("Unsupported copy option: " + option);
                }
            }
            // a move keeps what it moves: attributes come along and links are moved, not followed
            return move ? new Options(replace, true, false, atomic) : new Options(replace, copyAttributes, followLinks, false);
        }
    }

    private CopyMove() {
    }

    static void copy(OverlayPath source, OverlayPath target, CopyOption... optionArray) throws IOException {
        Options options = Options.of(optionArray, false);
        FileOperations from = source.getFileSystem().operations();
        EntryAttributes attributes = from.statLikeJdk(source, options.followLinks());
        EntryPath sourceEntry = from.entry(source, options.followLinks());
        if (prepareTarget(source, sourceEntry, attributes, target, options)) {
            copyEntry(source, sourceEntry, attributes, target, options);
        }
    }

    static void move(OverlayPath source, OverlayPath target, CopyOption... optionArray) throws IOException {
        Options options = Options.of(optionArray, true);
        if (source.getFileSystem() != target.getFileSystem()) {
            if (options.atomic()) {
                throw new AtomicMoveNotSupportedException(source.toString(), target.toString(),
                        "source and target are in different overlay file systems");
            }
            moveByCopy(source, target, options);
            return;
        }
        FileOperations operations = source.getFileSystem().operations();
        Overlay overlay = source.getFileSystem().overlay();
        if (options.atomic()) {
            try {
                rename(operations, overlay, operations.entry(source, false), operations.entry(target, false),
                        RenameMode.REPLACE);
            } catch (FileSystemException e) {
                if (Errno.of(e) == Errno.EXDEV) {
                    throw new AtomicMoveNotSupportedException(source.toString(), target.toString(), e.getReason());
                }
                throw e;
            }
            return;
        }
        EntryAttributes attributes = operations.statLikeJdk(source, false);
        EntryPath sourceEntry = operations.entry(source, false);
        EntryPath targetEntry = operations.entry(target, false);
        Optional<EntryAttributes> existing = operations.statIfExists(targetEntry);
        RenameMode mode = RenameMode.NOREPLACE;
        if (existing.isPresent()) {
            if (existing.get().inode() == attributes.inode()) {
                return; // the same file: nothing to do
            }
            if (!options.replace()) {
                throw Errno.EEXIST.exception(target);
            }
            if (existing.get().isDirectory() && !overlay.listDirectory(targetEntry).isEmpty()) {
                // As the JDK, which tries rmdir first: refused before anything moves (a rename would
                // copy the source up before the overlay finds the target not empty).
                throw new DirectoryNotEmptyException(target.toString());
            }
            if (existing.get().isDirectory() == attributes.isDirectory()) {
                mode = RenameMode.REPLACE; // rename(2) replaces a file or an empty directory atomically
            } else {
                operations.deleteEntry(targetEntry); // the JDK deletes a target of the other kind first
            }
        }
        try {
            rename(operations, overlay, sourceEntry, targetEntry, mode);
        } catch (FileSystemException e) {
            if (Errno.of(e) != Errno.EXDEV) {
                throw e;
            }
            moveByCopy(source, target, options); // as mv(1) and the JDK do when rename refuses
        }
    }

    private static void rename(FileOperations operations, Overlay overlay, EntryPath source, EntryPath target,
                               RenameMode mode) throws IOException {
        operations.changing(() -> {
            overlay.rename(source, target, mode);
            return null;
        });
    }

    private static void moveByCopy(OverlayPath source, OverlayPath target, Options options) throws IOException {
        FileOperations from = source.getFileSystem().operations();
        EntryPath sourceEntry = from.entry(source, false);
        EntryAttributes attributes = source.getFileSystem().overlay().stat(sourceEntry);
        if (attributes.isDirectory() && !source.getFileSystem().overlay().listDirectory(sourceEntry).isEmpty()) {
            throw new DirectoryNotEmptyException(source.toString());
        }
        if (!prepareTarget(source, sourceEntry, attributes, target, options)) {
            return;
        }
        copyEntry(source, sourceEntry, attributes, target, options);
        try {
            from.deleteEntry(sourceEntry);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(target, e);
            throw e;
        }
    }

    /**
     * Clears the way for a copy: an existing target is an error without REPLACE_EXISTING, else
     * it is deleted. Returns false when the target is the source itself (nothing to do).
     */
    private static boolean prepareTarget(OverlayPath source, EntryPath sourceEntry, EntryAttributes attributes,
                                         OverlayPath target, Options options) throws IOException {
        FileOperations to = target.getFileSystem().operations();
        EntryPath targetEntry = to.entry(target, false);
        Optional<EntryAttributes> existing = to.statIfExists(targetEntry);
        if (existing.isEmpty()) {
            return true;
        }
        if (source.getFileSystem() == target.getFileSystem() && existing.get().inode() == attributes.inode()) {
            return false;
        }
        if (!options.replace()) {
            throw Errno.EEXIST.exception(target);
        }
        to.deleteEntry(targetEntry);
        return true;
    }

    private static void copyEntry(OverlayPath source, EntryPath sourceEntry, EntryAttributes attributes,
                                  OverlayPath target, Options options) throws IOException {
        Overlay from = source.getFileSystem().overlay();
        Overlay to = target.getFileSystem().overlay();
        FileOperations targetOperations = target.getFileSystem().operations();
        ProcessIdentity identity = target.getFileSystem().identity();
        EntryPath targetEntry = targetOperations.entry(target, false);
        targetOperations.changing(() -> {
            switch (attributes.type()) {
                case DIRECTORY -> to.createDirectory(targetEntry, identity.newEntry(attributes.permissions()));
                case SYMLINK -> to.createSymlink(targetEntry, from.readLink(sourceEntry),
                        new NewEntryAttributes(0777, identity.uid(), identity.gid()));
                case REGULAR_FILE -> copyContent(from, sourceEntry, to, targetEntry, identity.newEntry(attributes.permissions()));
                default -> to.createSpecial(targetEntry, attributes.type(), identity.newEntry(attributes.permissions()),
                        attributes.rdev());
            }
            return null;
        });
        if (!options.copyAttributes()) {
            return;
        }
        try {
            copyAttributes(from, sourceEntry, attributes, to, targetEntry);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(target, e);
            throw e;
        }
    }

    private static void copyContent(Overlay from, EntryPath sourceEntry, Overlay to, EntryPath targetEntry,
                                    NewEntryAttributes created) throws IOException {
        try (OverlayFile in = from.open(sourceEntry, Set.of(StandardOpenOption.READ), created)) {
            boolean complete = false;
            try (OverlayFile out = to.open(targetEntry,
                    Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW), created)) {
                ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(in.size(), 1)));
                long position = 0;
                int read;
                while ((read = in.read(buffer.clear(), position)) >= 0) {
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        out.write(buffer, position + buffer.position());
                    }
                    position += read;
                }
                complete = true;
            } finally {
                if (!complete) {
                    try {
                        to.unlink(targetEntry);
                    } catch (IOException e) {
                        // the copy failed already; that error is the one to report
                    }
                }
            }
        }
    }

    /**
     * Owner, then permissions (chown may clear set-id bits), then extended attributes, then
     * times last so nothing else changes them. Like the JDK's copy, ownership and extended
     * attributes that cannot be set are left as they are; a symlink only gets owner and times.
     */
    private static void copyAttributes(Overlay from, EntryPath sourceEntry, EntryAttributes attributes,
                                       Overlay to, EntryPath targetEntry) throws IOException {
        try {
            to.setOwner(targetEntry, attributes.uid(), attributes.gid());
        } catch (FileSystemException e) {
            if (Errno.of(e) != Errno.EPERM) {
                throw e;
            }
        }
        if (!attributes.isSymlink()) {
            to.setPermissions(targetEntry, attributes.permissions());
            for (String name : from.listXattrs(sourceEntry)) {
                try {
                    to.setXattr(targetEntry, name, from.readXattr(sourceEntry, name), XattrMode.CREATE_OR_REPLACE);
                } catch (FileSystemException e) {
                    // an attribute of a namespace the target refuses (security.*, trusted.*) stays behind
                }
            }
        }
        to.setTimes(targetEntry, attributes.atimeNanos(), attributes.mtimeNanos());
    }

    private static void deleteQuietly(OverlayPath target, Throwable failure) {
        try {
            target.getFileSystem().operations().delete(target);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
