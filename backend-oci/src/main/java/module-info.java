/**
 * Container image layers as read-only lower layers: a tar archive (plain, gzip- or
 * zstd-compressed) named by a local path ending in {@code .tar}, {@code .tar.gz}, {@code .tgz}
 * or {@code .tar.zst}, and the layers
 * of an image in an OCI image layout ({@code oci:DIR}, {@code oci:DIR?ref=NAME}), whiteouts and
 * opaque directories read as the OCI image spec defines them; and the other way, an overlay
 * upper dir written as an image layer ({@link dev.overlay4j.oci.commit.LayerCommit}, the
 * {@code overlay4j commit} command), added to an OCI image layout if asked.
 *
 * <p>Exports the commit API alone. The public classes of {@code dev.overlay4j.oci} (the
 * layout, JSON and platform readers the commit shares) are for this module's own use.
 */
module dev.overlay4j.oci {
    requires dev.overlay4j.api;
    requires dev.overlay4j.cli;
    // zstd in pure Java (io.airlift:aircompressor, an automatic module).
    requires aircompressor;
    // aircompressor uses sun.misc.Unsafe, which an automatic module cannot require: without this,
    // jdk.unsupported is not in the module graph of bin/overlay4j (-m) and zstd fails with NoClassDefFoundError.
    requires jdk.unsupported;

    exports dev.overlay4j.oci.commit;

    provides dev.overlay4j.api.spi.LayerProvider with dev.overlay4j.oci.OciLayerProvider;
    provides dev.overlay4j.cli.Command with dev.overlay4j.oci.CommitCommand;
}
