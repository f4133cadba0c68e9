/** Read-only lower layers from S3-compatible object stores (scheme {@code s3}). */
module dev.overlay4j.s3 {
    requires dev.overlay4j.api;
}
