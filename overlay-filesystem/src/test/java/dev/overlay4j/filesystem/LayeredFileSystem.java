package dev.overlay4j.filesystem;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Real layer directories and an {@code overlay:} file system over them, for tests through the
 * engine and the directory backend. The lower layers hold:
 * <pre>
 * top:    dir/a = "a-top", dir/c = "c", top.txt = "top", shadowed = "top"
 * bottom: dir/a = "a-bottom", dir/b = "b", dir/sub/deep = "deep", base.txt = "base", shadowed = "bottom"
 * </pre>
 */
final class LayeredFileSystem implements AutoCloseable {

    final Path top;
    final Path bottom;
    final Path upper;
    final Path work;
    final FileSystem fs;

    private LayeredFileSystem(Path dir, boolean writable, Map<String, ?> options) throws IOException {
        top = Files.createDirectories(dir.resolve("top"));
        bottom = Files.createDirectories(dir.resolve("bottom"));
        upper = Files.createDirectories(dir.resolve("upper"));
        work = Files.createDirectories(dir.resolve("work"));
        write(top, "dir/a", "a-top");
        write(top, "dir/c", "c");
        write(top, "top.txt", "top");
        write(top, "shadowed", "top");
        write(bottom, "dir/a", "a-bottom");
        write(bottom, "dir/b", "b");
        write(bottom, "dir/sub/deep", "deep");
        write(bottom, "base.txt", "base");
        write(bottom, "shadowed", "bottom");
        Map<String, Object> env = new HashMap<>();
        env.put("lowerdir", List.of(top.toString(), bottom));
        if (writable) {
            env.put("upperdir", upper);
            env.put("workdir", work.toString());
        }
        env.putAll(options);
        fs = FileSystems.newFileSystem(URI.create("overlay:/"), env);
    }

    /** With an upper layer. */
    static LayeredFileSystem writable(Path dir) throws IOException {
        return new LayeredFileSystem(dir, true, Map.of());
    }

    /** With an upper layer and further env options. */
    static LayeredFileSystem writable(Path dir, Map<String, ?> options) throws IOException {
        return new LayeredFileSystem(dir, true, options);
    }

    /** Lower layers only. */
    static LayeredFileSystem readOnly(Path dir) throws IOException {
        return new LayeredFileSystem(dir, false, Map.of());
    }

    static void write(Path layer, String name, String content) throws IOException {
        Path file = layer.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    Path path(String path) {
        return fs.getPath(path);
    }

    @Override
    public void close() throws IOException {
        fs.close();
    }
}
