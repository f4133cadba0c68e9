package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed launcher, bin/overlay4j, on the host (no container: it lives here because it
 * uses the installation the container tests build). A mount that detaches costs one JVM, which
 * becomes the server; errors come back as one line with the command's exit status; the
 * ahead-of-time cache is made on request and then used.
 */
class LauncherTest {

    @TempDir
    Path root;

    private Overlay4jInstall install;
    private Path mnt;

    @BeforeEach
    void install() throws IOException {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        assumeTrue("root".equals(System.getProperty("user.name")), "FUSE SKIPPED: the launcher tests mount with mount(2) as root");
        install = Overlay4jInstall.assemble(root.resolve("install"));
        for (String dir : List.of("lower", "upper", "work", "mnt")) {
            Files.createDirectories(root.resolve(dir));
        }
        Files.writeString(root.resolve("lower/hello"), "hello\n");
        mnt = root.resolve("mnt");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mnt != null && mounted()) {
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private record Result(int status, String out, String err) {
    }

    private Result launch(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(install.home().resolve("bin/overlay4j").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the launcher did not return");
        return new Result(process.exitValue(), out, err);
    }

    private String options() {
        return "lowerdir=" + root.resolve("lower") + ",upperdir=" + root.resolve("upper") + ",workdir=" + root.resolve("work");
    }

    private boolean mounted() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(line -> line.split(" ")[4].equals(mnt.toString()));
    }

    /** The processes whose command line names the mountpoint: the servers of this mount. */
    private List<ProcessHandle> servers() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(mnt.toString())).orElse(false))
                .toList();
    }

    private void umountAndAwait(ProcessHandle server) throws Exception {
        assertEquals(0, new ProcessBuilder("umount", mnt.toString()).start().waitFor());
        server.onExit().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aMountDetachesWithOneJvmThatIsTheServer() throws Exception {
        Result result = launch("-o", options(), mnt.toString());
        assertEquals(0, result.status(), result.err());
        assertEquals("", result.err());
        assertTrue(mounted());
        assertEquals("hello\n", Files.readString(mnt.resolve("hello")));
        List<ProcessHandle> servers = servers();
        assertEquals(1, servers.size(), "one JVM serves the mount: " + servers);
        ProcessHandle server = servers.getFirst();
        assertTrue(server.info().command().orElse("").endsWith("/bin/java"), server.info().toString());
        Optional<ProcessHandle> parent = server.parent();
        assertFalse(parent.isPresent() && parent.get().info().command().orElse("").endsWith("/bin/java"),
                "no second JVM started it: " + parent.map(ProcessHandle::info));
        umountAndAwait(server);
        assertFalse(server.isAlive());
    }

    @Test
    void errorsComeBackAsOneLineWithTheCommandsStatus() throws Exception {
        Result missing = launch("-o", "lowerdir=" + root.resolve("missing"), mnt.toString());
        assertEquals(1, missing.status(), missing.err());
        assertTrue(missing.err().startsWith("overlay4j: ") && missing.err().contains(root.resolve("missing").toString()),
                missing.err());
        assertEquals(1, missing.err().lines().count(), missing.err());
        Result usage = launch("-o", options() + ",no_such_option", mnt.toString());
        assertEquals(2, usage.status(), usage.err());
        assertEquals(1, usage.err().lines().count(), usage.err());
        assertTrue(usage.err().contains("no_such_option"), usage.err());
        assertFalse(mounted());
        assertEquals(List.of(), servers());
        Result version = launch("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().startsWith("overlay4j "), version.out());
    }

    @Test
    void inTheForegroundTheLauncherIsTheServerUntilUnmounted() throws Exception {
        Process foreground = new ProcessBuilder(install.home().resolve("bin/overlay4j").toString(), "-f", "-o", options(),
                mnt.toString()).redirectErrorStream(true).redirectOutput(root.resolve("server.log").toFile()).start();
        for (int i = 0; i < 300 && !mounted(); i++) {
            Thread.sleep(50);
        }
        assertTrue(mounted(), Files.readString(root.resolve("server.log")));
        assertTrue(foreground.isAlive());
        assertEquals(0, new ProcessBuilder("umount", mnt.toString()).start().waitFor());
        assertTrue(foreground.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, foreground.exitValue(), Files.readString(root.resolve("server.log")));
    }

    @Test
    void theAheadOfTimeCacheIsMadeOnRequestAndThenUsed() throws Exception {
        Result made = launch("--aot-cache");
        assertEquals(0, made.status(), made.err());
        Path cache = install.home().resolve("lib/overlay4j.aot");
        assertTrue(Files.size(cache) > 0);
        assertEquals(List.of(), servers(), "the training mount is gone");
        Result mount = launch("-o", options(), mnt.toString());
        assertEquals(0, mount.status(), mount.err());
        ProcessHandle server = servers().getFirst();
        assertTrue(server.info().arguments().map(a -> List.of(a).contains("-XX:AOTCache=" + cache)).orElse(false),
                server.info().toString());
        umountAndAwait(server);
    }
}
