package dev.overlay4j.fuse;

import static dev.overlay4j.fuse.MountedOverlay.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.IdMapping;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * uidmapping/gidmapping through a real FUSE mount, driven by stat, chown, touch, setfacl and
 * getfacl, and checked on the upper directory's backing files; the owner part compared with
 * fuse-overlayfs mounted with the same options over identical layers.
 */
class FuseIdMappingTest {

    /** containers/storage's form for podman's --uidmap 0:100000:65536. */
    private static final String MAPPING = ":0:100000:65536";

    /** Runs in the mount's parent directory: what the mount shows and what then lands in upper/, as text. */
    private static final String OWNER_SCRIPT = """
            set -e
            show() { for f in "$@"; do echo "$f $(stat -c %u:%g "$f")"; done; }
            show mnt mnt/root-owned mnt/d mnt/d/user5 mnt/outside
            chown 100010:100011 mnt/d/user5
            chown 5:5 mnt/chown-unmapped
            chown -h 100012:100012 mnt/link
            touch mnt/d/by-root
            setpriv --reuid=100005 --regid=100005 --clear-groups touch mnt/d/by-user
            setpriv --reuid=100005 --regid=100005 --clear-groups mkdir mnt/d/dir-by-user
            echo more >> mnt/outside
            show mnt/d/user5 mnt/chown-unmapped mnt/link mnt/d/by-root mnt/d/by-user mnt/d/dir-by-user mnt/outside
            show upper/d upper/d/user5 upper/chown-unmapped upper/link upper/d/by-root upper/d/by-user \
                upper/d/dir-by-user upper/outside
            """;

    @TempDir
    Path root;

    @BeforeEach
    void needsRoot() {
        assumeTrue("root".equals(System.getProperty("user.name")), "SKIPPED: chown to other owners needs root");
    }

    /** lower1: files owned by stored ids inside and outside the mapping; a directory user 5 may write. */
    private static void layers(Path root) throws IOException {
        MountedOverlay.createLayers(root);
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path lower = root.resolve("lower1");
        Files.writeString(lower.resolve("root-owned"), "r");
        Files.createDirectories(lower.resolve("d"));
        Files.writeString(lower.resolve("d/user5"), "u");
        Files.writeString(lower.resolve("outside"), "o");
        Files.writeString(lower.resolve("chown-unmapped"), "c");
        Files.writeString(lower.resolve("acl"), "a");
        Files.createSymbolicLink(lower.resolve("link"), Path.of("root-owned"));
        run(root, "chown", "5:5", "lower1/d", "lower1/d/user5");
        run(root, "chmod", "0777", "lower1/d");
        run(root, "chown", "70000:70001", "lower1/outside");
        run(root, "setfacl", "-m", "u:5:rw-,g:6:r--", "lower1/acl");
    }

    private static MountedOverlay mount(Path root) throws IOException {
        IdMapping mapping = IdMapping.parse(MAPPING);
        return MountedOverlay.mount(root, FuseOptions.defaults(),
                OverlayConfig.builder().lower(root.resolve("lower1").toString()).uidMapping(mapping).gidMapping(mapping));
    }

    @Test
    void ownersShowMappedAndLandInTheUpperDirMappedBack() throws Exception {
        layers(root);
        String out;
        try (MountedOverlay m = mount(root)) {
            out = run(root, "bash", "-c", OWNER_SCRIPT);
        }
        assertEquals("""
                mnt 100000:100000
                mnt/root-owned 100000:100000
                mnt/d 100005:100005
                mnt/d/user5 100005:100005
                mnt/outside 65534:65534
                mnt/d/user5 100010:100011
                mnt/chown-unmapped 165534:165534
                mnt/link 100012:100012
                mnt/d/by-root 165534:165534
                mnt/d/by-user 100005:100005
                mnt/d/dir-by-user 100005:100005
                mnt/outside 65534:65534
                upper/d 5:5
                upper/d/user5 10:11
                upper/chown-unmapped 65534:65534
                upper/link 12:12
                upper/d/by-root 65534:65534
                upper/d/by-user 5:5
                upper/d/dir-by-user 5:5
                upper/outside 70000:70001
                """, out);
    }

    @Test
    void aclEntriesReadAndWrittenThroughTheMountAreMapped() throws Exception {
        layers(root);
        try (MountedOverlay m = mount(root)) {
            String shown = run(root, "getfacl", "-n", "-p", "mnt/acl");
            assertTrue(shown.contains("\nuser:100005:rw-\n") && shown.contains("\ngroup:100006:r--\n"), shown);
            run(root, "setfacl", "-m", "u:100020:r--,g:100021:rw-", "mnt/acl");
            String stored = run(root, "getfacl", "-n", "-p", "upper/acl");
            assertTrue(stored.contains("\nuser:5:rw-\n") && stored.contains("\nuser:20:r--\n")
                    && stored.contains("\ngroup:21:rw-\n"), stored);
            String again = run(root, "getfacl", "-n", "-p", "mnt/acl");
            assertTrue(again.contains("\nuser:100020:r--\n") && again.contains("\ngroup:100021:rw-\n"), again);
        }
    }

    /** Whether user 1234 can read {@code mnt/acl} (mode 0600, root's) once an ACL entry lets it. */
    private static boolean aclLetsUserRead(Path root, FuseOptions options) throws Exception {
        layers(root);
        run(root, "chmod", "0600", "lower1/acl");
        try (MountedOverlay m = MountedOverlay.mount(root, options)) {
            run(root, "setfacl", "-m", "u:1234:r--", "mnt/acl");
            assertTrue(run(root, "getfacl", "-n", "-p", "upper/acl").contains("\nuser:1234:r--\n"));
            Process cat = new ProcessBuilder("setpriv", "--reuid=1234", "--regid=1234", "--clear-groups", "cat", "mnt/acl")
                    .directory(root.toFile()).redirectErrorStream(true).start();
            String out = new String(cat.getInputStream().readAllBytes());
            assertTrue(cat.waitFor(30, TimeUnit.SECONDS));
            assertTrue(cat.exitValue() == 0 || out.contains("Permission denied"), out);
            return cat.exitValue() == 0;
        }
    }

    @Test
    void theKernelChecksAclsUnlessNoacl() throws Exception {
        assertTrue(aclLetsUserRead(root.resolve("acl"), FuseOptions.defaults()));
        // noacl: ACL xattrs are stored as any xattr (the kernel passes them on for a mount in the
        // host's user namespace) but no longer checked: the mode bits alone decide.
        assertFalse(aclLetsUserRead(root.resolve("noacl"), FuseOptions.defaults().withPosixAcl(false)));
    }

    @Test
    void ownersMatchFuseOverlayfsWithTheSameOptions() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/fuse-overlayfs")),
                "SKIPPED: fuse-overlayfs is not installed (apt-get install -y fuse-overlayfs)");
        Path ours = root.resolve("ours");
        Path theirs = root.resolve("theirs");
        layers(ours);
        layers(theirs);
        String expected;
        try (MountedOverlay m = mount(ours)) {
            expected = run(ours, "bash", "-c", OWNER_SCRIPT);
        }
        run(theirs, "fuse-overlayfs", "-o", "lowerdir=lower1:lower2,upperdir=upper,workdir=work,uidmapping=" + MAPPING
                + ",gidmapping=" + MAPPING, "mnt");
        try {
            assertEquals(expected, run(theirs, "bash", "-c", OWNER_SCRIPT));
        } finally {
            new ProcessBuilder("umount", theirs.resolve("mnt").toString()).inheritIO().start().waitFor();
        }
    }
}
