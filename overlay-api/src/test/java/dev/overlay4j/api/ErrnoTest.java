package dev.overlay4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void exceptionsAreOfTheJdkTypeThatFitsAndCarryTheirErrno() {
        assertInstanceOf(NoSuchFileException.class, Errno.ENOENT.exception("/a"));
        assertInstanceOf(FileAlreadyExistsException.class, Errno.EEXIST.exception("/a"));
        assertInstanceOf(DirectoryNotEmptyException.class, Errno.ENOTEMPTY.exception("/a"));
        assertInstanceOf(NotDirectoryException.class, Errno.ENOTDIR.exception("/a"));
        assertInstanceOf(AccessDeniedException.class, Errno.EPERM.exception("/a"));
        assertInstanceOf(FileSystemLoopException.class, Errno.ELOOP.exception("/a"));
        for (Errno errno : Errno.values()) {
            assertEquals(errno, Errno.of(errno.exception("/a", "detail")), errno.name());
        }
    }

    @Test
    void exceptionMessagesNameThePathAndTheReason() {
        FileSystemException e = Errno.EXDEV.exception("/a", null, "directory has lower content");
        assertEquals("/a: Invalid cross-device link: directory has lower content", e.getMessage());
    }

    @Test
    void jdkExceptionTypesMapToTheirErrno() {
        assertEquals(Errno.ENOENT, Errno.of(new NoSuchFileException("/a")));
        assertEquals(Errno.EEXIST, Errno.of(new FileAlreadyExistsException("/a")));
        assertEquals(Errno.ENOTEMPTY, Errno.of(new DirectoryNotEmptyException("/a")));
        assertEquals(Errno.EACCES, Errno.of(new AccessDeniedException("/a")));
        assertEquals(Errno.EIO, Errno.of(new RuntimeException("boom")));
    }

    @Test
    void jdkReasonStringsMapToTheErrnoTheyQuote() {
        assertEquals(Errno.ENOTDIR, Errno.of(new FileSystemException("/a", null, "Not a directory")));
        assertEquals(Errno.ELOOP, Errno.of(new FileSystemException("/a", null,
                "Too many levels of symbolic links or unable to access attributes of symbolic link")));
        assertEquals(Errno.ENODATA, Errno.of(new FileSystemException("/a", null,
                "Unable to get size of extended attribute 'k0': No data available")));
        assertEquals(Errno.EISDIR, Errno.of(new IOException("Is a directory")));
        assertEquals(Errno.ENXIO, Errno.of(new FileSystemException("/a", null, "No such device or address")));
        assertEquals(Errno.ENODEV, Errno.of(new FileSystemException("/a", null, "No such device")));
        assertEquals(Errno.EIO, Errno.of(new FileSystemException("/a", null, "something else")));
    }

    @Test
    void errnoNumbersAreLinuxs() {
        assertEquals(2, Errno.ENOENT.code());
        assertEquals(18, Errno.EXDEV.code());
        assertEquals(39, Errno.ENOTEMPTY.code());
        assertEquals(61, Errno.ENODATA.code());
        assertEquals(Errno.EIO, Errno.ofCode(9999));
    }
}
