package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OverlayPathTest {

    private final OverlayFileSystem fs = MockedFileSystems.unconnected();

    private Path path(String text) {
        return fs.getPath(text);
    }

    @Test
    void parsingDropsRepeatedAndTrailingSlashesButKeepsDotNames() {
        assertEquals("/a/b/./../c", path("//a//b/./../c/").toString());
        assertEquals("a/b/c", fs.getPath("a", "", "b/c").toString());
        assertEquals("/", path("/").toString());
    }

    @Test
    void nulIsRejected() {
        assertThrows(InvalidPathException.class, () -> path("a\0b"));
    }

    @Test
    void rootAndNamesAreThoseOfUnixPaths() {
        Path p = path("/a/b/c");
        assertTrue(p.isAbsolute());
        assertEquals(path("/"), p.getRoot());
        assertEquals(path("c"), p.getFileName());
        assertEquals(path("/a/b"), p.getParent());
        assertEquals(path("/"), path("/a").getParent());
        assertNull(path("/").getParent());
        assertNull(path("/").getFileName());
        assertNull(path("a").getParent());
        assertNull(path("a").getRoot());
        assertEquals(3, p.getNameCount());
        assertEquals(path("b"), p.getName(1));
        assertEquals(path("b/c"), p.subpath(1, 3));
        assertThrows(IllegalArgumentException.class, () -> p.subpath(2, 2));
        List<String> names = new ArrayList<>();
        p.forEach(name -> names.add(name.toString()));
        assertEquals(List.of("a", "b", "c"), names);
    }

    @Test
    void theEmptyPathHasOneEmptyName() {
        Path empty = path("");
        assertEquals(1, empty.getNameCount());
        assertEquals(empty, empty.getFileName());
        assertEquals(path("/"), empty.toAbsolutePath());
        assertEquals(path("a"), empty.resolve("a"));
        assertEquals(path("a"), path("a").resolve(empty));
        assertTrue(empty.startsWith(path("")));
        assertFalse(path("a").startsWith(path("")));
    }

    @Test
    void normalizeRemovesDotsAndCancelsDotDots() {
        assertEquals(path("/c"), path("/a/./b/../../c").normalize());
        assertEquals(path("/"), path("/../..").normalize());
        assertEquals(path("../x"), path("a/../../x").normalize());
        assertEquals(path(""), path("a/..").normalize());
    }

    @Test
    void resolveAndRelativizeAreInverse() {
        Path base = path("/a/b");
        assertEquals(path("/a/b/c/d"), base.resolve("c/d"));
        assertEquals(path("/x"), base.resolve("/x"));
        assertEquals(path("/a/c"), base.resolveSibling("c"));
        assertEquals(path("c/d"), base.relativize(path("/a/b/c/d")));
        assertEquals(path("../../x/y"), base.relativize(path("/x/y")));
        assertEquals(path(""), base.relativize(base));
        assertThrows(IllegalArgumentException.class, () -> base.relativize(path("x")));
    }

    @Test
    void startsWithAndEndsWithCompareWholeNames() {
        Path p = path("/foo/bar");
        assertTrue(p.startsWith("/foo"));
        assertFalse(p.startsWith("/fo"));
        assertFalse(p.startsWith("foo"));
        assertTrue(p.endsWith("bar"));
        assertTrue(p.endsWith("foo/bar"));
        assertTrue(p.endsWith("/foo/bar"));
        assertFalse(p.endsWith("ar"));
        assertFalse(p.endsWith("/bar"));
    }

    @Test
    void equalityAndOrderFollowTheText() {
        assertEquals(path("/a/b"), path("/a//b/"));
        assertEquals(path("/a/b").hashCode(), path("/a//b/").hashCode());
        assertFalse(path("/a").equals(path("a")));
        assertTrue(path("/a").compareTo(path("/b")) < 0);
        assertFalse(path("/a").equals(MockedFileSystems.unconnected().getPath("/a")));
    }

    @Test
    void toUriNamesTheFileSystemAndTheAbsolutePath() {
        assertEquals(URI.create("overlay://mocked/a/b%20c"), path("a/b c").toUri());
        assertEquals(URI.create("overlay://mocked/"), path("/").toUri());
    }

    @Test
    void registerIsUnsupported() {
        assertThrows(UnsupportedOperationException.class, () -> path("/a").register(null));
    }
}
