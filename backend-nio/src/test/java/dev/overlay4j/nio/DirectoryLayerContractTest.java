package dev.overlay4j.nio;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The directory layer as a lower layer, its content written in the kernel's format by our upper. */
class DirectoryLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        Path dir = Files.createDirectory(scratch.resolve("layer"));
        Path work = Files.createDirectory(scratch.resolve("work"));
        NioLayerProvider provider = new NioLayerProvider();
        try (WritableLayer upper = provider.openUpper(dir.toUri(), work.toUri(), LayerOptions.DEFAULTS)) {
            tree.writeTo(upper, LinuxCalls.geteuid(), LinuxCalls.getegid());
        }
        return provider.openLower(dir.toUri(), LayerOptions.DEFAULTS);
    }
}
