package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's answers to input it cannot run: one line on stderr, a non-zero status, nothing mounted. */
class MainTest {

    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path lower() throws IOException {
        return Files.createDirectories(dir.resolve("lower"));
    }

    private static boolean mounted(Path path) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(line -> line.split(" ")[4].equals(path.toString()));
    }

    private void assertRefused(int status, String message, Path mountpoint, String... args) throws IOException {
        Result result = run(args);
        assertEquals(status, result.status());
        assertEquals("overlay4j: " + message + System.lineSeparator(), result.err());
        assertEquals("", result.out());
        assertFalse(mounted(mountpoint));
    }

    @Test
    void aSubcommandFromAnotherModuleRunsWithTheRemainingWords() {
        Result result = run("echo-test", "a", "b");
        assertEquals(new Result(0, "a b" + System.lineSeparator(), ""), result);
        assertEquals(2, run("echo-test").status());
    }

    @Test
    void helpListsTheSubcommandsOfInstalledModules() {
        Result result = run("--help");
        assertEquals(0, result.status());
        assertTrue(result.out().contains("Commands from installed modules:" + System.lineSeparator()
                + "  overlay4j echo-test WORDS  print the words (a test command)"), result.out());
    }

    @Test
    void refusesAMissingMountpoint() throws IOException {
        Path missing = dir.resolve("missing");
        assertRefused(1, "mountpoint " + missing + " does not exist: create an empty directory there", missing,
                "-f", "-o", "lowerdir=" + lower(), missing.toString());
    }

    @Test
    void refusesAMountpointThatIsNotADirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertRefused(1, "mountpoint " + file + " is not a directory", file,
                "-f", "-o", "lowerdir=" + lower(), file.toString());
    }

    @Test
    void refusesAnUnknownOption() throws IOException {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        assertRefused(2, "unknown option bogus", mnt, "-f", "-o", "lowerdir=" + lower() + ",bogus", mnt.toString());
        assertRefused(2, "unknown option --bogus", mnt, "--bogus", mnt.toString());
    }

    @Test
    void refusesOptionsWithoutALowerLayer() throws IOException {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        assertRefused(2, "an overlay needs at least one lower layer (option lowerdir)", mnt, "-f", mnt.toString());
        assertRefused(2, "options upperdir and workdir must be given together", mnt,
                "-f", "-o", "lowerdir=" + lower() + ",upperdir=" + dir, mnt.toString());
    }

    @Test
    void printsHelpAndVersion() {
        Result help = run("--help");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("usage: overlay4j "));
        Result version = run("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().matches("overlay4j \\d+\\.\\d+\\.\\d+.*\\R"), version.out());
    }
}
