package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.OverlayConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer that stops answering (a hung remote server) holds up no request for anything else
 * in the mount, and the callers stuck in it can be interrupted and killed, through the real
 * kernel. The mount has the default two permanent readers; more requests than that wait in
 * the layer at once. The bounds on waits below are there so that a broken build fails instead
 * of hanging; they are not speed goals. The layer is {@linkplain StallingLayer#remote() remote},
 * so the overlay waits on it outside its namespace lock, and changes elsewhere go on too.
 */
class FuseStallTest {

    private static final int STUCK_CALLERS = 6;
    private static final long PATIENCE_SECONDS = 30;

    @TempDir
    Path root;

    private StallingLayer top;
    private MountedOverlay fs;
    private final List<Process> callers = new ArrayList<>();

    @BeforeEach
    void mount() throws IOException {
        MountedOverlay.createLayers(root);
        for (int i = 0; i < 10; i++) {
            Files.writeString(root.resolve("lower1/local" + i), "local " + i + "\n");
        }
        for (int i = 0; i < STUCK_CALLERS; i++) {
            Files.writeString(root.resolve("lower1/stuck" + i), "stuck " + i + "\n");
        }
        Files.writeString(root.resolve("lower2/below"), "below\n");
        Files.createDirectory(root.resolve("lower2/sub"));
        top = new StallingLayer(root.resolve("lower1"));
        fs = MountedOverlay.mount(root, FuseOptions.defaults(), OverlayConfig.builder().lower(top));
    }

    @AfterEach
    void unmount() throws IOException {
        callers.forEach(Process::destroyForcibly);
        top.release();
        fs.close();
    }

    @Test
    void requestsStuckInOneLayerHoldUpNoneOfTheOthersAndTheirCallersCanBeKilled() throws Exception {
        for (int i = 0; i < STUCK_CALLERS; i++) {
            callers.add(new ProcessBuilder("stat", "-c", "%s", fs.mnt.resolve("stuck" + i).toString()).start());
        }
        assertTrue(top.awaitWaiting(STUCK_CALLERS, PATIENCE_SECONDS, TimeUnit.SECONDS),
                "the stuck lookups did not all reach the layer: the server took fewer requests at once");

        // Three times as many requests wait in the layer as there are permanent readers.
        String others = CompletableFuture.supplyAsync(() -> {
            StringBuilder seen = new StringBuilder();
            try {
                for (int i = 0; i < 10; i++) {
                    seen.append(Files.readString(fs.mnt.resolve("local" + i)));
                }
                seen.append(Files.readString(fs.mnt.resolve("below")));
                seen.append(Files.size(fs.mnt.resolve("local3")));
                // Changes too. Not in the root: the stuck lookups hold its lock shared in the
                // kernel, and a create there waits for them, as on any file system.
                Files.writeString(fs.mnt.resolve("sub/new"), "written\n");
                Files.move(fs.mnt.resolve("sub/new"), fs.mnt.resolve("sub/moved"));
                seen.append(Files.readString(fs.mnt.resolve("sub/moved")));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return seen.toString();
        }).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            expected.append("local ").append(i).append('\n');
        }
        assertEquals(expected + "below\n8written\n", others);

        // Once the kernel has passed a request on, it waits for the answer even for SIGKILL: the
        // server answers the INTERRUPT that the signal causes.
        for (Process caller : callers) {
            caller.destroyForcibly();
        }
        for (Process caller : callers) {
            assertTrue(caller.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS), "a killed caller stuck in a lookup did not end");
        }

        // The lookups finish once the layer answers; their late answers go nowhere, and the names work.
        top.release();
        for (int i = 0; i < STUCK_CALLERS; i++) {
            assertEquals("stuck " + i + "\n", Files.readString(fs.mnt.resolve("stuck" + i)));
        }
    }

    @Test
    void aSignalEndsAStuckLookupWithEintrAndTheCallerGoesOn() throws Exception {
        assumeTrue(new ProcessBuilder("python3", "--version").start().waitFor() == 0, "SKIPPED: python3 is missing");
        // The handler raises, so Python does not retry the interrupted call (PEP 475); it runs only
        // once the call has returned.
        String script = """
                import os, signal, sys
                def on_signal(number, frame):
                    raise InterruptedError("signal")
                signal.signal(signal.SIGUSR1, on_signal)
                print("waiting", flush=True)
                try:
                    os.stat(sys.argv[1] + "/stuck0")
                    print("answered")
                except InterruptedError:
                    print("interrupted")
                print(open(sys.argv[1] + "/local0").read(), end="")
                """;
        Process caller = new ProcessBuilder("python3", "-c", script, fs.mnt.toString()).redirectErrorStream(true).start();
        callers.add(caller);
        BufferedReader out = new BufferedReader(new InputStreamReader(caller.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("waiting", out.readLine());
        assertTrue(top.awaitWaiting(1, PATIENCE_SECONDS, TimeUnit.SECONDS), "the lookup did not reach the layer");

        Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(caller.pid())).start();
        assertEquals(0, kill.waitFor());
        assertTrue(caller.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS), "the signal did not end the stuck lookup");
        assertEquals("interrupted", out.readLine());
        assertEquals("local 0", out.readLine());
        assertEquals(0, caller.exitValue());
    }
}
