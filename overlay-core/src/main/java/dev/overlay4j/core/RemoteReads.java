package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The reads of {@linkplain Layer#remote() remote} lower layers that an operation on a path is
 * going to make, made first without the namespace lock. Lower layers do not change under the
 * overlay, so what they answer now is what they would answer under the lock; made there, a read
 * that waits on a hung server would keep every change in the overlay waiting with it. This only
 * fills the layers' own caches: the locked operation still reads (and decides) as before, so a
 * path this guesses wrong (a redirected directory) costs a wait under the lock, never a wrong answer.
 */
final class RemoteReads {

    private final List<Layer> remote = new ArrayList<>();

    RemoteReads(LayerStack layers) {
        for (int i = 1; i <= layers.lowerCount(); i++) {
            if (layers.layer(i).remote()) {
                remote.add(layers.layer(i));
            }
        }
    }

    /** Whether some lower layer is remote. */
    boolean any() {
        return !remote.isEmpty();
    }

    /**
     * Reads {@code path} and the directories on the way to it in every remote lower layer, and
     * with {@code listing} the directory's listing too.
     */
    void prefetch(EntryPath path, boolean listing) {
        if (remote.isEmpty()) {
            return;
        }
        for (Layer layer : remote) {
            prefetch(layer, path, listing);
        }
    }

    private static void prefetch(Layer layer, EntryPath path, boolean listing) {
        try {
            for (int count = 1; count <= path.nameCount(); count++) {
                Optional<EntryAttributes> found = layer.stat(path.subpath(count));
                if (found.isEmpty() || !found.get().isDirectory()) {
                    return; // nothing below it in this layer
                }
            }
            if (listing) {
                try (Stream<?> entries = layer.list(path)) {
                    entries.forEach(entry -> { });
                }
            }
        } catch (IOException | RuntimeException e) {
            // The locked operation reads it again and reports what goes wrong.
        }
    }
}
