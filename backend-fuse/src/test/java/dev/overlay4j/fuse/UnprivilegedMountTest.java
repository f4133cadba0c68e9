package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command run by a user without privileges: it mounts through fusermount3 and serves without passthrough. */
class UnprivilegedMountTest {

    @TempDir
    Path root;

    @Test
    void aUserWithoutPrivilegesMountsThroughFusermountAndUnmountsAgain() throws Exception {
        TestUser.ensure();
        TestUser.withFuseDevice(this::mountAsUser);
    }

    private void mountAsUser() throws Exception {
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hello\n");
        String modulePath = TestUser.modulePath(root.resolve("modules"));
        TestUser.own(root);
        Path mnt = root.resolve("mnt");
        Path log = root.resolve("daemon.log");
        List<String> command = new ArrayList<>(List.of("runuser", "-u", TestUser.NAME, "--"));
        command.addAll(DaemonProcess.command(modulePath, "-o",
                "lowerdir=" + root.resolve("lower1") + ":" + root.resolve("lower2") + ",upperdir="
                        + root.resolve("upper") + ",workdir=" + root.resolve("work") + ",fsname=unprivileged,passthrough=on",
                mnt.toString()));
        Process daemon = DaemonProcess.start(log, command);
        try {
            DaemonProcess.awaitMounted(daemon, mnt, log);
            String uid = TestUser.run("id", "-u").strip();
            String mountLine = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(line -> line.split(" ")[4].equals(mnt.toString())).findFirst().orElseThrow();
            assertTrue(mountLine.contains(" - fuse.overlay4j unprivileged ") && mountLine.contains("user_id=" + uid)
                    && mountLine.contains("nosuid") && mountLine.contains("nodev"), mountLine);

            assertEquals("hello\n", TestUser.run("cat", mnt.resolve("hello").toString()));
            TestUser.run("sh", "-c", "echo written > " + mnt.resolve("new"));
            assertEquals("written\n", TestUser.run("cat", mnt.resolve("new").toString()));

            TestUser.run(Fusermount.PROGRAM, "-u", mnt.toString());
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the server did not end after the unmount");
            assertEquals(0, daemon.exitValue(), Files.readString(log));
        } finally {
            daemon.destroyForcibly();
            if (MountedOverlay.isMounted(mnt)) {
                TestUser.start("umount", "-l", mnt.toString()).waitFor();
            }
        }
        assertFalse(MountedOverlay.isMounted(mnt));
        assertEquals("written\n", Files.readString(root.resolve("upper/new")));
        assertEquals(TestUser.uid(), Files.getAttribute(root.resolve("upper/new"), "unix:uid"));
        String logged = Files.readString(log);
        assertTrue(logged.contains("kernel passthrough is off"), logged);
        assertEquals(1, logged.split("kernel passthrough", -1).length - 1, logged);
    }
}
