package dev.overlay4j.api;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.ReadOnlyFileSystemException;

/**
 * The Linux error numbers overlay4j reports, and the one mapping between them and
 * {@code java.nio.file} exceptions. Every error the engine raises carries its errno
 * ({@link ErrnoException}); {@link #of(Throwable)} recovers it for any exception.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    EXDEV(18, "Invalid cross-device link"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Inappropriate ioctl for device"),
    ETXTBSY(26, "Text file busy"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ESPIPE(29, "Illegal seek"),
    EROFS(30, "Read-only file system"),
    EMLINK(31, "Too many links"),
    ERANGE(34, "Numerical result out of range"),
    ENAMETOOLONG(36, "File name too long"),
    ENOSYS(38, "Function not implemented"),
    ENOTEMPTY(39, "Directory not empty"),
    ELOOP(40, "Too many levels of symbolic links"),
    ENODATA(61, "No data available"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EOPNOTSUPP(95, "Operation not supported"),
    ENOTCONN(107, "Transport endpoint is not connected"),
    ETIMEDOUT(110, "Connection timed out"),
    ESTALE(116, "Stale file handle"),
    EDQUOT(122, "Disk quota exceeded");

    private final int code;
    private final String message;

    Errno(int code, String message) {
        this.code = code;
        this.message = message;
    }

    /** The positive error number. */
    public int code() {
        return code;
    }

    /** The C library's message for it ({@code strerror}). */
    public String message() {
        return message;
    }

    /** The errno with this number, or EIO for a number this enum does not know. */
    public static Errno ofCode(int code) {
        for (Errno errno : values()) {
            if (errno.code == code) {
                return errno;
            }
        }
        return EIO;
    }

    /**
     * The errno an exception stands for: its own when it carries one, else the one its
     * {@code java.nio.file} type implies, else EIO.
     */
    public static Errno of(Throwable error) {
        return switch (error) {
            case ErrnoException carrier -> carrier.errno();
            case NoSuchFileException e -> ENOENT;
            case FileAlreadyExistsException e -> EEXIST;
            case DirectoryNotEmptyException e -> ENOTEMPTY;
            case NotDirectoryException e -> ENOTDIR;
            case AccessDeniedException e -> EACCES;
            case NotLinkException e -> EINVAL;
            case FileSystemLoopException e -> ELOOP;
            case ReadOnlyFileSystemException e -> EROFS;
            case UnsupportedOperationException e -> EOPNOTSUPP;
            case java.nio.channels.NonWritableChannelException e -> EBADF;
            case java.nio.channels.NonReadableChannelException e -> EBADF;
            case FileSystemException e -> ofMessage(e.getReason());
            case java.io.IOException e -> ofMessage(e.getMessage());
            case null, default -> EIO;
        };
    }

    /**
     * The errno whose C library message the JDK put in {@code reason}, else EIO. The JDK reports
     * OS errors by their message: alone ("Not a directory"), with a suffix ("Too many levels of
     * symbolic links or unable to ..."), or after a prefix ("Unable to get ...: No data
     * available"); the longest matching message wins, so ENXIO's is not taken for ENODEV's.
     */
    private static Errno ofMessage(String reason) {
        Errno best = EIO;
        int bestLength = 0;
        if (reason != null) {
            for (Errno errno : values()) {
                String message = errno.message;
                boolean matches = reason.startsWith(message) || reason.endsWith(": " + message);
                if (matches && message.length() > bestLength) {
                    best = errno;
                    bestLength = message.length();
                }
            }
        }
        return best;
    }

    /**
     * An exception for this errno about {@code file} (and {@code other} for two-path operations),
     * of the {@code java.nio.file} type that fits: NoSuchFileException for ENOENT, and so on.
     */
    public FileSystemException exception(String file, String other, String detail) {
        String reason = detail == null ? message : message + ": " + detail;
        return switch (this) {
            case ENOENT -> new ErrnoException.NoSuchFile(file, other, reason);
            case EEXIST -> new ErrnoException.AlreadyExists(file, other, reason);
            case ENOTEMPTY -> new ErrnoException.NotEmpty(file, reason);
            case ENOTDIR -> new ErrnoException.NotADirectory(file, reason);
            case EACCES, EPERM -> new ErrnoException.Denied(this, file, other, reason);
            case ELOOP -> new ErrnoException.Loop(file, reason);
            default -> new ErrnoException.Other(this, file, other, reason);
        };
    }

    /** {@link #exception(String, String, String)} for one path and no detail. */
    public FileSystemException exception(Object file) {
        return exception(file == null ? null : file.toString(), null, null);
    }

    /** {@link #exception(String, String, String)} for one path with a detail. */
    public FileSystemException exception(Object file, String detail) {
        return exception(file == null ? null : file.toString(), null, detail);
    }
}
