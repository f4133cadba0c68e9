package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command run by a user without privileges: it mounts through fusermount3 and serves without passthrough. */
class UnprivilegedMountTest {

    private static final String USER = "overlay4j-test";

    @TempDir
    Path root;

    private static Process start(String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String output(Process process) throws IOException, InterruptedException {
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return text;
    }

    /** Runs a command as the test user; returns its output after asserting it succeeded. */
    private static String asUser(String... command) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", USER, "--"));
        all.addAll(List.of(command));
        Process process = start(all.toArray(String[]::new));
        String text = output(process);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + text);
        return text;
    }

    /** Creates the user once; skips when this machine cannot. */
    private static void ensureUser() throws IOException, InterruptedException {
        assumeTrue("root".equals(System.getProperty("user.name")), "FUSE SKIPPED: creating a test user needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/" + Fusermount.PROGRAM)) || Files.isExecutable(
                Path.of("/bin/" + Fusermount.PROGRAM)), "FUSE SKIPPED: fusermount3 is not installed (package fuse3)");
        Process id = start("id", "-u", USER);
        if (id.waitFor() != 0) {
            Process add = start("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER);
            String text = output(add);
            assumeTrue(add.exitValue() == 0 || add.exitValue() == 9, "FUSE SKIPPED: cannot create a test user: " + text);
        }
    }

    @Test
    void aUserWithoutPrivilegesMountsThroughFusermountAndUnmountsAgain() throws Exception {
        Path device = Path.of("/dev/fuse");
        assumeTrue(Files.exists(device), "FUSE SKIPPED: /dev/fuse is missing");
        ensureUser();
        // fusermount3 opens the device with the user's own rights. udev makes it 0666 on a normal
        // system; where it is tighter (0600 on this kind of machine), open it up for the test only.
        Set<PosixFilePermission> deviceMode = Files.getPosixFilePermissions(device);
        try {
            Set<PosixFilePermission> open = EnumSet.copyOf(deviceMode);
            open.addAll(EnumSet.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE));
            Files.setPosixFilePermissions(device, open);
            mountAsUser();
        } finally {
            Files.setPosixFilePermissions(device, deviceMode);
        }
    }

    private void mountAsUser() throws Exception {
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hello\n");
        // The user cannot read root's build outputs: give it a copy of the module path.
        Path modules = Files.createDirectories(root.resolve("modules"));
        List<String> modulePath = new ArrayList<>();
        for (String entry : DaemonProcess.modulePath().split(File.pathSeparator)) {
            Path source = Path.of(entry);
            Path copy = modules.resolve(modulePath.size() + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                assertEquals(0, start("cp", "-a", source.toString(), copy.toString()).waitFor());
            } else {
                Files.copy(source, copy, StandardCopyOption.COPY_ATTRIBUTES);
            }
            modulePath.add(copy.toString());
        }
        assertEquals(0, start("chown", "-R", USER, root.toString()).waitFor());
        Path mnt = root.resolve("mnt");
        Path log = root.resolve("daemon.log");
        List<String> command = new ArrayList<>(List.of("runuser", "-u", USER, "--"));
        command.addAll(DaemonProcess.command(String.join(File.pathSeparator, modulePath), "-o",
                "lowerdir=" + root.resolve("lower1") + ":" + root.resolve("lower2") + ",upperdir="
                        + root.resolve("upper") + ",workdir=" + root.resolve("work") + ",fsname=unprivileged,passthrough=on",
                mnt.toString()));
        Process daemon = DaemonProcess.start(log, command);
        try {
            DaemonProcess.awaitMounted(daemon, mnt, log);
            String uid = asUser("id", "-u").strip();
            String mountLine = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(line -> line.split(" ")[4].equals(mnt.toString())).findFirst().orElseThrow();
            assertTrue(mountLine.contains(" - fuse.overlay4j unprivileged ") && mountLine.contains("user_id=" + uid)
                    && mountLine.contains("nosuid") && mountLine.contains("nodev"), mountLine);

            assertEquals("hello\n", asUser("cat", mnt.resolve("hello").toString()));
            asUser("sh", "-c", "echo written > " + mnt.resolve("new"));
            assertEquals("written\n", asUser("cat", mnt.resolve("new").toString()));

            asUser(Fusermount.PROGRAM, "-u", mnt.toString());
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the server did not end after the unmount");
            assertEquals(0, daemon.exitValue(), Files.readString(log));
        } finally {
            daemon.destroyForcibly();
            if (MountedOverlay.isMounted(mnt)) {
                start("umount", "-l", mnt.toString()).waitFor();
            }
        }
        assertFalse(MountedOverlay.isMounted(mnt));
        assertEquals("written\n", Files.readString(root.resolve("upper/new")));
        assertEquals(uid(), Files.getAttribute(root.resolve("upper/new"), "unix:uid"));
        String logged = Files.readString(log);
        assertTrue(logged.contains("kernel passthrough is off"), logged);
        assertEquals(1, logged.split("kernel passthrough", -1).length - 1, logged);
    }

    private static Object uid() throws IOException, InterruptedException {
        return Integer.parseInt(output(start("id", "-u", USER)).strip());
    }
}
