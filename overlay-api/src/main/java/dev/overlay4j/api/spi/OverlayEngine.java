package dev.overlay4j.api.spi;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;

/** Builds overlays. {@link Overlay#open(OverlayConfig)} finds the engine with {@link java.util.ServiceLoader}. */
public interface OverlayEngine {

    Overlay open(OverlayConfig config) throws IOException;
}
