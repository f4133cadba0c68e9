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
import java.util.Map;
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
 * ahead-of-time cache is made on request and then used; later mounts of the user are made and
 * served by that JVM.
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
        for (String name : List.of("mnt", "mnt2", "mnt3")) {
            Path mountpoint = root.resolve(name);
            if (mounted(mountpoint)) {
                new ProcessBuilder("umount", "-l", mountpoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private record Result(int status, String out, String err) {
    }

    /** The launcher with a JVM of its own (OVERLAY4J_SHARE=0): these tests look at that JVM. */
    private Result launch(String... args) throws Exception {
        return launch(Map.of("OVERLAY4J_SHARE", "0"), root, args);
    }

    private Result launch(Map<String, String> env, Path cwd, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(install.home().resolve("bin/overlay4j").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(env);
        Process process = builder.start();
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
        return servers(mnt);
    }

    private static List<ProcessHandle> servers(Path mountpoint) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(mountpoint.toString())).orElse(false))
                .toList();
    }

    private static boolean mounted(Path mountpoint) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(line -> line.split(" ")[4].equals(mountpoint.toString()));
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

    @Test
    void laterMountsOfTheUserAreMadeAndServedByTheRunningJvm() throws Exception {
        Path share = root.resolve("share");
        Map<String, String> env = Map.of("OVERLAY4J_SHARE_DIR", share.toString(), "OVERLAY4J_SHARE_IDLE", "2");
        long start = System.nanoTime();
        Result first = launch(env, root, "-o", options(), mnt.toString());
        long firstNanos = System.nanoTime() - start;
        assertEquals(0, first.status(), first.err());
        ProcessHandle server = servers().getFirst();
        for (int i = 0; i < 100 && !Files.exists(share.resolve("pid")); i++) {
            Thread.sleep(50);
        }
        assertEquals(server.pid() + "\n", Files.readString(share.resolve("pid")));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(share)));

        // Relative paths are the command's (containers/storage gives lower layers so).
        Path second = Files.createDirectories(root.resolve("mnt2"));
        for (String dir : List.of("upper2", "work2")) {
            Files.createDirectories(root.resolve(dir));
        }
        start = System.nanoTime();
        Result joined = launch(env, root, "-o", "lowerdir=lower,upperdir=upper2,workdir=work2", "mnt2");
        long joinedNanos = System.nanoTime() - start;
        assertEquals(0, joined.status(), joined.err());
        assertEquals("", joined.err());
        assertTrue(mounted(second));
        assertEquals(List.of(), servers(second), "no JVM of its own");
        assertEquals("hello\n", Files.readString(second.resolve("hello")));
        Files.writeString(second.resolve("new"), "new\n");
        assertEquals("new\n", Files.readString(root.resolve("upper2/new")));
        System.out.printf("LauncherTest: the first mount returned in %d ms, one the running JVM made in %d ms%n",
                firstNanos / 1_000_000, joinedNanos / 1_000_000);

        // Errors made by the running JVM come back as the command's own.
        Result missing = launch(env, root, "-o", "lowerdir=missing", "mnt3");
        assertEquals(1, missing.status(), missing.err());
        assertEquals("overlay4j: mountpoint " + root.resolve("mnt3") + " does not exist: create an empty directory there\n",
                missing.err());
        Path third = Files.createDirectories(root.resolve("mnt3"));
        Result usage = launch(env, root, "-o", "lowerdir=lower,no_such_option", "mnt3");
        assertEquals(2, usage.status(), usage.err());
        assertTrue(usage.err().startsWith("overlay4j: ") && usage.err().contains("no_such_option")
                && usage.err().lines().count() == 1, usage.err());
        assertFalse(mounted(third));

        // Other JVM options: the running JVM declines, and the command starts a JVM of its own.
        Map<String, String> otherOptions = new java.util.HashMap<>(env);
        otherOptions.put("OVERLAY4J_JAVA_OPTS", "-Xmx256m");
        Result own = launch(otherOptions, root, "-o", "lowerdir=lower", third.toString());
        assertEquals(0, own.status(), own.err());
        List<ProcessHandle> ownServer = servers(third);
        assertEquals(1, ownServer.size(), "a JVM of its own: " + ownServer);
        assertTrue(ownServer.getFirst().info().arguments().map(a -> List.of(a).contains("-Xmx256m")).orElse(false));
        assertEquals(0, new ProcessBuilder("umount", third.toString()).start().waitFor());
        ownServer.getFirst().onExit().get(30, TimeUnit.SECONDS);

        // The first mount ends; the JVM still serves the second, then ends once it has served none for 2 s.
        assertEquals(0, new ProcessBuilder("umount", mnt.toString()).start().waitFor());
        Thread.sleep(2500);
        assertTrue(server.isAlive());
        assertEquals("hello\n", Files.readString(second.resolve("hello")));
        assertEquals(0, new ProcessBuilder("umount", second.toString()).start().waitFor());
        server.onExit().get(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(share.resolve("requests")));
        assertFalse(Files.exists(share.resolve("pid")));
    }
}
