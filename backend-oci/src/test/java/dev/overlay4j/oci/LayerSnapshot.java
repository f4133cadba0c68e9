package dev.overlay4j.oci;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Everything a layer shows, entry by entry, for comparing two opens of one archive exactly. */
final class LayerSnapshot {

    private LayerSnapshot() {
    }

    /**
     * Per path: its attributes, listing, symlink target and xattrs; with {@code contents}, a
     * SHA-256 of each file's bytes too. Paths are visited in sorted order, which is archive order
     * for archives written in sorted order, and each inode's bytes are read once.
     */
    static Map<String, String> of(Layer layer, boolean contents) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Map<Long, String> hashes = new HashMap<>();
        List<EntryPath> pending = new ArrayList<>(List.of(EntryPath.ROOT));
        while (!pending.isEmpty()) {
            EntryPath path = pending.removeLast();
            EntryAttributes a = layer.stat(path).orElseThrow();
            StringBuilder line = new StringBuilder(a.toString());
            if (a.type() != EntryType.WHITEOUT) {
                for (String x : layer.listXattrs(path)) {
                    line.append(" xattr ").append(x).append('=').append(HexFormat.of().formatHex(layer.readXattr(path, x).orElseThrow()));
                }
            }
            switch (a.type()) {
                case DIRECTORY -> {
                    try (Stream<DirectoryEntry> list = layer.list(path)) {
                        for (DirectoryEntry e : list.sorted((x, y) -> y.name().compareTo(x.name())).toList()) { // popped in order
                            line.append(" [").append(e.name()).append(' ').append(e.type()).append(' ').append(e.inode()).append(']');
                            pending.add(path.resolve(e.name()));
                        }
                    }
                }
                case SYMLINK -> line.append(" -> ").append(layer.readLink(path));
                case REGULAR_FILE -> {
                    if (contents) {
                        String hash = hashes.get(a.inode());
                        if (hash == null) {
                            hash = sha256(layer, path);
                            hashes.put(a.inode(), hash);
                        }
                        line.append(" sha256 ").append(hash);
                    }
                }
                default -> {
                }
            }
            out.put(path.toString(), line.toString());
        }
        return out;
    }

    static String sha256(Layer layer, EntryPath file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (ReadableContent content = layer.openRead(file)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            long position = 0;
            for (int n; (n = content.read(buffer.clear(), position)) > 0; ) {
                digest.update(buffer.flip());
                position += n;
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
