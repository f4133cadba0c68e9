package dev.overlay4j.s3;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Turns the pages of one delimited listing into a {@link Listing}, and tells which entries are
 * settled while pages still come, so a listing can be served as it arrives: marker objects become marks,
 * {@code .wh.} objects whiteouts, and keys that cannot be a name are refused (reported to
 * {@code refused} with the reason). Where two keys claim one name, a directory wins over an
 * object, and an entry over its whiteout (OCI: a whiteout only hides lower layers).
 */
final class ListingBuilder {

    private static final String FOLDER_SUFFIX = "_$folder$";

    private final String prefix;
    private final BiConsumer<String, String> refused;
    private final Map<String, Listing.Node> directories = new HashMap<>();
    private final Map<String, Listing.ObjectNode> objects = new HashMap<>();
    private final Map<String, String> whiteouts = new HashMap<>();
    /** Objects not yet handed out, by the key of the directory that would hide them ({@code name/}). */
    private final TreeMap<String, String> unsettled = new TreeMap<>(ListingBuilder::compareKeys);
    private final Set<String> drained = new HashSet<>();
    private boolean opaque;
    private boolean marker;

    ListingBuilder(String prefix, BiConsumer<String, String> refused) {
        this.prefix = prefix;
        this.refused = refused;
    }

    void object(String key, long size, String etag, long lastModifiedNanos) {
        if (!key.startsWith(prefix)) {
            return;
        }
        String name = key.substring(prefix.length());
        if (name.isEmpty()) {
            marker = true;
        } else if (name.indexOf('/') >= 0) {
            refused.accept(key, "a '/' the delimiter did not split (the server ignored it)");
        } else if (name.endsWith(FOLDER_SUFFIX) && name.length() > FOLDER_SUFFIX.length()) {
            // The directory marker some older tools (s3fs among them, S3 Organizer) write.
            commonPrefix(prefix + name.substring(0, name.length() - FOLDER_SUFFIX.length()) + "/");
        } else if (name.equals(ObjectNames.OPAQUE_MARKER)) {
            opaque = true;
        } else if (name.startsWith(ObjectNames.RESERVED_PREFIX)) {
            refused.accept(key, "an OCI marker this layer does not use");
        } else if (name.startsWith(ObjectNames.WHITEOUT_PREFIX)) {
            String hidden = name.substring(ObjectNames.WHITEOUT_PREFIX.length());
            if (accept(key, hidden)) {
                whiteouts.put(hidden, key);
            }
        } else if (accept(key, name)) {
            objects.put(name, new Listing.ObjectNode(key, size, etag, lastModifiedNanos));
            unsettled.put(key + "/", name);
        }
    }

    void commonPrefix(String common) {
        if (!common.startsWith(prefix) || !common.endsWith("/") || common.length() == prefix.length()) {
            return;
        }
        String name = common.substring(prefix.length(), common.length() - 1);
        if (name.startsWith(ObjectNames.WHITEOUT_PREFIX)) {
            refused.accept(common, "a directory with a whiteout name");
        } else if (accept(common, name)) {
            directories.put(name, new Listing.DirectoryNode(common));
        }
    }

    /**
     * The entries no later page can change, given that the listing has reached {@code cursor}
     * (the greatest key or prefix so far; S3 lists in UTF-8 byte order): every directory, and
     * every object whose same-named directory would have sorted before the cursor.
     */
    List<Map.Entry<String, Listing.Node>> drainSettled(String cursor) {
        List<Map.Entry<String, Listing.Node>> out = new ArrayList<>();
        directories.forEach((name, node) -> {
            if (drained.add(name)) {
                out.add(Map.entry(name, node));
            }
        });
        var settled = unsettled.headMap(cursor, false);
        for (String name : settled.values()) {
            if (!directories.containsKey(name) && drained.add(name)) {
                out.add(Map.entry(name, objects.get(name)));
            }
        }
        settled.clear();
        return out;
    }

    /** After the last page: every entry not handed out yet, whiteouts included. */
    List<Map.Entry<String, Listing.Node>> drainRest() {
        List<Map.Entry<String, Listing.Node>> out = new ArrayList<>();
        build(0).entries().forEach((name, node) -> {
            if (drained.add(name)) {
                out.add(Map.entry(name, node));
            }
        });
        unsettled.clear();
        return out;
    }

    /** Orders keys as S3 does, by UTF-8 bytes (which is code point order, not UTF-16 order). */
    static int compareKeys(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    Listing build(long nowNanos) {
        Map<String, Listing.Node> entries = new HashMap<>(directories);
        objects.forEach((name, node) -> {
            if (entries.putIfAbsent(name, node) != null) {
                refused.accept(node.key(), "an object with the same name as the directory " + prefix + name + "/");
            }
        });
        whiteouts.forEach((name, key) -> entries.putIfAbsent(name, new Listing.WhiteoutNode(key)));
        return new Listing(prefix, Map.copyOf(entries), opaque, marker, directories.size(), nowNanos);
    }

    private boolean accept(String key, String name) {
        String why = ObjectNames.refusal(name);
        if (why != null) {
            refused.accept(key, why);
        }
        return why == null;
    }
}
