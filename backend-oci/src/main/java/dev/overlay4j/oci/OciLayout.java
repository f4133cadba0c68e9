package dev.overlay4j.oci;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An OCI image layout (image-spec {@code image-layout.md}): a directory with {@code oci-layout},
 * {@code index.json} and content-addressed {@code blobs/ALG/HEX}. Finds the image a reference
 * names, for this machine's platform, and the blobs of its layers.
 */
final class OciLayout {

    static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final Set<String> INDEX_TYPES = Set.of("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Set<String> MANIFEST_TYPES = Set.of("application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    /** Layer media types this backend reads: tar, gzip-compressed tar, and Docker's name for the latter. */
    private static final Pattern LAYER_TYPE = Pattern.compile(
            "application/vnd\\.oci\\.image\\.layer\\.(nondistributable\\.)?v1\\.tar(\\+gzip|\\+zstd)?"
                    + "|application/vnd\\.docker\\.image\\.rootfs\\.(foreign\\.)?diff\\.tar(\\.gzip)?");
    /** image-spec descriptor.md: {@code algorithm ":" encoded}, which must not leave blobs/. */
    private static final Pattern DIGEST = Pattern.compile("([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)");

    /** One layer of the chosen image, bottom first as the manifest lists them. */
    record LayerBlob(String path, String digest, String mediaType) {
    }

    private final LayoutFiles files;
    private final String dir;
    private final String description;

    OciLayout(LayoutFiles files, String description) {
        this.files = files;
        this.dir = files.describe("");
        this.description = description;
    }

    /** The layers of the image that {@code ref} names (null: the layout's only image), bottom first. */
    List<LayerBlob> layers(String ref, Platform platform) throws IOException {
        if (!files.isDirectory()) {
            throw Errno.ENOENT.exception(dir, "the image layout of layer " + description + " does not exist; fix the path");
        }
        if (!files.isFile("oci-layout") || !files.isFile("index.json")) {
            throw Errno.EINVAL.exception(dir, "layer " + description
                    + " is not an OCI image layout (no oci-layout and index.json in it)");
        }
        Map<String, Object> index = object(Json.parse(new String(files.readAll("index.json"), StandardCharsets.UTF_8)), "index.json");
        List<Map<String, Object>> candidates = descriptors(index, "index.json");
        if (ref != null) {
            List<Map<String, Object>> tagged = new ArrayList<>();
            for (Map<String, Object> d : candidates) {
                if (ref.equals(annotation(d, REF_NAME))) {
                    tagged.add(d);
                }
            }
            if (tagged.isEmpty()) {
                throw Errno.ENOENT.exception(dir, "layer " + description + ": no image named \"" + ref
                        + "\" in index.json; its names: " + refNames(candidates));
            }
            candidates = tagged;
        }
        Map<String, Object> manifest = choose(candidates, platform, ref, 0);
        List<LayerBlob> layers = new ArrayList<>();
        Object list = manifest.get("layers");
        if (!(list instanceof List<?> items)) {
            throw invalid("the image manifest has no layers list");
        }
        for (Object item : items) {
            Map<String, Object> layer = object(item, "a layer descriptor");
            String mediaType = string(layer, "mediaType");
            if (!LAYER_TYPE.matcher(mediaType).matches()) {
                throw Errno.EOPNOTSUPP.exception(dir, "layer " + description + ": layer media type " + mediaType
                        + " is not supported (a tar, tar+gzip or tar+zstd layer is)");
            }
            String digest = string(layer, "digest");
            layers.add(new LayerBlob(blob(digest), digest, mediaType));
        }
        return layers;
    }

    /** Picks one manifest among descriptors, descending into image indexes by platform. */
    private Map<String, Object> choose(List<Map<String, Object>> candidates, Platform platform, String ref, int depth)
            throws IOException {
        if (depth > 4) {
            throw invalid("image indexes nested too deeply");
        }
        List<Map<String, Object>> fitting = new ArrayList<>();
        for (Map<String, Object> d : candidates) {
            if (!(d.get("platform") instanceof Map<?, ?> p) || platform.matches(p)) {
                fitting.add(d);
            }
        }
        if (fitting.isEmpty()) {
            throw Errno.ENOENT.exception(dir, "layer " + description + ": no image for platform " + platform
                    + " among " + platforms(candidates));
        }
        Map<String, Object> best = platform.best(fitting);
        if (best == null) {
            throw Errno.EINVAL.exception(dir, "layer " + description + " holds several images; name one with ?ref=NAME"
                    + " (names: " + refNames(fitting) + ")");
        }
        String mediaType = string(best, "mediaType");
        Map<String, Object> document = object(Json.parse(readBlob(best)), "blob " + best.get("digest"));
        if (INDEX_TYPES.contains(mediaType)) {
            return choose(descriptors(document, "image index " + best.get("digest")), platform, ref, depth + 1);
        }
        if (!MANIFEST_TYPES.contains(mediaType)) {
            throw Errno.EOPNOTSUPP.exception(dir, "layer " + description + ": " + mediaType + " is not an image manifest");
        }
        return document;
    }

    /** A small blob's text, checked against its digest (a layout may be copied by hand). */
    private String readBlob(Map<String, Object> descriptor) throws IOException {
        String digest = string(descriptor, "digest");
        String file = blob(digest);
        if (!files.isFile(file)) {
            throw Errno.ENOENT.exception(files.describe(file), "layer " + description + ": blob " + digest + " is missing from the layout");
        }
        if (files.size(file) > 4 << 20) {
            throw invalid("blob " + digest + " is too large for a manifest or index");
        }
        byte[] bytes = files.readAll(file);
        if (digest.startsWith("sha256:") || digest.startsWith("sha512:")) {
            String algorithm = digest.startsWith("sha256:") ? "SHA-256" : "SHA-512";
            try {
                String actual = HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
                if (!actual.equals(digest.substring(digest.indexOf(':') + 1))) {
                    throw Errno.EIO.exception(files.describe(file), "layer " + description + ": blob " + digest + " does not match its digest");
                }
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The path of a digest's blob in the layout. */
    private String blob(String digest) throws IOException {
        var m = DIGEST.matcher(digest);
        if (!m.matches()) {
            throw invalid("\"" + digest + "\" is not a digest");
        }
        return "blobs/" + m.group(1) + "/" + m.group(2);
    }

    private IOException invalid(String what) {
        return Errno.EINVAL.exception(dir, null, "layer " + description + ": " + what);
    }

    private List<Map<String, Object>> descriptors(Map<String, Object> index, String where) throws IOException {
        if (!(index.get("manifests") instanceof List<?> list)) {
            throw invalid(where + " has no manifests list");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object item : list) {
            out.add(object(item, "a descriptor in " + where));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(Object value, String what) throws IOException {
        if (!(value instanceof Map<?, ?>)) {
            throw invalid(what + " is not a JSON object");
        }
        return (Map<String, Object>) value;
    }

    private String string(Map<String, Object> object, String key) throws IOException {
        if (!(object.get(key) instanceof String s)) {
            throw invalid("a descriptor without " + key);
        }
        return s;
    }

    static String annotation(Map<String, Object> descriptor, String key) {
        return descriptor.get("annotations") instanceof Map<?, ?> a && a.get(key) instanceof String s ? s : null;
    }

    private static List<String> refNames(List<Map<String, Object>> descriptors) {
        List<String> names = new ArrayList<>();
        for (Map<String, Object> d : descriptors) {
            String name = annotation(d, REF_NAME);
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    private static List<String> platforms(List<Map<String, Object>> descriptors) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> d : descriptors) {
            out.add(d.get("platform") instanceof Map<?, ?> p ? Platform.describe(p) : "(no platform)");
        }
        return out;
    }
}
