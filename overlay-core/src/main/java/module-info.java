/**
 * The overlay engine, which merges the layers of an {@link dev.overlay4j.api.OverlayConfig}
 * with the semantics of Linux overlayfs and is found through
 * {@link dev.overlay4j.api.Overlay#open}. Offers nothing but its
 * {@link dev.overlay4j.api.spi.OverlayEngine}; the frontends (the {@code overlay:} file system,
 * the FUSE mount) reach it through the API.
 */
module dev.overlay4j.core {
    requires dev.overlay4j.api;

    provides dev.overlay4j.api.spi.OverlayEngine with dev.overlay4j.core.OverlayfsEngine;
}
