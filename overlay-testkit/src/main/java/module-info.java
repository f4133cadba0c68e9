/**
 * Conformance tests for overlay4j layers: abstract JUnit 5 classes that an implementation of
 * {@link dev.overlay4j.api.Layer}, {@link dev.overlay4j.api.WritableLayer} or
 * {@link dev.overlay4j.api.spi.LayerProvider} extends, supplying fixtures, to prove it behaves.
 * The tests and lifecycle methods are public, so that they run on the module path as on the
 * class path.
 */
module dev.overlay4j.testkit {
    requires transitive org.junit.jupiter.api;
    requires transitive dev.overlay4j.api;

    exports dev.overlay4j.testkit;
    // JUnit injects the @TempDir fields (protected) by reflection, also when the subclass that
    // runs the tests lives in another named module.
    opens dev.overlay4j.testkit to org.junit.platform.commons;

    // LayerProviderContract looks for the provider under test as an overlay would.
    uses dev.overlay4j.api.spi.LayerProvider;
}
