package dev.overlay4j.fuse;

import dev.overlay4j.api.Mount;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.spi.MountFrontend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The FUSE mount frontend, as {@link Overlay#mount} finds it: the same server as the
 * {@code overlay4j} command, in this JVM, taking that command's FUSE options ({@code threads},
 * {@code passthrough}, {@code allow_other}, {@code entry_timeout}, {@code fsname}, the mount
 * flags, ...). Root mounts with mount(2), other users through fusermount3.
 */
public final class FuseFrontend implements MountFrontend {

    static final String NAME = "fuse";

    /** For {@link java.util.ServiceLoader}. */
    public FuseFrontend() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Mount mount(Overlay overlay, Path mountpoint, Map<String, String> options) throws IOException {
        FuseOptions fuse = CommandLine.fuseOptions(options);
        return FuseMount.mount(overlay, mountpoint.toAbsolutePath().normalize(), fuse);
    }
}
