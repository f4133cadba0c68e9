package dev.overlay4j.s3;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Opens read-only layers from S3-compatible object stores:
 * {@code s3://BUCKET/PREFIX/?endpoint=URL&region=NAME&pathStyle=true&cacheDir=DIR&listTtl=30s&timeout=15s}.
 * Credentials come from the AWS SDK's default chain (environment, system properties, profile
 * files), never from the URI.
 *
 * <p>Options (query parameters; {@link LayerOptions#parameters()} of the same names give defaults):
 * <ul>
 * <li>{@code endpoint} an S3-compatible server (default: {@code AWS_ENDPOINT_URL_S3} /
 *     {@code AWS_ENDPOINT_URL}, else AWS); {@code region} (default: the SDK's chain, or
 *     {@code us-east-1} with an endpoint); {@code pathStyle} (default on for IP and localhost
 *     endpoints); {@code anonymous=true} for public buckets</li>
 * <li>{@code timeout} (15s) the bound after which a request, retries included, fails with EIO;
 *     {@code attempts} (4)</li>
 * <li>{@code listTtl} (30s) how long listings and metadata are reused</li>
 * <li>{@code refresh} (0: never) how often the directories the layer holds listings of are
 *     listed again in the background, so that changes made to the bucket by others are seen and
 *     reported to the overlay's listeners (a FUSE mount then drops what the kernel cached)</li>
 * <li>{@code blockSize} (4M) the unit of fetching and caching; {@code readahead} (6) blocks a
 *     sequential reader's GET streams ahead of it (at most half the memory cache);
 *     {@code memoryCache} (64M); {@code streams} (1) GETs that fetch one reader's readahead at
 *     once, for stores whose connections are slower than the network</li>
 * <li>{@code cacheDir} an on-disk block cache shared by layers and processes, {@code cacheSize} (1G)</li>
 * <li>{@code metadata} (true) read s3fs metadata with a HEAD of an object when it is first
 *     stat'ed, opened or asked for xattrs, never while listing (a listing types a small object
 *     not yet stat'ed as a regular file, even if it is a symlink; empty objects are HEADed, as
 *     they may be whiteouts, devices or directories); {@code listing} also HEADs every small
 *     object while listing, so listings type symlinks exactly; false treats every object as a
 *     0644 file of this process's user, with no HEADs at all</li>
 * <li>{@code metadataCache} (20000) objects whose metadata is kept; {@code listCache} (200000)
 *     directory entries the kept listings hold together: what the layer keeps is bounded by these
 *     and the block caches</li>
 * </ul>
 */
public final class S3LayerProvider implements LayerProvider {

    @Override
    public Set<String> schemes() {
        return Set.of("s3");
    }

    @Override
    public Layer openLower(URI location, LayerOptions options) throws IOException {
        S3Settings settings = S3Settings.parse(location, options);
        S3Client client = S3Clients.create(settings);
        S3Layer layer;
        try {
            layer = new S3Layer(settings, client, options);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        try {
            layer.probe();
        } catch (IOException | RuntimeException e) {
            layer.close();
            throw e;
        }
        return layer;
    }
}
