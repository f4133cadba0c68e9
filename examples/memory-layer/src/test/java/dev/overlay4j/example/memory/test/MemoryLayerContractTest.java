package dev.overlay4j.example.memory.test;

import dev.overlay4j.api.Layer;
import dev.overlay4j.example.memory.MemoryStore;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Path;

class MemoryLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        MemoryStore store = new MemoryStore("lower");
        try (WritableLayer layer = store.open()) {
            tree.writeTo(layer, 0, 0);
        }
        return store.open();
    }
}
