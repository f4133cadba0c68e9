package dev.overlay4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.function.Executable;

/**
 * Fixture: real layer directories under a temporary directory, built with the kernel's on-disk
 * format (whiteouts are 0/0 character devices, opaque and redirect are trusted.overlay.* xattrs).
 * Layer 0 is the upper directory, 1..n the lower ones, top first.
 */
final class LayerTree {

    static final NewEntryAttributes FILE = new NewEntryAttributes(0644, 0, 0);
    static final NewEntryAttributes DIR = new NewEntryAttributes(0755, 0, 0);

    final Path base;
    final int lowers;

    LayerTree(Path base, int lowers) throws IOException {
        this.base = base;
        this.lowers = lowers;
        for (int i = 0; i <= lowers; i++) {
            Files.createDirectories(layer(i));
        }
        Files.createDirectories(work());
    }

    Path layer(int index) {
        return base.resolve(index == 0 ? "upper" : "lower" + index);
    }

    Path upper() {
        return layer(0);
    }

    Path work() {
        return base.resolve("work");
    }

    LayerTree file(int layer, String path, String content) throws IOException {
        Path p = layer(layer).resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return this;
    }

    LayerTree dir(int layer, String path) throws IOException {
        Files.createDirectories(layer(layer).resolve(path));
        return this;
    }

    LayerTree symlink(int layer, String path, String target) throws IOException {
        Path p = layer(layer).resolve(path);
        Files.createDirectories(p.getParent());
        Files.createSymbolicLink(p, Path.of(target));
        return this;
    }

    LayerTree whiteout(int layer, String path) throws IOException {
        Path p = layer(layer).resolve(path);
        Files.createDirectories(p.getParent());
        run("mknod", p.toString(), "c", "0", "0");
        return this;
    }

    LayerTree opaque(int layer, String path) throws IOException {
        dir(layer, path);
        run("setfattr", "-n", "trusted.overlay.opaque", "-v", "y", layer(layer).resolve(path).toString());
        return this;
    }

    LayerTree redirect(int layer, String path, String redirect) throws IOException {
        dir(layer, path);
        run("setfattr", "-n", "trusted.overlay.redirect", "-v", redirect, layer(layer).resolve(path).toString());
        return this;
    }

    /** An overlay of all lower layers and the upper one. */
    Overlay open() throws IOException {
        return open(b -> { });
    }

    Overlay open(java.util.function.Consumer<OverlayConfig.Builder> options) throws IOException {
        OverlayConfig.Builder builder = OverlayConfig.builder();
        for (int i = 1; i <= lowers; i++) {
            builder.lower(layer(i).toString());
        }
        builder.upper(upper().toString(), work().toString());
        options.accept(builder);
        return Overlay.open(builder.build());
    }

    /** An overlay of the lower layers only (read-only). */
    Overlay openLowerOnly() throws IOException {
        OverlayConfig.Builder builder = OverlayConfig.builder();
        for (int i = 1; i <= lowers; i++) {
            builder.lower(layer(i).toString());
        }
        return Overlay.open(builder.build());
    }

    // ---- what the upper directory holds on disk

    boolean isWhiteoutOnDisk(String path) throws IOException {
        Path p = upper().resolve(path);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        long rdev = (Long) Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0020000 && rdev == 0;
    }

    /** A trusted.* xattr of an upper entry, or empty. */
    Optional<String> upperXattr(String path, String name) throws IOException {
        Process p = new ProcessBuilder("getfattr", "--absolute-names", "--only-values", "-h", "-n", name,
                upper().resolve(path).toString()).redirectErrorStream(false).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            return p.waitFor() == 0 ? Optional.of(new String(out, StandardCharsets.UTF_8)) : Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The names in the upper directory on disk. */
    List<String> upperNames(String dir) throws IOException {
        try (var s = Files.list(upper().resolve(dir))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static void run(String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    // ---- overlay helpers

    static EntryPath p(String path) {
        return EntryPath.of(path);
    }

    static String read(Overlay overlay, String path) throws IOException {
        try (OverlayFile f = overlay.open(p(path), Set.of(StandardOpenOption.READ), null)) {
            return read(f);
        }
    }

    static String read(OverlayFile f) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) f.size() + 16);
        long position = 0;
        int n;
        while ((n = f.read(buffer, position)) > 0) {
            position += n;
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }

    static void write(Overlay overlay, String path, String content) throws IOException {
        try (OverlayFile f = overlay.open(p(path), Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING), FILE)) {
            f.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    /** The merged listing as name -> type letter (f, d, l, ...), sorted by name. */
    static Map<String, String> listing(Overlay overlay, String dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (DirectoryEntry e : overlay.listDirectory(p(dir))) {
            out.put(e.name(), switch (e.type()) {
                case REGULAR_FILE -> "f";
                case DIRECTORY -> "d";
                case SYMLINK -> "l";
                default -> e.type().name();
            });
        }
        return out;
    }

    static List<String> names(Overlay overlay, String dir) throws IOException {
        return new ArrayList<>(listing(overlay, dir).keySet());
    }

    static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "got " + thrown);
    }
}
