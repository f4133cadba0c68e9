package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.oci.commit.LayerCommit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upper dir that the kernel's overlayfs wrote itself, with {@code redirect_dir=on} and
 * {@code metacopy=on}: committed over its lower layer, it must mean the tree the kernel showed.
 */
class KernelUpperCommitTest {

    @TempDir
    Path tmp;

    @Test
    void theLayerMeansWhatTheKernelsMountShowed() throws Exception {
        assumeTrue(UpperDir.isRoot(), "SKIPPED: mounting overlayfs needs root");
        UpperDir lower = new UpperDir(tmp.resolve("lower"))
                .file("old/a", "lower a").file("old/sub/c", "lower c").file("etc/conf", "conf")
                .file("etc/big", "big data".repeat(1000)).file("gone", "g").file("var/lib/x", "x").file("var/lib/y", "y")
                .mtimes(LayerCommitTest.T);
        Path upper = Files.createDirectory(tmp.resolve("upper"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        Path merged = Files.createDirectory(tmp.resolve("merged"));
        Process mount = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower.root + ",upperdir="
                + upper + ",workdir=" + work + ",redirect_dir=on,metacopy=on,index=off", merged.toString())
                .redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(mount.waitFor() == 0, "SKIPPED: mount -t overlay failed: " + output);
        Map<String, String> shown;
        try {
            Files.move(merged.resolve("old"), merged.resolve("new"));                 // a redirect
            Files.delete(merged.resolve("new/a"));
            Files.writeString(merged.resolve("new/n"), "new n");
            Files.setPosixFilePermissions(merged.resolve("etc/conf"), PosixFilePermissions.fromString("rw-------"));
            Files.move(merged.resolve("etc/big"), merged.resolve("big-moved"));        // metacopy, and its redirect
            Files.setAttribute(merged.resolve("big-moved"), "unix:uid", 7);
            Files.delete(merged.resolve("gone"));
            Files.delete(merged.resolve("var/lib/x"));
            Files.delete(merged.resolve("var/lib/y"));
            Files.delete(merged.resolve("var/lib"));
            Files.createDirectory(merged.resolve("var/lib"));                          // opaque
            Files.writeString(merged.resolve("var/lib/z"), "z");
            Files.createLink(merged.resolve("var/lib/z-too"), merged.resolve("var/lib/z"));
            Files.createSymbolicLink(merged.resolve("link"), Path.of("new/sub/c"));
            Files.getFileAttributeView(merged.resolve("new/n"), UserDefinedFileAttributeView.class)
                    .write("color", StandardCharsets.UTF_8.encode("blue"));
            Files.move(merged.resolve("new/n"), merged.resolve("new/m"), StandardCopyOption.ATOMIC_MOVE);
            shown = tree(merged);
        } finally {
            Process umount = new ProcessBuilder("umount", merged.toString()).inheritIO().start();
            assertTrue(umount.waitFor(60, TimeUnit.SECONDS) && umount.exitValue() == 0, "umount " + merged);
        }
        assertTrue(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().noneMatch(l -> l.contains(merged.toString())));
        UpperDir.run("sh", "-c", "getfattr -d -m trusted.overlay -e text " + upper.resolve("big-moved") + " | grep -q metacopy");

        Path out = tmp.resolve("layer.tar.gz");
        LayerCommit.builder(upper.toString()).lowers(List.of(lower.root.toString())).output(out).build().run();
        shown.remove("/");
        assertEquals(shown, OverlayTrees.belowRoot(List.of(out.toString(), lower.root.toString())));
    }

    /** The tree a mount shows, in {@link OverlayTrees}' lines. */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = walk.toList();
        }
        for (Path p : all) {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,rdev", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            String type = switch (mode & 0170000) {
                case 0040000 -> "DIRECTORY";
                case 0100000 -> "REGULAR_FILE";
                case 0120000 -> "SYMLINK";
                default -> "OTHER";
            };
            FileTime mtime = (FileTime) a.get("lastModifiedTime");
            long nanos = mtime.toInstant().getEpochSecond() * 1_000_000_000L + mtime.toInstant().getNano();
            StringBuilder line = new StringBuilder(type).append(String.format(" %04o %d:%d @%d", mode & 07777, a.get("uid"),
                    a.get("gid"), nanos));
            switch (type) {
                case "REGULAR_FILE" -> line.append(" \"").append(Files.readString(p)).append('"');
                case "SYMLINK" -> line.append(" -> ").append(Files.readSymbolicLink(p));
                default -> {
                }
            }
            if (!type.equals("SYMLINK")) {
                UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
                for (String name : new TreeSet<>(view.list())) {
                    ByteBuffer value = ByteBuffer.allocate(view.size(name));
                    view.read(name, value);
                    line.append(" user.").append(name).append('=').append(new String(value.array(), StandardCharsets.UTF_8));
                }
            }
            String rel = root.relativize(p).toString();
            tree.put("/" + rel, line.toString());
        }
        return tree;
    }
}
