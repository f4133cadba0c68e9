package dev.overlay4j.example.memory.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.spi.LayerProvider;
import dev.overlay4j.example.memory.MemoryLayerProvider;
import dev.overlay4j.example.memory.MemoryStore;
import dev.overlay4j.testkit.LayerProviderContract;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryLayerProviderContractTest extends LayerProviderContract {

    private final List<MemoryStore> added = new ArrayList<>();

    /** A store named after this test's scratch directory, which no other test shares. */
    private URI add(Path scratch, String suffix) {
        MemoryStore store = new MemoryStore(scratch.getFileName() + "-" + suffix);
        added.add(store);
        return MemoryLayerProvider.add(store);
    }

    @AfterEach
    void removeStores() {
        added.forEach(MemoryLayerProvider::remove);
    }

    @Override
    protected LayerProvider provider() {
        return new MemoryLayerProvider();
    }

    @Override
    protected URI existingLowerLocation(Path scratch) {
        return add(scratch, "lower");
    }

    @Override
    protected URI missingLocation(Path scratch) {
        return URI.create("mem:" + scratch.getFileName() + "-missing");
    }

    @Override
    protected boolean supportsUpper() {
        return true;
    }

    @Override
    protected URI[] upperAndWorkLocations(Path scratch) {
        URI upper = add(scratch, "upper");
        return new URI[] {upper, upper};
    }

    @Test
    void theTestsTheProviderAndTheTestkitRunAsNamedModules() {
        assertEquals("dev.overlay4j.example.memory.test", getClass().getModule().getName());
        assertEquals("dev.overlay4j.example.memory", MemoryLayerProvider.class.getModule().getName());
        assertEquals("dev.overlay4j.testkit", LayerProviderContract.class.getModule().getName());
    }
}
