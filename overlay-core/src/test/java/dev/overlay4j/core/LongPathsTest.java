package dev.overlay4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overlay works on paths deeper than PATH_MAX (4096 bytes) in its layers, as the kernel's
 * does: copy-up of a deep lower file builds its 20 parents, whiteouts and opaque directories
 * land at that depth, and only a name over 255 bytes fails (ENAMETOOLONG). The layers on disk
 * are built and checked with the shell, which reaches any depth by {@code cd} steps.
 */
class LongPathsTest {

    /** 20 names of 250 bytes: 5019 bytes. */
    private static final EntryPath DEEP = deep(20);
    private static final NewEntryAttributes DIR = new NewEntryAttributes(0755, 0, 0);

    @TempDir
    Path tmp;
    LayerTree tree;

    private static String level(int level) {
        return String.format("%02d", level) + "x".repeat(248);
    }

    private static EntryPath deep(int levels) {
        EntryPath path = EntryPath.ROOT;
        for (int i = 1; i <= levels; i++) {
            path = path.resolve(level(i));
        }
        return path;
    }

    /** Runs {@code script} with {@code sh -e} in {@code dir} below {@code base}, reached by {@code cd -P} steps that fit PATH_MAX. */
    private static String sh(Path base, EntryPath dir, String script) throws IOException {
        StringBuilder command = new StringBuilder("set -e; cd -P '").append(base).append('\'');
        for (int i = 0; i < dir.nameCount(); i += 10) {
            command.append(" && cd -P '").append(String.join("/", dir.names().subList(i, Math.min(i + 10, dir.nameCount()))))
                    .append('\'');
        }
        command.append("; ").append(script);
        Process process = new ProcessBuilder("sh", "-c", command.toString()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            assertEquals(0, process.waitFor(), () -> "script failed at " + dir.nameCount() + " levels: " + script + "\n" + output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    private static Set<String> names(Overlay overlay, EntryPath directory) throws IOException {
        return overlay.listDirectory(directory).stream().map(DirectoryEntry::name).collect(Collectors.toSet());
    }

    private static String read(Overlay overlay, EntryPath file) throws IOException {
        try (OverlayFile f = overlay.open(file, Set.of(StandardOpenOption.READ), null)) {
            return LayerTree.read(f);
        }
    }

    @BeforeEach
    void deepLowerTree() throws IOException {
        tree = new LayerTree(tmp, 1);
        sh(tree.layer(1), EntryPath.ROOT, "mkdir -p '" + DEEP.relativeString() + "'");
        sh(tree.layer(1), DEEP, "printf 'lower data' > f; ln f hard1; ln f hard2; echo other > other; mkdir sub");
    }

    @AfterEach
    void removeDeepTrees() throws IOException {
        sh(tmp, EntryPath.ROOT, "find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +"); // JUnit cannot
    }

    @Test
    void aDeepLowerFileIsCopiedUpWithItsTwentyParentsByEveryChange() throws IOException {
        EntryPath file = DEEP.resolve("other");
        try (Overlay o = tree.open()) {
            assertEquals(6, o.stat(file).size());
            assertEquals("other\n", read(o, file));
            long inode = o.stat(file).inode();
            o.setPermissions(file, 0600);
            assertEquals("600 other\n", sh(tree.upper(), DEEP, "stat -c '%a %n' other"));
            if ("root".equals(System.getProperty("user.name"))) {
                o.setOwner(file, 321, 654);
                assertEquals("321:654\n", sh(tree.upper(), DEEP, "stat -c %u:%g other"));
            }
            o.truncate(file, 3);
            assertEquals("oth", sh(tree.upper(), DEEP, "cat other"));
            try (OverlayFile f = o.open(file, Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND), null)) {
                f.write(ByteBuffer.wrap("er!".getBytes(StandardCharsets.UTF_8)), 0);
            }
            assertEquals("other!", read(o, file));
            assertEquals(inode, o.stat(file).inode(), "the inode number survives copy-up");
            assertEquals(Set.of("f", "hard1", "hard2", "other", "sub"), names(o, DEEP));
        }
    }

    @Test
    void aDeepLowerHardLinkIsCopiedUpThroughTheIndexOnce() throws IOException {
        try (Overlay o = tree.open()) {
            o.setPermissions(DEEP.resolve("hard1"), 0640);
            assertEquals(0640, o.stat(DEEP.resolve("hard2")).permissions(), "another name of the same lower inode");
            o.setPermissions(DEEP.resolve("f"), 0604);
            assertEquals("3 604\n", sh(tree.upper(), DEEP, "stat -c '%h %a' f"), "the index copy and two names");
            assertEquals("lower data", read(o, DEEP.resolve("hard2")));
        }
    }

    @Test
    void namesAreLinkedRenamedAndRemovedAtDepthAndTheWholeTreeGoes() throws IOException {
        try (Overlay o = tree.open()) {
            o.link(DEEP.resolve("other"), DEEP.resolve("linked"));
            assertEquals(2, o.stat(DEEP.resolve("linked")).nlink());
            o.rename(DEEP.resolve("linked"), EntryPath.of("top"), RenameMode.NOREPLACE);
            o.rename(EntryPath.of("top"), DEEP.resolve("back"), RenameMode.NOREPLACE);
            assertEquals("other\n", read(o, DEEP.resolve("back")));
            o.createDirectory(DEEP.resolve("new"), DIR);
            LayerTree.write(o, DEEP.resolve("new").resolve("n").relativeString(), "new");
            assertEquals("new", read(o, DEEP.resolve(EntryPath.of("new/n"))));

            for (String name : List.of("f", "hard1", "hard2", "other", "back")) {
                o.unlink(DEEP.resolve(name));
            }
            o.removeDirectory(DEEP.resolve("sub"));
            assertErrno(Errno.ENOTEMPTY, () -> o.removeDirectory(DEEP.resolve("new")));
            o.unlink(DEEP.resolve(EntryPath.of("new/n")));
            o.removeDirectory(DEEP.resolve("new"));
            assertEquals(Set.of(), names(o, DEEP));
            assertEquals("c 0:0\n", sh(tree.upper(), DEEP, "stat -c '%F %t:%T' f | sed 's/character special file/c/'"));

            for (int i = DEEP.nameCount(); i >= 1; i--) {
                o.removeDirectory(DEEP.subpath(i));
            }
            assertEquals(Set.of(), names(o, EntryPath.ROOT));
            o.createDirectory(EntryPath.of(level(1)), DIR);
            assertEquals(Set.of(), names(o, EntryPath.of(level(1))), "a directory made over a removed one is opaque");
        }
    }

    @Test
    void aNameLongerThan255BytesFailsWithEnametoolongAtAnyDepth() throws IOException {
        String tooLong = "n".repeat(256);
        try (Overlay o = tree.open()) {
            for (EntryPath dir : List.of(EntryPath.ROOT, DEEP)) {
                EntryPath named = dir.resolve(tooLong);
                assertErrno(Errno.ENAMETOOLONG, () -> o.stat(named));
                assertErrno(Errno.ENAMETOOLONG, () -> o.createDirectory(named, DIR));
                assertErrno(Errno.ENAMETOOLONG, () -> LayerTree.write(o, named.relativeString(), "x"));
                assertErrno(Errno.ENAMETOOLONG, () -> o.stat(named.resolve("below")));
            }
            assertTrue(names(o, DEEP).contains("f"));
        }
    }
}
