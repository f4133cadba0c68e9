package dev.overlay4j.it.containers;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every container scenario needs: Docker and the base image (the tests skip with
 * "CONTAINERS SKIPPED:" otherwise) and one overlay4j install for the class's containers.
 */
abstract class ContainerScenario {

    @TempDir
    static Path installDir;
    static Overlay4jInstall install;

    @BeforeAll
    static void assembleInstall() throws IOException {
        ContainerSupport.assumeAvailable();
        install = Overlay4jInstall.assemble(installDir);
    }

    @BeforeEach
    void dockerAvailable() {
        ContainerSupport.assumeAvailable();
    }
}
