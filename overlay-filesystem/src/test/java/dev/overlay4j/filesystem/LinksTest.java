package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class LinksTest extends WritableOverlayFixture {

    @Test
    void symlinkTargetReadsBackAsWritten() throws IOException {
        Files.createSymbolicLink(layers.path("/rel"), layers.path("dir/a"));
        Files.createSymbolicLink(layers.path("/abs"), layers.path("/dir/b"));
        assertEquals(layers.path("dir/a"), Files.readSymbolicLink(layers.path("/rel")));
        assertEquals(layers.path("/dir/b"), Files.readSymbolicLink(layers.path("/abs")));
        assertEquals("a-top", Files.readString(layers.path("/rel")));
        assertEquals("b", Files.readString(layers.path("/abs")));
        assertTrue(Files.isSymbolicLink(layers.path("/rel")));
        assertThrows(FileAlreadyExistsException.class,
                () -> Files.createSymbolicLink(layers.path("/rel"), layers.path("x")));
        assertThrows(NotLinkException.class, () -> Files.readSymbolicLink(layers.path("/top.txt")));
    }

    @Test
    void linksInTheMiddleOfAPathAreFollowed() throws IOException {
        Files.createSymbolicLink(layers.path("/d"), layers.path("dir/sub"));
        assertEquals("deep", Files.readString(layers.path("/d/deep")));
        Files.writeString(layers.path("/d/new"), "via link");
        assertEquals("via link", Files.readString(layers.path("/dir/sub/new")));
        try (Stream<Path> entries = Files.list(layers.path("/d"))) {
            assertEquals(List.of("/d/deep", "/d/new"), entries.map(Path::toString).sorted().toList());
        }
        // ".." after a link leaves the directory the link led to, as path lookup does
        assertEquals("a-top", Files.readString(layers.path("/d/../a")));
        assertEquals(layers.path("/dir/sub/deep"), layers.path("/d/deep").toRealPath());
        assertEquals(layers.path("/d"), layers.path("/d").toRealPath(LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void writingThroughADanglingLinkCreatesItsTarget() throws IOException {
        Files.createSymbolicLink(layers.path("/dangling"), layers.path("made-by-link"));
        assertFalse(Files.exists(layers.path("/dangling")));
        Files.writeString(layers.path("/dangling"), "x");
        assertEquals("x", Files.readString(layers.path("/made-by-link")));
    }

    @Test
    void deletingALinkLeavesItsTarget() throws IOException {
        Files.createSymbolicLink(layers.path("/link"), layers.path("top.txt"));
        Files.delete(layers.path("/link"));
        assertFalse(Files.exists(layers.path("/link"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("top", Files.readString(layers.path("/top.txt")));
    }

    @Test
    void hardLinksAreTheSameFile() throws IOException {
        Files.createLink(layers.path("/hard"), layers.path("/base.txt"));
        assertTrue(Files.isSameFile(layers.path("/hard"), layers.path("/base.txt")));
        assertFalse(Files.isSameFile(layers.path("/hard"), layers.path("/top.txt")));
        assertEquals(2, Files.getAttribute(layers.path("/base.txt"), "unix:nlink"));
        Files.writeString(layers.path("/hard"), "shared");
        assertEquals("shared", Files.readString(layers.path("/base.txt")));
        assertEquals(Files.getAttribute(layers.path("/hard"), "fileKey"),
                Files.getAttribute(layers.path("/base.txt"), "fileKey"));
    }

    @Test
    void isSameFileFollowsLinks() throws IOException {
        Files.createSymbolicLink(layers.path("/link"), layers.path("top.txt"));
        assertTrue(Files.isSameFile(layers.path("/link"), layers.path("/top.txt")));
        assertTrue(Files.isSameFile(layers.path("/missing"), layers.path("/missing")));
        assertTrue(Files.isSameFile(layers.path("/dir/../top.txt"), layers.path("/top.txt")));
    }
}
