package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.RenameMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference check: the upper directory the engine writes, mounted by the kernel's own
 * overlayfs over the same lower layers, must show exactly the tree the engine shows.
 */
class KernelMountComparisonTest {

    @TempDir
    Path tmp;

    @Test
    void kernelMountOfTheEnginesUpperShowsTheSameTree() throws Exception {
        LayerTree t = new LayerTree(tmp.resolve("layers"), 2)
                .file(2, "keep/a", "a2").file(2, "keep/b", "b2").file(1, "keep/b", "b1")
                .file(2, "gone/x", "x").file(2, "moved/deep/f", "f2").file(1, "moved/m", "m1")
                .file(2, "hidden/h", "h").whiteout(1, "hidden").opaque(1, "opq").file(2, "opq/below", "b")
                .file(1, "opq/own", "o").file(2, "rm/r", "r").file(2, "file", "F").symlink(2, "link", "keep/a")
                .file(2, "swap1", "S1").file(1, "swap2/in", "S2");
        try (Overlay o = t.open()) {
            LayerTree.write(o, "keep/a", "changed");
            o.unlink(p("keep/b"));
            o.unlink(p("gone/x"));
            o.removeDirectory(p("gone"));
            o.createDirectory(p("gone"), LayerTree.DIR);
            LayerTree.write(o, "gone/new", "n");
            o.createDirectory(p("keep/sub"), LayerTree.DIR);
            o.rename(p("moved"), p("keep/sub/there"), RenameMode.REPLACE);
            o.rename(p("file"), p("keep/file2"), RenameMode.NOREPLACE);
            o.unlink(p("rm/r"));
            o.removeDirectory(p("rm"));
            o.link(p("keep/file2"), p("hard"));
            o.createSymlink(p("sym"), "/keep", LayerTree.FILE);
            o.rename(p("swap1"), p("swap2"), RenameMode.EXCHANGE);
            o.setPermissions(p("opq"), 0700);
        }
        Map<String, String> engine;
        try (Overlay o = t.open()) {
            engine = describe(o, EntryPath.ROOT, new TreeMap<>());
        }
        Path work = Files.createDirectories(tmp.resolve("kwork"));
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        String options = "ro,lowerdir=" + t.layer(1) + ":" + t.layer(2) + ",upperdir=" + t.upper() + ",workdir=" + work
                + ",redirect_dir=on,index=off,metacopy=off";
        Process mount = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o", options, mnt.toString())
                .redirectErrorStream(true).start();
        String mountOutput = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(mount.waitFor() == 0, "KERNEL SKIPPED: the kernel's overlayfs cannot be mounted here (needs root): " + mountOutput);
        try {
            assertEquals(describe(mnt), engine);
        } finally {
            LayerTree.run("umount", mnt.toString());
        }
    }

    @Test
    void engineReadsTheUpperTheKernelWrote() throws Exception {
        LayerTree t = new LayerTree(tmp.resolve("layers"), 2)
                .file(2, "dir/a", "a").file(1, "dir/b", "b").file(2, "p/moved/f", "f").file(1, "p/moved/g", "g")
                .file(2, "x/y", "y").file(1, "del", "d").dir(2, "rmme");
        Path work = Files.createDirectories(tmp.resolve("kwork"));
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        String options = "lowerdir=" + t.layer(1) + ":" + t.layer(2) + ",upperdir=" + t.upper() + ",workdir=" + work
                + ",redirect_dir=on,index=off,metacopy=off";
        Process mount = new ProcessBuilder("mount", "-t", "overlay", "overlay", "-o", options, mnt.toString())
                .redirectErrorStream(true).start();
        String mountOutput = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(mount.waitFor() == 0, "KERNEL SKIPPED: the kernel's overlayfs cannot be mounted here (needs root): " + mountOutput);
        Map<String, String> kernel;
        try {
            Files.writeString(mnt.resolve("dir/a"), "changed by the kernel");
            Files.move(mnt.resolve("p/moved"), mnt.resolve("p/renamed"));   // same-directory: relative redirect
            Files.move(mnt.resolve("x"), mnt.resolve("dir/x"));              // elsewhere: absolute redirect
            Files.delete(mnt.resolve("del"));
            Files.delete(mnt.resolve("rmme"));
            Files.createDirectory(mnt.resolve("rmme"));
            Files.writeString(mnt.resolve("rmme/new"), "n");
            kernel = describe(mnt);
        } finally {
            LayerTree.run("umount", mnt.toString());
        }
        try (Overlay o = t.open()) {
            assertEquals(kernel, describe(o, EntryPath.ROOT, new TreeMap<>()));
            assertEquals(java.util.Map.of("f", "f", "g", "f"), LayerTree.listing(o, "p/renamed"));
        }
    }

    /** path -> "d", "f:content" or "l:target" for everything the engine shows. */
    private static Map<String, String> describe(Overlay o, EntryPath dir, Map<String, String> out) throws IOException {
        for (DirectoryEntry e : o.listDirectory(dir)) {
            EntryPath path = dir.resolve(e.name());
            switch (e.type()) {
                case DIRECTORY -> {
                    out.put(path.relativeString(), "d");
                    describe(o, path, out);
                }
                case REGULAR_FILE -> out.put(path.relativeString(), "f:" + LayerTree.read(o, path.relativeString()));
                case SYMLINK -> out.put(path.relativeString(), "l:" + o.readLink(path));
                default -> out.put(path.relativeString(), e.type().name());
            }
        }
        return out;
    }

    private static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (p.equals(root)) {
                    continue;
                }
                String name = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(name, "l:" + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(name, "d");
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(name, "f:" + Files.readString(p));
                } else {
                    out.put(name, "other");
                }
            }
        }
        return out;
    }
}
