/**
 * Container image layers as read-only lower layers: a tar archive (plain, gzip- or
 * zstd-compressed) named by a local path ending in {@code .tar}, {@code .tar.gz}, {@code .tgz}
 * or {@code .tar.zst}, and the layers
 * of an image in an OCI image layout ({@code oci:DIR}, {@code oci:DIR?ref=NAME}), whiteouts and
 * opaque directories read as the OCI image spec defines them. Offers nothing but its
 * {@link dev.overlay4j.api.spi.LayerProvider}.
 */
module dev.overlay4j.oci {
    requires dev.overlay4j.api;
    // zstd decompression in pure Java (io.airlift:aircompressor, an automatic module).
    requires aircompressor;

    provides dev.overlay4j.api.spi.LayerProvider with dev.overlay4j.oci.OciLayerProvider;
}
