package dev.overlay4j.core;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.example.memory.MemoryStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Fixture: layers in memory (examples/memory-layer), for the tests that need what layers hold
 * and not how a disk holds it. Built like {@link LayerTree}: layer 0 is the upper layer, 1..n
 * the lower ones, top first; parents are made as needed, as 0755 directories. LayerTree's
 * helpers on the overlay (read, write, listing, assertErrno) work on these overlays too.
 */
final class MemoryLayers {

    private final List<MemoryStore> stores = new ArrayList<>();

    MemoryLayers(int lowers) {
        for (int i = 0; i <= lowers; i++) {
            stores.add(new MemoryStore(i == 0 ? "upper" : "lower" + i));
        }
    }

    private interface Change {
        void apply(WritableLayer layer, EntryPath path) throws IOException;
    }

    /** Makes a change to a layer's store, with the missing parents of {@code path} made first. */
    private MemoryLayers change(int layer, String path, Change change) throws IOException {
        EntryPath entry = EntryPath.of(path);
        try (WritableLayer l = stores.get(layer).open()) {
            for (int i = 1; i < entry.nameCount(); i++) {
                if (l.stat(entry.subpath(i)).isEmpty()) {
                    l.createDirectory(entry.subpath(i), LayerTree.DIR);
                }
            }
            change.apply(l, entry);
        }
        return this;
    }

    /** A regular file holding {@code content}, in place of any non-directory of that name. */
    MemoryLayers file(int layer, String path, String content) throws IOException {
        return change(layer, path, (l, p) -> {
            if (l.stat(p).isPresent()) {
                l.delete(p);
            }
            try (WritableContent c = l.createFile(p, LayerTree.FILE)) {
                c.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
            }
        });
    }

    MemoryLayers dir(int layer, String path) throws IOException {
        return change(layer, path, (l, p) -> {
            if (l.stat(p).isEmpty()) {
                l.createDirectory(p, LayerTree.DIR);
            }
        });
    }

    MemoryLayers symlink(int layer, String path, String target) throws IOException {
        return change(layer, path, (l, p) -> l.createSymlink(p, target, LayerTree.FILE));
    }

    MemoryLayers whiteout(int layer, String path) throws IOException {
        return change(layer, path, WritableLayer::createWhiteout);
    }

    MemoryLayers opaque(int layer, String path) throws IOException {
        dir(layer, path);
        return change(layer, path, (l, p) -> l.setOpaque(p, true));
    }

    MemoryLayers redirect(int layer, String path, String redirect) throws IOException {
        dir(layer, path);
        return change(layer, path, (l, p) -> l.setRedirect(p, redirect));
    }

    /** An overlay of all lower layers and the upper one. */
    Overlay open() throws IOException {
        return open(b -> { });
    }

    Overlay open(Consumer<OverlayConfig.Builder> options) throws IOException {
        OverlayConfig.Builder builder = OverlayConfig.builder();
        for (int i = 1; i < stores.size(); i++) {
            builder.lower(stores.get(i).open());
        }
        builder.upper(stores.getFirst().open());
        options.accept(builder);
        return Overlay.open(builder.build());
    }

    /** An overlay of the lower layers only (read-only). */
    Overlay openLowerOnly() throws IOException {
        OverlayConfig.Builder builder = OverlayConfig.builder();
        for (int i = 1; i < stores.size(); i++) {
            builder.lower(stores.get(i).open());
        }
        return Overlay.open(builder.build());
    }

    /** The names in a directory of the upper layer, sorted. */
    List<String> upperNames(String dir) throws IOException {
        try (WritableLayer upper = stores.getFirst().open();
             Stream<DirectoryEntry> entries = upper.list(EntryPath.of(dir))) {
            return entries.map(DirectoryEntry::name).sorted().toList();
        }
    }
}
