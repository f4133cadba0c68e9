package dev.overlay4j.oci;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Path;

/** The same contract for a gzip-compressed layer, whose reads decompress from the nearest stream position. */
class GzipTarLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        Path file = TarLayerContractTest.write(tree, new TarWriter()).writeGzip(scratch.resolve("layer.tar.gz"));
        return Layers.openLower(file.toString(), LayerOptions.DEFAULTS);
    }

    @Override
    protected boolean supportsRedirects() {
        return false;
    }
}
