package dev.overlay4j.oci.commit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

/** How a committed layer is compressed, chosen by the name of its file, and the media types that say so. */
enum LayerCompression {
    NONE("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar"),
    GZIP("application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    /** Docker's schema 2 has no zstd layer type. */
    ZSTD("application/vnd.oci.image.layer.v1.tar+zstd", null);

    /** The names this command writes, for messages. */
    static final String NAMES = ".tar, .tar.gz, .tgz or .tar.zst";

    final String ociMediaType;
    final String dockerMediaType;

    LayerCompression(String ociMediaType, String dockerMediaType) {
        this.ociMediaType = ociMediaType;
        this.dockerMediaType = dockerMediaType;
    }

    /**
     * By the file's name: {@code .tar}, {@code .tar.gz} or {@code .tgz}, {@code .tar.zst}.
     *
     * @throws IllegalArgumentException for any other name
     */
    static LayerCompression of(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".tar")) {
            return NONE;
        }
        if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
            return GZIP;
        }
        if (name.endsWith(".tar.zst")) {
            return ZSTD;
        }
        throw new IllegalArgumentException("the layer's file name must end in " + NAMES + " (it says how to compress it): " + file);
    }

    /**
     * A stream that compresses into {@code out}; closing it ends the compressed stream and closes
     * {@code out}. gzip's header is the same on every run: no file name, modification time 0.
     */
    OutputStream compress(OutputStream out) throws IOException {
        return switch (this) {
            case NONE -> out;
            case GZIP -> new GZIPOutputStream(out, 1 << 16);
            case ZSTD -> new io.airlift.compress.zstd.ZstdOutputStream(out);
        };
    }
}
