package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The reference: Linux overlayfs mounted with {@code mount -t overlay}. */
final class KernelOverlay implements OverlayUnderTest {
    /**
     * The reference configuration, the kernel's behaviour that overlay4j's default matches:
     * redirect_dir=on (directories with lower content can be renamed) and index=on (a lower hard
     * link stays one file when one of its names is copied up). Both are explicit, since module
     * defaults vary (both off on this kind of machine).
     */
    static final String OPTIONS = "redirect_dir=on,index=on";

    static final Kind KIND = Kind.of("kernel", Features.MOUNT, (layout, scratch) -> mount(layout, scratch, OPTIONS));

    /** A deliberately different overlay (directory renames fail with EXDEV), to prove the comparison can fail. */
    static final Kind KIND_REDIRECT_DIR_OFF = Kind.of("kernel(redirect_dir=off)", Features.MOUNT,
            (layout, scratch) -> mount(layout, scratch, "redirect_dir=off,index=on"));

    /** The module default here: copy-up of one name of a lower hard link breaks it from the others. */
    static final Kind KIND_INDEX_OFF = Kind.of("kernel(index=off)", Features.MOUNT,
            (layout, scratch) -> mount(layout, scratch, "redirect_dir=on,index=off"));

    private final Path mountPoint;
    private boolean mounted = true;

    private KernelOverlay(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    static KernelOverlay mount(Layout layout, Path scratch) throws IOException {
        return mount(layout, scratch, OPTIONS);
    }

    static KernelOverlay mount(Layout layout, Path scratch, String options) throws IOException {
        Path mountPoint = Files.createDirectories(scratch.resolve("merged"));
        Shell.check("mount", "-t", "overlay", "overlay", "-o", layout.mountOptions(options), mountPoint.toString());
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
