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
        return command(root, args);
    }

    /** The command run in {@code directory}, its working directory. */
    private static Process command(Path directory, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(directory.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    private static String output(Process process) throws IOException, InterruptedException {
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the command did not return");
        return err;
    }

    /** The background server of {@code mnt}: the process whose arguments name it. */
    private static Optional<ProcessHandle> serverOf(Path mnt) {
        Optional<ProcessHandle> server = ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(mnt.toString())).orElse(false))
                .findFirst();
        assertTrue(server.isPresent(), "the background server is not running");
        return server;
    }

    private void unmountAndAwait(Path mnt, ProcessHandle server) throws Exception {
        MountedOverlay.run(root, "umount", mnt.toString());
        server.onExit().get(30, TimeUnit.SECONDS);
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
            server = serverOf(mnt);
            unmountAndAwait(mnt, server.orElseThrow());
            assertFalse(server.get().isAlive());
        } finally {
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
            server.ifPresent(ProcessHandle::destroy);
        }
    }

    @Test
    void aBackgroundServerWritesItsMessagesToTheLogFile() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        MountedOverlay.createLayers(root);
        Path mnt = root.resolve("mnt");
        Path log = root.resolve("server.log");
        Files.writeString(log, "earlier line\n");
        Process launcher = command("-o", "lowerdir=" + root.resolve("lower1") + ",log=" + log, mnt.toString());
        String err = output(launcher);
        Optional<ProcessHandle> server = Optional.empty();
        try {
            assertEquals(0, launcher.exitValue(), err);
            server = serverOf(mnt);
            unmountAndAwait(mnt, server.orElseThrow());
        } finally {
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
            server.ifPresent(ProcessHandle::destroy);
        }
        List<String> lines = Files.readAllLines(log);
        assertEquals("earlier line", lines.getFirst(), "the log is appended to");
        assertTrue(lines.stream().anyMatch(l -> l.endsWith(": serving " + mnt)), String.join("\n", lines));
        assertTrue(lines.getLast().endsWith("overlay4j: unmounted " + mnt), String.join("\n", lines));
    }

    @Test
    void aLogFileThatCannotBeWrittenFailsTheMountAtOnce() throws Exception {
        MountedOverlay.createLayers(root);
        Path mnt = root.resolve("mnt");
        Path log = root.resolve("no-such-dir/server.log");
        Process launcher = command("-o", "lowerdir=" + root.resolve("lower1") + ",log=" + log, mnt.toString());
        String err = output(launcher);
        assertEquals(1, launcher.exitValue(), err);
        assertTrue(err.startsWith("overlay4j: cannot write the log file " + log), err);
        assertEquals(1, err.lines().count(), err);
        assertFalse(MountedOverlay.isMounted(mnt));
    }

    @Test
    void mountFuse3RunsTheCommandAsMountTypeFuseOverlay4jDoes() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        Path mountFuse3 = Files.isExecutable(Path.of("/usr/sbin/mount.fuse3")) ? Path.of("/usr/sbin/mount.fuse3")
                : Path.of("/sbin/mount.fuse3");
        assumeTrue(Files.isExecutable(mountFuse3), "FUSE SKIPPED: mount.fuse3 is not installed (package fuse3)");
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hi\n");
        // mount -t fuse.overlay4j runs mount.fuse3, which runs "overlay4j overlay4j MNT -o ...,dev,suid"
        // from its PATH (mount(8) resets that to the system directories, hence the README's install
        // step; here mount.fuse3 is called directly with a PATH that has the command).
        Path bin = Files.createDirectories(root.resolve("bin"));
        Path program = bin.resolve("overlay4j");
        Files.writeString(program, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(program, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path mnt = root.resolve("mnt");
        ProcessBuilder mount = new ProcessBuilder(mountFuse3.toString(), "overlay4j", mnt.toString(), "-t", "overlay4j", "-o",
                "lowerdir=" + root.resolve("lower1") + ":" + root.resolve("lower2") + ",upperdir=" + root.resolve("upper")
                        + ",workdir=" + root.resolve("work")).redirectErrorStream(true);
        mount.environment().put("PATH", bin + ":/usr/sbin:/usr/bin:/sbin:/bin");
        Process process = mount.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "mount did not return");
        try {
            assertEquals(0, process.exitValue(), out);
            assertTrue(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .anyMatch(line -> line.split(" ")[4].equals(mnt.toString()) && line.contains(" - fuse.overlay4j ")),
                    "no fuse.overlay4j mount at " + mnt);
            assertEquals("hi\n", Files.readString(mnt.resolve("hello")));
            Files.writeString(mnt.resolve("new"), "written\n");
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor();
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
        }
        assertEquals("written\n", Files.readString(root.resolve("upper/new")));
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

    /**
     * What containers/storage runs as its mount_program: lower layers named relative to the
     * storage's overlay directory (its working directory), an empty option, volatile, the id
     * mappings with their leading colon and an SELinux label with a comma in quotes.
     */
    @Test
    void mountsTheArgvContainersStoragePassesFromItsOverlayDirectory() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        Path overlay = root.resolve("overlay");
        for (String dir : List.of("base/diff", "app/diff", "l", "ctr/diff", "ctr/work", "ctr/merged")) {
            Files.createDirectories(overlay.resolve(dir));
        }
        Files.writeString(overlay.resolve("base/diff/os-release"), "base\n");
        Files.writeString(overlay.resolve("app/diff/app"), "app\n");
        Files.createSymbolicLink(overlay.resolve("l/A"), Path.of("../app/diff"));
        Files.createSymbolicLink(overlay.resolve("l/B"), Path.of("../base/diff"));
        Path mnt = overlay.resolve("ctr/merged");
        Process launcher = command(overlay, "-o", "lowerdir=l/A:l/B,upperdir=" + overlay.resolve("ctr/diff")
                + ",workdir=" + overlay.resolve("ctr/work") + ",,volatile,uidmapping=:0:100000:65536,"
                + "gidmapping=:0:100000:65536,context=\"system_u:object_r:container_file_t:s0:c1,c2\"", mnt.toString());
        String err = output(launcher);
        Optional<ProcessHandle> server = Optional.empty();
        try {
            assertEquals(0, launcher.exitValue(), err);
            assertEquals("", err);
            server = serverOf(mnt);
            assertEquals("app\n", Files.readString(mnt.resolve("app")));
            assertEquals("base\n", Files.readString(mnt.resolve("os-release")));
            assertEquals(100000, Files.getAttribute(mnt.resolve("os-release"), "unix:uid"));
            Files.writeString(mnt.resolve("new"), "new\n");
            unmountAndAwait(mnt, server.orElseThrow());
        } finally {
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
            server.ifPresent(ProcessHandle::destroy);
        }
        assertEquals("new\n", Files.readString(overlay.resolve("ctr/diff/new")));
    }

    @Test
    void aBadOptionFailsOnOneLineWithStatus2() throws Exception {
        MountedOverlay.createLayers(root);
        Process launcher = command("-o", "lowerdir=lower1,uidmapping=0:100000", root.resolve("mnt").toString());
        String err = output(launcher);
        assertEquals(2, launcher.exitValue(), err);
        assertEquals("overlay4j: option uidmapping: \"0:100000\" is not a list of STORED:SHOWN:COUNT ranges\n", err);
    }

    @Test
    void mountsOverADirectoryWithEntriesAndShowsThemAgainWhenUnmounted() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hi\n");
        Path mnt = root.resolve("mnt");
        Files.writeString(mnt.resolve("hidden"), "below the mount\n");
        Process launcher = command("-o", "lowerdir=" + root.resolve("lower1"), mnt.toString());
        String err = output(launcher);
        Optional<ProcessHandle> server = Optional.empty();
        try {
            assertEquals(0, launcher.exitValue(), err);
            server = serverOf(mnt);
            assertEquals(List.of("hello"), listing(mnt));
            unmountAndAwait(mnt, server.orElseThrow());
            assertEquals(List.of("hidden"), listing(mnt));
        } finally {
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
            server.ifPresent(ProcessHandle::destroy);
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aMountpointWhoseServerWasKilledIsNamedForWhatItIs() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        MountedOverlay.createLayers(root);
        Path mnt = root.resolve("mnt");
        Process server = command("-f", "-o", "lowerdir=" + root.resolve("lower1"), mnt.toString());
        try {
            for (int i = 0; i < 300 && !MountedOverlay.isMounted(mnt); i++) {
                Thread.sleep(50);
            }
            assertTrue(MountedOverlay.isMounted(mnt));
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: the mount stays, with no server
            Process again = command("-f", "-o", "lowerdir=" + root.resolve("lower1"), mnt.toString());
            String err = output(again);
            assertEquals(1, again.exitValue(), err);
            assertEquals("overlay4j: mountpoint " + mnt + " is a FUSE mount whose server is gone (ENOTCONN): unmount it first with umount "
                    + mnt + " (or fusermount3 -u " + mnt + ")\n", err);
        } finally {
            server.destroyForcibly();
            if (MountedOverlay.isMounted(mnt)) {
                new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
            }
        }
    }
}
