package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The reference: Linux overlayfs mounted with {@code mount -t overlay}. */
final class KernelOverlay implements OverlayUnderTest {
    /** The reference configuration: redirect_dir=on, as overlay4j's default. */
    static final Kind KIND = Kind.of("kernel", (layout, scratch) -> mount(layout, scratch, true));

    /** A deliberately different overlay (directory renames fail with EXDEV), to prove the comparison can fail. */
    static final Kind KIND_REDIRECT_DIR_OFF = Kind.of("kernel(redirect_dir=off)",
            (layout, scratch) -> mount(layout, scratch, false));

    private final Path mountPoint;
    private boolean mounted = true;

    private KernelOverlay(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    static KernelOverlay mount(Layout layout, Path scratch) throws IOException {
        return mount(layout, scratch, true);
    }

    static KernelOverlay mount(Layout layout, Path scratch, boolean redirectDir) throws IOException {
        Path mountPoint = Files.createDirectories(scratch.resolve("merged"));
        Shell.check("mount", "-t", "overlay", "overlay", "-o", layout.mountOptions(redirectDir),
                mountPoint.toString());
        return new KernelOverlay(mountPoint);
    }

    @Override
    public Path root() {
        return mountPoint;
    }

    @Override
    public void close() throws IOException {
        if (mounted) {
            mounted = false;
            Shell.Result result = Shell.run("umount", mountPoint.toString());
            if (!result.ok()) {
                // Never leave a mount behind, even when something still holds it open.
                Shell.run("umount", "-l", mountPoint.toString());
                throw new IOException(result.describe());
            }
        }
    }
}
