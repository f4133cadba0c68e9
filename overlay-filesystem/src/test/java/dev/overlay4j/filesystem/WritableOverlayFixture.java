package dev.overlay4j.filesystem;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fresh writable {@link LayeredFileSystem} for every test of a subclass. */
abstract class WritableOverlayFixture {

    @TempDir
    Path dir;
    LayeredFileSystem layers;

    @BeforeEach
    void open() throws IOException {
        layers = LayeredFileSystem.writable(dir);
    }

    @AfterEach
    void close() throws IOException {
        layers.close();
    }
}
