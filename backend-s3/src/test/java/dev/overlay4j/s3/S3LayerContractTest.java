package dev.overlay4j.s3;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The S3 layer passes the conformance tests every layer must pass. */
class S3LayerContractTest extends LayerContract {

    private static final AtomicInteger LAYERS = new AtomicInteger();
    private static S3Server server;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("contract");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        String prefix = "layer" + LAYERS.incrementAndGet() + "/";
        S3TreeWriter.write(server, "contract", prefix, tree);
        return Layers.openLower(server.uri("contract", prefix, "blockSize=256K"), LayerOptions.DEFAULTS);
    }
}
