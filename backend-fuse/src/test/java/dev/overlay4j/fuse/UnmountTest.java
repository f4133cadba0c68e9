package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.fuse.kernel.Syscalls;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a mount ends: whoever ends the connection (umount, lazy umount, an abort), the server
 * never unmounts by path afterwards, so what is mounted at the path since stays; and on its own
 * shutdown it unmounts only its own connection.
 */
class UnmountTest {

    @TempDir
    Path root;

    private Path mnt;
    private Overlay overlay;
    private FuseMount mount;
    private boolean mountedFusectl;

    @BeforeEach
    void mountOverlay() throws IOException {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        try (Syscalls sys = new Syscalls()) {
            assumeTrue(sys.geteuid() == 0, "FUSE SKIPPED: mounting tmpfs over the mountpoint needs root");
        }
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hello\n");
        mnt = root.resolve("mnt");
        overlay = Overlay.open(OverlayConfig.builder().lower(root.resolve("lower1").toString())
                .upper(root.resolve("upper").toString(), root.resolve("work").toString()).build());
        mount = FuseMount.mount(overlay, mnt, FuseOptions.defaults());
    }

    @AfterEach
    void cleanUp() throws IOException, InterruptedException {
        if (mount != null) {
            mount.close();
        }
        if (overlay != null) {
            overlay.close();
        }
        // Whatever a test left at the path: the tmpfs on top, the dead FUSE mount under it.
        for (int i = 0; i < 3 && mnt != null && MountedOverlay.isMounted(mnt); i++) {
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        if (mountedFusectl) {
            new ProcessBuilder("umount", "/sys/fs/fuse/connections").start().waitFor();
        }
    }

    private long deviceAt(Path path) {
        try (Syscalls sys = new Syscalls()) {
            return sys.deviceOf(path.toString());
        }
    }

    /** The types of the mounts stacked at {@code path}, bottom first. */
    private static List<String> mountTypesAt(Path path) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> line.split(" ")[4].equals(path.toString()))
                .map(line -> line.substring(line.indexOf(" - ") + 3).split(" ")[0])
                .toList();
    }

    private void mountTmpfsOn(Path path) throws IOException {
        MountedOverlay.run(root, "mount", "-t", "tmpfs", "-o", "size=1m", "unmount-test", path.toString());
    }

    @Test
    void afterAnUmountWhatIsMountedThereNextIsLeftAlone() throws Exception {
        MountedOverlay.run(root, "umount", mnt.toString());
        mountTmpfsOn(mnt);
        mount.awaitUnmount();
        mount.close();
        assertEquals(List.of("tmpfs"), mountTypesAt(mnt));
        Files.writeString(mnt.resolve("still-here"), "x");
    }

    @Test
    void afterALazyUmountTheServerServesItsLastUserAndLeavesThePathAlone() throws Exception {
        try (FileChannel held = FileChannel.open(mnt.resolve("hello"), StandardOpenOption.READ)) {
            MountedOverlay.run(root, "umount", "-l", mnt.toString());
            mountTmpfsOn(mnt);
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(6);
            held.read(bytes, 0);
            assertEquals("hello\n", new String(bytes.array(), java.nio.charset.StandardCharsets.UTF_8));
        }
        mount.awaitUnmount();
        mount.close();
        assertEquals(List.of("tmpfs"), mountTypesAt(mnt));
    }

    @Test
    void anAbortedConnectionEndsTheServerWhichThenLeavesTheDeadMountAlone() throws Exception {
        Path connections = Path.of("/sys/fs/fuse/connections");
        if (!Files.exists(connections.resolve(Long.toString(deviceAt(mnt))))) {
            MountedOverlay.run(root, "mount", "-t", "fusectl", "fusectl", connections.toString());
            mountedFusectl = true;
        }
        Files.writeString(connections.resolve(Long.toString(deviceAt(mnt))).resolve("abort"), "1");
        mount.awaitUnmount();
        mount.close();
        // The kernel keeps the aborted mount until someone unmounts it; the server did not.
        assertEquals(List.of("fuse.overlay4j"), mountTypesAt(mnt));
        FileSystemException dead = org.junit.jupiter.api.Assertions.assertThrows(FileSystemException.class,
                () -> Files.readString(mnt.resolve("hello")));
        assertTrue(dead.getMessage().contains("Transport endpoint is not connected"), dead.getMessage());
    }

    @Test
    void onItsOwnShutdownTheServerUnmountsOnlyItsOwnConnection() throws Exception {
        long own = deviceAt(mnt);
        mountTmpfsOn(mnt); // covers the overlay: the path now shows another file system
        assertFalse(own == deviceAt(mnt));
        mount.close();
        assertEquals(List.of("fuse.overlay4j", "tmpfs"), mountTypesAt(mnt));
        MountedOverlay.run(root, "umount", mnt.toString());
        assertEquals(List.of("fuse.overlay4j"), mountTypesAt(mnt));
    }

    @Test
    void onItsOwnShutdownTheServerUnmountsItsMount() throws Exception {
        mount.close();
        assertEquals(List.of(), mountTypesAt(mnt));
    }
}
