package dev.overlay4j.fuse;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The overlay4j command in a JVM of its own, started the way the launcher starts it: on the
 * module path, in the foreground.
 */
final class DaemonProcess {

    private static final List<String> MODULES = List.of("overlay-api", "overlay-cli", "overlay-core", "backend-nio");

    private DaemonProcess() {
    }

    /** The module path: this module's classes and the jars of the modules it serves with. */
    static String modulePath() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            String name = path.getFileName().toString();
            if (entry.endsWith("backend-fuse/target/classes")
                    || MODULES.stream().anyMatch(module -> name.startsWith(module + "-") && name.endsWith(".jar"))
                    || MODULES.stream().anyMatch(module -> entry.endsWith(module + "/target/classes"))) {
                entries.add(entry);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The command line that runs {@code overlay4j -f ARGS} in a new JVM. */
    static List<String> command(String modulePath, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=dev.overlay4j.fuse,dev.overlay4j.nio",
                "--module-path", modulePath, "-m", "dev.overlay4j.fuse/dev.overlay4j.fuse.Main", "-f"));
        command.addAll(List.of(args));
        return command;
    }

    /** Starts the command with its output in {@code log}. */
    static Process start(Path log, List<String> command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    /** Waits until {@code mountpoint} is mounted, or fails with the daemon's output when it ends first. */
    static void awaitMounted(Process daemon, Path mountpoint, Path log) throws IOException, InterruptedException {
        for (int i = 0; i < 600 && !MountedOverlay.isMounted(mountpoint); i++) {
            if (!daemon.isAlive()) {
                throw new IOException("the daemon ended with " + daemon.exitValue() + ": " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        if (!MountedOverlay.isMounted(mountpoint)) {
            daemon.destroyForcibly();
            throw new IOException(mountpoint + " was not mounted within 30 s: " + Files.readString(log));
        }
    }

    static String listing(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.joining(","));
        }
    }
}
