package dev.overlay4j.api.spi;

import dev.overlay4j.api.Mount;
import dev.overlay4j.api.Overlay;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Serves an overlay to other programs at a mountpoint: FUSE (backend-fuse, named {@code fuse}),
 * or another protocol a third party ships (NFS, 9p). Found with {@link java.util.ServiceLoader}
 * by {@link Overlay#mount}; a module declares {@code provides dev.overlay4j.api.spi.MountFrontend
 * with ...}, a class-path jar a {@code META-INF/services} entry.
 */
public interface MountFrontend {

    /** The name {@code Overlay.mount}'s {@code frontend} option chooses it by. */
    String name();

    /**
     * Mounts {@code overlay} at {@code mountpoint}, live when this returns.
     *
     * @param options the frontend's options, as in {@code mount -o}: name to value, null for a flag
     * @throws IllegalArgumentException naming an option that is unknown or wrong
     * @throws IOException when the mount cannot be made; the message says why
     */
    Mount mount(Overlay overlay, Path mountpoint, Map<String, String> options) throws IOException;
}
