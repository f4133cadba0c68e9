package dev.overlay4j.nio;

import static dev.overlay4j.nio.DeepTrees.deep;
import static dev.overlay4j.nio.DeepTrees.length;
import static dev.overlay4j.nio.DeepTrees.level;
import static dev.overlay4j.nio.DeepTrees.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths longer than PATH_MAX (4096 bytes) below a layer's root work as they do below a kernel
 * mount: only a name over 255 bytes fails, with ENAMETOOLONG. What the layers write and read is
 * checked with the shell, which reaches any depth by {@code cd} steps.
 */
class LongPathsTest {

    /** 20 levels of 250-byte names: 5019 bytes, well past PATH_MAX, resolved in two pieces. */
    private static final EntryPath DEEP = deep(20);

    @TempDir
    Path storage;
    Path upperDir;
    Path workDir;
    Path lowerDir;
    final NioLayerProvider provider = new NioLayerProvider();
    final int uid = LinuxCalls.geteuid();
    final int gid = LinuxCalls.getegid();

    @BeforeEach
    void directories() throws IOException {
        upperDir = Files.createDirectory(storage.resolve("upper"));
        workDir = Files.createDirectory(storage.resolve("work"));
        lowerDir = Files.createDirectory(storage.resolve("lower"));
    }

    @AfterEach
    void removeDeepTrees() throws IOException {
        DeepTrees.removeAll(storage); // JUnit's own cleanup cannot remove them
    }

    private WritableLayer openUpper() throws IOException {
        return provider.openUpper(upperDir.toUri(), workDir.toUri(), LayerOptions.DEFAULTS);
    }

    private NewEntryAttributes owned(int permissions) {
        return new NewEntryAttributes(permissions, uid, gid);
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    private static void createDirectories(WritableLayer layer, EntryPath directory, NewEntryAttributes attributes)
            throws IOException {
        for (int i = 1; i <= directory.nameCount(); i++) {
            layer.createDirectory(directory.subpath(i), attributes);
        }
    }

    private static void write(WritableLayer layer, EntryPath file, String text, NewEntryAttributes attributes)
            throws IOException {
        try (WritableContent content = layer.createFile(file, attributes)) {
            content.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private static String read(Layer layer, EntryPath file) throws IOException {
        try (ReadableContent content = layer.openRead(file)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) content.size());
            while (buffer.hasRemaining() && content.read(buffer, buffer.position()) > 0) {
                // read on
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    private static Set<String> names(Layer layer, EntryPath directory) throws IOException {
        try (Stream<DirectoryEntry> entries = layer.list(directory)) {
            return entries.map(DirectoryEntry::name).collect(Collectors.toSet());
        }
    }

    private static EntryAttributes stat(Layer layer, EntryPath path) throws IOException {
        return layer.stat(path).orElseThrow(() -> new AssertionError(path.nameCount() + " levels deep: missing"));
    }

    @Test
    void anUpperTreeDeeperThanPathMaxIsBuiltChangedAndRemoved() throws IOException {
        EntryPath file = DEEP.resolve("f");
        assertTrue(length(file) > 5000);
        try (WritableLayer upper = openUpper()) {
            createDirectories(upper, DEEP, owned(0755));
            write(upper, file, "deep data", owned(0644));
            assertEquals("deep data\n", sh(upperDir, DEEP, "cat f; echo"));
            assertEquals(9, stat(upper, file).size());
            assertEquals("deep data", read(upper, file));

            upper.setPermissions(file, 0640);
            assertEquals("640\n", sh(upperDir, DEEP, "stat -c %a f"));
            if (uid == 0) {
                upper.setOwner(file, 123, 456);
                assertEquals("123:456\n", sh(upperDir, DEEP, "stat -c %u:%g f"));
            }
            upper.setTimes(file, 1_000_000_000_000_000_000L, 1_100_000_000_000_000_000L);
            assertEquals("1100000000\n", sh(upperDir, DEEP, "stat -c %Y f"));
            try (WritableContent content = upper.openWrite(file)) {
                content.truncate(4);
            }
            assertEquals("deep", read(upper, file));
            upper.setXattr(file, "user.deep", new byte[] {7}, XattrMode.CREATE);
            assertArrayEquals(new byte[] {7}, upper.readXattr(file, "user.deep").orElseThrow());
            assertTrue(upper.listXattrs(file).contains("user.deep"));

            upper.link(file, DEEP.resolve("g"));
            assertEquals("2\n", sh(upperDir, DEEP, "stat -c %h f"));
            upper.rename(DEEP.resolve("g"), EntryPath.of("shallow"), RenameMode.NOREPLACE);
            assertEquals("deep", read(upper, EntryPath.of("shallow")));
            upper.rename(EntryPath.of("shallow"), DEEP.resolve("h"), RenameMode.NOREPLACE);
            upper.createSymlink(DEEP.resolve("s"), "f", owned(0777));
            assertEquals("f", upper.readLink(DEEP.resolve("s")));
            upper.createWhiteout(DEEP.resolve("w"));
            assertEquals(EntryType.WHITEOUT, stat(upper, DEEP.resolve("w")).type());
            upper.createSpecial(DEEP.resolve("p"), EntryType.FIFO, owned(0600), 0);
            upper.createDirectory(DEEP.resolve("d"), owned(0700));
            upper.setOpaque(DEEP.resolve("d"), true);
            assertTrue(stat(upper, DEEP.resolve("d")).opaque());
            assertEquals(Set.of("f", "h", "s", "w", "p", "d"), names(upper, DEEP));
            assertEquals(Set.of(), names(upper, DEEP.resolve("d")));

            for (String name : names(upper, DEEP)) {
                upper.delete(DEEP.resolve(name));
            }
            assertEquals("\n", sh(upperDir, DEEP, "ls -A; echo"));
            for (int i = DEEP.nameCount(); i >= 1; i--) {
                upper.delete(DEEP.subpath(i));
            }
            assertEquals(Set.of(), names(upper, EntryPath.ROOT));
        }
    }

    @Test
    void directoriesAreRenamedAndExchangedAcrossPathMax() throws IOException {
        try (WritableLayer upper = openUpper()) {
            createDirectories(upper, DEEP, owned(0755));
            upper.createDirectory(DEEP.resolve("moved"), owned(0755));
            write(upper, DEEP.resolve(EntryPath.of("moved/f")), "in moved", owned(0644));
            upper.createDirectory(EntryPath.of("top"), owned(0755));
            upper.rename(DEEP.resolve("moved"), EntryPath.of("top/moved"), RenameMode.NOREPLACE);
            assertEquals("in moved", read(upper, EntryPath.of("top/moved/f")));
            upper.rename(EntryPath.of("top"), DEEP.resolve("top"), RenameMode.NOREPLACE);
            assertEquals("in moved", read(upper, DEEP.resolve(EntryPath.of("top/moved/f"))));
            upper.createDirectory(EntryPath.of("other"), owned(0755));
            upper.rename(EntryPath.of("other"), DEEP.resolve("top"), RenameMode.EXCHANGE);
            assertEquals("in moved", read(upper, EntryPath.of("other/moved/f")));
            assertEquals(Set.of(), names(upper, DEEP.resolve("top")));
            upper.renameLeavingWhiteout(DEEP.resolve("top"), EntryPath.of("back"), RenameMode.NOREPLACE);
            assertEquals(EntryType.WHITEOUT, stat(upper, DEEP.resolve("top")).type());
            assertEquals("c 0 0\n", sh(upperDir, DEEP, "stat -c '%F %t %T' top | sed 's/character special file/c/'"));
        }
    }

    @Test
    void copyUpStepsWorkWithTheWorkAreaAndTheIndexAtAnyDepth() throws IOException {
        try (WritableLayer upper = openUpper()) {
            createDirectories(upper, DEEP, owned(0755));
            WritableLayer work = upper.workArea();
            write(work, EntryPath.of("staged"), "staged", owned(0600));
            upper.publish(EntryPath.of("staged"), DEEP.resolve("published"), RenameMode.NOREPLACE);
            assertEquals("staged", read(upper, DEEP.resolve("published")));
            upper.linkIntoWorkArea(DEEP.resolve("published"), EntryPath.of("linked"));
            assertEquals(2, stat(work, EntryPath.of("linked")).nlink());
            work.delete(EntryPath.of("linked"));
            WritableLayer index = upper.indexArea();
            write(work, EntryPath.of("for-index"), "indexed", owned(0600));
            index.publish(EntryPath.of("for-index"), EntryPath.of("key"), RenameMode.NOREPLACE);
            upper.linkFromIndex(EntryPath.of("key"), DEEP.resolve("from-index"));
            assertEquals("indexed", read(upper, DEEP.resolve("from-index")));
            assertEquals(2, stat(index, EntryPath.of("key")).nlink());
        }
    }

    @Test
    void aLowerTreeDeeperThanPathMaxIsStatListedAndRead() throws IOException {
        Path lowerFile = lowerDir.resolve("top-file");
        Files.writeString(lowerFile, "top");
        sh(lowerDir, EntryPath.ROOT, "mkdir -p '" + DEEP.relativeString() + "'");
        sh(lowerDir, DEEP, "printf 'lower data' > f; ln -s f s; mkdir sub; setfattr -n user.l -v 1 f");
        try (Layer lower = provider.openLower(lowerDir.toUri(), LayerOptions.DEFAULTS)) {
            EntryAttributes f = stat(lower, DEEP.resolve("f"));
            assertEquals(EntryType.REGULAR_FILE, f.type());
            assertEquals(10, f.size());
            assertEquals("lower data", read(lower, DEEP.resolve("f")));
            assertEquals("f", lower.readLink(DEEP.resolve("s")));
            assertEquals(EntryType.SYMLINK, stat(lower, DEEP.resolve("s")).type());
            assertEquals(Set.of("f", "s", "sub"), names(lower, DEEP));
            assertEquals(Set.of(), names(lower, DEEP.resolve("sub")));
            assertEquals(java.util.List.of("user.l"), lower.listXattrs(DEEP.resolve("f")));
            assertFalse(lower.stat(DEEP.resolve("missing")).isPresent());
            assertFalse(lower.stat(DEEP.resolve(EntryPath.of("missing/below"))).isPresent());
            assertErrno(Errno.ENOENT, () -> lower.openRead(DEEP.resolve("missing")));
            assertErrno(Errno.ENOTDIR, () -> lower.stat(DEEP.resolve(EntryPath.of("f/below"))));
            // Kernel passthrough opens a local file by name: a path that long has none, so the server reads it.
            assertEquals(java.util.Optional.empty(), lower.localFile(DEEP.resolve("f")));
            assertEquals(java.util.Optional.of(lowerFile), lower.localFile(EntryPath.of("top-file")));
        }
    }

    @Test
    void pathsJustBelowAtAndAbovePathMaxWorkAlike() throws IOException {
        EntryPath base = deep(16); // 4015 bytes
        try (WritableLayer upper = openUpper()) {
            createDirectories(upper, base, owned(0755));
            for (int total = 4093; total <= 4098; total++) {
                EntryPath dir = base.resolve("d".repeat(total - length(base) - 1));
                assertEquals(total, length(dir));
                upper.createDirectory(dir, owned(0755));
                write(upper, dir.resolve("f"), "at " + total, owned(0644));
                assertEquals("at " + total, read(upper, dir.resolve("f")));
                assertEquals(Set.of("f"), names(upper, dir));
                assertEquals(EntryType.DIRECTORY, stat(upper, dir).type());
            }
        }
        try (Layer lower = provider.openLower(upperDir.toUri(), LayerOptions.DEFAULTS)) {
            for (int total = 4093; total <= 4098; total++) {
                EntryPath dir = base.resolve("d".repeat(total - length(base) - 1));
                assertEquals("at " + total, read(lower, dir.resolve("f")), () -> "through a fresh layer");
                assertEquals(Set.of("f"), names(lower, dir));
            }
        }
    }

    @Test
    void aNameLongerThan255BytesFailsWithEnametoolongAtAnyDepth() throws IOException {
        String tooLong = "n".repeat(256);
        try (WritableLayer upper = openUpper()) {
            createDirectories(upper, DEEP, owned(0755));
            upper.createDirectory(EntryPath.of("n".repeat(255)), owned(0755));
            for (EntryPath dir : java.util.List.of(EntryPath.ROOT, DEEP)) {
                EntryPath named = dir.resolve(tooLong);
                assertErrno(Errno.ENAMETOOLONG, () -> upper.createFile(named, owned(0644)));
                assertErrno(Errno.ENAMETOOLONG, () -> upper.createDirectory(named, owned(0755)));
                assertErrno(Errno.ENAMETOOLONG, () -> upper.stat(named));
                assertErrno(Errno.ENAMETOOLONG, () -> upper.stat(named.resolve("below")));
            }
            // A name on the way, even one longer than PATH_MAX itself, fails the same.
            assertErrno(Errno.ENAMETOOLONG, () -> upper.stat(DEEP.resolve(tooLong).resolve("f").resolve(DEEP)));
            assertErrno(Errno.ENAMETOOLONG, () -> upper.stat(DEEP.resolve("n".repeat(5000)).resolve("f")));
            assertErrno(Errno.ENAMETOOLONG, () -> upper.list(DEEP.resolve("n".repeat(5000))));
            assertEquals(Set.of(level(1), "n".repeat(255)), names(upper, EntryPath.ROOT));
        }
    }

    @Test
    void noSymlinkIsFollowedAnywhereInALongPath() throws IOException {
        EntryPath parent = deep(17); // the second piece of a 20-level path starts near here
        sh(lowerDir, EntryPath.ROOT, "mkdir -p '" + DEEP.relativeString() + "'");
        sh(lowerDir, parent, "ln -s / root; ln -s .. up; ln -s '" + level(18) + "' same; echo secret > f");
        try (WritableLayer upper = openUpper(); Layer lower = provider.openLower(lowerDir.toUri(), LayerOptions.DEFAULTS)) {
            sh(upperDir, EntryPath.ROOT, "mkdir -p '" + DEEP.relativeString() + "'");
            sh(upperDir, parent, "ln -s / root; ln -s .. up; ln -s '" + level(18) + "' same");
            for (Layer layer : java.util.List.of(lower, upper, lower, upper)) { // twice: fresh, then with descriptors kept
                assertEquals(EntryType.SYMLINK, stat(layer, parent.resolve("root")).type());
                assertErrno(Errno.ENOTDIR, () -> layer.stat(parent.resolve("root").resolve(EntryPath.of("etc/passwd"))));
                assertErrno(Errno.ENOTDIR, () -> layer.stat(parent.resolve("up").resolve(level(17)).resolve("f")));
                assertErrno(Errno.ENOTDIR, () -> layer.list(parent.resolve("same").resolve(level(19))));
                assertErrno(Errno.ENOTDIR, () -> layer.openRead(parent.resolve("up").resolve(level(17)).resolve("f")));
                assertEquals(Set.of(level(20)), names(layer, parent.resolve(level(18)).resolve(level(19))));
            }
            assertErrno(Errno.ENOTDIR, () -> upper.createFile(parent.resolve("root").resolve("escaped"), owned(0644)));
            assertErrno(Errno.ENOTDIR, () -> upper.createDirectory(
                    parent.resolve("same").resolve(level(19)).resolve("escaped"), owned(0755)));
            assertFalse(Files.exists(Path.of("/escaped")));
            assertEquals(level(20) + "\n", sh(upperDir, DEEP.subpath(18), "ls -A " + level(19)));
        }
    }

    @Test
    void theWorkAreaIsEmptiedOfATreeDeeperThanPathMaxWhenTheLayerOpens() throws IOException {
        Files.createDirectory(workDir.resolve(UpperDirectories.WORK_SUBDIR));
        sh(workDir.resolve(UpperDirectories.WORK_SUBDIR), EntryPath.ROOT, "mkdir -p '" + DEEP.relativeString() + "'");
        sh(workDir.resolve(UpperDirectories.WORK_SUBDIR), DEEP, "echo left > f; ln -s / root");
        try (WritableLayer upper = openUpper()) {
            assertEquals(Set.of(), names(upper.workArea(), EntryPath.ROOT));
        }
        assertEquals("\n", sh(workDir.resolve(UpperDirectories.WORK_SUBDIR), EntryPath.ROOT, "ls -A; echo"));
    }
}
