package dev.overlay4j.api.spi;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Set;

/**
 * Opens layers for the URI schemes it names. Found with {@link java.util.ServiceLoader}: a
 * module {@code provides dev.overlay4j.api.spi.LayerProvider with ...} (or a
 * {@code META-INF/services} entry on the class path) adds its schemes to every overlay.
 */
public interface LayerProvider {

    /** The URI schemes this provider opens, lower case (for example {@code file}, {@code jar}). */
    Set<String> schemes();

    /**
     * Endings of local file names, lower case and with their dot (for example {@code .tar}), that
     * this provider opens as read-only lower layers whatever provider serves the {@code file}
     * scheme: an archive format that a backend of its own reads. {@link dev.overlay4j.api.Layers}
     * hands a {@code file:} lower layer that is not a directory and whose name ends so to this
     * provider (the longest ending wins). None by default.
     */
    default Set<String> fileSuffixes() {
        return Set.of();
    }

    /**
     * Opens a read-only layer. Fails at once, naming {@code location}, when it does not exist or
     * cannot be read, and with EINVAL when it stands for more than one layer (see {@link #openLowers}).
     */
    Layer openLower(URI location, LayerOptions options) throws IOException;

    /**
     * Opens the read-only layers that a location stands for, topmost first: one for most
     * locations, several for one that names a stack of layers (a container image). An overlay
     * puts them in as consecutive lower layers where the location was named. On failure closes
     * those it opened. The default opens the one layer of {@link #openLower}.
     */
    default List<Layer> openLowers(URI location, LayerOptions options) throws IOException {
        return List.of(openLower(location, options));
    }

    /**
     * Opens a writable upper layer with its work location. Providers that cannot write refuse
     * with EOPNOTSUPP.
     */
    default WritableLayer openUpper(URI upper, URI work, LayerOptions options) throws IOException {
        throw Errno.EOPNOTSUPP.exception(upper, "layers of scheme " + upper.getScheme() + " cannot be an upper layer");
    }
}
