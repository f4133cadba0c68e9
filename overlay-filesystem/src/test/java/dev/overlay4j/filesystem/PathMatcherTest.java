package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.PathMatcher;
import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.Test;

class PathMatcherTest {

    private final OverlayFileSystem fs = MockedFileSystems.unconnected();

    private boolean matches(String pattern, String path) {
        PathMatcher matcher = fs.getPathMatcher(pattern);
        return matcher.matches(fs.getPath(path));
    }

    @Test
    void starStaysWithinOneNameAndDoubleStarCrossesNames() {
        assertTrue(matches("glob:*.java", "Foo.java"));
        assertFalse(matches("glob:*.java", "src/Foo.java"));
        assertTrue(matches("glob:**/*.java", "/src/main/Foo.java"));
        assertTrue(matches("glob:/a/?", "/a/b"));
        assertFalse(matches("glob:/a/?", "/a/bc"));
    }

    @Test
    void bracketsGroupsAndEscapes() {
        assertTrue(matches("glob:[a-c]x", "bx"));
        assertFalse(matches("glob:[!a-c]x", "bx"));
        assertTrue(matches("glob:*.{java,class}", "A.class"));
        assertFalse(matches("glob:*.{java,class}", "A.txt"));
        assertTrue(matches("glob:\\*", "*"));
        assertTrue(matches("glob:a.b", "a.b"));
        assertFalse(matches("glob:a.b", "axb"));
        assertThrows(PatternSyntaxException.class, () -> fs.getPathMatcher("glob:{a,{b}}"));
    }

    @Test
    void regexSyntaxAndUnknownSyntax() {
        assertTrue(matches("regex:/a/[0-9]+", "/a/42"));
        assertThrows(UnsupportedOperationException.class, () -> fs.getPathMatcher("shell:*"));
        assertThrows(IllegalArgumentException.class, () -> fs.getPathMatcher("*.java"));
    }
}
