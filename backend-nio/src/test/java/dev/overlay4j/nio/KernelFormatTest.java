package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk upper format, checked against the kernel's overlayfs both ways: what our
 * writable layer writes, the kernel mounts as intended; what the kernel writes, our layer reads.
 */
class KernelFormatTest {

    @TempDir
    Path scratch;
    Path lower;
    Path upper;
    Path work;
    Path mountPoint;
    final NioLayerProvider provider = new NioLayerProvider();

    @BeforeEach
    void lowerTree() throws IOException {
        assumeTrue(LinuxCalls.geteuid() == 0, "KERNEL SKIPPED: mounting overlayfs needs root; this test runs as uid " + LinuxCalls.geteuid());
        lower = Files.createDirectory(scratch.resolve("lower"));
        upper = Files.createDirectory(scratch.resolve("upper"));
        work = Files.createDirectory(scratch.resolve("work"));
        mountPoint = Files.createDirectory(scratch.resolve("merged"));
        Files.writeString(lower.resolve("a"), "lower a");
        Files.createDirectories(lower.resolve("dir"));
        Files.writeString(lower.resolve("dir/x"), "lower x");
        Files.createDirectories(lower.resolve("olddir"));
        Files.writeString(lower.resolve("olddir/y"), "lower y");
    }

    /** Runs {@code body} with the overlay mounted; skips when the kernel refuses the mount. */
    private void mounted(Path kernelWork, IoRunnable body) throws Exception {
        Process mount = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + kernelWork + ",redirect_dir=on",
                mountPoint.toString()).redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(mount.waitFor() == 0, "KERNEL SKIPPED: mount -t overlay failed: " + output);
        try {
            body.run();
        } finally {
            Process umount = new ProcessBuilder("umount", mountPoint.toString()).inheritIO().start();
            assertEquals(0, umount.waitFor(), "umount " + mountPoint);
        }
    }

    interface IoRunnable {
        void run() throws IOException;
    }

    private Set<String> mergedNames(String dir) throws IOException {
        try (Stream<Path> entries = Files.list(mountPoint.resolve(dir))) {
            return entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void theKernelMountsWhatOurUpperLayerWrote() throws Exception {
        NewEntryAttributes dir = new NewEntryAttributes(0755, 0, 0);
        try (WritableLayer layer = provider.openUpper(upper.toUri(), work.toUri(), LayerOptions.DEFAULTS)) {
            layer.createWhiteout(EntryPath.of("a"));
            layer.createDirectory(EntryPath.of("dir"), dir);
            layer.setOpaque(EntryPath.of("dir"), true);
            layer.createDirectory(EntryPath.of("newdir"), dir);
            layer.setRedirect(EntryPath.of("newdir"), "/olddir");
            layer.createWhiteout(EntryPath.of("olddir"));
        }
        Path kernelWork = Files.createDirectory(scratch.resolve("kernel-work"));
        mounted(kernelWork, () -> {
            assertEquals(Set.of("dir", "newdir"), mergedNames(""), "the whiteouts hide a and olddir");
            assertEquals(Set.of(), mergedNames("dir"), "the opaque dir hides the lower dir/x");
            assertEquals("lower y", Files.readString(mountPoint.resolve("newdir/y")), "the redirect reaches olddir");
        });
    }

    @Test
    void ourLayerReadsWhatTheKernelWrote() throws Exception {
        Path kernelWork = Files.createDirectory(scratch.resolve("kernel-work"));
        mounted(kernelWork, () -> {
            Files.delete(mountPoint.resolve("a"));
            Files.delete(mountPoint.resolve("dir/x"));
            Files.delete(mountPoint.resolve("dir"));
            Files.createDirectory(mountPoint.resolve("dir"));
            Files.move(mountPoint.resolve("olddir"), mountPoint.resolve("newdir"));
        });
        try (Layer layer = provider.openLower(upper.toUri(), LayerOptions.DEFAULTS)) {
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("a")).orElseThrow().type());
            EntryAttributes dir = layer.stat(EntryPath.of("dir")).orElseThrow();
            assertTrue(dir.opaque(), "rmdir + mkdir through the kernel makes an opaque directory");
            assertNull(dir.redirect());
            EntryAttributes moved = layer.stat(EntryPath.of("newdir")).orElseThrow();
            assertFalse(moved.opaque());
            assertEquals("olddir", moved.redirect());
            assertEquals(EntryType.WHITEOUT, layer.stat(EntryPath.of("olddir")).orElseThrow().type());
            assertTrue(Files.exists(upper.resolve("a"), LinkOption.NOFOLLOW_LINKS));
        }
    }
}
