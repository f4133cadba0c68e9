package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CopyMoveTest extends WritableOverlayFixture {

    @Test
    void moveRenamesAFile() throws IOException {
        Files.move(layers.path("/base.txt"), layers.path("/dir/renamed"));
        assertFalse(Files.exists(layers.path("/base.txt")));
        assertEquals("base", Files.readString(layers.path("/dir/renamed")));
        assertTrue(Files.exists(layers.bottom.resolve("base.txt")));
    }

    @Test
    void moveOntoAnExistingFileNeedsReplaceExisting() throws IOException {
        assertThrows(FileAlreadyExistsException.class, () -> Files.move(layers.path("/top.txt"), layers.path("/base.txt")));
        Files.move(layers.path("/top.txt"), layers.path("/base.txt"), StandardCopyOption.REPLACE_EXISTING);
        assertEquals("top", Files.readString(layers.path("/base.txt")));
        Files.move(layers.path("/base.txt"), layers.path("/shadowed"), StandardCopyOption.ATOMIC_MOVE);
        assertEquals("top", Files.readString(layers.path("/shadowed")));
        assertFalse(Files.exists(layers.path("/base.txt")));
    }

    @Test
    void replacingANonEmptyDirectoryFailsBeforeAnythingIsCopiedUpAsTheJdkDoes() throws IOException {
        Files.createDirectory(layers.path("/full"));
        Files.writeString(layers.path("/full/f"), "f");
        assertThrows(DirectoryNotEmptyException.class,
                () -> Files.move(layers.path("/dir"), layers.path("/full"), StandardCopyOption.REPLACE_EXISTING));
        assertEquals("a-top", Files.readString(layers.path("/dir/a")));
        assertFalse(Files.exists(layers.upper.resolve("dir")), "the source stays lower");
    }

    @Test
    void moveOfAMissingFileFails() {
        assertThrows(NoSuchFileException.class, () -> Files.move(layers.path("/missing"), layers.path("/x")));
    }

    @Test
    void replacingAnEmptyDirectoryWithAFileDeletesItFirst() throws IOException {
        Files.createDirectory(layers.path("/empty"));
        Files.move(layers.path("/top.txt"), layers.path("/empty"), StandardCopyOption.REPLACE_EXISTING);
        assertEquals("top", Files.readString(layers.path("/empty")));
    }

    @Test
    void copyCopiesContentAndKeepsTheSource() throws IOException {
        Files.copy(layers.path("/dir/a"), layers.path("/copy"));
        assertEquals("a-top", Files.readString(layers.path("/copy")));
        assertEquals("a-top", Files.readString(layers.path("/dir/a")));
        assertThrows(FileAlreadyExistsException.class, () -> Files.copy(layers.path("/dir/b"), layers.path("/copy")));
        Files.copy(layers.path("/dir/b"), layers.path("/copy"), StandardCopyOption.REPLACE_EXISTING);
        assertEquals("b", Files.readString(layers.path("/copy")));
    }

    @Test
    void copyAttributesCarriesPermissionsTimesAndXattrs() throws IOException {
        Path source = layers.path("/dir/b");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwx---r--"));
        Files.setLastModifiedTime(source, FileTime.fromMillis(123_000));
        Files.setAttribute(source, "user:tag", new byte[] {7});
        Files.copy(source, layers.path("/with"), StandardCopyOption.COPY_ATTRIBUTES);
        assertEquals(PosixFilePermissions.fromString("rwx---r--"), Files.getPosixFilePermissions(layers.path("/with")));
        assertEquals(FileTime.fromMillis(123_000), Files.getLastModifiedTime(layers.path("/with")));
        assertEquals(7, ((byte[]) Files.getAttribute(layers.path("/with"), "user:tag"))[0]);
        Files.copy(source, layers.path("/without"));
        assertFalse(FileTime.fromMillis(123_000).equals(Files.getLastModifiedTime(layers.path("/without"))));
    }

    @Test
    void copyOfADirectoryCopiesOnlyTheDirectory() throws IOException {
        Files.copy(layers.path("/dir"), layers.path("/dircopy"));
        assertTrue(Files.isDirectory(layers.path("/dircopy")));
        try (var entries = Files.list(layers.path("/dircopy"))) {
            assertEquals(0, entries.count());
        }
        assertThrows(DirectoryNotEmptyException.class,
                () -> Files.copy(layers.path("/top.txt"), layers.path("/dir"), StandardCopyOption.REPLACE_EXISTING));
    }

    @Test
    void copyOfASymlinkWithNoFollowCopiesTheLink() throws IOException {
        Files.createSymbolicLink(layers.path("/link"), layers.path("top.txt"));
        Files.copy(layers.path("/link"), layers.path("/linkcopy"), LinkOption.NOFOLLOW_LINKS);
        assertEquals(layers.path("top.txt"), Files.readSymbolicLink(layers.path("/linkcopy")));
        Files.copy(layers.path("/link"), layers.path("/filecopy"));
        assertFalse(Files.isSymbolicLink(layers.path("/filecopy")));
        assertEquals("top", Files.readString(layers.path("/filecopy")));
    }

    @Test
    void withoutRedirectDirAMovedLowerDirectoryFallsBackToCopyLikeTheJdk(@TempDir Path other) throws IOException {
        try (LayeredFileSystem noRedirect = LayeredFileSystem.writable(other, Map.of("redirect_dir", false))) {
            // rename(2) fails with EXDEV; the JDK's fallback copies only an empty directory
            assertThrows(DirectoryNotEmptyException.class,
                    () -> Files.move(noRedirect.path("/dir/sub"), noRedirect.path("/sub2")));
            assertThrows(AtomicMoveNotSupportedException.class, () -> Files.move(noRedirect.path("/dir/sub"),
                    noRedirect.path("/sub2"), StandardCopyOption.ATOMIC_MOVE));
            Files.delete(noRedirect.path("/dir/sub/deep"));
            Files.move(noRedirect.path("/dir/sub"), noRedirect.path("/sub2"));
            assertTrue(Files.isDirectory(noRedirect.path("/sub2")));
            assertFalse(Files.exists(noRedirect.path("/dir/sub")));
        }
    }

    @Test
    void copyToAnotherFileSystemAndBack(@TempDir Path outside) throws IOException {
        Path out = outside.resolve("out.txt");
        Files.copy(layers.path("/dir/a"), out);
        assertEquals("a-top", Files.readString(out));
        Files.writeString(out, "from outside");
        Files.copy(out, layers.path("/in.txt"));
        assertEquals("from outside", Files.readString(layers.path("/in.txt")));
        Files.move(layers.path("/in.txt"), outside.resolve("moved.txt"));
        assertFalse(Files.exists(layers.path("/in.txt")));
        assertEquals("from outside", Files.readString(outside.resolve("moved.txt")));
    }
}
