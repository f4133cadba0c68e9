package dev.overlay4j.oci;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 *
 * <p>Public for the commit package of this module, which adds images to a layout; the package
 * is not exported.
 */
public final class OciLayout {

    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    /** The media type of an OCI image manifest; Docker's schema 2 manifest is {@link #DOCKER_MANIFEST}. */
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final Set<String> INDEX_TYPES = Set.of("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Set<String> MANIFEST_TYPES = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    /** Layer media types this backend reads: tar, gzip-compressed tar, and Docker's name for the latter. */
    private static final Pattern LAYER_TYPE = Pattern.compile(
            "application/vnd\\.oci\\.image\\.layer\\.(nondistributable\\.)?v1\\.tar(\\+gzip|\\+zstd)?"
                    + "|application/vnd\\.docker\\.image\\.rootfs\\.(foreign\\.)?diff\\.tar(\\.gzip)?");
    /** image-spec descriptor.md: {@code algorithm ":" encoded}, which must not leave blobs/. */
    private static final Pattern DIGEST = Pattern.compile("([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)");

    /** One layer of the chosen image, bottom first as the manifest lists them; {@code path} is in the layout's files. */
    record LayerBlob(String path, String digest, String mediaType) {
    }

    /**
     * The image a reference names, as chosen.
     *
     * @param descriptor the manifest's descriptor, from {@code index.json} or the image index it was chosen from
     * @param manifest   the manifest document
     * @param platforms  the platforms of the index entries the manifest was chosen among for its
     *                   platform, empty when there was nothing to choose
     */
    public record Image(Map<String, Object> descriptor, Map<String, Object> manifest, List<String> platforms) {
    }

    private final LayoutFiles files;
    /** The layout's place, for messages. */
    private final String dir;
    /** What the layout is to the user, for messages: {@code layer oci:DIR?ref=x}. */
    private final String subject;
    /** How the user names one of several images, for messages: {@code ?ref=NAME}. */
    private final String naming;

    /** The layout of a layer, named {@code description} by the user, who picks an image with {@code ?ref=}. */
    OciLayout(LayoutFiles files, String description) {
        this(files, "layer " + description, "?ref=NAME");
    }

    /**
     * A layout in a local directory.
     *
     * @param subject what the layout is to the user, for messages ({@code image layout DIR})
     * @param naming  how the user names one of several images, for messages ({@code --from REF})
     */
    public OciLayout(Path dir, String subject, String naming) {
        this(new LayoutFiles.Local(dir), subject, naming);
    }

    private OciLayout(LayoutFiles files, String subject, String naming) {
        this.files = files;
        this.dir = files.describe("");
        this.subject = subject;
        this.naming = naming;
    }

    /** The layers of the image that {@code ref} names (null: the layout's only image), bottom first. */
    List<LayerBlob> layers(String ref, Platform platform) throws IOException {
        Map<String, Object> manifest = image(ref, platform).manifest();
        List<LayerBlob> layers = new ArrayList<>();
        Object list = manifest.get("layers");
        if (!(list instanceof List<?> items)) {
            throw invalid("the image manifest has no layers list");
        }
        for (Object item : items) {
            Map<String, Object> layer = object(item, "a layer descriptor");
            String mediaType = string(layer, "mediaType");
            if (!LAYER_TYPE.matcher(mediaType).matches()) {
                throw Errno.EOPNOTSUPP.exception(dir, subject + ": layer media type " + mediaType
                        + " is not supported (a tar, tar+gzip or tar+zstd layer is)");
            }
            String digest = string(layer, "digest");
            layers.add(new LayerBlob(blobPath(digest), digest, mediaType));
        }
        return layers;
    }

    /**
     * The image that {@code ref} names (null: the layout's only image), for {@code platform}
     * where an image index offers several.
     */
    public Image image(String ref, Platform platform) throws IOException {
        if (!files.isDirectory()) {
            throw Errno.ENOENT.exception(dir, "the image layout of " + subject + " does not exist; fix the path");
        }
        if (!files.isFile("oci-layout") || !files.isFile("index.json")) {
            throw Errno.EINVAL.exception(dir, subject
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
                throw Errno.ENOENT.exception(dir, subject + ": no image named \"" + ref
                        + "\" in index.json; its names: " + refNames(candidates));
            }
            candidates = tagged;
        }
        return choose(candidates, platform, List.of(), 0);
    }

    /**
     * Picks one manifest among descriptors, descending into image indexes by platform.
     *
     * @param among the platforms of the choice made above this one, if any
     */
    private Image choose(List<Map<String, Object>> candidates, Platform platform, List<String> among, int depth)
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
            throw Errno.ENOENT.exception(dir, subject + ": no image for platform " + platform
                    + " among " + platforms(candidates));
        }
        Map<String, Object> best = platform.best(fitting);
        if (best == null) {
            throw Errno.EINVAL.exception(dir, subject + " holds several images; name one with " + naming
                    + " (names: " + refNames(fitting) + ")");
        }
        if (best.get("platform") instanceof Map<?, ?> && candidates.size() > 1) {
            among = platforms(candidates);
        }
        String mediaType = string(best, "mediaType");
        Map<String, Object> document = document(best);
        if (INDEX_TYPES.contains(mediaType)) {
            return choose(descriptors(document, "image index " + best.get("digest")), platform, among, depth + 1);
        }
        if (!MANIFEST_TYPES.contains(mediaType)) {
            throw Errno.EOPNOTSUPP.exception(dir, subject + ": " + mediaType + " is not an image manifest");
        }
        return new Image(best, document, among);
    }

    /** The JSON object a descriptor names (a manifest, an index, a config), checked against its digest. */
    public Map<String, Object> document(Map<String, Object> descriptor) throws IOException {
        return object(Json.parse(readBlob(descriptor)), "blob " + descriptor.get("digest"));
    }

    /** A small blob's text, checked against its digest (a layout may be copied by hand). */
    private String readBlob(Map<String, Object> descriptor) throws IOException {
        String digest = string(descriptor, "digest");
        String file = blobPath(digest);
        if (!files.isFile(file)) {
            throw Errno.ENOENT.exception(files.describe(file), subject + ": blob " + digest + " is missing from the layout");
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
                    throw Errno.EIO.exception(files.describe(file), subject + ": blob " + digest + " does not match its digest");
                }
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Where the blob of {@code digest} lives in a local layout (whether or not it is there), for
     * writing one; EOPNOTSUPP for a layout read through another layer.
     */
    public Path blob(String digest) throws IOException {
        if (!(files instanceof LayoutFiles.Local local)) {
            throw Errno.EOPNOTSUPP.exception(dir, subject + ": not a local directory, so blobs cannot be written to it");
        }
        return local.dir().resolve(blobPath(digest));
    }

    /** The path of a digest's blob in the layout's files. */
    private String blobPath(String digest) throws IOException {
        var m = DIGEST.matcher(digest);
        if (!m.matches()) {
            throw invalid("\"" + digest + "\" is not a digest");
        }
        return "blobs/" + m.group(1) + "/" + m.group(2);
    }

    private IOException invalid(String what) {
        return Errno.EINVAL.exception(dir, null, subject + ": " + what);
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
