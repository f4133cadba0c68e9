package dev.overlay4j.s3;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * A real S3 server in this process (s3proxy), on a fixed port across {@link #stop()} and
 * {@link #restart()}. The layer under test finds the credentials through the SDK's default
 * chain (system properties), as a user's layer would find theirs.
 */
final class S3Server implements AutoCloseable {

    static final String ACCESS_KEY = "overlay4j-test-access";
    static final String SECRET_KEY = "overlay4j-test-secret-do-not-log";

    static {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
    }

    private final BlobStore store;
    private S3Proxy proxy;
    private int port;
    private S3Client client;

    private final List<String> gets = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger> calls =
            new java.util.concurrent.ConcurrentHashMap<>();

    private S3Server(BlobStore store) throws Exception {
        this.store = recordingGets(store);
        startProxy(0);
    }

    /** The store, noting the range of every GET it serves ("all" for a whole object) and counting its calls. */
    private BlobStore recordingGets(BlobStore real) {
        return (BlobStore) Proxy.newProxyInstance(BlobStore.class.getClassLoader(), new Class<?>[] {BlobStore.class},
                (proxy, method, args) -> {
                    calls.computeIfAbsent(method.getName(), m -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                    if (method.getName().equals("getBlob") && args != null && args[0] instanceof GetObjectRequest get) {
                        gets.add(get.bucket() + "/" + get.key() + " " + (get.range() == null ? "all" : get.range()));
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The GETs served so far, as "BUCKET/KEY RANGE", oldest first. */
    List<String> gets() {
        return List.copyOf(gets);
    }

    /** How many HEADs of objects the server has answered. */
    int heads() {
        return count("blobMetadata");
    }

    /** How many listings (ListObjects pages) the server has answered. */
    int lists() {
        return count("list");
    }

    private int count(String storeMethod) {
        var n = calls.get(storeMethod);
        return n == null ? 0 : n.get();
    }

    /** A server keeping objects in memory. */
    static S3Server inMemory() throws Exception {
        Properties p = new Properties();
        p.setProperty("jclouds.identity", ACCESS_KEY);
        p.setProperty("jclouds.credential", SECRET_KEY);
        return new S3Server(BlobStores.create("transient", p));
    }

    /** A server keeping objects in files under {@code dir}. */
    static S3Server onDisk(Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("jclouds.identity", ACCESS_KEY);
        p.setProperty("jclouds.credential", SECRET_KEY);
        p.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        return new S3Server(BlobStores.create("filesystem", p));
    }

    private void startProxy(int wantedPort) throws Exception {
        proxy = S3Proxy.builder().blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + wantedPort))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .ignoreUnknownHeaders(true)
                // Uploads are signed whole (not aws-chunked, see S3Clients); allow large ones.
                .v4MaxNonChunkedRequestSize(1L << 30)
                .stopTimeout(0)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(5);
        }
        port = proxy.getPort();
    }

    /** Stops answering: connections are refused until {@link #restart()}. */
    void stop() throws Exception {
        proxy.stop();
    }

    /** Answers again, on the same port, with the same objects. */
    void restart() throws Exception {
        startProxy(port);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** A client for setting up fixtures. */
    synchronized S3Client client() {
        if (client == null) {
            client = client(endpoint());
        }
        return client;
    }

    /** A new client of the server at {@code endpoint} (this one, or a relay to it); the caller closes it. */
    static S3Client client(URI endpoint) {
        return S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
                // As the layer's own client (see S3Clients): no aws-chunked uploads.
                .serviceConfiguration(c -> c.chunkedEncodingEnabled(false).expectContinueEnabled(false))
                .requestChecksumCalculation(software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    void createBucket(String bucket) {
        client().createBucket(r -> r.bucket(bucket));
    }

    void put(String bucket, String key, byte[] body, Map<String, String> metadata) {
        client().putObject(r -> r.bucket(bucket).key(key).metadata(metadata), RequestBody.fromBytes(body));
    }

    void put(String bucket, String key, String body) {
        put(bucket, key, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** The layer URI {@code s3://bucket/prefix?endpoint=...&pathStyle=true&OPTIONS}. */
    String uri(String bucket, String prefix, String... options) {
        StringBuilder s = new StringBuilder("s3://").append(bucket).append('/').append(prefix)
                .append("?endpoint=").append(URLEncoder.encode(endpoint().toString(), StandardCharsets.UTF_8))
                .append("&pathStyle=true");
        for (String option : options) {
            s.append('&').append(option);
        }
        return s.toString();
    }

    @Override
    public void close() throws Exception {
        if (client != null) {
            client.close();
        }
        proxy.stop();
        store.close();
    }
}
