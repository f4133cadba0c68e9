package dev.overlay4j.it.containers;

import static dev.overlay4j.it.containers.Programs.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * overlay4j as containers/storage's {@code mount_program} under the real podman, buildah and
 * runc (as root, each program with a store of its own): every scenario runs with overlay4j, with
 * the kernel's overlayfs (containers/storage's own overlay driver) and with fuse-overlayfs.
 * Containers must see what they see on the kernel's overlayfs, and podman diff and the layers
 * written must be those fuse-overlayfs gives, each known difference named in the test. Images
 * are made here from a busybox tree (no registry).
 *
 * <p>A merged directory has st_nlink 1 through overlay4j, as through the kernel's overlayfs,
 * where fuse-overlayfs counts its subdirectories, so directories' link counts are left out.
 * Times are left out, since they are the times of each run.
 */
class MountProgramTest {
    private static final String MARK = "CONTAINERS SKIPPED: ";
    /** podman's default rlimits need CAP_SYS_RESOURCE, which this machine lacks; crun refuses its hybrid cgroups. */
    private static final List<String> RUN_OPTIONS = List.of("--runtime", "runc", "--network", "none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024");

    @TempDir
    static Path shared;
    private static Overlay4jInstall install;
    private static Path baseTar;

    @TempDir
    Path scratch;

    @BeforeAll
    static void installAndMakeBase() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), MARK + "podman and buildah on a store of their own need root here");
        for (String tool : List.of("/usr/bin/podman", "/usr/bin/buildah", "/usr/sbin/runc", "/usr/bin/fuse-overlayfs", "/bin/busybox")) {
            assumeTrue(Files.isExecutable(Path.of(tool)), MARK + tool + " is not installed (.ci/run installs it)");
        }
        install = Overlay4jInstall.assemble(shared.resolve("install"));
        // As the README's install steps do: the ahead-of-time cache that makes each mount start fast.
        run(List.of(install.home().resolve("bin/overlay4j").toString(), "--aot-cache"));

        Path base = Files.createDirectories(shared.resolve("rootfs"));
        Files.createDirectories(base.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), base.resolve("bin/busybox"));
        for (String applet : List.of("sh", "ls", "cat", "rm", "mkdir", "mv", "chmod", "chown", "ln", "find", "stat", "sort", "echo")) {
            Files.createSymbolicLink(base.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Map<String, String> files = new LinkedHashMap<>();
        files.put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        files.put("etc/group", "root:x:0:\n");
        files.put("etc/apt/sources.list", "deb http://example.invalid stable main\n");
        files.put("usr/share/doc/pkg/README", "documentation\n");
        files.put("a/b2/f2", "f2\n");
        files.put("a/b2/f3", "f3\n");
        files.put("a/b3/g1", "g1\n");
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.createDirectories(base.resolve(file.getKey()).getParent());
            Files.writeString(base.resolve(file.getKey()), file.getValue());
        }
        Files.createDirectories(base.resolve("tmp"));
        baseTar = shared.resolve("base.tar");
        run(List.of("tar", "--numeric-owner", "-C", base.toString(), "-cf", baseTar.toString(), "."));
    }

    /**
     * One mount program under test, with the store its podman and buildah share; no path means
     * the kernel's overlayfs, mounted by containers/storage's overlay driver itself.
     */
    private record Program(String name, Path path, Path store) {
        List<String> tool(String tool, String... args) {
            List<String> command = new ArrayList<>(List.of(tool, "--root", store.resolve("root").toString(), "--runroot",
                    store.resolve("run").toString(), "--storage-driver", "overlay"));
            if (path != null) {
                command.addAll(List.of("--storage-opt", "overlay.mount_program=" + path));
            }
            if (tool.equals("podman")) {
                command.addAll(List.of("--cgroup-manager", "cgroupfs", "--events-backend", "file"));
            }
            command.addAll(List.of(args));
            return command;
        }

        List<String> podmanRun(String... args) {
            List<String> command = tool("podman", "run");
            command.addAll(RUN_OPTIONS);
            command.addAll(List.of(args));
            return command;
        }
    }

    private List<Program> programs() {
        return List.of(new Program("overlay4j", install.home().resolve("bin/overlay4j"), scratch.resolve("overlay4j")),
                new Program("kernel", null, scratch.resolve("kernel")),
                new Program("fuse-overlayfs", Path.of("/usr/bin/fuse-overlayfs"), scratch.resolve("fuse-overlayfs")));
    }

    private static String sortedLines(String text) {
        return text.lines().sorted().collect(Collectors.joining("\n", "", "\n"));
    }

    /**
     * What a container of {@code image} sees below the image's own directories: type, mode,
     * owner, size and, for all but directories, the link count; symlink targets.
     */
    private static String containerView(Program program, String image) throws Exception {
        return sortedLines(run(program.podmanRun("--rm", image, "sh", "-c",
                "cd / && for p in $(find a opt usr etc/apt etc/passwd etc/group 2>/dev/null); do"
                        + " if [ -d \"$p\" ]; then stat -c '%n %F %a %u:%g' \"$p\";"
                        + " else stat -c '%N %F %a %u:%g %h %s' \"$p\"; fi; done")));
    }

    /**
     * The entries of each layer of {@code image} as {@code podman save} writes them, times
     * left out: names (with .wh. whiteouts), types, modes, owners, sizes, link targets.
     */
    private String layers(Program program, String image) throws Exception {
        Path archive = scratch.resolve(program.name() + "-save.tar");
        Path unpacked = Files.createDirectories(scratch.resolve(program.name() + "-save"));
        run(program.tool("podman", "save", "--format", "docker-archive", "-o", archive.toString(), image));
        run(List.of("tar", "-C", unpacked.toString(), "-xf", archive.toString()));
        String manifest = Files.readString(unpacked.resolve("manifest.json"));
        Matcher list = Pattern.compile("\"Layers\":\\[([^]]*)]").matcher(manifest);
        assertTrue(list.find(), manifest);
        StringBuilder out = new StringBuilder();
        int index = 0;
        for (String layer : list.group(1).split(",")) {
            String name = layer.strip().replace("\"", "");
            out.append("== layer ").append(index++).append('\n');
            String listing = run(List.of("tar", "--numeric-owner", "-tvf", unpacked.resolve(name).toString()));
            // "MODE OWNER SIZE DATE TIME NAME [-> TARGET | link to NAME]": the date and time go.
            out.append(sortedLines(listing.lines().map(line -> line.replaceFirst(
                    "^(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+\\S+\\s+\\S+\\s+", "$1 $2 $3 ")).collect(Collectors.joining("\n"))));
        }
        Files.delete(archive);
        run(List.of("rm", "-rf", unpacked.toString()));
        return out.toString();
    }

    /**
     * What one program made of a scenario: what its containers saw through the mount (listings,
     * stat, podman export), and what containers/storage reported and wrote from its upper dirs
     * (podman diff, the committed layers). With a mount program containers/storage finds changes
     * by comparing each upper with its lowers (its "naive diff"); with the kernel's overlayfs it
     * reads the upper dir itself, so its reports differ from any mount program's by design
     * (an opaque directory is "D dir" there, a file copied up unchanged stays in the layer). So
     * what is reported is compared with fuse-overlayfs only, what is seen with both.
     */
    private record Result(String seen, String reported) {}

    /** Lines of {@code ours} that {@code theirs} lacks, and the other way round. */
    private static String differences(String ours, String theirs) {
        List<String> a = ours.lines().toList();
        List<String> b = theirs.lines().toList();
        return a.stream().filter(line -> !b.contains(line)).map(line -> "only overlay4j: " + line + "\n").collect(Collectors.joining())
                + b.stream().filter(line -> !a.contains(line)).map(line -> "only the other: " + line + "\n").collect(Collectors.joining());
    }

    /**
     * overlay4j's result, after asserting that containers on the kernel's overlayfs saw the same
     * but for {@code kernelDifferences}, and that fuse-overlayfs saw and reported the same but
     * for {@code fuseOverlayfsDifferences}.
     */
    private static Result assertAsTheKernel(Map<String, Result> results, String kernelDifferences, String fuseOverlayfsDifferences) {
        Result overlay4j = results.get("overlay4j");
        Result kernel = results.get("kernel");
        Result fuseOverlayfs = results.get("fuse-overlayfs");
        assertEquals(kernelDifferences, differences(overlay4j.seen(), kernel.seen()), "against the kernel");
        assertEquals(fuseOverlayfsDifferences, differences(overlay4j.seen() + overlay4j.reported(),
                fuseOverlayfs.seen() + fuseOverlayfs.reported()), "against fuse-overlayfs");
        return overlay4j;
    }

    private static void report(String scenario, Map<String, Long> nanos) {
        System.out.println("MountProgramTest: " + scenario + ": " + nanos.entrySet().stream()
                .map(e -> String.format("%s %.2f s", e.getKey(), e.getValue() / 1e9)).collect(Collectors.joining(", ")));
    }

    @Test
    void podmanRunCommitDiffAndExportAsWithFuseOverlayfs() throws Exception {
        Map<String, Result> results = new LinkedHashMap<>();
        Map<String, Long> nanos = new LinkedHashMap<>();
        for (Program program : programs()) {
            run(program.tool("podman", "import", baseTar.toString(), "localhost/base"));
            long start = System.nanoTime();
            List<String> container = new ArrayList<>(List.of("--name", "changed", "localhost/base", "sh", "-c",
                    "rm /a/b2/f2 && rm -r /usr/share/doc && mkdir /usr/share/doc && echo new > /usr/share/doc/new"
                            + " && mv /a/b3 /a/b4 && chmod 700 /a/b2 && chown 7:8 /a/b2/f3 && ln /a/b2/f3 /a/hard"
                            + " && ln -s b2/f3 /a/soft && echo more >> /etc/passwd && mkdir -p /opt/x && echo x > /opt/x/y"));
            List<String> command = program.podmanRun();
            command.addAll(container);
            run(command);
            String diff = sortedLines(run(program.tool("podman", "diff", "changed")));
            run(program.tool("podman", "commit", "-q", "changed", "localhost/committed"));
            String exported;
            Path export = scratch.resolve(program.name() + "-export.tar");
            run(program.tool("podman", "export", "-o", export.toString(), "changed"));
            exported = sortedLines(run(List.of("tar", "--numeric-owner", "-tvf", export.toString())).lines()
                    .map(line -> line.replaceFirst("^(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+\\S+\\s+\\S+\\s+", "$1 $2 $3 "))
                    .filter(line -> !line.matches(".* \\./(etc/(hosts|hostname|resolv\\.conf)|run/\\.containerenv)$"))
                    .collect(Collectors.joining("\n")));
            run(program.tool("podman", "rm", "changed"));
            String view = containerView(program, "localhost/committed");
            nanos.put(program.name(), System.nanoTime() - start);
            results.put(program.name(), new Result("== view of the committed image\n" + view + "== export\n" + exported,
                    "== diff\n" + diff + layers(program, "localhost/committed")));
        }
        report("podman run, diff, commit, export and run of the commit", nanos);
        Result result = assertAsTheKernel(results, "", "");
        String overlay4j = result.seen() + result.reported();
        assertTrue(overlay4j.contains("D /a/b2/f2\n") && overlay4j.contains("D /usr/share/doc/pkg\n") && overlay4j.contains("A /a/b4/g1\n"), overlay4j);
        assertTrue(overlay4j.contains("'a/soft' -> 'b2/f3' symbolic link 777 0:0 1 5\n") && overlay4j.contains("a/hard regular file 644 7:8 2 3\n"), overlay4j);
        assertTrue(overlay4j.contains("\n---------- 0/0 0 a/b2/.wh.f2\n") && overlay4j.contains("\n---------- 0/0 0 a/.wh.b3\n"), overlay4j);
    }

    @Test
    void buildahBuildWithLayersAsWithFuseOverlayfs() throws Exception {
        Path context = Files.createDirectories(scratch.resolve("context"));
        Files.createDirectories(context.resolve("added/sub"));
        Files.writeString(context.resolve("added/one"), "one\n");
        Files.writeString(context.resolve("added/sub/two"), "two\n");
        Files.writeString(context.resolve("Containerfile"), """
                FROM localhost/base
                COPY added /opt/added
                RUN rm -r /usr/share/doc && mkdir -p /usr/share/doc && echo again > /usr/share/doc/again
                RUN mv /a/b2 /a/moved && chmod 751 /a/moved && chown 12:34 /a/moved/f3
                RUN ln /a/moved/f3 /a/hard && ln -s /a/moved/f3 /a/soft && rm /etc/apt/sources.list
                RUN rm -rf /a/b3 && mkdir /a/b3 && echo fresh > /a/b3/fresh && rm /opt/added/sub/two
                """);
        Map<String, Result> results = new LinkedHashMap<>();
        Map<String, Long> nanos = new LinkedHashMap<>();
        for (Program program : programs()) {
            run(program.tool("podman", "import", baseTar.toString(), "localhost/base"));
            List<String> build = program.tool("buildah", "build", "-q", "--layers");
            build.addAll(RUN_OPTIONS);
            build.addAll(List.of("-t", "localhost/built", context.toString()));
            long start = System.nanoTime();
            run(build);
            nanos.put(program.name(), System.nanoTime() - start);
            results.put(program.name(), new Result("== view\n" + containerView(program, "localhost/built"), layers(program, "localhost/built")));
        }
        report("buildah build --layers (COPY and 4 RUN steps, each a mount)", nanos);
        // The kernel's driver keeps a/moved/f3, copied up unchanged when it was linked, in that
        // step's layer beside a/hard; a mount program's naive diff leaves the unchanged name out,
        // so in the image the two names are two files. fuse-overlayfs 1.10 brings a/b3/g1 back:
        // the a/b3 it makes again after rm -rf is not opaque.
        Result result = assertAsTheKernel(results, """
                only overlay4j: a/hard regular file 644 12:34 1 3
                only overlay4j: a/moved/f3 regular file 644 12:34 1 3
                only the other: a/hard regular file 644 12:34 2 3
                only the other: a/moved/f3 regular file 644 12:34 2 3
                """, """
                only overlay4j: ---------- 0/0 0 a/b3/.wh.g1
                only the other: a/b3/g1 regular file 644 0:0 1 3
                """);
        String overlay4j = result.seen();
        assertTrue(overlay4j.contains("a/moved directory 751 0:0\n") && overlay4j.contains("a/hard regular file 644 12:34 1 3\n")
                && overlay4j.contains("a/b3/fresh regular file") && !overlay4j.contains("a/b3/g1 ")
                && !overlay4j.contains("etc/apt/sources.list ") && !overlay4j.contains("opt/added/sub/two "), overlay4j);
    }

    /** A docker-archive made by hand whose second layer carries .wh. files and an opaque directory, as image layers do. */
    private Path archiveWithWhiteouts() throws Exception {
        Path top = Files.createDirectories(scratch.resolve("top-layer"));
        Files.createDirectories(top.resolve("a/b2"));
        Files.writeString(top.resolve("a/b2/.wh.f2"), "");
        Files.createDirectories(top.resolve("usr/share/doc"));
        Files.writeString(top.resolve("usr/share/doc/.wh..wh..opq"), "");
        Files.writeString(top.resolve("usr/share/doc/only"), "only\n");
        Files.createDirectories(top.resolve("etc"));
        Files.writeString(top.resolve("etc/.wh.apt"), "");
        Files.createDirectories(top.resolve("a/b3"));
        Files.writeString(top.resolve("a/b3/.wh.g1"), "");
        Path archive = Files.createDirectories(scratch.resolve("archive"));
        Files.copy(baseTar, archive.resolve("base.tar"));
        run(List.of("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", top.toString(), "-cf",
                archive.resolve("top.tar").toString(), "."));
        String config = """
                {"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},
                 "rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}
                """.formatted(sha256(archive.resolve("base.tar")), sha256(archive.resolve("top.tar")));
        Files.writeString(archive.resolve("config.json"), config);
        Files.writeString(archive.resolve("manifest.json"),
                "[{\"Config\":\"config.json\",\"RepoTags\":[\"localhost/whiteouts:latest\"],\"Layers\":[\"base.tar\",\"top.tar\"]}]");
        Path tar = scratch.resolve("whiteouts.tar");
        run(List.of("tar", "-C", archive.toString(), "-cf", tar.toString(), "manifest.json", "config.json", "base.tar", "top.tar"));
        return tar;
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void podmanLoadOfAnImageWithWhiteoutFilesAsWithFuseOverlayfs() throws Exception {
        Path tar = archiveWithWhiteouts();
        Map<String, Result> results = new LinkedHashMap<>();
        Map<String, Long> nanos = new LinkedHashMap<>();
        for (Program program : programs()) {
            run(program.tool("podman", "load", "-q", "-i", tar.toString()));
            long start = System.nanoTime();
            String view = containerView(program, "localhost/whiteouts");
            // A container that changes what the whiteouts left: its diff and its layer.
            List<String> command = program.podmanRun("--name", "over", "localhost/whiteouts", "sh", "-c",
                    "echo back > /a/b2/f2 && rm /usr/share/doc/only && ls -a /usr/share/doc /a/b2 /a/b3 /etc");
            String listing = run(command);
            String diff = sortedLines(run(program.tool("podman", "diff", "over")));
            run(program.tool("podman", "commit", "-q", "over", "localhost/over"));
            run(program.tool("podman", "rm", "over"));
            nanos.put(program.name(), System.nanoTime() - start);
            results.put(program.name(), new Result("== view\n" + view + "== ls -a in a container\n" + listing,
                    "== diff\n" + diff + layers(program, "localhost/over")));
        }
        report("podman load of .wh. layers, run, diff, commit", nanos);
        String overlay4j = assertAsTheKernel(results, "", "").seen();
        assertTrue(!overlay4j.contains("a/b2/f2 ") && !overlay4j.contains("usr/share/doc/pkg") && !overlay4j.contains("etc/apt")
                && !overlay4j.contains("a/b3/g1 ") && !overlay4j.contains(".wh..wh..opq regular"), overlay4j);
    }

    /** The user of the rootless scenario: subordinate ids for podman's user namespace, a runtime dir, a home of its own. */
    private static final String ROOTLESS_USER = "overlay4j-podman";

    /** Makes the rootless user (once) and returns its uid; podman needs /etc/subuid and /etc/subgid ranges. */
    private static int rootlessUser(Path home) throws Exception {
        Process exists = new ProcessBuilder("id", "-u", ROOTLESS_USER).start();
        if (exists.waitFor() != 0) {
            run(List.of("useradd", "--home-dir", home.toString(), "--shell", "/bin/sh", ROOTLESS_USER));
        }
        int uid = Integer.parseInt(run(List.of("id", "-u", ROOTLESS_USER)).strip());
        for (String file : List.of("/etc/subuid", "/etc/subgid")) {
            Path ids = Path.of(file);
            String text = Files.exists(ids) ? Files.readString(ids) : "";
            if (!text.lines().anyMatch(line -> line.startsWith(ROOTLESS_USER + ":"))) {
                Files.writeString(ids, text + ROOTLESS_USER + ":400000:65536\n");
            }
        }
        Files.createDirectories(home);
        Path runtime = Files.createDirectories(Path.of("/run/user", Integer.toString(uid)));
        run(List.of("chown", "-R", ROOTLESS_USER + ":", home.toString(), runtime.toString()));
        run(List.of("chmod", "700", runtime.toString()));
        return uid;
    }

    @Test
    void rootlessPodmanRunDiffAndCommitAsWithFuseOverlayfs() throws Exception {
        // A user's podman: its mount program runs as root of podman's user namespace, and opens
        // /dev/fuse itself (mode 0666, as Debian's udev rule makes it; .ci/run sees to it here).
        assumeTrue(Files.isReadable(Path.of("/dev/fuse")) && Files.isWritable(Path.of("/dev/fuse"))
                && (int) Files.getAttribute(Path.of("/dev/fuse"), "unix:mode") % 01000 == 0666,
                MARK + "/dev/fuse must have mode 0666 for rootless FUSE mounts (chmod 0666 /dev/fuse, as udev does)");
        Path home = Path.of("/var/tmp/overlay4j-podman-home");
        run(List.of("rm", "-rf", home.toString()));
        int uid = rootlessUser(home);
        Overlay4jInstall userInstall = Overlay4jInstall.assemble(home.resolve("install"));
        Files.copy(baseTar, home.resolve("base.tar"));
        run(List.of("chown", "-R", ROOTLESS_USER + ":", home.toString()));
        run(List.of("runuser", "-u", ROOTLESS_USER, "--", userInstall.home().resolve("bin/overlay4j").toString(), "--aot-cache"));
        Map<String, Result> results = new LinkedHashMap<>();
        Map<String, Long> nanos = new LinkedHashMap<>();
        try {
            for (Program program : List.of(new Program("overlay4j", userInstall.home().resolve("bin/overlay4j"), home.resolve("overlay4j")),
                    new Program("kernel", null, home.resolve("kernel")),
                    new Program("fuse-overlayfs", Path.of("/usr/bin/fuse-overlayfs"), home.resolve("fuse-overlayfs")))) {
                java.util.function.UnaryOperator<List<String>> asUser = command -> {
                    List<String> all = new ArrayList<>(List.of("runuser", "-u", ROOTLESS_USER, "--", "env",
                            "HOME=" + home, "XDG_RUNTIME_DIR=/run/user/" + uid));
                    all.addAll(command);
                    return all;
                };
                run(asUser.apply(program.tool("podman", "import", home.resolve("base.tar").toString(), "localhost/base")));
                long start = System.nanoTime();
                List<String> command = program.podmanRun("--name", "changed", "localhost/base", "sh", "-c",
                        "rm /a/b2/f2 && rm -r /usr/share/doc && mkdir /usr/share/doc && echo new > /usr/share/doc/new"
                                + " && mv /a/b3 /a/b4 && chmod 700 /a/b2 && chown 7:8 /a/b2/f3 && ln /a/b2/f3 /a/hard"
                                + " && ln -s b2/f3 /a/soft && echo more >> /etc/passwd");
                run(asUser.apply(command));
                String diff = sortedLines(run(asUser.apply(program.tool("podman", "diff", "changed"))));
                run(asUser.apply(program.tool("podman", "commit", "-q", "changed", "localhost/committed")));
                run(asUser.apply(program.tool("podman", "rm", "changed")));
                String view = sortedLines(run(asUser.apply(program.podmanRun("--rm", "localhost/committed", "sh", "-c",
                        "cd / && for p in $(find a usr etc/apt etc/passwd); do if [ -d \"$p\" ]; then stat -c '%n %F %a %u:%g' \"$p\";"
                                + " else stat -c '%N %F %a %u:%g %h %s' \"$p\"; fi; done"))));
                nanos.put(program.name(), System.nanoTime() - start);
                // The layers' owners on disk are the user's subordinate ids: 7:8 in the container is 400007:400008 here.
                results.put(program.name(), new Result("== view of the committed image\n" + view, "== diff\n" + diff));
            }
        } finally {
            new ProcessBuilder("pkill", "-u", ROOTLESS_USER).start().waitFor(10, TimeUnit.SECONDS);
        }
        report("rootless podman run, diff, commit and run of the commit", nanos);
        Result result = assertAsTheKernel(results, "", "");
        assertTrue(result.seen().contains("a/hard regular file 644 7:8 2 3\n") && result.seen().contains("a/b4/g1 regular file")
                && !result.seen().contains("a/b2/f2 ") && !result.seen().contains("usr/share/doc/pkg"), result.seen());
        assertTrue(result.reported().contains("D /a/b2/f2\n") && result.reported().contains("A /a/b4/g1\n"), result.reported());
    }
}
