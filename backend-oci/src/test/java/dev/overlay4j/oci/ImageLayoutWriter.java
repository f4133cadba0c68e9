package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Writes an OCI image layout for tests: content-addressed blobs, manifests, indexes. */
final class ImageLayoutWriter {

    static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String INDEX = "application/vnd.oci.image.index.v1+json";
    static final String TAR = "application/vnd.oci.image.layer.v1.tar";
    static final String TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

    final Path dir;

    ImageLayoutWriter(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\": \"1.0.0\"}");
    }

    /** Stores {@code bytes} as a blob and returns its descriptor, with {@code extra} JSON members (or ""). */
    String blob(String mediaType, byte[] bytes, String extra) throws IOException {
        String hex;
        try {
            hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path file = Files.createDirectories(dir.resolve("blobs/sha256")).resolve(hex);
        Files.write(file, bytes);
        return "{\"mediaType\": \"" + mediaType + "\", \"digest\": \"sha256:" + hex + "\", \"size\": " + bytes.length
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    /** A manifest of these layer descriptors, bottom first, stored as a blob; its descriptor. */
    String manifest(List<String> layers, String extra) throws IOException {
        return manifest(layers, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
                extra);
    }

    /** A manifest of these layer descriptors and this config document, both stored as blobs; its descriptor. */
    String manifest(List<String> layers, String configJson, String extra) throws IOException {
        String config = blob("application/vnd.oci.image.config.v1+json", configJson.getBytes(StandardCharsets.UTF_8), "");
        String json = "{\"schemaVersion\": 2, \"mediaType\": \"" + MANIFEST + "\", \"config\": " + config
                + ", \"layers\": [" + String.join(", ", layers) + "]}";
        return blob(MANIFEST, json.getBytes(StandardCharsets.UTF_8), extra);
    }

    /** An image config for {@code os/arch} whose layers have these diff IDs, with one history entry per layer. */
    static String config(String os, String arch, List<String> diffIds) {
        StringBuilder history = new StringBuilder();
        for (int i = 0; i < diffIds.size(); i++) {
            history.append(i == 0 ? "" : ", ").append("{\"created\": \"2024-01-01T00:00:00Z\", \"created_by\": \"layer ")
                    .append(i + 1).append("\"}");
        }
        return "{\"created\": \"2024-01-01T00:00:00Z\", \"architecture\": \"" + arch + "\", \"os\": \"" + os + "\", "
                + "\"config\": {\"Env\": [\"PATH=/usr/bin:/bin\"], \"Cmd\": [\"/bin/sh\"]}, "
                + "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [" + String.join(", ", diffIds.stream().map(d -> "\"" + d + "\"").toList())
                + "]}, \"history\": [" + history + "]}";
    }

    /** {@code sha256:HEX} of {@code bytes}. */
    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An image index of these descriptors, stored as a blob; its descriptor. */
    String index(List<String> manifests, String extra) throws IOException {
        return blob(INDEX, indexJson(manifests).getBytes(StandardCharsets.UTF_8), extra);
    }

    /** Writes the layout's own index.json. */
    void topIndex(List<String> manifests) throws IOException {
        Files.writeString(dir.resolve("index.json"), indexJson(manifests));
    }

    private static String indexJson(List<String> manifests) {
        return "{\"schemaVersion\": 2, \"mediaType\": \"" + INDEX + "\", \"manifests\": [" + String.join(", ", manifests) + "]}";
    }

    static String ref(String name) {
        return "\"annotations\": {\"org.opencontainers.image.ref.name\": \"" + name + "\"}";
    }

    static String platform(String os, String arch, String variant) {
        return "\"platform\": {\"os\": \"" + os + "\", \"architecture\": \"" + arch + "\""
                + (variant == null ? "" : ", \"variant\": \"" + variant + "\"") + "}";
    }
}
