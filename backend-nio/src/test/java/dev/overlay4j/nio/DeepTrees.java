package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.EntryPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Trees deeper than PATH_MAX for tests, built and checked with the shell: {@code cd} steps that
 * each fit PATH_MAX reach any depth, so what the tests see does not depend on the code under test.
 * The JDK opens files by absolute path and cannot (nor can JUnit remove such a tree): tests
 * remove their trees with {@link #removeAll}.
 */
final class DeepTrees {

    private DeepTrees() {
    }

    /** A 250-byte name that starts with the two digits of {@code level}. */
    static String level(int level) {
        return String.format("%02d", level) + "x".repeat(248);
    }

    /** {@code levels} names of {@link #level}: 20 levels are 5019 bytes. */
    static EntryPath deep(int levels) {
        EntryPath path = EntryPath.ROOT;
        for (int i = 1; i <= levels; i++) {
            path = path.resolve(level(i));
        }
        return path;
    }

    /** The length in bytes of {@code path} without its leading slash (all names here are ASCII). */
    static int length(EntryPath path) {
        return path.relativeString().length();
    }

    /**
     * Runs {@code script} with {@code sh -e} in directory {@code dir} below {@code base}, reached
     * by {@code cd} steps of at most 3000 bytes, and returns its output; fails the test when the
     * script fails.
     */
    static String sh(Path base, EntryPath dir, String script) throws IOException {
        StringBuilder command = new StringBuilder("set -e; cd -P '").append(base).append('\'');
        StringBuilder piece = new StringBuilder();
        for (String name : dir.names()) {
            if (piece.length() + name.length() + 1 > 3000) {
                command.append(" && cd -P '").append(piece).append('\'');
                piece.setLength(0);
            }
            piece.append(piece.isEmpty() ? "" : "/").append(name);
        }
        if (!piece.isEmpty()) {
            command.append(" && cd -P '").append(piece).append('\'');
        }
        command.append("; ").append(script);
        Process process = new ProcessBuilder("sh", "-c", command.toString()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            assertEquals(0, process.waitFor(), () -> "script failed in " + base + "/" + dir.nameCount() + " levels: "
                    + script + "\n" + output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }

    /** Removes everything in {@code directory}, at any depth ({@code rm -rf} walks by descriptors). */
    static void removeAll(Path directory) throws IOException {
        sh(directory, EntryPath.ROOT, "find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +");
    }
}
