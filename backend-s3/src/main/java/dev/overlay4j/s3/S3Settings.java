package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where an S3 layer lives and how it is read, parsed once from {@code s3://bucket/prefix/?options}.
 * Provider parameters ({@link LayerOptions#parameters()}) give defaults; the URI's query wins.
 *
 * @param location     the layer URI as the user gave it (messages use its redacted form)
 * @param bucket       the bucket name
 * @param prefix       key prefix of the layer root: empty, or ending in {@code '/'}
 * @param endpoint     a non-AWS endpoint, or null for AWS's own; defaults to the SDK's standard
 *                     settings ({@code aws.endpointUrlS3}, {@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL})
 * @param region       the signing region, or null to ask the SDK's default region chain
 * @param pathStyle    address buckets as {@code endpoint/bucket} rather than {@code bucket.endpoint};
 *                     on by default for endpoints on an IP address or localhost
 * @param anonymous    send unsigned requests (public buckets) instead of using the credential chain
 * @param timeout      the longest one request may take, retries included, before it fails with EIO
 * @param attempts     how many times a request is tried
 * @param listTtl      how long a directory listing and object metadata are reused
 * @param blockSize    bytes per ranged GET
 * @param memoryCache  bytes of blocks kept in memory per layer
 * @param readahead    blocks fetched ahead of a sequential reader
 * @param streams      GETs that fetch one sequential reader's blocks at once: 1 streams them with one
 *                     GET; more fetch runs of them in parallel, for servers whose connections are
 *                     slower than the network
 * @param cacheDir     the on-disk block cache, shared across layers and processes, or null for none
 * @param cacheSize    the bound of the on-disk cache in bytes
 * @param metadata     read s3fs metadata ({@code x-amz-meta-*}) with a HEAD of an object when it is
 *                     first stat'ed (or read, or its xattrs are); off, every object is a 0644
 *                     regular file owned by this process
 * @param metadataInListings also HEAD every small object while listing ({@code metadata=listing}),
 *                     so that a listing types symlinks before they are stat'ed; without it
 *                     ({@code metadata=true}, the default) a listing calls a small object not
 *                     stat'ed yet of unknown type (DT_UNKNOWN), and its first stat HEADs it
 * @param metadataCache how many objects' metadata is kept
 * @param listCache    how many directory entries the kept listings may hold together
 * @param refresh      how often the cached listings are taken again in the background to notice
 *                     changes made by others; zero: never
 */
record S3Settings(URI location, String bucket, String prefix, URI endpoint, String region, boolean pathStyle,
                  boolean anonymous, Duration timeout, int attempts, Duration listTtl, int blockSize,
                  long memoryCache, int readahead, int streams, Path cacheDir, long cacheSize, boolean metadata,
                  boolean metadataInListings, int metadataCache, long listCache, Duration refresh) {

    static final Set<String> OPTIONS = Set.of("endpoint", "region", "pathStyle", "anonymous", "timeout", "attempts",
            "listTtl", "blockSize", "memoryCache", "readahead", "streams", "cacheDir", "cacheSize", "metadata",
            "metadataCache", "listCache", "refresh");

    /** The URI without its query or user info, safe for messages. */
    String describe() {
        return Layers.redacted(location);
    }

    /** {@code s3://bucket/prefix/}: what the layer is, without options, for messages. */
    String root() {
        return "s3://" + bucket + "/" + prefix;
    }

    static S3Settings parse(URI uri, LayerOptions layerOptions) throws IOException {
        String shown = Layers.redacted(uri);
        if (!"s3".equalsIgnoreCase(uri.getScheme())) {
            throw Errno.EINVAL.exception(shown, "not an s3: URI");
        }
        if (uri.getRawUserInfo() != null) {
            throw Errno.EINVAL.exception(shown, "credentials do not belong in the URI; they come from the AWS default "
                    + "credential chain (environment, system properties, profile files)");
        }
        String bucket = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
        if (bucket == null || bucket.isEmpty()) {
            throw Errno.EINVAL.exception(shown, "no bucket: write s3://BUCKET/PREFIX/");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        while (path.startsWith("/")) {
            path = path.substring(1);
        }
        String prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
        for (String name : prefix.split("/", -1)) {
            if (name.equals(".") || name.equals("..")) {
                throw Errno.EINVAL.exception(shown, "the prefix must not contain \".\" or \"..\"");
            }
        }

        Map<String, String> options = new LinkedHashMap<>();
        layerOptions.parameters().forEach((key, value) -> {
            if (OPTIONS.contains(key)) {
                options.put(key, value);
            }
        });
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "true" : decode(pair.substring(eq + 1));
                if (!OPTIONS.contains(key)) {
                    throw Errno.EINVAL.exception(shown, "unknown option \"" + key + "\"; known: " + new java.util.TreeSet<>(OPTIONS));
                }
                options.put(key, value);
            }
        }
        try {
            String endpointText = options.containsKey("endpoint") ? options.get("endpoint") : defaultEndpoint();
            URI endpoint = endpointText == null ? null : endpoint(endpointText);
            // true (the default) reads metadata at the first stat and lists small objects not
            // stat'ed yet as of unknown type (DT_UNKNOWN); listing HEADs them while listing, to
            // type every listed object; lazy, from before DT_UNKNOWN, now means true.
            String metadata = options.getOrDefault("metadata", "true");
            boolean listingMetadata = metadata.equalsIgnoreCase("listing");
            boolean anyMetadata = listingMetadata || metadata.equalsIgnoreCase("lazy") || bool(metadata);
            // Virtual-host addressing cannot work on an IP address or localhost.
            boolean pathStyleByDefault = endpoint != null
                    && (endpoint.getHost().equals("localhost") || endpoint.getHost().matches("[0-9.]+|\\[.*\\]"));
            return new S3Settings(uri, bucket, prefix,
                    endpoint,
                    options.get("region"),
                    bool(options.getOrDefault("pathStyle", Boolean.toString(pathStyleByDefault))),
                    bool(options.getOrDefault("anonymous", "false")),
                    duration(options.getOrDefault("timeout", "15s")),
                    positive((int) size(options.getOrDefault("attempts", "4")), "attempts"),
                    duration(options.getOrDefault("listTtl", "30s")),
                    positive((int) size(options.getOrDefault("blockSize", "4M")), "blockSize"),
                    size(options.getOrDefault("memoryCache", "64M")),
                    (int) size(options.getOrDefault("readahead", "6")),
                    streams((int) size(options.getOrDefault("streams", "1"))),
                    options.containsKey("cacheDir") ? Path.of(options.get("cacheDir")).toAbsolutePath() : null,
                    size(options.getOrDefault("cacheSize", "1G")),
                    anyMetadata,
                    listingMetadata,
                    positive((int) size(options.getOrDefault("metadataCache", "20000")), "metadataCache"),
                    positive((int) size(options.getOrDefault("listCache", "200000")), "listCache"),
                    duration(options.getOrDefault("refresh", "0")));
        } catch (IllegalArgumentException e) {
            throw Errno.EINVAL.exception(shown, e.getMessage());
        }
    }

    /** The AWS SDK's standard endpoint settings, S3-specific first. */
    private static String defaultEndpoint() {
        for (String[] source : new String[][] {{"aws.endpointUrlS3", "AWS_ENDPOINT_URL_S3"}, {"aws.endpointUrl", "AWS_ENDPOINT_URL"}}) {
            String value = System.getProperty(source[0], System.getenv(source[1]));
            if (value != null && !value.isBlank()) {
                return value.trim();
            }
        }
        return null;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }

    private static URI endpoint(String text) {
        URI endpoint = URI.create(text);
        if (endpoint.getScheme() == null || endpoint.getHost() == null) {
            throw new IllegalArgumentException("option endpoint must be an http(s) URL, not \"" + text + "\"");
        }
        return endpoint;
    }

    private static boolean bool(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException("expected true or false, not \"" + text + "\"");
        };
    }

    private static int streams(int value) {
        if (value < 1 || value > 16) {
            throw new IllegalArgumentException("option streams must be between 1 and 16, not " + value);
        }
        return value;
    }

    private static int positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException("option " + name + " must be positive");
        }
        return value;
    }

    /** {@code 500ms}, {@code 20s}, {@code 2m}, or a plain number of seconds. */
    static Duration duration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            if (t.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a duration: \"" + text + "\" (write e.g. 500ms, 20s, 2m)");
        }
    }

    /** A byte count with an optional binary unit: {@code 4096}, {@code 1M}, {@code 1MiB}, {@code 2G}. */
    static long size(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long value = Long.parseLong(digits.trim());
            if (value < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(value, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (write e.g. 4096, 1M, 2G)");
        }
    }
}
