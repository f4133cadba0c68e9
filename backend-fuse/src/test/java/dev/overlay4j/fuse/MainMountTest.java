package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command as a user runs it: a separate JVM that detaches once the mount is live. */
class MainMountTest {

    @TempDir
    Path root;

    private Process command(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
    }

    private static String output(Process process) throws IOException, InterruptedException {
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the command did not return");
        return err;
    }

    @Test
    void detachesOnceTheMountIsLiveAndEndsWhenUnmounted() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hi\n");
        Path mnt = root.resolve("mnt");
        Process launcher = command("-o", "lowerdir=" + root.resolve("lower1") + ":" + root.resolve("lower2")
                + ",upperdir=" + root.resolve("upper") + ",workdir=" + root.resolve("work") + ",fsname=mytest",
                mnt.toString());
        String err = output(launcher);
        Optional<ProcessHandle> server = Optional.empty();
        try {
            assertEquals(0, launcher.exitValue(), err);
            assertEquals("", err);
            assertTrue(MountedOverlay.isMounted(mnt));
            assertEquals("hi\n", Files.readString(mnt.resolve("hello")));
            server = ProcessHandle.allProcesses()
                    .filter(p -> p.info().arguments().map(a -> List.of(a).contains(mnt.toString())).orElse(false))
                    .findFirst();
            assertTrue(server.isPresent(), "the background server is not running");
            MountedOverlay.run(root, "umount", mnt.toString());
            server.get().onExit().get(30, TimeUnit.SECONDS);
            assertFalse(server.get().isAlive());
        } finally {
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
            server.ifPresent(ProcessHandle::destroy);
        }
    }

    @Test
    void reportsAMissingLayerOnOneLineAndMountsNothing() throws Exception {
        MountedOverlay.createLayers(root);
        Path missing = root.resolve("missing");
        Path mnt = root.resolve("mnt");
        Process launcher = command("-o", "lowerdir=" + missing, mnt.toString());
        String err = output(launcher);
        assertEquals(1, launcher.exitValue(), err);
        assertTrue(err.startsWith("overlay4j: ") && err.contains(missing.toString()), err);
        assertEquals(1, err.lines().count(), err);
        assertFalse(MountedOverlay.isMounted(mnt));
    }
}
