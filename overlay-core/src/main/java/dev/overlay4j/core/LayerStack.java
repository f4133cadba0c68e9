package dev.overlay4j.core;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.OverlayConfig.LayerSource;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.WritableLayer;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The layers of one overlay by index: 0 is the upper layer (absent in a lower-only overlay),
 * 1..n the lower layers from top to bottom. The index is part of every inode number, so it
 * never changes for the life of the layer stack. {@link #INDEX} names the upper layer's
 * persistent index of copied-up lower hard links (see {@link HardLinkIndex}), when it has one.
 */
final class LayerStack implements Closeable {

    static final int UPPER = 0;
    /** Not a layer of its own: the upper layer's index, which the upper layer opens and closes. */
    static final int INDEX = -1;

    private final WritableLayer upper;
    private final WritableLayer index;
    private final List<Layer> lowers;

    private LayerStack(WritableLayer upper, List<Layer> lowers) {
        this.upper = upper;
        this.lowers = List.copyOf(lowers);
        this.index = upper == null ? null : indexOf(upper);
    }

    private static WritableLayer indexOf(WritableLayer upper) {
        try {
            return upper.indexArea();
        } catch (UnsupportedOperationException e) {
            return null; // lower hard links break on copy-up, as with the kernel's index=off
        }
    }

    /** Opens every layer of {@code config}; on failure closes those opened so far. */
    static LayerStack open(OverlayConfig config) throws IOException {
        refuseOverlappingDirectories(config);
        List<Layer> opened = new ArrayList<>();
        try {
            List<Layer> lowers = new ArrayList<>();
            for (LayerSource source : config.lowers()) {
                // One location may stand for several layers (an image's): they go in where it was named.
                List<Layer> layers = switch (source) {
                    case LayerSource.Location location -> Layers.openLowers(location.spec(), config.layerOptions());
                    case LayerSource.Opened given -> List.of(given.layer());
                };
                opened.addAll(layers);
                lowers.addAll(layers);
            }
            WritableLayer upper = switch (config.upper()) {
                case null -> null;
                case LayerSource.Location location -> Layers.openUpper(location.spec(), config.work(), config.layerOptions());
                case LayerSource.Opened given -> (WritableLayer) given.layer();
            };
            if (upper != null) {
                opened.add(upper);
            }
            return new LayerStack(upper, lowers);
        } catch (IOException | RuntimeException e) {
            for (Layer layer : opened) {
                try {
                    layer.close();
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Refuses, with ELOOP as the kernel does, local layer directories that overlap: a lower named
     * twice, or a lower that lies inside the upper or work directory or contains one of them.
     * (The kernel accepts an upper inside a lower and then fails lookups there; refusing at once
     * is clearer.) Lowers may nest inside each other, as in the kernel.
     */
    private static void refuseOverlappingDirectories(OverlayConfig config) throws IOException {
        List<Path> lowers = new ArrayList<>();
        for (LayerSource source : config.lowers()) {
            Optional<Path> dir = localDirectory(source);
            if (dir.isPresent()) {
                if (lowers.contains(dir.get())) {
                    throw Errno.ELOOP.exception(dir.get(), "the lower layer " + dir.get() + " is named twice");
                }
                lowers.add(dir.get());
            }
        }
        List<Path> writable = new ArrayList<>();
        if (config.upper() != null) {
            localDirectory(config.upper()).ifPresent(writable::add);
            if (config.work() != null) {
                localDirectory(new LayerSource.Location(config.work())).ifPresent(writable::add);
            }
        }
        for (Path dir : writable) {
            String role = writable.indexOf(dir) == 0 ? "upper dir " : "work dir ";
            for (Path lower : lowers) {
                if (lower.startsWith(dir)) {
                    throw Errno.ELOOP.exception(lower, "the lower layer " + lower + " lies inside the " + role + dir);
                }
                if (dir.startsWith(lower)) {
                    throw Errno.ELOOP.exception(dir, "the " + role + dir + " lies inside the lower layer " + lower);
                }
            }
        }
    }

    /** The real path of a layer given as a local directory; empty for anything else or a missing one. */
    private static Optional<Path> localDirectory(LayerSource source) {
        if (!(source instanceof LayerSource.Location location)) {
            return Optional.empty();
        }
        try {
            URI uri = Layers.toUri(location.spec());
            if (!"file".equalsIgnoreCase(uri.getScheme())) {
                return Optional.empty();
            }
            Path path = Path.of(uri);
            return Files.isDirectory(path) ? Optional.of(path.toRealPath()) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the provider reports what is wrong with it
        }
    }

    boolean hasUpper() {
        return upper != null;
    }

    /** The upper layer; only call when {@link #hasUpper()}. */
    WritableLayer upper() {
        return upper;
    }

    /** The upper layer's index of copied-up lower hard links, or null when it keeps none. */
    WritableLayer index() {
        return index;
    }

    int lowerCount() {
        return lowers.size();
    }

    Layer layer(int index) {
        return switch (index) {
            case UPPER -> upper;
            case INDEX -> this.index;
            default -> lowers.get(index - 1);
        };
    }

    /** The topmost layer that exists: the upper one, else the first lower one. */
    Layer topmost() {
        return upper != null ? upper : lowers.getFirst();
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        List<Layer> all = new ArrayList<>(lowers);
        if (upper != null) {
            all.add(upper);
        }
        for (Layer layer : all) {
            try {
                layer.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
