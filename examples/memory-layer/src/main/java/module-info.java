/**
 * An example overlay4j plugin: layers kept in memory ({@link dev.overlay4j.example.memory.MemoryStore})
 * and the {@code mem:} scheme that names them. It compiles against overlay-api alone and proves
 * itself with overlay-testkit.
 */
module dev.overlay4j.example.memory {
    requires transitive dev.overlay4j.api;

    exports dev.overlay4j.example.memory;

    provides dev.overlay4j.api.spi.LayerProvider with dev.overlay4j.example.memory.MemoryLayerProvider;
}
