package dev.overlay4j.it.differential;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.fuse.FuseMount;
import dev.overlay4j.fuse.FuseOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * overlay4j served through its FUSE mount (the server runs in this JVM), over the same kind of
 * layout the kernel mounts: the operations then go through the kernel's VFS and the FUSE
 * protocol, as every program on the machine sees overlay4j. {@link #KIND} with the options
 * {@code overlay4j -o} gets by default (the kernel caches on, files opened by the kernel alone),
 * {@link #KIND_PASSTHROUGH} with {@code passthrough=on}, where every open reaches the server.
 */
final class Overlay4jFuseMount implements OverlayUnderTest {

    static final Kind KIND = Kind.of("overlay4j(fuse)", Features.MOUNT, (layout, scratch) -> mount(layout, scratch, FuseOptions.defaults()));
    static final Kind KIND_PASSTHROUGH = Kind.of("overlay4j(fuse, passthrough=on)", Features.MOUNT,
            (layout, scratch) -> mount(layout, scratch, FuseOptions.defaults().withPassthrough(true)));

    private final Overlay overlay;
    private final FuseMount mount;
    private final Path mountPoint;

    private Overlay4jFuseMount(Overlay overlay, FuseMount mount, Path mountPoint) {
        this.overlay = overlay;
        this.mount = mount;
        this.mountPoint = mountPoint;
    }

    static Overlay4jFuseMount mount(Layout layout, Path scratch, FuseOptions options) throws IOException {
        Path mountPoint = Files.createDirectories(scratch.resolve("fuse-merged"));
        Overlay overlay = Overlay.open(OverlayConfig.fromMountOptions(layout.mountOptions("redirect_dir=on")));
        try {
            return new Overlay4jFuseMount(overlay, FuseMount.mount(overlay, mountPoint, options),
                    mountPoint);
        } catch (IOException | RuntimeException e) {
            overlay.close();
            throw e;
        }
    }

    @Override
    public Path root() {
        return mountPoint;
    }

    @Override
    public void close() throws IOException {
        try {
            mount.close(); // unmounts (lazily if still busy) and waits for the server to end
        } finally {
            overlay.close();
        }
    }
}
