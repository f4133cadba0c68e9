package dev.overlay4j.s3;

import dev.overlay4j.api.spi.LayerProvider;
import dev.overlay4j.testkit.LayerProviderContract;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The provider passes the conformance tests of every provider. The endpoint comes from the
 * SDK's standard setting here, so the URIs are plain {@code s3://bucket/prefix/}.
 */
class S3LayerProviderContractTest extends LayerProviderContract {

    private static S3Server server;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("provider");
        server.put("provider", "present/file", "x");
        System.setProperty("aws.endpointUrlS3", server.endpoint().toString());
    }

    @AfterAll
    static void stopServer() throws Exception {
        System.clearProperty("aws.endpointUrlS3");
        server.close();
    }

    @Override
    protected LayerProvider provider() {
        return new S3LayerProvider();
    }

    @Override
    protected URI existingLowerLocation(Path scratch) {
        return URI.create("s3://provider/present/");
    }

    @Override
    protected URI missingLocation(Path scratch) {
        return URI.create("s3://provider/absent-prefix/");
    }
}
