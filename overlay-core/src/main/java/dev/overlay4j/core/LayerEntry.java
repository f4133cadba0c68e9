package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;

/**
 * One layer's part of a merged entry: which layer, where in it (a redirect can make this
 * differ from the overlay path), and what the layer reported.
 */
record LayerEntry(int layer, EntryPath path, EntryAttributes attributes) {

    boolean isDirectory() {
        return attributes.isDirectory();
    }
}
