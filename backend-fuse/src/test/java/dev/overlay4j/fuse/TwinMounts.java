package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test fixture: the kernel's overlayfs ({@code mount -t overlay}) and overlay4j's FUSE mount,
 * each over its own copy of identical layers (lower1, lower2, upper), on a tmpfs of their own
 * or on the disk under the test's directory. Tests run the same calls on both and compare.
 * Skips (message "SKIPPED: ...") where the kernel's overlayfs or FUSE cannot be mounted.
 */
final class TwinMounts implements AutoCloseable {

    /** Where the layers live. */
    enum Store {
        TMPFS, DISK
    }

    /** Fills the empty layer directories under a root (lower1, lower2, upper). */
    @FunctionalInterface
    interface Layers {
        void fill(Path root) throws IOException;
    }

    /** The kernel's merged directory. */
    final Path kernel;
    /** overlay4j's merged directory. */
    final Path overlay4j;
    final Path kernelRoot;
    final Path overlay4jRoot;
    private final Path root;
    private final boolean tmpfs;
    private MountedOverlay fuse;
    private boolean kernelMounted;

    private TwinMounts(Path root, boolean tmpfs) {
        this.root = root;
        this.tmpfs = tmpfs;
        this.kernelRoot = root.resolve("k");
        this.overlay4jRoot = root.resolve("o");
        this.kernel = kernelRoot.resolve("mnt");
        this.overlay4j = overlay4jRoot.resolve("mnt");
    }

    /**
     * Mounts both; {@code kernelOptions} are added to the kernel's (for example
     * {@code ",index=on"}), {@code config} configures overlay4j's top lower layer onward.
     */
    static TwinMounts mount(Path root, Store store, Layers layers, String kernelOptions, FuseOptions fuseOptions,
            OverlayConfig.Builder config) throws IOException {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "SKIPPED: /dev/fuse is missing");
        TwinMounts twin = new TwinMounts(root, store == Store.TMPFS);
        try {
            if (twin.tmpfs) {
                Shell.Result r = Shell.run("mount", "-t", "tmpfs", "-o", "size=256m", "overlay4j-twin", root.toString());
                assumeTrue(r.ok(), "SKIPPED: cannot mount a tmpfs (needs root): " + r.output());
            }
            for (Path side : new Path[] {twin.kernelRoot, twin.overlay4jRoot}) {
                MountedOverlay.createLayers(side);
                layers.fill(side);
            }
            String options = "lowerdir=" + twin.kernelRoot.resolve("lower1") + ":" + twin.kernelRoot.resolve("lower2")
                    + ",upperdir=" + twin.kernelRoot.resolve("upper") + ",workdir=" + twin.kernelRoot.resolve("work")
                    + kernelOptions;
            Shell.Result r = Shell.run("mount", "-t", "overlay", "overlay", "-o", options, twin.kernel.toString());
            assumeTrue(r.ok(), "SKIPPED: the kernel's overlayfs cannot be mounted here (needs root): " + r.output());
            twin.kernelMounted = true;
            twin.fuse = MountedOverlay.mount(twin.overlay4jRoot, fuseOptions,
                    config.lower(twin.overlay4jRoot.resolve("lower1").toString()));
            return twin;
        } catch (IOException | RuntimeException | Error e) {
            twin.close();
            throw e;
        }
    }

    static TwinMounts mount(Path root, Store store, Layers layers) throws IOException {
        return mount(root, store, layers, ",index=on", FuseOptions.defaults(), OverlayConfig.builder());
    }

    /** The same relative path in both merged views: kernel first. */
    Path[] both(String path) {
        return new Path[] {kernel.resolve(path), overlay4j.resolve(path)};
    }

    /** The upper directory of the kernel's overlay or of overlay4j's. */
    Path upper(boolean ofKernel) {
        return (ofKernel ? kernelRoot : overlay4jRoot).resolve("upper");
    }

    Path work(boolean ofKernel) {
        return (ofKernel ? kernelRoot : overlay4jRoot).resolve("work");
    }

    @Override
    public void close() throws IOException {
        try {
            if (fuse != null) {
                fuse.close();
                fuse = null;
            }
        } finally {
            if (kernelMounted) {
                kernelMounted = false;
                Shell.Result r = Shell.run("umount", kernel.toString());
                if (!r.ok()) {
                    Shell.run("umount", "-l", kernel.toString());
                    fail("the kernel's overlay at " + kernel + " was busy: " + r.output());
                }
            }
            if (tmpfs) {
                // The FUSE server may still be letting go of its files: retry while busy.
                for (int i = 0; i < 100 && !Shell.run("umount", root.toString()).ok(); i++) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                if (MountedOverlay.isMounted(root)) {
                    Shell.run("umount", "-l", root.toString());
                    fail("the tmpfs at " + root + " stayed busy");
                }
            }
        }
    }

    /** Runs commands, for fixtures. */
    static final class Shell {
        record Result(int exit, String output) {
            boolean ok() {
                return exit == 0;
            }
        }

        static Result run(String... command) throws IOException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                return new Result(p.waitFor(), out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }

        private Shell() {
        }
    }
}
