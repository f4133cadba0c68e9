package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assumptions.abort;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.testcontainers.DockerClientFactory;

/**
 * Decides whether the container tests can run here: a Docker daemon answers and the local base
 * image exists with the packages the scenarios use. Otherwise every container test is skipped
 * with a message that starts with {@value #SKIPPED} and says how to enable them; CI fails on it.
 */
final class ContainerSupport {
    static final String SKIPPED = "CONTAINERS SKIPPED:";
    /** Built by bin/provision-docker from this machine's Debian mirror: no registry is reachable. */
    static final String BASE_IMAGE = "overlay4j-base:bookworm";
    /** The label bin/provision-docker puts on the image: the packages it was built with. */
    static final String PACKAGES_LABEL = "dev.overlay4j.base.packages";
    static final List<String> REQUIRED_PACKAGES = List.of("fuse3", "attr", "git");
    private static final String HOW_TO_ENABLE =
            "; to run them, run bin/provision-docker as root (installs Docker, starts dockerd, builds " + BASE_IMAGE + ")";

    /** Why the tests cannot run, or null when they can; probed once per test JVM. */
    private static String unavailable;
    private static boolean probed;

    private ContainerSupport() {
    }

    static synchronized void assumeAvailable() {
        if (!"true".equals(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))
                || !"true".equals(System.getenv("TESTCONTAINERS_CHECKS_DISABLE"))) {
            // Ryuk and the start-up checks pull images from a registry: a configuration error, not a reason to skip.
            throw new IllegalStateException("set TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_CHECKS_DISABLE=true and"
                    + " TESTCONTAINERS_HOST_OVERRIDE=localhost for the container tests (the it-tests pom sets them for surefire)");
        }
        if (!probed) {
            unavailable = probe();
            probed = true;
        }
        if (unavailable != null) {
            abort(SKIPPED + " " + unavailable + HOW_TO_ENABLE);
        }
    }

    private static String probe() {
        if (!System.getProperty("os.name").equals("Linux")) {
            return "not Linux (" + System.getProperty("os.name") + ")";
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "/dev/fuse is missing, so containers cannot mount FUSE";
        }
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return "no Docker daemon answers";
        }
        InspectImageResponse image;
        try {
            image = DockerClientFactory.lazyClient().inspectImageCmd(BASE_IMAGE).exec();
        } catch (NotFoundException e) {
            return "the base image " + BASE_IMAGE + " is missing";
        }
        Map<String, String> labels = image.getConfig() == null ? null : image.getConfig().getLabels();
        String packages = labels == null ? "" : labels.getOrDefault(PACKAGES_LABEL, "");
        List<String> present = Arrays.asList(packages.split(","));
        List<String> missing = REQUIRED_PACKAGES.stream().filter(p -> !present.contains(p)).toList();
        if (!missing.isEmpty()) {
            return "the base image " + BASE_IMAGE + " lacks the packages " + missing + " (label " + PACKAGES_LABEL
                    + "=\"" + packages + "\")";
        }
        return null;
    }
}
