package dev.overlay4j.oci;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Container image layers as read-only lower layers:
 * <ul>
 * <li>a local file whose name ends in {@code .tar}, {@code .tar.gz}, {@code .tgz} or
 *     {@code .tar.zst}: one image layer (plain, gzip or zstd, told by the file's first bytes);</li>
 * <li>{@code oci:DIR}, {@code oci:DIR?ref=NAME}: the layers of an image in the OCI image layout
 *     DIR, as consecutive lower layers, its last layer on top. NAME is an
 *     {@code org.opencontainers.image.ref.name} of the layout's {@code index.json} (without it
 *     the layout must hold one image); an image index is resolved for this machine's platform,
 *     or for {@code &platform=OS/ARCH[/VARIANT]}. A relative DIR is taken from the working
 *     directory.</li>
 * <li>{@code oci:URI?ref=NAME}: the same for a layout in a directory of any other layer, such as
 *     {@code oci:s3://bucket/layouts/app/?ref=1.0} or {@code oci:file:///srv/app-layout.zip}. The
 *     parameters above are taken out of URI's query, the rest is left to that layer; its files are
 *     read with its positional reads, so through whatever it caches.</li>
 * </ul>
 * A layer's index (its members and where their bytes lie) is read once and cached, so that
 * opening a layer again reads none of its archive: option {@code indexCache=DIR} (a query
 * parameter of {@code oci:} and {@code file:} URIs, or a {@link LayerOptions#parameters()
 * parameter}) names the directory, {@code indexCache=off} turns it off; by default it is
 * {@code $XDG_CACHE_HOME/overlay4j/oci-index}, else {@code /var/cache/overlay4j/oci-index} for
 * root and {@code ~/.cache/overlay4j/oci-index} for others. Layout blobs are cached by digest,
 * loose archives by path, inode, size and times.
 */
public final class OciLayerProvider implements LayerProvider {

    private static final Set<String> SUFFIXES = Set.of(".tar", ".tar.gz", ".tgz", ".tar.zst");

    @Override
    public Set<String> schemes() {
        return Set.of("oci");
    }

    @Override
    public Set<String> fileSuffixes() {
        return SUFFIXES;
    }

    @Override
    public Layer openLower(URI location, LayerOptions options) throws IOException {
        List<Layer> layers = openLowers(location, options);
        if (layers.size() != 1) {
            for (Layer layer : layers) {
                layer.close();
            }
            throw Errno.EINVAL.exception(location.toString(), "this image has " + layers.size()
                    + " layers: open it as a stack of lower layers (Layers.openLowers, lowerdir+=" + location + ")");
        }
        return layers.getFirst();
    }

    @Override
    public List<Layer> openLowers(URI location, LayerOptions options) throws IOException {
        String scheme = location.getScheme() == null ? "file" : location.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "file" -> {
                String cacheOption = options.parameters().get(IndexCache.OPTION);
                URI path = location;
                if (location.getRawQuery() != null) {
                    for (String parameter : location.getRawQuery().split("&")) {
                        int eq = parameter.indexOf('=');
                        String key = eq < 0 ? parameter : parameter.substring(0, eq);
                        if (!key.equals(IndexCache.OPTION)) {
                            throw Errno.EINVAL.exception(location.toString(), "unknown parameter \"" + key
                                    + "\" (an archive layer takes " + IndexCache.OPTION + "=)");
                        }
                        cacheOption = URLDecoder.decode(eq < 0 ? "" : parameter.substring(eq + 1), StandardCharsets.UTF_8);
                    }
                    path = URI.create("file://" + location.getRawPath());
                }
                Path file = Path.of(path);
                yield List.of(TarLayer.open(file, file.toString(), indexCache(location, cacheOption)));
            }
            case "oci" -> openImage(location, options);
            default -> throw Errno.EINVAL.exception(location.toString(), "not a location of an image layer (oci: or a .tar file)");
        };
    }

    /** A layout named by a URI of another layer rather than a local path: two or more letters before a colon. */
    private static final java.util.regex.Pattern INNER_URI = java.util.regex.Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.*");

    /**
     * {@code oci:DIR[?ref=NAME][&platform=OS/ARCH[/VARIANT]][&indexCache=DIR]}, or {@code oci:URI}
     * of a directory of another layer (the parameters above taken out of its query, the rest left
     * to it): the image's layers, top first.
     */
    private static List<Layer> openImage(URI location, LayerOptions options) throws IOException {
        String raw = location.getRawSchemeSpecificPart();
        boolean inner = INNER_URI.matcher(raw).matches();
        String spec = inner ? raw : location.getSchemeSpecificPart();
        String query = null;
        int question = spec.lastIndexOf('?');
        if (question >= 0) {
            query = spec.substring(question + 1);
            spec = spec.substring(0, question);
        }
        if (!inner && spec.startsWith("//")) {
            spec = spec.substring(2); // oci:///dir, an empty authority
        }
        if (spec.isEmpty()) {
            throw Errno.EINVAL.exception(location.toString(), "an oci: layer names the image layout directory: oci:DIR[?ref=NAME]");
        }
        String ref = null;
        Platform platform = Platform.host();
        String cacheOption = options.parameters().get(IndexCache.OPTION);
        List<String> others = new ArrayList<>();
        if (query != null) {
            for (String parameter : query.split("&")) {
                int eq = parameter.indexOf('=');
                String key = eq < 0 ? parameter : parameter.substring(0, eq);
                String value = eq < 0 ? "" : parameter.substring(eq + 1);
                if (inner) {
                    value = URLDecoder.decode(value, StandardCharsets.UTF_8);
                }
                switch (key) {
                    case "ref" -> ref = value;
                    case IndexCache.OPTION -> cacheOption = inner ? value : URLDecoder.decode(value, StandardCharsets.UTF_8);
                    case "platform" -> {
                        try {
                            platform = Platform.parse(value);
                        } catch (IllegalArgumentException e) {
                            throw Errno.EINVAL.exception(location.toString(), "platform must be OS/ARCH[/VARIANT], not " + value);
                        }
                    }
                    default -> {
                        if (!inner) {
                            throw Errno.EINVAL.exception(location.toString(), "unknown parameter \"" + key
                                    + "\" (an oci: layer takes ref=, platform= and " + IndexCache.OPTION + "=)");
                        }
                        others.add(parameter);
                    }
                }
            }
        }
        IndexCache cache = indexCache(location, cacheOption);
        LayoutFiles files;
        String description;
        if (inner) {
            String innerSpec = spec + (others.isEmpty() ? "" : "?" + String.join("&", others));
            Layer layer = Layers.openLower(innerSpec, options);
            files = new LayoutFiles.InLayer(layer, EntryPath.ROOT);
            description = "oci:" + layer.description() + (ref == null ? "" : "?ref=" + ref);
        } else {
            files = new LayoutFiles.Local(Path.of(spec).toAbsolutePath().normalize());
            description = location.toString();
        }
        try (files) { // the blobs opened from it keep what it holds open
            return openLayers(files, description, ref, platform, cache);
        }
    }

    /** The layers of the image {@code ref} names in {@code files}, top first; each keeps {@code files} open while it is. */
    static List<Layer> openLayers(LayoutFiles files, String description, String ref, Platform platform, IndexCache cache)
            throws IOException {
        List<OciLayout.LayerBlob> blobs = new OciLayout(files, description).layers(ref, platform);
        List<Layer> opened = new ArrayList<>();
        try {
            for (int i = blobs.size() - 1; i >= 0; i--) {
                OciLayout.LayerBlob blob = blobs.get(i);
                String digest = blob.digest();
                String shortDigest = digest.substring(0, Math.min(digest.length(), digest.indexOf(':') + 13));
                String name = description + " layer " + (i + 1) + "/" + blobs.size() + " (" + shortDigest + ")";
                opened.add(TarLayer.open(files.open(blob.path(), name), IndexKey.ofDigest(digest), name, cache));
            }
            return List.copyOf(opened);
        } catch (IOException | RuntimeException e) {
            for (Layer layer : opened) {
                try {
                    layer.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static IndexCache indexCache(URI location, String option) throws IOException {
        try {
            return IndexCache.of(option);
        } catch (IllegalArgumentException e) {
            throw Errno.EINVAL.exception(location.toString(), e.getMessage());
        }
    }
}
