/**
 * The stable contract of overlay4j: layers ({@link dev.overlay4j.api.Layer},
 * {@link dev.overlay4j.api.WritableLayer}), the merged {@link dev.overlay4j.api.Overlay},
 * its configuration and its errors, the {@code access(2)} rule that every frontend applies
 * ({@link dev.overlay4j.api.Access}), and the SPIs of layer providers and mount frontends
 * ({@link dev.overlay4j.api.spi.MountFrontend}). Third-party plugins and embedders compile against this module alone.
 */
module dev.overlay4j.api {
    exports dev.overlay4j.api;
    exports dev.overlay4j.api.spi;

    uses dev.overlay4j.api.spi.LayerProvider;
    uses dev.overlay4j.api.spi.OverlayEngine;
    uses dev.overlay4j.api.spi.MountFrontend;
}
