package dev.overlay4j.fuse;

import static dev.overlay4j.fuse.MountedOverlay.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image layers unpacked the way containers/storage unpacks them for a mount program, through a
 * FUSE mount: what podman saw through overlay4j before (deleted files back, opaque directories
 * showing what was below them and their {@code .wh..wh..opq}) is gone.
 */
class FuseImageLayerWhiteoutsTest {

    @TempDir
    Path root;
    private MountedOverlay fs;

    @BeforeEach
    void mount() throws IOException {
        MountedOverlay.createLayers(root);
        Path top = root.resolve("lower1");
        Path base = root.resolve("lower2");
        for (String file : List.of("usr/share/doc/pkg/README", "etc/apt/sources.list", "etc/apt/apt.conf.d/00x",
                "a/b2/f2", "a/b2/f3", "etc/hostname")) {
            Files.createDirectories(base.resolve(file).getParent());
            Files.writeString(base.resolve(file), file + "\n");
        }
        Files.createDirectories(top.resolve("usr/share/doc"));
        Files.writeString(top.resolve("usr/share/doc/.wh..wh..opq"), "");
        Files.writeString(top.resolve("usr/share/doc/copyright"), "new\n");
        Files.createDirectories(top.resolve("etc"));
        Files.writeString(top.resolve("etc/.wh.apt"), "");
        Files.createDirectories(top.resolve("a/b2"));
        Files.writeString(top.resolve("a/b2/.wh.f2"), "");
        fs = MountedOverlay.mount(root, FuseOptions.defaults());
    }

    @AfterEach
    void unmount() throws IOException {
        if (fs != null) {
            fs.close();
        }
    }

    private Path mnt(String path) {
        return fs.mnt.resolve(path);
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static int open(Path path, int flags) throws Throwable {
        int fd = Libc.open(path, flags, 0644);
        if (fd >= 0) {
            Libc.close(fd);
        }
        return fd;
    }

    @Test
    void deletedEntriesStayDeletedAndOpaqueDirectoriesShowOnlyTheirOwnLayer() throws IOException {
        assertEquals(Set.of("hostname"), names(mnt("etc")));
        assertEquals(Set.of("copyright"), names(mnt("usr/share/doc")));
        assertEquals(Set.of("f3"), names(mnt("a/b2")));
        assertEquals(List.of(".", "..", "f3"), run(fs.mnt, "ls", "-a", "a/b2").lines().toList());
        assertFalse(Files.exists(mnt("etc/apt/sources.list")));
        assertFalse(Files.exists(mnt("usr/share/doc/pkg")));
        assertEquals("", run(fs.mnt, "find", ".", "-name", ".wh.*"));
    }

    @Test
    void marksAreNeverFoundAndCannotBeCreated() throws Throwable {
        for (String mark : List.of("a/b2/.wh.f2", "etc/.wh.apt", "usr/share/doc/.wh..wh..opq")) {
            assertEquals(-Errno.ENOENT.code(), open(mnt(mark), Libc.O_RDONLY), mark);
            assertFalse(Files.exists(mnt(mark), LinkOption.NOFOLLOW_LINKS), mark);
        }
        assertEquals(-Errno.EINVAL.code(), open(mnt("a/.wh.b2"), Libc.O_WRONLY | Libc.O_CREAT));
        IOException mkdir = assertThrows(IOException.class, () -> Files.createDirectory(mnt(".wh.etc")));
        assertEquals(Errno.EINVAL, Errno.of(mkdir), mkdir.toString());
        assertEquals(-Errno.EINVAL.code(), Libc.renameat2(mnt("etc/hostname"), mnt("etc/.wh.hostname"), 0));
        assertEquals(Set.of("hostname"), names(mnt("etc")));
        try (Stream<Path> upper = Files.walk(fs.upper)) {
            assertTrue(upper.noneMatch(p -> p.getFileName().toString().startsWith(".wh.")));
        }
    }

    @Test
    void aDeletedDirectoryMadeAgainIsEmptyAndItsWhiteoutGoes() throws IOException {
        Files.createDirectory(mnt("etc/apt"));
        assertEquals(Set.of(), names(mnt("etc/apt")));
        Files.writeString(mnt("a/b2/f2"), "again\n");
        assertEquals("again\n", Files.readString(mnt("a/b2/f2")));
        assertEquals(Set.of("f2", "f3"), names(mnt("a/b2")));
        Files.delete(mnt("a/b2/f3"));
        assertEquals(Set.of("f2"), names(mnt("a/b2")));
    }
}
