package dev.overlay4j.s3;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.testkit.LayerTree;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a {@link LayerTree} as objects the way s3fs and OCI tools lay them out. */
final class S3TreeWriter {

    private S3TreeWriter() {
    }

    static void write(S3Server server, String bucket, String prefix, LayerTree tree) {
        server.put(bucket, prefix, new byte[0], metadata(0040755, 0, Map.of()));
        for (LayerTree.Node node : tree.nodes()) {
            String key = prefix + node.path().relativeString();
            switch (node) {
                case LayerTree.Directory d -> {
                    Map<String, byte[]> xattrs = new LinkedHashMap<>(d.xattrs());
                    if (d.redirect() != null) {
                        xattrs.put("trusted.overlay.redirect", d.redirect().getBytes(StandardCharsets.UTF_8));
                    }
                    server.put(bucket, key + "/", new byte[0], metadata(0040000 | d.permissions(), 0, xattrs));
                    if (d.opaque()) {
                        server.put(bucket, key + "/" + ObjectNames.OPAQUE_MARKER, "");
                    }
                }
                case LayerTree.File f -> server.put(bucket, key, f.content(),
                        metadata(0100000 | f.permissions(), f.mtimeNanos(), f.xattrs()));
                case LayerTree.Symlink s -> server.put(bucket, key, s.target().getBytes(StandardCharsets.UTF_8),
                        metadata(0120777, 0, Map.of()));
                case LayerTree.Whiteout w -> {
                    EntryPath p = w.path();
                    server.put(bucket, prefix + (p.parent().isRoot() ? "" : p.parent().relativeString() + "/")
                            + ObjectNames.WHITEOUT_PREFIX + p.fileName(), "");
                }
            }
        }
    }

    private static Map<String, String> metadata(int mode, long mtimeNanos, Map<String, byte[]> xattrs) {
        Map<String, String> meta = new LinkedHashMap<>(S3fsMetadata.write(mode, 0, 0, mtimeNanos, mtimeNanos, 0));
        if (!xattrs.isEmpty()) {
            meta.put("xattr", S3fsMetadata.xattrHeader(xattrs));
        }
        return meta;
    }
}
