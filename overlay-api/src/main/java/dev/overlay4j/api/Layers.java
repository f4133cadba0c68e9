package dev.overlay4j.api;

import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.nio.file.ProviderNotFoundException;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/** Opens layers by path or URI through the installed {@link LayerProvider}s. */
public final class Layers {

    private Layers() {
    }

    /**
     * The URI a layer specification stands for: a URI with a scheme as it is; anything else a
     * local path, made absolute against the working directory.
     */
    public static URI toUri(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("a layer location must not be empty");
        }
        if (hasScheme(spec)) {
            return URI.create(spec);
        }
        return Path.of(spec).toAbsolutePath().normalize().toUri();
    }

    /** A URI scheme (RFC 3986): what stands before the colon of a URI layer location. */
    static final java.util.regex.Pattern SCHEME = java.util.regex.Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");

    /**
     * Whether a layer location is a URI: a scheme of two characters or more before its first
     * colon (one letter before a colon is not taken for a scheme).
     */
    static boolean hasScheme(String spec) {
        int colon = spec.indexOf(':');
        return colon > 1 && SCHEME.matcher(spec.substring(0, colon)).matches();
    }

    /** Opens a read-only layer from a path or URI. */
    public static Layer openLower(String spec, LayerOptions options) throws IOException {
        URI uri = toUri(spec);
        return lowerProvider(uri).openLower(uri, options);
    }

    /**
     * Opens the read-only layers a path or URI stands for, topmost first: one layer, or several
     * for a location that names a stack of them (see {@link LayerProvider#openLowers}).
     */
    public static List<Layer> openLowers(String spec, LayerOptions options) throws IOException {
        URI uri = toUri(spec);
        LayerProvider provider = lowerProvider(uri);
        List<Layer> layers = provider.openLowers(uri, options);
        if (layers.isEmpty()) {
            throw Errno.EINVAL.exception(redacted(uri), "names no layer at all (provider " + provider.getClass().getName() + ")");
        }
        return List.copyOf(layers);
    }

    /** Opens a writable upper layer and its work location, each a path or URI. */
    public static WritableLayer openUpper(String upper, String work, LayerOptions options) throws IOException {
        URI upperUri = toUri(upper);
        URI workUri = toUri(work);
        return provider(upperUri).openUpper(upperUri, workUri, options);
    }

    /** The schemes of all installed providers, sorted. */
    public static Set<String> installedSchemes() {
        Set<String> schemes = new TreeSet<>();
        for (LayerProvider provider : ServiceLoader.load(LayerProvider.class)) {
            schemes.addAll(provider.schemes());
        }
        return schemes;
    }

    /**
     * The provider of a lower layer: for a local file whose name ends in one of a provider's
     * {@link LayerProvider#fileSuffixes()}, that provider (the longest ending wins), else the
     * provider of the URI's scheme.
     */
    private static LayerProvider lowerProvider(URI uri) {
        if ((uri.getScheme() == null || uri.getScheme().equalsIgnoreCase("file")) && !isDirectory(uri)) {
            String path = uri.getPath() == null ? "" : uri.getPath().toLowerCase(Locale.ROOT);
            LayerProvider best = null;
            int bestLength = 0;
            for (LayerProvider provider : ServiceLoader.load(LayerProvider.class)) {
                for (String suffix : provider.fileSuffixes()) {
                    if (suffix.length() > bestLength && path.endsWith(suffix) && path.length() > suffix.length()
                            && path.charAt(path.length() - suffix.length() - 1) != '/') {
                        best = provider;
                        bestLength = suffix.length();
                    }
                }
            }
            if (best != null) {
                return best;
            }
        }
        return provider(uri);
    }

    /** A directory whose name happens to end like an archive is still a directory layer. */
    private static boolean isDirectory(URI uri) {
        try {
            return java.nio.file.Files.isDirectory(Path.of(uri));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static LayerProvider provider(URI uri) {
        String scheme = uri.getScheme() == null ? "file" : uri.getScheme().toLowerCase(Locale.ROOT);
        for (LayerProvider provider : ServiceLoader.load(LayerProvider.class)) {
            if (provider.schemes().contains(scheme)) {
                return provider;
            }
        }
        throw new ProviderNotFoundException("no layer provider for scheme \"" + scheme + "\" (layer " + redacted(uri)
                + "); installed schemes: " + installedSchemes()
                + ". Add the backend module that provides it to the module or class path.");
    }

    /** The URI without user info or query, so credentials never reach a message. */
    public static String redacted(URI uri) {
        if (uri.getRawUserInfo() == null && uri.getRawQuery() == null) {
            return uri.toString();
        }
        String s = uri.getScheme() + ":" + (uri.getHost() != null ? "//" + uri.getHost()
                + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") : "")
                + (uri.getRawPath() != null ? uri.getRawPath() : "");
        return uri.getRawQuery() != null ? s + "?..." : s;
    }
}
