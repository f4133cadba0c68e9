package dev.overlay4j.example.memory;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Opens the {@link MemoryStore}s {@link #add added} to this JVM by their URI,
 * {@code mem:<name>}. The stores are kept in one map for the whole JVM because
 * {@link java.util.ServiceLoader} makes a new provider for every overlay; that map is all the
 * global state there is.
 */
public final class MemoryLayerProvider implements LayerProvider {

    private static final ConcurrentMap<String, MemoryStore> STORES = new ConcurrentHashMap<>();

    /** For {@link java.util.ServiceLoader}. */
    public MemoryLayerProvider() {
    }

    /** Makes {@code store} the layer at {@code mem:<name>} until {@link #remove}d; its URI. */
    public static URI add(MemoryStore store) {
        if (STORES.putIfAbsent(store.name(), store) != null) {
            throw new IllegalStateException(uri(store.name()) + " is taken by another store");
        }
        return uri(store.name());
    }

    /** Removes {@code store} from the URIs (its layers that are open keep working). */
    public static void remove(MemoryStore store) {
        STORES.remove(store.name(), store);
    }

    private static URI uri(String name) {
        try {
            return new URI("mem", name, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("no URI for memory store " + name, e);
        }
    }

    private static MemoryStore store(URI location) throws IOException {
        MemoryStore store = STORES.get(location.getSchemeSpecificPart());
        if (store == null) {
            throw Errno.ENOENT.exception(location, "no memory store of that name was added in this JVM");
        }
        return store;
    }

    @Override
    public Set<String> schemes() {
        return Set.of("mem");
    }

    @Override
    public Layer openLower(URI location, LayerOptions options) throws IOException {
        return store(location).open();
    }

    /** The work area lives in the store: {@code work} must name the same store, as overlayfs wants the same file system. */
    @Override
    public WritableLayer openUpper(URI upper, URI work, LayerOptions options) throws IOException {
        MemoryStore store = store(upper);
        if (!"mem".equalsIgnoreCase(work.getScheme()) || !work.getSchemeSpecificPart().equals(store.name())) {
            throw Errno.EXDEV.exception(upper.toString(), work.toString(), "the work location must be the upper's store");
        }
        return store.open();
    }
}
