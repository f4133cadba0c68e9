package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: an overlay of two lower directories and an upper directory, mounted through
 * FUSE on a temporary mountpoint. Closing it always leaves nothing mounted.
 */
final class MountedOverlay implements AutoCloseable {

    final Path lower1;
    final Path lower2;
    final Path upper;
    final Path work;
    final Path mnt;
    private final Overlay overlay;
    private final FuseMount mount;

    private MountedOverlay(Path root, Overlay overlay, FuseMount mount) {
        this.lower1 = root.resolve("lower1");
        this.lower2 = root.resolve("lower2");
        this.upper = root.resolve("upper");
        this.work = root.resolve("work");
        this.mnt = root.resolve("mnt");
        this.overlay = overlay;
        this.mount = mount;
    }

    /** The empty layer directories under {@code root}, to fill before {@link #mount}. */
    static void createLayers(Path root) throws IOException {
        for (String name : List.of("lower1", "lower2", "upper", "work", "mnt")) {
            Files.createDirectories(root.resolve(name));
        }
    }

    /**
     * Mounts the layers under {@code root}; skips the test (message "FUSE SKIPPED: ...") only
     * when this machine cannot mount FUSE at all.
     */
    static MountedOverlay mount(Path root, FuseOptions options) throws IOException {
        return mount(root, options, OverlayConfig.builder().lower(root.resolve("lower1").toString()));
    }

    /** {@link #mount(Path, FuseOptions)} with the top lower layer given: lower2 and upper follow it. */
    static MountedOverlay mount(Path root, FuseOptions options, OverlayConfig.Builder withTopLower) throws IOException {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        OverlayConfig config = withTopLower
                .lower(root.resolve("lower2").toString())
                .upper(root.resolve("upper").toString(), root.resolve("work").toString())
                .build();
        Overlay overlay = Overlay.open(config);
        FuseMount mount;
        try {
            mount = FuseMount.mount(overlay, root.resolve("mnt"), options);
        } catch (IOException e) {
            overlay.close();
            assumeTrue(!e.getMessage().contains(Fusermount.PROGRAM), "FUSE SKIPPED: mount not permitted: " + e.getMessage());
            throw e;
        }
        return new MountedOverlay(root, overlay, mount);
    }

    FuseMount fuseMount() {
        return mount;
    }

    @Override
    public void close() throws IOException {
        try {
            mount.close();
        } finally {
            try {
                overlay.close();
            } finally {
                if (isMounted(mnt)) {
                    new ProcessBuilder("umount", "-l", mnt.toString()).inheritIO().start();
                    fail(mnt + " was still mounted after close");
                }
            }
        }
    }

    static boolean isMounted(Path path) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(line -> line.split(" ")[4].equals(path.toString()));
    }

    /** Runs a program in {@code directory}, asserts it succeeds, and returns its standard output. */
    static String run(Path directory, String... command) throws IOException {
        Process process = new ProcessBuilder(command).directory(directory.toFile())
                .redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readAllBytes();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed: " + text);
        return text;
    }
}
