package dev.overlay4j.oci;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The merged tree of read-only layers as the engine shows it, one line per path: what two
 * stacks of layers must agree on to mean the same image (inode numbers and link counts aside).
 */
final class OverlayTrees {

    private OverlayTrees() {
    }

    /** The tree of an overlay of these lower layers, top first, each a location as {@code lowerdir+=} takes it. */
    static Map<String, String> tree(List<String> lowers) throws IOException {
        OverlayConfig.Builder config = OverlayConfig.builder();
        lowers.forEach(config::lower);
        try (Overlay overlay = Overlay.open(config.build())) {
            return tree(overlay);
        }
    }

    /**
     * {@link #tree}, without the root directory: a layer has no member for it (as in docker's and
     * podman's), so its own attributes are not the upper dir's.
     */
    static Map<String, String> belowRoot(List<String> lowers) throws IOException {
        Map<String, String> tree = tree(lowers);
        tree.remove("/");
        return tree;
    }

    static Map<String, String> tree(Overlay overlay) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        Deque<EntryPath> pending = new ArrayDeque<>(List.of(EntryPath.ROOT));
        while (!pending.isEmpty()) {
            EntryPath path = pending.pop();
            EntryAttributes a = overlay.stat(path);
            StringBuilder line = new StringBuilder().append(a.type()).append(String.format(" %04o %d:%d @%d",
                    a.permissions(), a.uid(), a.gid(), a.mtimeNanos()));
            switch (a.type()) {
                case DIRECTORY -> {
                    for (DirectoryEntry e : overlay.listDirectory(path)) {
                        pending.push(path.resolve(e.name()));
                    }
                }
                case REGULAR_FILE -> line.append(" \"").append(content(overlay, path)).append('"');
                case SYMLINK -> line.append(" -> ").append(overlay.readLink(path));
                case CHARACTER_DEVICE, BLOCK_DEVICE -> line.append(" rdev=").append(a.rdev());
                default -> {
                }
            }
            for (String name : new java.util.TreeSet<>(overlay.listXattrs(path))) {
                line.append(' ').append(name).append('=').append(new String(overlay.readXattr(path, name), StandardCharsets.UTF_8));
            }
            tree.put(path.toString(), line.toString());
        }
        return tree;
    }

    private static String content(Overlay overlay, EntryPath path) throws IOException {
        try (OverlayFile file = overlay.open(path, Set.of(StandardOpenOption.READ), null)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
            for (long p = 0; buffer.hasRemaining(); ) {
                int n = file.read(buffer, p);
                if (n < 0) {
                    throw Errno.EIO.exception(path, "shorter than its size");
                }
                p += n;
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }
}
