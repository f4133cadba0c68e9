package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real programs (podman, buildah, skopeo, umoci, tar, the overlay4j command) for the container tests. */
final class Programs {
    private Programs() {
    }

    /** Runs a command; its standard output, after asserting it succeeded (its error output goes into the message). */
    static String run(List<String> command) throws IOException, InterruptedException {
        Path errors = Files.createTempFile("program", ".err");
        try {
            Process process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(300, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish");
            }
            assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output + Files.readString(errors));
            return output;
        } finally {
            Files.deleteIfExists(errors);
        }
    }
}
