package dev.overlay4j.api.spi;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.net.URI;
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
     * Opens a read-only layer. Fails at once, naming {@code location}, when it does not exist or
     * cannot be read.
     */
    Layer openLower(URI location, LayerOptions options) throws IOException;

    /**
     * Opens a writable upper layer with its work location. Providers that cannot write refuse
     * with EOPNOTSUPP.
     */
    default WritableLayer openUpper(URI upper, URI work, LayerOptions options) throws IOException {
        throw Errno.EOPNOTSUPP.exception(upper, "layers of scheme " + upper.getScheme() + " cannot be an upper layer");
    }
}
