package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server killed with SIGKILL: the mount stays, broken, and everything fsync'ed survives a remount. */
class DaemonCrashTest {

    @TempDir
    Path root;

    @Test
    void aKilledServerLeavesENOTCONNAndFsyncedFilesSurviveARemount() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        assumeTrue("root".equals(System.getProperty("user.name")),
                "FUSE SKIPPED: the crash test mounts with mount(2) and needs root");
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/kept"), "lower\n");
        Path mnt = root.resolve("mnt");
        Path log = root.resolve("daemon.log");
        Process daemon = DaemonProcess.start(log, DaemonProcess.command(DaemonProcess.modulePath(),
                "-o", "lowerdir=" + root.resolve("lower1") + ":" + root.resolve("lower2") + ",upperdir="
                        + root.resolve("upper") + ",workdir=" + root.resolve("work"), mnt.toString()));
        byte[][] contents = new byte[3][];
        try {
            DaemonProcess.awaitMounted(daemon, mnt, log);
            for (int i = 0; i < contents.length; i++) {
                contents[i] = new byte[100_000 * (i + 1) + i];
                new Random(i).nextBytes(contents[i]);
                try (FileChannel channel = FileChannel.open(mnt.resolve("synced" + i), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE)) {
                    channel.write(ByteBuffer.wrap(contents[i]));
                    channel.force(true);
                }
            }
            try (FileChannel channel = FileChannel.open(mnt.resolve("kept"), StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                channel.write(ByteBuffer.wrap("appended\n".getBytes()));
                channel.force(true);
            }
            daemon.destroyForcibly(); // SIGKILL
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, daemon.exitValue());

            FileSystemException broken = assertThrows(FileSystemException.class,
                    () -> Files.readAttributes(mnt.resolve("synced0"), "unix:ino"));
            assertTrue(String.valueOf(broken.getMessage()).contains("Transport endpoint is not connected"),
                    broken.getMessage());
        } finally {
            daemon.destroyForcibly();
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
        }

        try (MountedOverlay again = MountedOverlay.mount(root, FuseOptions.defaults())) {
            for (int i = 0; i < contents.length; i++) {
                assertArrayEquals(contents[i], Files.readAllBytes(again.mnt.resolve("synced" + i)));
            }
            assertEquals("lower\nappended\n", Files.readString(again.mnt.resolve("kept")));
            assertEquals(List.of("kept", "synced0", "synced1", "synced2"),
                    List.of(DaemonProcess.listing(again.mnt).split(",")));
        }
    }
}
