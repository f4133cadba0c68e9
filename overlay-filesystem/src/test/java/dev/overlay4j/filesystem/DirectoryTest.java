package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class DirectoryTest extends WritableOverlayFixture {

    private List<String> list(String directory) throws IOException {
        try (Stream<Path> entries = Files.list(layers.path(directory))) {
            return entries.map(Path::toString).sorted().toList();
        }
    }

    @Test
    void listingMergesAllLayers() throws IOException {
        assertEquals(List.of("/base.txt", "/dir", "/shadowed", "/top.txt"), list("/"));
        assertEquals(List.of("/dir/a", "/dir/b", "/dir/c", "/dir/sub"), list("/dir"));
    }

    @Test
    void entriesAreResolvedAgainstTheGivenPath() throws IOException {
        assertEquals(List.of("dir/a", "dir/b", "dir/c", "dir/sub"), list("dir"));
    }

    @Test
    void aFilterSelectsEntries() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(layers.path("/"), "*.txt")) {
            stream.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertEquals(List.of("base.txt", "top.txt"), names.stream().sorted().toList());
    }

    @Test
    void listingAFileIsNotADirectory() {
        assertThrows(NotDirectoryException.class, () -> Files.newDirectoryStream(layers.path("/top.txt")));
    }

    @Test
    void walkVisitsTheMergedTree() throws IOException {
        try (Stream<Path> walk = Files.walk(layers.path("/"))) {
            assertEquals(List.of("/", "/base.txt", "/dir", "/dir/a", "/dir/b", "/dir/c", "/dir/sub", "/dir/sub/deep",
                    "/shadowed", "/top.txt"), walk.map(Path::toString).sorted().toList());
        }
        List<String> files = new ArrayList<>();
        Files.walkFileTree(layers.path("/dir"), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                files.add(file + "=" + attrs.size());
                return FileVisitResult.CONTINUE;
            }
        });
        assertEquals(List.of("/dir/a=5", "/dir/b=1", "/dir/c=1", "/dir/sub/deep=4"), files.stream().sorted().toList());
    }

    @Test
    void deletedLowerFilesDisappearFromListings() throws IOException {
        Files.delete(layers.path("/dir/b"));
        Files.delete(layers.path("/dir/a"));
        assertEquals(List.of("/dir/c", "/dir/sub"), list("/dir"));
        assertFalse(Files.exists(layers.path("/dir/a")));
        assertTrue(Files.exists(layers.bottom.resolve("dir/b")));
    }

    @Test
    void deleteErrorsAreThoseOfTheJdk() throws IOException {
        assertThrows(NoSuchFileException.class, () -> Files.delete(layers.path("/missing")));
        assertFalse(Files.deleteIfExists(layers.path("/missing")));
        FileSystemException notEmpty = assertThrows(DirectoryNotEmptyException.class,
                () -> Files.delete(layers.path("/dir/sub")));
        assertEquals(Errno.ENOTEMPTY, Errno.of(notEmpty));
    }

    @Test
    void aLowerDirectoryEmptiedThroughTheOverlayCanBeDeleted() throws IOException {
        Files.delete(layers.path("/dir/sub/deep"));
        Files.delete(layers.path("/dir/sub"));
        assertEquals(List.of("/dir/a", "/dir/b", "/dir/c"), list("/dir"));
    }

    @Test
    void createDirectoryAndCreateDirectories() throws IOException {
        Files.createDirectory(layers.path("/newdir"));
        assertTrue(Files.isDirectory(layers.path("/newdir")));
        int umask = ProcessIdentity.current().umask();
        assertEquals(PermissionBits.fromBits(0777 & ~umask), Files.getPosixFilePermissions(layers.path("/newdir")));
        assertThrows(FileAlreadyExistsException.class, () -> Files.createDirectory(layers.path("/dir")));
        Files.createDirectories(layers.path("/dir/x/y/z"));
        assertEquals(List.of("/dir/x/y"), list("/dir/x"));
        assertThrows(NoSuchFileException.class, () -> Files.createDirectory(layers.path("/none/x")));
    }

    @Test
    void movingALowerDirectoryTakesItsWholeTree() throws IOException {
        Files.move(layers.path("/dir"), layers.path("/moved"));
        assertFalse(Files.exists(layers.path("/dir")));
        assertEquals(List.of("/moved/a", "/moved/b", "/moved/c", "/moved/sub"), list("/moved"));
        assertEquals("a-top", Files.readString(layers.path("/moved/a")));
        assertEquals("deep", Files.readString(layers.path("/moved/sub/deep")));
    }
}
