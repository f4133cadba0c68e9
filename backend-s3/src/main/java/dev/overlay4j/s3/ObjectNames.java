package dev.overlay4j.s3;

import dev.overlay4j.api.EntryPath;
import java.nio.charset.StandardCharsets;

/**
 * How names of a layer map to object keys: the OCI image-layer whiteout convention
 * ({@code .wh.NAME} hides NAME, {@code .wh..wh..opq} makes its directory opaque), which names
 * are refused, and inode numbers. The one place that decides these rules.
 */
final class ObjectNames {

    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE_MARKER = ".wh..wh..opq";
    /** OCI reserves names starting with this for its own markers. */
    static final String RESERVED_PREFIX = ".wh..wh.";

    private ObjectNames() {
    }

    /** The key prefix of a directory: the layer prefix plus the path, ending in '/' (or empty for the root). */
    static String directoryPrefix(String layerPrefix, EntryPath directory) {
        return directory.isRoot() ? layerPrefix : layerPrefix + directory.relativeString() + "/";
    }

    /** The object key of a non-directory entry. */
    static String key(String layerPrefix, EntryPath path) {
        return layerPrefix + path.relativeString();
    }

    /** Why {@code name} (one key segment) cannot be an entry name, or null when it can. */
    static String refusal(String name) {
        if (name.isEmpty()) {
            return "an empty name (a doubled '/')";
        }
        if (name.equals(".") || name.equals("..")) {
            return "the name \"" + name + "\"";
        }
        if (name.indexOf('\0') >= 0) {
            return "a NUL character";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > EntryPath.NAME_MAX) {
            return "a name longer than " + EntryPath.NAME_MAX + " bytes";
        }
        return null;
    }

    /** A stable inode number for an object key: never 0, equal across processes and remounts. */
    static long inode(String key) {
        // FNV-1a 64 over the UTF-8 bytes: cheap, stable, well spread.
        long hash = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        hash &= Long.MAX_VALUE;
        return hash == 0 ? 1 : hash;
    }

    /** The key for display: control characters escaped so a hostile key cannot forge log lines. */
    static String printable(String key) {
        StringBuilder s = new StringBuilder(key.length());
        key.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                s.append(String.format("\\x%02x", c));
            } else {
                s.appendCodePoint(c);
            }
        });
        return s.length() > 512 ? s.substring(0, 512) + "..." : s.toString();
    }
}
