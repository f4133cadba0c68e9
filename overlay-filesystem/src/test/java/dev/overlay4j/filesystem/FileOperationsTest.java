package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.file.AccessMode;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.attribute.FileTime;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The translation from NIO calls to overlay calls, against a mocked overlay. */
class FileOperationsTest {

    private final Overlay overlay = mock(Overlay.class);

    private static EntryAttributes attributes(EntryType type, int permissions, int uid, int gid) {
        return new EntryAttributes(type, permissions, uid, gid, 0, 0, 0, 0, 0, 1, 42, 0, false, null);
    }

    @Test
    void dotDotLeavesTheDirectoryALinkLedTo() throws IOException {
        // /link -> /x/y, so /link/../f is /x/f
        when(overlay.resolve(EntryPath.of("link"), true)).thenReturn(EntryPath.of("x/y"));
        when(overlay.stat(EntryPath.of("x/y"))).thenReturn(attributes(EntryType.DIRECTORY, 0755, 0, 0));
        when(overlay.resolve(EntryPath.of("x/f"), false)).thenReturn(EntryPath.of("x/f"));
        OverlayFileSystem fs = MockedFileSystems.over(overlay, MockedFileSystems.ROOT);
        assertEquals(EntryPath.of("x/f"), fs.operations().entry(fs.getPath("/link/../f"), false));
    }

    @Test
    void dotDotAfterAFileIsNotADirectory() throws IOException {
        when(overlay.resolve(EntryPath.of("file"), true)).thenReturn(EntryPath.of("file"));
        when(overlay.stat(EntryPath.of("file"))).thenReturn(attributes(EntryType.REGULAR_FILE, 0644, 0, 0));
        OverlayFileSystem fs = MockedFileSystems.over(overlay, MockedFileSystems.ROOT);
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> fs.operations().entry(fs.getPath("/file/../x"), false));
        assertEquals(Errno.ENOTDIR, Errno.of(e));
    }

    @Test
    void erofsFromTheOverlayBecomesReadOnlyFileSystemException() throws IOException {
        when(overlay.resolve(EntryPath.of("d"), false)).thenReturn(EntryPath.of("d"));
        doThrow(Errno.EROFS.exception("/d")).when(overlay).createDirectory(eq(EntryPath.of("d")), any());
        OverlayFileSystem fs = MockedFileSystems.over(overlay, MockedFileSystems.ROOT);
        ReadOnlyFileSystemException e = assertThrows(ReadOnlyFileSystemException.class,
                () -> Files.createDirectory(fs.getPath("/d")));
        assertEquals(Errno.EROFS, Errno.of(e.getCause()));
    }

    @Test
    void otherErrorsPassThroughUnchanged() throws IOException {
        when(overlay.resolve(EntryPath.of("d"), false)).thenReturn(EntryPath.of("d"));
        FileSystemException exists = Errno.EEXIST.exception("/d");
        doThrow(exists).when(overlay).createDirectory(eq(EntryPath.of("d")), any());
        OverlayFileSystem fs = MockedFileSystems.over(overlay, MockedFileSystems.ROOT);
        assertSame(exists, assertThrows(FileSystemException.class, () -> Files.createDirectory(fs.getPath("/d"))));
    }

    private Errno access(ProcessIdentity identity, EntryAttributes file, AccessMode... modes) throws IOException {
        when(overlay.resolve(EntryPath.of("f"), true)).thenReturn(EntryPath.of("f"));
        when(overlay.stat(EntryPath.of("f"))).thenReturn(file);
        OverlayFileSystem fs = MockedFileSystems.over(overlay, identity);
        try {
            fs.provider().checkAccess(fs.getPath("/f"), modes);
            return null;
        } catch (FileSystemException e) {
            return Errno.of(e);
        }
    }

    @Test
    void accessFollowsOwnerGroupAndOtherBits() throws IOException {
        ProcessIdentity user = new ProcessIdentity(1000, 1000, Set.of(50), 022);
        assertEquals(null, access(user, attributes(EntryType.REGULAR_FILE, 0600, 1000, 0), AccessMode.WRITE));
        assertEquals(Errno.EACCES, access(user, attributes(EntryType.REGULAR_FILE, 0066, 1000, 0), AccessMode.READ));
        assertEquals(null, access(user, attributes(EntryType.REGULAR_FILE, 0040, 0, 50), AccessMode.READ));
        assertEquals(Errno.EACCES, access(user, attributes(EntryType.REGULAR_FILE, 0604, 0, 50), AccessMode.READ));
        assertEquals(null, access(user, attributes(EntryType.REGULAR_FILE, 0001, 0, 0), AccessMode.EXECUTE));
    }

    @Test
    void rootPassesExceptExecutingAFileWithoutExecuteBits() throws IOException {
        ProcessIdentity root = MockedFileSystems.ROOT;
        assertEquals(null, access(root, attributes(EntryType.REGULAR_FILE, 0, 5, 5), AccessMode.WRITE));
        assertEquals(Errno.EACCES, access(root, attributes(EntryType.REGULAR_FILE, 0666, 5, 5), AccessMode.EXECUTE));
        assertEquals(null, access(root, attributes(EntryType.REGULAR_FILE, 0010, 5, 5), AccessMode.EXECUTE));
        assertEquals(null, access(root, attributes(EntryType.DIRECTORY, 0, 5, 5), AccessMode.EXECUTE));
    }

    @Test
    void writeAccessOnAReadOnlyOverlayIsErofs() throws IOException {
        when(overlay.isReadOnly()).thenReturn(true);
        assertEquals(Errno.EROFS, access(MockedFileSystems.ROOT,
                attributes(EntryType.REGULAR_FILE, 0666, 0, 0), AccessMode.WRITE));
        assertEquals(null, access(MockedFileSystems.ROOT,
                attributes(EntryType.CHARACTER_DEVICE, 0666, 0, 0), AccessMode.WRITE));
    }

    @Test
    void aReadOnlyOverlayAnswersErofsBeforeLookingAtThePermissionBits() throws IOException {
        when(overlay.isReadOnly()).thenReturn(true);
        ProcessIdentity user = new ProcessIdentity(1000, 1000, Set.of(), 022);
        assertEquals(Errno.EROFS, access(user, attributes(EntryType.DIRECTORY, 0, 0, 0), AccessMode.READ, AccessMode.WRITE));
        assertEquals(Errno.EACCES, access(user, attributes(EntryType.FIFO, 0644, 0, 0), AccessMode.WRITE));
    }

    @Test
    void accessChecksAllModesTogether() throws IOException {
        ProcessIdentity user = new ProcessIdentity(1000, 1000, Set.of(), 022);
        assertEquals(null, access(user, attributes(EntryType.REGULAR_FILE, 0700, 1000, 0),
                AccessMode.READ, AccessMode.WRITE, AccessMode.EXECUTE));
        assertEquals(Errno.EACCES, access(user, attributes(EntryType.REGULAR_FILE, 0600, 1000, 0),
                AccessMode.READ, AccessMode.EXECUTE));
        assertEquals(null, access(user, attributes(EntryType.REGULAR_FILE, 0, 1000, 0)), "no mode: it exists");
    }

    @Test
    void setTimesLeavesAnOmittedTimeAlone() throws IOException {
        when(overlay.resolve(EntryPath.of("f"), true)).thenReturn(EntryPath.of("f"));
        OverlayFileSystem fs = MockedFileSystems.over(overlay, MockedFileSystems.ROOT);
        Files.setLastModifiedTime(fs.getPath("/f"), FileTime.fromMillis(5000));
        verify(overlay).setTimes(EntryPath.of("f"),
                WritableLayer.TIME_OMIT, 5_000_000_000L);
    }
}
