package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs the mount tools (mount, umount, cp) and reports their output when they fail. */
final class Shell {
    private Shell() {
    }

    /** The result of one command: its exit status and its merged stdout/stderr. */
    record Result(List<String> command, int status, String output) {
        boolean ok() {
            return status == 0;
        }

        String describe() {
            return String.join(" ", command) + " exited " + status + ": " + output.strip();
        }
    }

    static Result run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(List.of(command), process.waitFor(), output);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }

    static void check(String... command) throws IOException {
        Result result = run(command);
        if (!result.ok()) {
            throw new IOException(result.describe());
        }
    }
}
