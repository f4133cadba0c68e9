/**
 * Conformance tests for overlay4j layers: abstract JUnit 5 classes that an implementation of
 * {@link dev.overlay4j.api.Layer}, {@link dev.overlay4j.api.WritableLayer} or
 * {@link dev.overlay4j.api.spi.LayerProvider} extends, supplying fixtures, to prove it behaves.
 */
module dev.overlay4j.testkit {
    requires transitive org.junit.jupiter.api;
    requires transitive dev.overlay4j.api;

    exports dev.overlay4j.testkit;
}
