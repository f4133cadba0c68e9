package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * overlay4j as containers/storage's {@code mount_program}, driven by the real buildah and podman
 * (as root, in a store of the test's own): a layer committed from a container that deleted files
 * and replaced a directory carries them as {@code .wh.} files, and a container made from it shows
 * them deleted and reports its own changes in {@code podman diff}, exactly as with fuse-overlayfs.
 */
class MountProgramTest {

    @TempDir
    Path scratch;

    /** Runs a command; its output, after asserting it succeeded. */
    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish");
        }
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }

    /** {@code tool} (buildah or podman) on a store of its own under {@code store}, mounting with {@code program}. */
    private static List<String> tool(String tool, Path store, Path program, String... args) {
        List<String> command = new ArrayList<>(List.of(tool, "--root", store.resolve("root").toString(), "--runroot",
                store.resolve("run").toString(), "--storage-driver", "overlay", "--storage-opt",
                "overlay.mount_program=" + program));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * Builds an image on a base with buildah (delete a file, a directory, and a directory made
     * again), then a container of it that deletes one more file: what that container shows,
     * and what podman diff says.
     */
    private String scenario(Path program, String name) throws Exception {
        Path store = scratch.resolve(name);
        run(tool("podman", store, program, "import", scratch.resolve("base.tar").toString(), "localhost/base"));
        String first = run(tool("buildah", store, program, "from", "-q", "localhost/base")).strip();
        Path mounted = Path.of(run(tool("buildah", store, program, "mount", first)).strip());
        run(List.of("sh", "-c", "cd '" + mounted + "' && rm -r etc/apt usr/share/doc a/b2/f2 && mkdir usr/share/doc"
                + " && echo new > usr/share/doc/new"));
        run(tool("buildah", store, program, "umount", first));
        run(tool("buildah", store, program, "commit", "-q", first, "localhost/step1"));
        run(tool("buildah", store, program, "rm", first));

        String second = run(tool("buildah", store, program, "from", "-q", "localhost/step1")).strip();
        mounted = Path.of(run(tool("buildah", store, program, "mount", second)).strip());
        String view = run(List.of("sh", "-c", "cd '" + mounted + "' && find . | LC_ALL=C sort"));
        run(List.of("rm", mounted.resolve("a/b2/f3").toString()));
        run(tool("buildah", store, program, "umount", second));
        String diff = run(tool("podman", store, program, "diff", second)).lines().sorted().reduce("", (a, b) -> a + b + "\n");
        run(tool("buildah", store, program, "rm", second));
        return "== view\n" + view + "== diff\n" + diff;
    }

    @Test
    void buildahCommitAndPodmanDiffSeeWhiteoutFilesOfImageLayersAsFuseOverlayfsDoes() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "SKIPPED: buildah and podman on a store of their own need root here");
        for (String tool : List.of("podman", "buildah")) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)), "SKIPPED: " + tool + " is not installed");
        }
        Path base = Files.createDirectories(scratch.resolve("rootfs"));
        for (String file : List.of("etc/apt/sources.list", "etc/hostname", "usr/share/doc/pkg/README", "a/b2/f2", "a/b2/f3")) {
            Files.createDirectories(base.resolve(file).getParent());
            Files.writeString(base.resolve(file), file + "\n");
        }
        run(List.of("tar", "-C", base.toString(), "-cf", scratch.resolve("base.tar").toString(), "."));
        Overlay4jInstall install = Overlay4jInstall.assemble(scratch.resolve("install"));

        String expected = """
                == view
                .
                ./a
                ./a/b2
                ./a/b2/f3
                ./etc
                ./etc/hostname
                ./usr
                ./usr/share
                ./usr/share/doc
                ./usr/share/doc/new
                == diff
                C /a
                C /a/b2
                D /a/b2/f3
                """;
        assertEquals(expected, scenario(install.home().resolve("bin/overlay4j"), "overlay4j"));
        Path fuseOverlayfs = Path.of("/usr/bin/fuse-overlayfs");
        assumeTrue(Files.isExecutable(fuseOverlayfs), "SKIPPED: fuse-overlayfs is not installed to compare with");
        assertEquals(expected, scenario(fuseOverlayfs, "fuse-overlayfs"));
    }
}
