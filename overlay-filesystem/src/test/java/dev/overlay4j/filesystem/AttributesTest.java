package dev.overlay4j.filesystem;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AttributesTest extends WritableOverlayFixture {

    @Test
    void basicAttributesDescribeTheMergedEntry() throws IOException {
        BasicFileAttributes file = Files.readAttributes(layers.path("/dir/a"), BasicFileAttributes.class);
        assertTrue(file.isRegularFile());
        assertEquals(5, file.size());
        assertEquals(Files.getLastModifiedTime(layers.top.resolve("dir/a")), file.lastModifiedTime());
        assertTrue(Files.readAttributes(layers.path("/dir"), BasicFileAttributes.class).isDirectory());
        assertThrows(NoSuchFileException.class, () -> Files.readAttributes(layers.path("/nope"), BasicFileAttributes.class));
    }

    @Test
    void permissionsSetAndReadBack() throws IOException {
        Path file = layers.path("/base.txt");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx--x---"));
        assertEquals(PosixFilePermissions.fromString("rwx--x---"), Files.getPosixFilePermissions(file));
        assertEquals(0710, Files.getAttribute(file, "unix:mode") instanceof Integer mode ? mode & 07777 : -1);
        assertEquals(PosixFilePermissions.fromString("rwx--x---"),
                Files.readAttributes(layers.upper.resolve("base.txt"), PosixFileAttributes.class).permissions());
    }

    @Test
    void createWithPermissionsAttributeAppliesTheUmask() throws IOException {
        Path file = Files.createFile(layers.path("/private"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-")));
        assertEquals(PermissionBits.fromBits(0666 & ~ProcessIdentity.current().umask()),
                Files.getPosixFilePermissions(file));
    }

    @Test
    void ownerSetByNameOrNumberAndReadBack() throws IOException {
        Path file = layers.path("/top.txt");
        UserPrincipalLookupService lookup = layers.fs.getUserPrincipalLookupService();
        UserPrincipal numeric = lookup.lookupPrincipalByName("4321");
        Files.setOwner(file, numeric);
        assertEquals(4321, Files.getAttribute(file, "unix:uid"));
        assertEquals("4321", Files.getOwner(file).getName());
        Files.setOwner(file, lookup.lookupPrincipalByName("root"));
        assertEquals("root", Files.getOwner(file).getName());
        Files.getFileAttributeView(file, PosixFileAttributeView.class)
                .setGroup(lookup.lookupPrincipalByGroupName("77"));
        assertEquals(77, Files.getAttribute(file, "unix:gid"));
        assertThrows(UserPrincipalNotFoundException.class, () -> lookup.lookupPrincipalByName("no such user here"));
    }

    @Test
    void timesSetAndReadBack() throws IOException {
        Path file = layers.path("/dir/b");
        FileTime modified = FileTime.fromMillis(1_000_000_000_123L);
        FileTime accessed = FileTime.fromMillis(1_100_000_000_456L);
        Files.getFileAttributeView(file, PosixFileAttributeView.class).setTimes(modified, accessed, null);
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        assertEquals(modified, attributes.lastModifiedTime());
        assertEquals(accessed, attributes.lastAccessTime());
        Files.setLastModifiedTime(file, FileTime.fromMillis(5_000));
        assertEquals(FileTime.fromMillis(5_000), Files.getLastModifiedTime(file));
        assertEquals(accessed, Files.getAttribute(file, "lastAccessTime"));
    }

    @Test
    void fileKeyStaysTheSameAcrossCopyUp() throws IOException {
        Path file = layers.path("/base.txt");
        Object before = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        Files.writeString(file, "copied up");
        assertTrue(Files.exists(layers.upper.resolve("base.txt")));
        assertEquals(before, Files.readAttributes(file, BasicFileAttributes.class).fileKey());
    }

    @Test
    void namedAttributesByView() throws IOException {
        Map<String, Object> basic = Files.readAttributes(layers.path("/top.txt"), "size,isRegularFile");
        assertEquals(Map.of("size", 3L, "isRegularFile", true), basic);
        Map<String, Object> posix = Files.readAttributes(layers.path("/top.txt"), "posix:*");
        assertTrue(posix.keySet().containsAll(Set.of("permissions", "owner", "group", "fileKey", "lastModifiedTime")));
        assertEquals(1, Files.getAttribute(layers.path("/top.txt"), "unix:nlink"));
        assertThrows(IllegalArgumentException.class, () -> Files.getAttribute(layers.path("/top.txt"), "basic:color"));
        assertThrows(UnsupportedOperationException.class, () -> Files.getAttribute(layers.path("/top.txt"), "dos:hidden"));
    }

    @Test
    void userDefinedAttributesAreUserXattrs() throws IOException {
        Path file = layers.path("/base.txt");
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        assertEquals(List.of(), view.list());
        view.write("color", ByteBuffer.wrap("blue".getBytes(UTF_8)));
        assertEquals(List.of("color"), view.list());
        assertEquals(4, view.size("color"));
        ByteBuffer value = ByteBuffer.allocate(4);
        view.read("color", value);
        assertEquals("blue", new String(value.array(), UTF_8));
        assertEquals("blue", new String((byte[]) Files.getAttribute(file, "user:color"), UTF_8));
        FileSystemException tooSmall = assertThrows(FileSystemException.class, () -> view.read("color", ByteBuffer.allocate(2)));
        assertEquals(Errno.ERANGE, Errno.of(tooSmall));
        view.delete("color");
        assertEquals(List.of(), view.list());
        FileSystemException missing = assertThrows(FileSystemException.class, () -> view.size("color"));
        assertEquals(Errno.ENODATA, Errno.of(missing));
    }

    @Test
    void accessChecksFollowPermissions() throws IOException {
        Path file = layers.path("/top.txt");
        layers.fs.provider().checkAccess(file, AccessMode.READ, AccessMode.WRITE);
        assertTrue(Files.isReadable(file));
        assertFalse(Files.isExecutable(file)); // not even root executes a file without execute bits
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r-x------"));
        assertTrue(Files.isExecutable(file));
        assertThrows(NoSuchFileException.class, () -> layers.fs.provider().checkAccess(layers.path("/missing")));
        if (ProcessIdentity.current().uid() != 0) {
            Files.setPosixFilePermissions(file, Set.of());
            assertThrows(AccessDeniedException.class, () -> layers.fs.provider().checkAccess(file, AccessMode.READ));
        }
    }

    @Test
    void hiddenMeansADotName() throws IOException {
        assertTrue(layers.fs.provider().isHidden(layers.path("/dir/.secret")));
        assertFalse(layers.fs.provider().isHidden(layers.path("/dir")));
        assertFalse(layers.fs.provider().isHidden(layers.path("/")));
    }

    @Test
    void theFileStoreIsTheOverlay() throws IOException {
        FileStore store = Files.getFileStore(layers.path("/dir/a"));
        assertEquals("overlay", store.name());
        assertEquals("overlay", store.type());
        assertFalse(store.isReadOnly());
        FileStore upperStore = Files.getFileStore(layers.upper);
        assertEquals(upperStore.getTotalSpace(), store.getTotalSpace());
        assertTrue(store.getUsableSpace() > 0);
        assertTrue(store.supportsFileAttributeView(PosixFileAttributeView.class));
        assertTrue(store.supportsFileAttributeView("user"));
        assertFalse(store.supportsFileAttributeView("dos"));
        assertThrows(NoSuchFileException.class, () -> Files.getFileStore(layers.path("/missing")));
        assertEquals(List.of(store.name()), List.of(layers.fs.getFileStores().iterator().next().name()));
    }

    @Test
    void attributesOfALinkItselfWithNoFollow() throws IOException {
        Files.createSymbolicLink(layers.path("/link"), layers.path("/top.txt"));
        assertTrue(Files.readAttributes(layers.path("/link"), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .isSymbolicLink());
        assertTrue(Files.readAttributes(layers.path("/link"), BasicFileAttributes.class).isRegularFile());
    }

    @Test
    void mappedOwnersAreShownAndStoredMappedBack() throws IOException {
        assumeTrue(ProcessIdentity.current().uid() == 0, "SKIPPED: storing other owners needs root (chown)");
        try (LayeredFileSystem mapped = LayeredFileSystem.writable(dir.resolve("mapped"),
                Map.of("uidmapping", ":0:100000:65536", "gidmapping", ":0:100000:65536"))) {
            Files.setAttribute(mapped.bottom.resolve("base.txt"), "unix:uid", 2);
            Files.setAttribute(mapped.bottom.resolve("base.txt"), "unix:gid", 3);
            Path file = mapped.path("/base.txt");
            assertEquals(100002, Files.getAttribute(file, "unix:uid"));
            assertEquals(100003, Files.getAttribute(file, "unix:gid"));
            Files.setOwner(file, mapped.fs.getUserPrincipalLookupService().lookupPrincipalByName("100009"));
            assertEquals(9, Files.getAttribute(mapped.upper.resolve("base.txt"), "unix:uid"));
        }
    }
}
