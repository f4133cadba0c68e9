package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Mount;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An embedder mounts through overlay-api alone: Overlay.mount finds the FUSE frontend with ServiceLoader. */
class MountFrontendTest {

    @TempDir
    Path root;

    @Test
    void overlayMountServesTheOverlayThroughTheFuseFrontendUntilClosed() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        MountedOverlay.createLayers(root);
        Files.writeString(root.resolve("lower1/hello"), "hello\n");
        Path mnt = root.resolve("mnt");
        try (Overlay overlay = Overlay.open(OverlayConfig.builder().lower(root.resolve("lower1").toString())
                .upper(root.resolve("upper").toString(), root.resolve("work").toString()).build())) {
            Map<String, String> options = new HashMap<>(Map.of("threads", "1", "fsname", "embedded"));
            options.put("noatime", null);
            Mount mount = overlay.mount(mnt, options);
            try {
                assertEquals("fuse", mount.frontend());
                assertEquals(mnt, mount.mountpoint());
                assertTrue(MountedOverlay.isMounted(mnt));
                assertTrue(Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                        .anyMatch(line -> line.startsWith("embedded " + mnt + " fuse.overlay4j ") && line.contains("noatime")));
                assertEquals("hello\n", Files.readString(mnt.resolve("hello")));
                Files.writeString(mnt.resolve("new"), "new\n");
                assertEquals("new\n", Files.readString(root.resolve("upper/new")));
            } finally {
                mount.close();
            }
            mount.awaitUnmount();
            assertFalse(MountedOverlay.isMounted(mnt));
            assertEquals(4, overlay.stat(dev.overlay4j.api.EntryPath.of("new")).size(), "the overlay stays open");
        }
    }

    @Test
    void anUnknownFrontendOrOptionIsRefusedByName() throws Exception {
        MountedOverlay.createLayers(root);
        try (Overlay overlay = Overlay.open(OverlayConfig.builder().lower(root.resolve("lower1").toString()).build())) {
            Path mnt = root.resolve("mnt");
            assertEquals("no mount frontend named nfs is installed (installed: fuse)",
                    assertThrows(IllegalArgumentException.class, () -> overlay.mount(mnt, Map.of("frontend", "nfs"))).getMessage());
            assertEquals("unknown option bogus",
                    assertThrows(IllegalArgumentException.class, () -> overlay.mount(mnt, Map.of("bogus", "1"))).getMessage());
            assertFalse(MountedOverlay.isMounted(mnt));
        }
    }
}
