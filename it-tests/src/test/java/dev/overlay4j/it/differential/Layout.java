package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The directories one overlay is made of: lower layers (top first), the upper dir and the
 * work dir, all on the same filesystem as overlayfs requires.
 */
record Layout(List<Path> lowers, Path upper, Path work) {
    Layout {
        lowers = List.copyOf(lowers);
    }

    /** A fresh upper and work dir under {@code dir} over these lowers. */
    static Layout create(List<Path> lowers, Path dir) throws IOException {
        return new Layout(lowers, Files.createDirectories(dir.resolve("upper")),
                Files.createDirectories(dir.resolve("work")));
    }

    /** The same lowers and upper with a new, empty work dir at {@code work}. */
    Layout withFreshWork(Path work) throws IOException {
        return new Layout(lowers, upper, Files.createDirectories(work));
    }

    String lowerdir() {
        return lowers.stream().map(Path::toString).collect(Collectors.joining(":"));
    }

    /** Mount options naming these directories, followed by {@code more} (comma-separated, may be empty). */
    String mountOptions(String more) {
        return "lowerdir=" + lowerdir() + ",upperdir=" + upper + ",workdir=" + work + (more.isEmpty() ? "" : "," + more);
    }
}
