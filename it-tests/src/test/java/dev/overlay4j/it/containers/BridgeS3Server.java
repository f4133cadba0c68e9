package dev.overlay4j.it.containers;

import com.github.dockerjava.api.model.Network;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.testcontainers.DockerClientFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server (s3proxy, objects in memory) in the test JVM, listening only on the host's
 * address on Docker's default bridge, which is the containers' gateway: they reach it as any
 * remote S3 endpoint. The containers get its credentials through the AWS SDK's environment
 * variables ({@link #environment()}); the test JVM seeds and inspects buckets with its own client.
 */
final class BridgeS3Server implements AutoCloseable {
    private static final String ACCESS_KEY = "overlay4j-it-access";
    private static final String SECRET_KEY = "overlay4j-it-secret";
    private static final String REGION = "us-east-1";
    /** s3fs's metadata: the whole st_mode in decimal. */
    private static final int S_IFREG = 0100000;

    private final BlobStore store;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final S3Client client;

    private BridgeS3Server(BlobStore store, S3Proxy proxy, URI endpoint) {
        this.store = store;
        this.proxy = proxy;
        this.endpoint = endpoint;
        this.client = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                // As backend-s3's own client: whole signed bodies, no aws-chunked uploads or flexible checksums.
                .serviceConfiguration(c -> c.chunkedEncodingEnabled(false).expectContinueEnabled(false))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    static BridgeS3Server start() throws Exception {
        return startOn(bridgeAddress());
    }

    /** The server on another address of this host (127.0.0.1 for the test JVM alone). */
    static BridgeS3Server startOn(String host) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("jclouds.identity", ACCESS_KEY);
        properties.setProperty("jclouds.credential", SECRET_KEY);
        BlobStore store = BlobStores.create("transient", properties);
        S3Proxy proxy = S3Proxy.builder().blobStore(store)
                .endpoint(URI.create("http://" + host + ":0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .ignoreUnknownHeaders(true)
                // backend-s3 signs uploads whole (not aws-chunked); allow files of any test size.
                .v4MaxNonChunkedRequestSize(1L << 30)
                .stopTimeout(0)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            if ("FAILED".equals(proxy.getState())) {
                store.close();
                throw new IOException("s3proxy did not start on " + host);
            }
            Thread.sleep(5);
        }
        return new BridgeS3Server(store, proxy, URI.create("http://" + host + ":" + proxy.getPort()));
    }

    /**
     * The host's IPv4 address on Docker's default bridge: the network's gateway when Docker
     * records one, else the address of the bridge's interface (docker0).
     */
    private static String bridgeAddress() throws SocketException {
        Network bridge = DockerClientFactory.lazyClient().inspectNetworkCmd().withNetworkId("bridge").exec();
        if (bridge.getIpam() != null && bridge.getIpam().getConfig() != null) {
            for (Network.Ipam.Config config : bridge.getIpam().getConfig()) {
                if (config.getGateway() != null && !config.getGateway().contains(":")) {
                    return config.getGateway();
                }
            }
        }
        String name = bridge.getOptions() == null ? null : bridge.getOptions().get("com.docker.network.bridge.name");
        NetworkInterface nic = name == null ? null : NetworkInterface.getByName(name);
        if (nic != null) {
            for (InetAddress address : nic.inetAddresses().toList()) {
                if (address instanceof Inet4Address) {
                    return address.getHostAddress();
                }
            }
        }
        throw new IllegalStateException("Docker's bridge network records no IPv4 gateway and its interface (" + name
                + ") has no IPv4 address here, so containers could not reach an S3 server in the test JVM");
    }

    /** The server's endpoint, {@code http://HOST:PORT}. */
    URI endpoint() {
        return endpoint;
    }

    /** The variables the AWS SDK's default chains read in a container: credentials and region. */
    Map<String, String> environment() {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY, "AWS_REGION", REGION);
    }

    /** The layer URI of {@code s3://bucket/prefix/} on this server, as a container names it. */
    String layerUri(String bucket, String prefix) {
        return "s3://" + bucket + "/" + prefix + "?endpoint=" + endpoint + "&pathStyle=true";
    }

    void createBucket(String bucket) {
        client.createBucket(r -> r.bucket(bucket));
    }

    /** A regular file with s3fs metadata, as {@code overlay4j push} or s3fs would store it. */
    void putFile(String bucket, String key, String content, int permissions) {
        client.putObject(r -> r.bucket(bucket).key(key).metadata(Map.of("mode", Integer.toString(S_IFREG | permissions),
                "uid", "0", "gid", "0", "mtime", "1704067200")), RequestBody.fromString(content, StandardCharsets.UTF_8));
    }

    /** Every key under {@code prefix} with its size, sorted: {@code "KEY SIZE"}. */
    List<String> objects(String bucket, String prefix) {
        return client.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(prefix)).contents().stream()
                .map(object -> object.key() + " " + object.size()).sorted().toList();
    }

    @Override
    public void close() throws Exception {
        try {
            client.close();
            proxy.stop();
        } finally {
            store.close();
        }
    }
}
