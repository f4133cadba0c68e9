package dev.overlay4j.example.memory.test;

import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.example.memory.MemoryStore;
import dev.overlay4j.testkit.WritableLayerContract;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

class MemoryWritableLayerContractTest extends WritableLayerContract {

    /** The store kept "under" each storage directory, so that reopening sees the same one. */
    private final Map<Path, MemoryStore> stores = new HashMap<>();

    @Override
    protected WritableLayer openWritable(Path storage) {
        return stores.computeIfAbsent(storage, s -> new MemoryStore("upper")).open();
    }
}
