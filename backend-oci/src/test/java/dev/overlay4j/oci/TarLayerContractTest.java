package dev.overlay4j.oci;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** A tar image layer, written from the contract's tree, opened by its path as an overlay opens a lower layer. */
class TarLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        return Layers.openLower(write(tree, new TarWriter()).write(scratch.resolve("layer.tar")).toString(), LayerOptions.DEFAULTS);
    }

    /** The tree as an image layer: whiteouts as {@code .wh.NAME}, opaque directories holding {@code .wh..wh..opq}. */
    static TarWriter write(LayerTree tree, TarWriter tar) {
        for (LayerTree.Node node : tree.nodes()) {
            String name = node.path().relativeString();
            switch (node) {
                case LayerTree.Directory d -> {
                    TarWriter.Member m = TarWriter.dir(name + "/").mode(d.permissions());
                    xattrs(m, d.xattrs());
                    tar.add(m);
                    if (d.opaque()) {
                        tar.add(TarWriter.file(name + "/" + TarTree.OPAQUE_MARK, ""));
                    }
                    if (d.redirect() != null) {
                        throw new IllegalArgumentException("an image layer holds no redirects");
                    }
                }
                case LayerTree.File f -> {
                    TarWriter.Member m = TarWriter.file(name, f.content()).mode(f.permissions()).mtime(f.mtimeNanos());
                    xattrs(m, f.xattrs());
                    tar.add(m);
                }
                case LayerTree.Symlink s -> tar.add(TarWriter.symlink(name, s.target()));
                case LayerTree.Whiteout w -> {
                    String parent = w.path().parent().relativeString();
                    tar.add(TarWriter.file((parent.isEmpty() ? "" : parent + "/") + ".wh." + w.path().fileName(), ""));
                }
            }
        }
        return tar;
    }

    private static void xattrs(TarWriter.Member m, Map<String, byte[]> xattrs) {
        xattrs.forEach(m::xattr);
    }

    @Override
    protected boolean supportsRedirects() {
        return false;
    }
}
