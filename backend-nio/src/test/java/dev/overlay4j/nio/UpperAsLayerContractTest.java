package dev.overlay4j.nio;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The writable directory layer read back through the Layer contract while it is open. */
class UpperAsLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        Path dir = Files.createDirectory(scratch.resolve("upper"));
        Path work = Files.createDirectory(scratch.resolve("work"));
        WritableLayer upper = new NioLayerProvider().openUpper(dir.toUri(), work.toUri(), LayerOptions.DEFAULTS);
        tree.writeTo(upper, LinuxCalls.geteuid(), LinuxCalls.getegid());
        return upper;
    }
}
