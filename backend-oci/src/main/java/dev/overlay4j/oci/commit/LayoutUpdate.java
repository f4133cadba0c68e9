package dev.overlay4j.oci.commit;

import dev.overlay4j.oci.Json;
import dev.overlay4j.oci.OciLayout;
import dev.overlay4j.oci.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds a layer to an image of an OCI image layout as a new image (image-spec
 * {@code image-layout.md}, {@code manifest.md}, {@code config.md}): the layer's blob, a config
 * that is the old one with the layer's diff ID appended to {@code rootfs.diff_ids}, a history
 * entry and a new {@code created}, and a manifest that is the old one with the new config and
 * the layer appended; {@code index.json} then names it, replacing what had the tag. Blobs are
 * written before the index, each under a temporary name first, so an interrupted update leaves
 * the layout as it was, with at most some unreferenced blobs.
 */
final class LayoutUpdate {

    private static final String CONFIG_DESCRIPTOR = "config";

    private final Path dir;
    private final OciLayout layout;
    private final String tag;
    private final OciLayout.Image from;
    private final boolean docker;

    /**
     * Finds the image {@code fromRef} names (null: the layout's only one), choosing by
     * {@code platform} in an image index; nothing is written yet.
     */
    LayoutUpdate(Path dir, String fromRef, String tag, Platform platform) throws IOException {
        this.dir = dir;
        this.layout = new OciLayout(dir, "image layout " + dir, "--from REF");
        this.tag = tag;
        this.from = layout.image(fromRef, platform);
        this.docker = OciLayout.DOCKER_MANIFEST.equals(from.descriptor().get("mediaType"));
    }

    /** The media type of a layer so compressed in the image's kind of manifest. */
    String mediaType(LayerCompression compression) throws IOException {
        if (!docker) {
            return compression.ociMediaType;
        }
        if (compression.dockerMediaType == null) {
            throw new IOException("the image " + from.descriptor().get("digest") + " in " + dir
                    + " has a Docker manifest, which has no media type for a " + compression + " layer: write .tar.gz or .tar");
        }
        return compression.dockerMediaType;
    }

    /** Where the layout keeps sha256 blobs. */
    Path blobDirectory() {
        return dir.resolve("blobs").resolve("sha256");
    }

    /** Where the blob of {@code digest} goes. */
    Path blob(String digest) throws IOException {
        return layout.blob(digest);
    }

    /** The platform the image was chosen for, or null when there was nothing to choose. */
    String platform() {
        return from.platforms().isEmpty() ? null
                : from.descriptor().get("platform") instanceof Map<?, ?> p ? describe(p) : null;
    }

    private static String describe(Map<?, ?> platform) {
        Object variant = platform.get("variant");
        return platform.get("os") + "/" + platform.get("architecture") + (variant == null ? "" : "/" + variant);
    }

    /**
     * Adds the layer, whose blob is already in the layout, as the image {@code tag}.
     *
     * @param created the new image's creation time
     */
    CommittedLayer.Image add(String mediaType, String diffId, String digest, long size, Instant created) throws IOException {
        String time = DateTimeFormatter.ISO_INSTANT.format(created);
        Map<String, Object> manifest = from.manifest();
        if (!(manifest.get(CONFIG_DESCRIPTOR) instanceof Map<?, ?> oldConfigDescriptor)) {
            throw new IOException("the manifest " + from.descriptor().get("digest") + " in " + dir + " has no config");
        }
        Map<String, Object> configDescriptor = copy(oldConfigDescriptor);
        Map<String, Object> config = layout.document(configDescriptor);

        Map<String, Object> rootfs = config.get("rootfs") instanceof Map<?, ?> r ? copy(r) : new LinkedHashMap<>();
        rootfs.putIfAbsent("type", "layers");
        List<Object> diffIds = rootfs.get("diff_ids") instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
        int layersBefore = diffIds.size();
        diffIds.add(diffId);
        rootfs.put("diff_ids", diffIds);
        config.put("rootfs", rootfs);
        config.put("created", time);
        Map<String, Object> step = new LinkedHashMap<>();
        step.put("created", time);
        step.put("created_by", "overlay4j commit");
        if (config.get("history") instanceof List<?> history) {
            List<Object> longer = new ArrayList<>(history);
            longer.add(step);
            config.put("history", longer);
        } else if (layersBefore == 0) {
            config.put("history", List.of(step));
        }
        // else: no history for the earlier layers, and one entry for the last alone would be paired
        // with the first layer by tools that match history entries to layers.
        byte[] configBytes = utf8(Json.write(config));
        String configDigest = store(configBytes);
        configDescriptor.put("digest", configDigest);
        configDescriptor.put("size", (long) configBytes.length);

        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("mediaType", mediaType);
        layer.put("digest", digest);
        layer.put("size", size);
        List<Object> layers = manifest.get("layers") instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
        layers.add(layer);
        Map<String, Object> newManifest = new LinkedHashMap<>(manifest);
        newManifest.put(CONFIG_DESCRIPTOR, configDescriptor);
        newManifest.put("layers", layers);
        byte[] manifestBytes = utf8(Json.write(newManifest));
        String manifestDigest = store(manifestBytes);

        Map<String, Object> descriptor = new LinkedHashMap<>();
        descriptor.put("mediaType", from.descriptor().get("mediaType"));
        descriptor.put("digest", manifestDigest);
        descriptor.put("size", (long) manifestBytes.length);
        if (from.descriptor().get("platform") instanceof Map<?, ?> p) {
            descriptor.put("platform", p);
        }
        descriptor.put("annotations", Map.of(OciLayout.REF_NAME, tag));
        Map<String, Object> index = indexJson();
        List<Object> manifests = new ArrayList<>();
        if (index.get("manifests") instanceof List<?> old) {
            for (Object d : old) {
                if (!(d instanceof Map<?, ?> m && m.get("annotations") instanceof Map<?, ?> a && tag.equals(a.get(OciLayout.REF_NAME)))) {
                    manifests.add(d);
                }
            }
        }
        manifests.add(descriptor);
        index.put("manifests", manifests);
        AtomicFile.write(dir.resolve("index.json"), utf8(Json.write(index)));
        return new CommittedLayer.Image(tag, manifestDigest, configDigest, platform(), from.platforms());
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> indexJson() throws IOException {
        Object index = Json.parse(Files.readString(dir.resolve("index.json")));
        if (!(index instanceof Map<?, ?>)) {
            throw new IOException(dir.resolve("index.json") + " is not a JSON object");
        }
        return new LinkedHashMap<>((Map<String, Object>) index);
    }

    /** Writes a blob unless the layout has it already; its digest. */
    private String store(byte[] bytes) throws IOException {
        String digest = HashingOutputStream.digest(bytes);
        Path file = layout.blob(digest);
        if (!Files.isRegularFile(file) || Files.size(file) != bytes.length) {
            Files.createDirectories(file.getParent());
            AtomicFile.write(file, bytes);
        }
        return digest;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> copy(Map<?, ?> map) {
        return new LinkedHashMap<>((Map<String, Object>) map);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
