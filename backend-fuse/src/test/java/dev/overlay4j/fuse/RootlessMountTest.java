package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user with no capabilities at all mounts through fusermount3, as podman runs its mount
 * program rootless, deletes, renames and copies up lower entries, and gets an upper directory
 * that the other overlays read the same: without {@code userxattr} (containers/storage passes
 * none) in fuse-overlayfs's forms, which fuse-overlayfs mounts; with {@code userxattr} in the
 * kernel's, which the kernel's overlayfs mounts in a user namespace.
 */
class RootlessMountTest {

    /** Type, mode, size and link target of every entry, the bytes of every file, and its user.* xattrs. */
    private static final String VIEW = """
            cd "$1" || exit 1
            find . -printf '%p %y %m %s %l\\n' | LC_ALL=C sort
            find . -type f | LC_ALL=C sort | while read -r f; do echo "$f $(md5sum < "$f")"; done
            find . | LC_ALL=C sort | while read -r f; do getfattr -h -d -m '^user\\.' "$f" 2>/dev/null; done
            """;

    /** What the user does through the mount; each step must succeed. */
    private static final String CHANGES = """
            cd "$1" || exit 1
            set -e
            rm f
            rm -r d
            rm od/x && rmdir od && mkdir od && echo new > od/new
            mv ren ren2
            touch -h -d @1000000000 sl
            chmod 600 h
            setfattr -n user.n -v 1 keep
            ln keep keep2
            mkdir apt && echo fresh > apt/list
            python3 -c 'import os, errno, sys
            try:
                os.rename("mv", "mv2")
            except OSError as e:
                sys.exit(0 if e.errno == errno.EXDEV else 3)
            sys.exit(4)'
            """;

    @TempDir
    Path root;

    private Path layer(String name) {
        return root.resolve(name);
    }

    /** lower2 is the base, lower1 an image layer on it that deletes apt the way image layers do. */
    private void layers() throws IOException, InterruptedException {
        MountedOverlay.createLayers(root);
        Path base = layer("lower2");
        for (String file : List.of("f", "d/g", "d/sub/s", "od/x", "mv/m", "h", "keep", "ren", "apt/sources.list", "sec")) {
            Files.createDirectories(base.resolve(file).getParent());
            Files.writeString(base.resolve(file), file + "\n");
        }
        Files.createSymbolicLink(base.resolve("sl"), Path.of("f"));
        Files.writeString(layer("lower1/.wh.apt"), "");
        Files.writeString(layer("lower1/top"), "top\n");
        Files.writeString(root.resolve("view.sh"), VIEW);
        Files.writeString(root.resolve("changes.sh"), CHANGES);
        Files.createDirectories(root.resolve("kernel-work"));
        Files.createDirectories(root.resolve("fuse-overlayfs-work"));
        TestUser.own(root);
        // Set as root, the user's own xattr on its own file: what it copies up.
        assertEquals(0, TestUser.start("setfattr", "-n", "user.k", "-v", "v", base.resolve("h").toString()).waitFor());
        // security.* takes CAP_SYS_ADMIN to write: copying this file up fails, as in the kernel (ovl_copy_xattr).
        assertEquals(0, TestUser.start("setfattr", "-n", "security.k", "-v", "v", base.resolve("sec").toString()).waitFor());
    }

    private String options(String extra) {
        return "lowerdir=" + layer("lower1") + ":" + layer("lower2") + ",upperdir=" + layer("upper") + ",workdir="
                + layer("work") + extra;
    }

    /** Mounts overlay4j as the test user, runs {@code inside} with it mounted, and unmounts. */
    private void asUser(String modulePath, String extra, Body inside) throws Exception {
        Path mnt = layer("mnt");
        Path log = root.resolve("daemon.log");
        List<String> command = new ArrayList<>(TestUser.as());
        command.addAll(DaemonProcess.command(modulePath, "-o", options(extra), mnt.toString()));
        Process daemon = DaemonProcess.start(log, command);
        try {
            DaemonProcess.awaitMounted(daemon, mnt, log);
            inside.run(mnt);
            TestUser.run(Fusermount.PROGRAM, "-u", mnt.toString());
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the server did not end after the unmount");
            assertEquals(0, daemon.exitValue(), Files.readString(log));
        } finally {
            daemon.destroyForcibly();
            if (MountedOverlay.isMounted(mnt)) {
                TestUser.start("umount", "-l", mnt.toString()).waitFor();
            }
        }
        assertFalse(MountedOverlay.isMounted(mnt));
    }

    interface Body {
        void run(Path mnt) throws Exception;
    }

    private String view(Path mnt) throws Exception {
        return TestUser.run("sh", root.resolve("view.sh").toString(), mnt.toString());
    }

    private boolean isWhiteout(String path) throws IOException {
        Path p = layer("upper").resolve(path);
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS)
                && ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000) == 0020000
                && (Long) Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS) == 0;
    }

    private String xattr(String path, String name) throws Exception {
        Process p = TestUser.start("getfattr", "--absolute-names", "--only-values", "-h", "-n", name,
                layer("upper").resolve(path).toString());
        String out = TestUser.output(p);
        return p.exitValue() == 0 ? out : null;
    }

    private void assertChangedView(String view) {
        List<String> lines = view.lines().toList();
        assertTrue(lines.contains("./od/new f 644 4 "), view);
        assertTrue(lines.contains("./apt/list f 644 6 "), view);
        assertTrue(lines.contains("./h f 600 2 "), view);
        assertTrue(lines.contains("./sec f 644 4 "), view);
        assertTrue(lines.contains("./ren2 f 644 4 "), view);
        assertTrue(lines.contains("./sl l 777 1 f"), view);
        assertTrue(lines.contains("user.k=\"v\""), view);
        assertTrue(lines.contains("user.n=\"1\""), view);
        for (String gone : List.of("./f ", "./d ", "./ren ", "./od/x ", "./apt/sources.list ", "./.wh.")) {
            assertTrue(lines.stream().noneMatch(l -> l.startsWith(gone)), gone + " in " + view);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("./mv/m ")), "mv stays where it was: " + view);
    }

    @Test
    void withoutUserxattrTheUpperIsInFuseOverlayfsFormsAndFuseOverlayfsMountsIt() throws Exception {
        TestUser.ensure();
        layers();
        String modulePath = TestUser.modulePath(root.resolve("modules"));
        TestUser.withFuseDevice(() -> {
            String[] seen = new String[1];
            asUser(modulePath, "", mnt -> {
                TestUser.run("sh", root.resolve("changes.sh").toString(), mnt.toString());
                Process chmod = TestUser.start(TestUser.as("chmod", "600", mnt.resolve("sec").toString()).toArray(String[]::new));
                String refused = TestUser.output(chmod);
                assertTrue(chmod.exitValue() != 0 && refused.contains("Operation not permitted"), refused);
                seen[0] = view(mnt);
            });
            assertChangedView(seen[0]);
            // 0/0 whiteouts need no privilege (Linux 5.8+); trusted.* does, so opaque directories take fuse-overlayfs's forms.
            assertTrue(isWhiteout("f") && isWhiteout("d") && isWhiteout("ren"));
            for (String dir : List.of("od", "apt")) {
                assertEquals("y", xattr(dir, "user.fuseoverlayfs.opaque"), dir);
                assertTrue(Files.isRegularFile(layer("upper").resolve(dir + "/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
                assertEquals(null, xattr(dir, "trusted.overlay.opaque"));
            }
            assertEquals("v", xattr("h", "user.k"));
            assertEquals(seen[0], reopened(modulePath), "overlay4j reads back what it wrote");
            assertEquals(seen[0], throughFuseOverlayfs(), "fuse-overlayfs reads the same upper the same");
        });
    }

    private String reopened(String modulePath) throws Exception {
        String[] again = new String[1];
        asUser(modulePath, "", mnt -> again[0] = view(mnt));
        return again[0];
    }

    private String throughFuseOverlayfs() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/fuse-overlayfs")), "SKIPPED: fuse-overlayfs is not installed");
        Path mnt = layer("mnt");
        TestUser.run("fuse-overlayfs", "-o", "lowerdir=" + layer("lower1") + ":" + layer("lower2") + ",upperdir="
                + layer("upper") + ",workdir=" + root.resolve("fuse-overlayfs-work"), mnt.toString());
        try {
            return view(mnt);
        } finally {
            TestUser.run(Fusermount.PROGRAM, "-u", mnt.toString());
        }
    }

    @Test
    void withUserxattrTheUpperIsInTheKernelsFormAndTheKernelMountsItInAUserNamespace() throws Exception {
        TestUser.ensure();
        layers();
        String modulePath = TestUser.modulePath(root.resolve("modules"));
        String[] seen = new String[1];
        TestUser.withFuseDevice(() -> asUser(modulePath, ",userxattr", mnt -> {
            TestUser.run("sh", root.resolve("changes.sh").toString(), mnt.toString());
            seen[0] = view(mnt);
        }));
        assertChangedView(seen[0]);
        assertTrue(isWhiteout("f") && isWhiteout("d") && isWhiteout("ren"));
        assertEquals("y", xattr("od", "user.overlay.opaque"));
        assertEquals("y", xattr("apt", "user.overlay.opaque"));
        assertFalse(Files.exists(layer("upper/od/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(null, xattr("sl", "user.overlay.overlay4j.ino"), "user.* cannot be on a symlink");

        // The kernel reads image-layer marks as plain files: give it the lowers without them.
        Files.delete(layer("lower1/.wh.apt"));
        Process kernel = TestUser.start(TestUser.as("unshare", "-Urm", "sh", "-c", "mount -t overlay overlay -o "
                + "lowerdir=" + layer("lower1") + ":" + layer("lower2") + ",upperdir=" + layer("upper") + ",workdir="
                + root.resolve("kernel-work") + ",userxattr " + layer("mnt") + " && sh " + root.resolve("view.sh") + " "
                + layer("mnt")).toArray(String[]::new));
        String kernelView = TestUser.output(kernel);
        assumeTrue(kernel.exitValue() == 0 || !kernelView.contains("mount"), "SKIPPED: the kernel's overlayfs does not mount"
                + " in a user namespace here: " + kernelView);
        assertEquals(0, kernel.exitValue(), kernelView);
        assertEquals(seen[0], kernelView);
    }
}
