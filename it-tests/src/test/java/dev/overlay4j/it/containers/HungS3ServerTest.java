package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.fuse.FuseMount;
import dev.overlay4j.fuse.FuseOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An S3 server that stops answering in the middle of a mount (a real s3proxy behind a relay
 * that holds every byte) holds up nothing but the requests that need it: local files in the
 * same mount go on answering and changing, and the callers stuck on the bucket can be killed. The waits are
 * bounded so that a broken build fails instead of hanging; the figures are printed, not asserted.
 */
class HungS3ServerTest {

    private static final long PATIENCE_SECONDS = 30;

    @TempDir
    Path root;

    private BridgeS3Server s3;
    private HangingProxy relay;
    private Overlay overlay;
    private FuseMount mount;
    private final List<Process> callers = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        callers.forEach(Process::destroyForcibly);
        if (relay != null) {
            relay.release();
        }
        try {
            if (mount != null) {
                mount.close();
            }
            if (overlay != null) {
                overlay.close();
            }
        } finally {
            if (relay != null) {
                relay.close();
            }
            if (s3 != null) {
                s3.close();
            }
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
        }
    }

    @Test
    void localFilesInTheMountKeepAnsweringWhileTheS3LayerBelowHangs() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "FUSE SKIPPED: /dev/fuse is missing");
        assumeTrue("root".equals(System.getProperty("user.name")), "FUSE SKIPPED: mounting in-process needs root");
        s3 = BridgeS3Server.startOn("127.0.0.1");
        s3.createBucket("layers");
        s3.putFile("layers", "stall/remote.txt", "remote\n", 0644);
        s3.putFile("layers", "stall/later/inner.txt", "inner\n", 0644);
        relay = new HangingProxy(new InetSocketAddress("127.0.0.1", s3.endpoint().getPort()));
        // The SDK's default chain reads these in the test JVM as a daemon's environment would.
        System.setProperty("aws.accessKeyId", s3.environment().get("AWS_ACCESS_KEY_ID"));
        System.setProperty("aws.secretAccessKey", s3.environment().get("AWS_SECRET_ACCESS_KEY"));

        Path local = Files.createDirectories(root.resolve("local"));
        for (int i = 0; i < 10; i++) {
            Files.writeString(local.resolve("local" + i), "local " + i + "\n");
        }
        Path mnt = Files.createDirectories(root.resolve("mnt"));
        // One attempt and a long timeout: a request the relay holds stays stuck until released.
        String bucketLayer = "s3://layers/stall/?endpoint=http://127.0.0.1:" + relay.port()
                + "&pathStyle=true&region=us-east-1&attempts=1&timeout=5m";
        overlay = Overlay.open(OverlayConfig.builder().lower(local.toString()).lower(bucketLayer)
                .upper(Files.createDirectories(root.resolve("upper")).toString(),
                        Files.createDirectories(root.resolve("work")).toString())
                .build());
        mount = FuseMount.mount(overlay, mnt, FuseOptions.defaults());
        assertEquals(List.of("later", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
                "local8", "local9", "remote.txt"), sortedNames(mnt));

        relay.hang();
        // A read of the bucket's file (a GET) and a listing of its directory (a LIST), both held.
        callers.add(new ProcessBuilder("cat", mnt.resolve("remote.txt").toString()).start());
        callers.add(new ProcessBuilder("ls", mnt.resolve("later").toString()).start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (relay.heldRequests() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(relay.heldRequests() >= 2, "the mount did not send both requests to the hung server");

        long[] slowestNanos = {0};
        String seen = CompletableFuture.supplyAsync(() -> {
            StringBuilder text = new StringBuilder();
            try {
                for (int round = 0; round < 5; round++) {
                    for (int i = 0; i < 10; i++) {
                        long start = System.nanoTime();
                        Files.size(mnt.resolve("local" + i));
                        String content = Files.readString(mnt.resolve("local" + i));
                        slowestNanos[0] = Math.max(slowestNanos[0], System.nanoTime() - start);
                        if (round == 0) {
                            text.append(content);
                        }
                    }
                }
                // Changes too: the overlay waits on the remote layer outside its namespace lock.
                Files.writeString(mnt.resolve("made-while-hung"), "made\n");
                Files.move(mnt.resolve("made-while-hung"), mnt.resolve("moved-while-hung"));
                Files.createDirectory(mnt.resolve("dir-while-hung"));
                text.append(Files.readString(mnt.resolve("moved-while-hung")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return text.toString();
        }).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            expected.append("local ").append(i).append('\n');
        }
        assertEquals(expected + "made\n", seen);
        System.out.printf("while the S3 server hung: the slowest stat + read of a local file took %.1f ms%n",
                slowestNanos[0] / 1e6);

        for (Process caller : callers) {
            caller.destroyForcibly();
        }
        for (Process caller : callers) {
            assertTrue(caller.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS), "a killed caller stuck on the hung server did not end");
        }

        relay.release();
        assertEquals("remote\n", Files.readString(mnt.resolve("remote.txt")));
        assertEquals("inner\n", Files.readString(mnt.resolve("later/inner.txt")));
    }

    private static List<String> sortedNames(Path directory) throws IOException {
        try (var names = Files.list(directory)) {
            return names.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }
}
