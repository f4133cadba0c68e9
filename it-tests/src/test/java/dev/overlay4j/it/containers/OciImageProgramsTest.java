package dev.overlay4j.it.containers;

import static dev.overlay4j.it.containers.Programs.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.it.differential.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image layouts written by the real container tools (Debian's podman, buildah and skopeo, no
 * registry) mounted with overlay4j's {@code lowerdir+=oci:DIR}: the mount must show what
 * containers/storage's own mount of that image shows on the kernel's overlayfs, which is the
 * tree {@code podman run} starts a container on. The image is built here with buildah from a
 * busybox tree, in layers that carry what the image spec defines: whiteouts and an opaque
 * directory, a renamed directory, hard links, a symlink, a device, a FIFO, setuid bits, owners,
 * old mtimes, an xattr and names longer than tar's 100 bytes.
 *
 * <p>Left out of the comparison: directory sizes (a directory's st_size is the extracting file
 * system's, 4096 on containers/storage's ext4 or xfs), and the root directory, which the top layer
 * does not hold: containers/storage makes it, mode 0555 at its creation time.
 */
class OciImageProgramsTest {
    private static final String MARK = "CONTAINERS SKIPPED: ";
    private static final List<String> BUILD_OPTIONS = List.of("--runtime", "runc", "--network", "none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024");
    private static final String LONG_DIR = "deep/" + "d".repeat(60) + "/" + "e".repeat(70);
    private static final String LONG_NAME = "f".repeat(120);
    private static final String IMAGE = "localhost/layered";

    @TempDir
    static Path shared;
    private static Overlay4jInstall install;
    private static Path store;
    private static Path imageMount;

    @TempDir
    Path scratch;

    @BeforeAll
    static void buildImage() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), MARK + "podman and buildah on a store of their own need root here");
        for (String tool : List.of("/usr/bin/podman", "/usr/bin/buildah", "/usr/bin/skopeo", "/usr/sbin/runc", "/bin/busybox")) {
            assumeTrue(Files.isExecutable(Path.of(tool)), MARK + tool + " is not installed (.ci/run installs it)");
        }
        assumeTrue(Files.exists(Path.of("/dev/fuse")), MARK + "no /dev/fuse");
        install = Overlay4jInstall.assemble(shared.resolve("install"));
        store = shared.resolve("store");

        Path base = Files.createDirectories(shared.resolve("rootfs"));
        Files.createDirectories(base.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), base.resolve("bin/busybox"));
        for (String applet : List.of("sh", "ls", "cat", "rm", "mkdir", "mv", "chmod", "chown", "ln", "touch", "echo")) {
            Files.createSymbolicLink(base.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(base.resolve("etc/group"), "root:x:0:\n");
        Files.createDirectories(base.resolve("a/b2"));
        Files.writeString(base.resolve("a/b2/f2"), "f2\n");
        Files.writeString(base.resolve("a/b2/f3"), "f3\n");
        Files.createDirectories(base.resolve("usr/share/doc/pkg"));
        Files.writeString(base.resolve("usr/share/doc/pkg/README"), "documentation\n");
        Files.createDirectories(base.resolve("tmp"));
        // Things a RUN step cannot make without CAP_MKNOD, and an xattr that busybox cannot set:
        // podman import keeps them from the tar.
        run(List.of("mknod", base.resolve("a/null").toString(), "c", "1", "3"));
        run(List.of("mkfifo", base.resolve("a/fifo").toString()));
        run(List.of("setfattr", "-n", "user.origin", "-v", "base layer", base.resolve("etc/group").toString()));
        Path baseTar = shared.resolve("base.tar");
        run(List.of("tar", "--xattrs", "--xattrs-include=user.*", "--numeric-owner", "-C", base.toString(), "-cf",
                baseTar.toString(), "."));
        run(tool("podman", "import", baseTar.toString(), "localhost/base"));

        Path context = Files.createDirectories(shared.resolve("context"));
        Files.writeString(context.resolve("Containerfile"), """
                FROM localhost/base
                RUN rm /a/b2/f2 && rm -rf /usr/share/doc && mkdir -p /usr/share/doc && echo again > /usr/share/doc/again \\
                    && ln /usr/share/doc/again /a/hard && ln -s ../usr/share/doc/again /a/soft && chown 12:34 /a/hard \\
                    && chmod 4751 /a/hard && touch -d '2001-02-03 04:05:06' /a/hard && mkdir -p /%1$s \\
                    && echo long > /%1$s/%2$s
                RUN mv /a/b2 /a/moved && echo on-top > /a/moved/new && rm /etc/passwd
                """.formatted(LONG_DIR, LONG_NAME));
        List<String> build = tool("buildah", "build", "-q", "--layers");
        build.addAll(BUILD_OPTIONS);
        build.addAll(List.of("-t", IMAGE, context.toString()));
        run(build);
        imageMount = Path.of(run(tool("podman", "image", "mount", IMAGE)).strip());
    }

    @AfterAll
    static void unmountImage() throws Exception {
        if (imageMount != null) {
            run(tool("podman", "image", "unmount", "--all"));
        }
    }

    /** podman, buildah or skopeo on this test's store, with containers/storage's overlay driver on the kernel's overlayfs. */
    private static List<String> tool(String tool, String... args) {
        List<String> command = new ArrayList<>(List.of(tool));
        if (!tool.equals("skopeo")) {
            command.addAll(List.of("--root", store.resolve("root").toString(), "--runroot", store.resolve("run").toString(),
                    "--storage-driver", "overlay"));
        }
        if (tool.equals("podman")) {
            command.addAll(List.of("--cgroup-manager", "cgroupfs", "--events-backend", "file"));
        }
        command.addAll(List.of(args));
        return command;
    }

    /** skopeo's name for an image in this test's store. */
    private static String storageReference(String image) {
        return "containers-storage:[overlay@" + store.resolve("root") + "+" + store.resolve("run") + "]" + image;
    }

    @Test
    void aLayoutSkopeoCopiedFromContainersStorageMountsAsPodmanShowsTheImage() throws Exception {
        Path layout = scratch.resolve("layout");
        run(List.of("skopeo", "copy", "-q", storageReference(IMAGE), "oci:" + layout + ":layered"));
        assertMountShowsTheImage("lowerdir+=oci:" + layout + "?ref=layered");
    }

    @Test
    void aLayoutPodmanSavedAsOciDirMountsAsPodmanShowsTheImage() throws Exception {
        Path layout = scratch.resolve("saved");
        run(tool("podman", "save", "-q", "--format", "oci-dir", "-o", layout.toString(), IMAGE));
        // One image in the layout, so no ?ref= is needed.
        assertMountShowsTheImage("lowerdir+=oci:" + layout);
    }

    /**
     * The round trip of {@code overlay4j commit --layout}: changes made through a mount of the
     * image (a rename of a lower directory, which the upper keeps as a redirect, whiteouts, an
     * opaque directory, a hard link, an xattr, new owners and modes) become a new image in the
     * layout that umoci unpacks and that skopeo copies into containers-storage, and each of them
     * shows the tree the mount showed.
     */
    @Test
    void aCommittedUpperBecomesAnImageThatUmociAndPodmanShowAsTheMountDid() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/umoci")), MARK + "/usr/bin/umoci is not installed (.ci/run installs it)");
        Path layout = scratch.resolve("layout");
        run(List.of("skopeo", "copy", "-q", storageReference(IMAGE), "oci:" + layout + ":layered"));
        Path upper = Files.createDirectories(scratch.resolve("upper"));
        Path work = Files.createDirectories(scratch.resolve("work"));
        Path mnt = Files.createDirectories(scratch.resolve("mnt"));
        String lowers = "lowerdir+=oci:" + layout + "?ref=layered";
        Path overlay4j = install.home().resolve("bin/overlay4j");
        run(List.of(overlay4j.toString(), "-o", lowers + ",upperdir=" + upper + ",workdir=" + work, mnt.toString()));
        TreeSnapshot changed;
        try {
            run(List.of("sh", "-c", "cd " + mnt + " && mv a/moved a/renamed && echo added > a/renamed/added"
                    + " && rm a/soft && rm -r usr/share/doc && mkdir usr/share/doc && echo fresh > usr/share/doc/fresh"
                    + " && mkdir -p new/dir && echo x > new/dir/f && ln new/dir/f new/link && chown 5:6 new/dir/f"
                    + " && chmod 700 bin && setfattr -n user.note -v committed new/dir/f && echo more >> etc/group"));
            changed = TreeSnapshot.of(mnt, Set.of("user", "trusted")).without(Set.of("/"));
        } finally {
            run(List.of("umount", mnt.toString()));
        }
        String printed = run(List.of(overlay4j.toString(), "commit", "-o", lowers, "--layout", layout.toString(),
                "--from", "layered", "--tag", "changed", upper.toString()));
        assertTrue(printed.contains("sha256:"), printed);

        // umoci's own reading of the layout: the unpacked rootfs holds the same names, types,
        // modes, owners, contents, link targets and xattrs (an extracted tree's directory link
        // counts and times are the extraction's, so they are left out).
        Path bundle = scratch.resolve("bundle");
        run(List.of("umoci", "unpack", "--image", layout + ":changed", bundle.toString()));
        assertEquals(withoutDirectoryNlinkAndTimes(changed), withoutDirectoryNlinkAndTimes(
                TreeSnapshot.of(bundle.resolve("rootfs"), Set.of("user", "trusted")).without(Set.of("/"))), "umoci unpack");

        // skopeo into containers-storage, then containers/storage's kernel mount of the image.
        run(List.of("skopeo", "copy", "-q", "oci:" + layout + ":changed", storageReference("localhost/changed")));
        // Two link counts an image cannot carry differ by design. a/hard: its other name, hidden
        // now, is in the lower layer still, which the mount's index of lower hard links knew
        // (nlink 1) and the image's reader cannot (nlink 2, as the kernel shows it). a/renamed:
        // a merged directory through its redirect in the mount (nlink 1, as on the kernel's
        // overlayfs), an opaque one with all its content in the image (nlink 2).
        Set<String> linkCountsByDesign = Set.of("a/hard", "a/renamed");
        Path committed = Path.of(run(tool("podman", "image", "mount", "localhost/changed")).strip());
        TreeSnapshot kernelView = TreeSnapshot.of(committed, Set.of("user", "trusted")).without(Set.of("/"));
        assertTrue(kernelView.entries().get("a/hard").contains(" nlink=2 ") && kernelView.entries().get("a/renamed").contains(" nlink=2 ")
                && changed.entries().get("a/hard").contains(" nlink=1 ") && changed.entries().get("a/renamed").contains(" nlink=1 "),
                kernelView.entries().get("a/hard") + " / " + changed.entries().get("a/hard"));
        kernelView.withoutNlink(linkCountsByDesign).assertSame("the committed image", "podman image mount",
                changed.withoutNlink(linkCountsByDesign), "the mount before the commit");
        // And overlay4j's own mount of the new image.
        run(List.of(overlay4j.toString(), "-o", "lowerdir+=oci:" + layout + "?ref=changed", mnt.toString()));
        try {
            TreeSnapshot.of(mnt, Set.of("user", "trusted")).without(Set.of("/")).withoutNlink(linkCountsByDesign)
                    .assertSame("the committed image", "overlay4j's mount", changed.withoutNlink(linkCountsByDesign),
                            "the mount before the commit");
        } finally {
            run(List.of("umount", mnt.toString()));
        }
        assertEquals("added\n", Files.readString(committed.resolve("a/renamed/added")));
        // The same upper as a zstd layer, written and read by the installed command (on the
        // module path, where zstd's use of sun.misc.Unsafe needs jdk.unsupported in the graph).
        Path zstd = scratch.resolve("layer.tar.zst");
        run(List.of(overlay4j.toString(), "commit", "-o", lowers, upper.toString(), zstd.toString()));
        run(List.of(overlay4j.toString(), "-o", "lowerdir=" + zstd, mnt.toString()));
        try {
            assertEquals("x\n", Files.readString(mnt.resolve("new/dir/f")));
            assertEquals(List.of("added", "f3", "new"), sortedNames(mnt.resolve("a/renamed")));
        } finally {
            run(List.of("umount", mnt.toString()));
        }
        assertEquals(List.of("added", "f3", "new"), sortedNames(committed.resolve("a/renamed")));
        assertEquals(false, Files.exists(committed.resolve("a/moved")));
        assertEquals(List.of("fresh"), sortedNames(committed.resolve("usr/share/doc")));
    }

    /** The snapshot's lines with directories' link counts and every mtime masked. */
    private static java.util.SortedMap<String, String> withoutDirectoryNlinkAndTimes(TreeSnapshot snapshot) {
        java.util.SortedMap<String, String> masked = new java.util.TreeMap<>();
        snapshot.entries().forEach((path, text) -> {
            String line = text.replaceFirst(" mtime=\\S+", " mtime=?");
            masked.put(path, line.startsWith("dir ") ? line.replaceFirst(" nlink=[0-9]+", " nlink=?") : line);
        });
        return masked;
    }

    private void assertMountShowsTheImage(String lowers) throws Exception {
        Path mnt = Files.createDirectories(scratch.resolve("mnt"));
        run(List.of(install.home().resolve("bin/overlay4j").toString(), "-o", lowers, mnt.toString()));
        try {
            TreeSnapshot mounted = TreeSnapshot.of(mnt, Set.of("user", "trusted")).without(Set.of("/"));
            TreeSnapshot image = TreeSnapshot.of(imageMount, Set.of("user", "trusted")).without(Set.of("/"));
            image.assertSame("the mount of " + lowers, "podman image mount", mounted, "overlay4j");
            // What the layers above meant, so that an image both sides misread fails too.
            assertEquals("again\n", Files.readString(mnt.resolve("a/hard")));
            assertEquals("long\n", Files.readString(mnt.resolve(LONG_DIR).resolve(LONG_NAME)));
            assertEquals(List.of("f3", "new"), sortedNames(mnt.resolve("a/moved")));
            assertEquals(List.of("again"), sortedNames(mnt.resolve("usr/share/doc")));
            assertEquals(List.of("fifo", "hard", "moved", "null", "soft"), sortedNames(mnt.resolve("a")));
            assertEquals(false, Files.exists(mnt.resolve("etc/passwd")));
            assertEquals("base layer", run(List.of("getfattr", "--only-values", "-n", "user.origin", mnt.resolve("etc/group").toString())));
            // A container started on the image reads the same through busybox, run by runc on the kernel's mount.
            String script = "cd / && ls -ln a a/moved usr/share/doc && cat a/soft && cat /" + LONG_DIR + "/" + LONG_NAME;
            List<String> container = tool("podman", "run", "--rm");
            container.addAll(BUILD_OPTIONS);
            container.addAll(List.of(IMAGE, "sh", "-c", script));
            String inContainer = run(container);
            String inMount = run(List.of("chroot", mnt.toString(), "/bin/sh", "-c", script));
            assertEquals(comparable(inContainer), comparable(inMount), "ls -ln in a container and in the mount");
        } finally {
            run(List.of("umount", mnt.toString()));
        }
    }

    private static List<String> sortedNames(Path dir) throws IOException {
        try (var names = Files.list(dir)) {
            return names.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * busybox ls -ln output without what differs by design: "total" block counts (st_blocks is the
     * extracting file system's), directory sizes, and the column padding that follows from them.
     */
    private static String comparable(String listing) {
        return listing.lines().filter(line -> !line.startsWith("total "))
                .map(line -> String.join(" ", line.strip().split("\\s+")))
                .map(line -> line.startsWith("d") ? line.replaceFirst("^((?:\\S+ ){4})\\S+", "$1-") : line)
                .collect(Collectors.joining("\n", "", "\n"));
    }

}
