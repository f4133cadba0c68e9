package dev.overlay4j.api;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * An exception that knows the errno a FUSE frontend must return for it. The concrete classes
 * extend the matching {@code java.nio.file} exception so NIO callers catch what they expect;
 * create them with {@link Errno#exception(String, String, String)}.
 */
public sealed interface ErrnoException permits ErrnoException.NoSuchFile, ErrnoException.AlreadyExists,
        ErrnoException.NotEmpty, ErrnoException.NotADirectory, ErrnoException.Denied, ErrnoException.Loop,
        ErrnoException.Other {

    Errno errno();

    /** ENOENT. */
    final class NoSuchFile extends NoSuchFileException implements ErrnoException {
        NoSuchFile(String file, String other, String reason) {
            super(file, other, reason);
        }

        @Override
        public Errno errno() {
            return Errno.ENOENT;
        }
    }

    /** EEXIST. */
    final class AlreadyExists extends FileAlreadyExistsException implements ErrnoException {
        AlreadyExists(String file, String other, String reason) {
            super(file, other, reason);
        }

        @Override
        public Errno errno() {
            return Errno.EEXIST;
        }
    }

    /** ENOTEMPTY. */
    final class NotEmpty extends DirectoryNotEmptyException implements ErrnoException {
        private final String reason;

        NotEmpty(String file, String reason) {
            super(file);
            this.reason = reason;
        }

        @Override
        public String getReason() {
            return reason;
        }

        @Override
        public Errno errno() {
            return Errno.ENOTEMPTY;
        }
    }

    /** ENOTDIR. */
    final class NotADirectory extends NotDirectoryException implements ErrnoException {
        private final String reason;

        NotADirectory(String file, String reason) {
            super(file);
            this.reason = reason;
        }

        @Override
        public String getReason() {
            return reason;
        }

        @Override
        public Errno errno() {
            return Errno.ENOTDIR;
        }
    }

    /** EACCES or EPERM. */
    final class Denied extends AccessDeniedException implements ErrnoException {
        private final Errno errno;

        Denied(Errno errno, String file, String other, String reason) {
            super(file, other, reason);
            this.errno = errno;
        }

        @Override
        public Errno errno() {
            return errno;
        }
    }

    /** ELOOP. */
    final class Loop extends FileSystemLoopException implements ErrnoException {
        private final String reason;

        Loop(String file, String reason) {
            super(file);
            this.reason = reason;
        }

        @Override
        public String getReason() {
            return reason;
        }

        @Override
        public Errno errno() {
            return Errno.ELOOP;
        }
    }

    /** Every errno without a dedicated {@code java.nio.file} type (EXDEV, EISDIR, EROFS, ENODATA, ...). */
    final class Other extends FileSystemException implements ErrnoException {
        private final Errno errno;

        Other(Errno errno, String file, String other, String reason) {
            super(file, other, reason);
            this.errno = errno;
        }

        @Override
        public Errno errno() {
            return errno;
        }
    }
}
