package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * A system user without privileges that tests run commands as ({@code runuser}), created once
 * by a test that runs as root; tests that cannot have it skip.
 */
final class TestUser {

    static final String NAME = "overlay4j-test";

    private TestUser() {
    }

    static Process start(String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** The process's output once it ended (within a minute). */
    static String output(Process process) throws IOException, InterruptedException {
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return text;
    }

    /** Runs a command as the test user; returns its output after asserting it succeeded. */
    static String run(String... command) throws IOException, InterruptedException {
        Process process = start(as(command).toArray(String[]::new));
        String text = output(process);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + text);
        return text;
    }

    /** {@code command} run as the test user. */
    static List<String> as(String... command) {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", NAME, "--"));
        all.addAll(List.of(command));
        return all;
    }

    /** Creates the user once; skips when this machine cannot, or cannot mount FUSE without privilege. */
    static void ensure() throws IOException, InterruptedException {
        assumeTrue("root".equals(System.getProperty("user.name")), "FUSE SKIPPED: creating a test user needs root");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/" + Fusermount.PROGRAM)) || Files.isExecutable(
                Path.of("/bin/" + Fusermount.PROGRAM)), "FUSE SKIPPED: fusermount3 is not installed (package fuse3)");
        Process id = start("id", "-u", NAME);
        if (id.waitFor() != 0) {
            Process add = start("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME);
            String text = output(add);
            assumeTrue(add.exitValue() == 0 || add.exitValue() == 9, "FUSE SKIPPED: cannot create a test user: " + text);
        }
    }

    static int uid() throws IOException, InterruptedException {
        return Integer.parseInt(output(start("id", "-u", NAME)).strip());
    }

    /** Hands {@code tree} to the test user, owner and group. */
    static void own(Path tree) throws IOException, InterruptedException {
        assertEquals(0, start("chown", "-R", "-h", NAME + ":" + NAME, tree.toString()).waitFor());
    }

    /** A copy of the module path under {@code dir} that the test user can read (root's build output it cannot). */
    static String modulePath(Path dir) throws IOException, InterruptedException {
        Path modules = Files.createDirectories(dir);
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
        return String.join(File.pathSeparator, modulePath);
    }

    /** Something to do while the test user may open {@code /dev/fuse}. */
    interface WithDevice {
        void run() throws Exception;
    }

    /**
     * Runs {@code body} while the test user can open {@code /dev/fuse}: fusermount3 opens it with
     * the user's own rights. udev makes it 0666 on a normal system; where it is tighter (0600 on
     * this kind of machine), it is opened up for the test only.
     */
    static void withFuseDevice(WithDevice body) throws Exception {
        Path device = Path.of("/dev/fuse");
        Set<PosixFilePermission> deviceMode = Files.getPosixFilePermissions(device);
        try {
            Set<PosixFilePermission> open = EnumSet.copyOf(deviceMode);
            open.addAll(EnumSet.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE));
            Files.setPosixFilePermissions(device, open);
            body.run();
        } finally {
            Files.setPosixFilePermissions(device, deviceMode);
        }
    }
}
