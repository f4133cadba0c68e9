/**
 * Read-only lower layers from S3-compatible object stores (scheme {@code s3}), and the
 * {@code push} command that uploads any layer (a directory or an overlay upper dir, a zip, ...)
 * as such a layer, reading it through the installed layer providers.
 */
module dev.overlay4j.s3 {
    requires dev.overlay4j.api;
    requires dev.overlay4j.cli;
    requires software.amazon.awssdk.services.s3;
    requires software.amazon.awssdk.core;
    requires software.amazon.awssdk.awscore;
    requires software.amazon.awssdk.auth;
    requires software.amazon.awssdk.regions;
    requires software.amazon.awssdk.http.urlconnection;
    requires software.amazon.awssdk.http;
    requires software.amazon.awssdk.retries;
    requires software.amazon.awssdk.retries.api;
    // The SDK logs through SLF4J; its automatic modules cannot pull that explicit module into
    // the module graph themselves, so without this the SDK fails with NoClassDefFoundError.
    requires org.slf4j;

    provides dev.overlay4j.api.spi.LayerProvider with dev.overlay4j.s3.S3LayerProvider;
    provides dev.overlay4j.cli.Command with dev.overlay4j.s3.S3Push;
}
