package dev.overlay4j.oci.commit;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link LayerCommit#run()} wrote.
 *
 * @param file      the layer's file: the output asked for, else its blob in the image layout
 * @param mediaType its media type in a manifest, e.g. {@code application/vnd.oci.image.layer.v1.tar+gzip}
 * @param diffId    {@code sha256:HEX} of the uncompressed tar: what an image config lists in {@code rootfs.diff_ids}
 * @param digest    {@code sha256:HEX} of the file as written: its descriptor's digest and blob name
 * @param size      the file's size in bytes
 * @param members   the tar members written, whiteouts and opaque marks included (pax headers not)
 * @param warnings  what was left out and why, one line each (sockets, which a tar cannot hold)
 * @param image     the image added to the layout, or null when none was asked for
 */
public record CommittedLayer(Path file, String mediaType, String diffId, String digest, long size, long members,
                             List<String> warnings, Image image) {

    public CommittedLayer {
        warnings = List.copyOf(warnings);
    }

    /**
     * The image a commit added to an OCI image layout.
     *
     * @param tag            its {@code org.opencontainers.image.ref.name} in the layout's {@code index.json}
     * @param manifestDigest {@code sha256:HEX} of its manifest
     * @param configDigest   {@code sha256:HEX} of its config
     * @param platform       the platform of the image it was made from when that was chosen from an
     *                       image index ({@code linux/amd64}), else null
     * @param platforms      the platforms that index offered, empty when there was no choice
     */
    public record Image(String tag, String manifestDigest, String configDigest, String platform, List<String> platforms) {

        public Image {
            platforms = List.copyOf(platforms);
        }
    }
}
