package dev.overlay4j.core;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.spi.OverlayEngine;
import java.io.IOException;

/** The engine {@link Overlay#open} finds: overlays with the semantics of the kernel's overlayfs. */
public final class OverlayfsEngine implements OverlayEngine {

    @Override
    public Overlay open(OverlayConfig config) throws IOException {
        return new MergedOverlay(config, LayerStack.open(config));
    }
}
