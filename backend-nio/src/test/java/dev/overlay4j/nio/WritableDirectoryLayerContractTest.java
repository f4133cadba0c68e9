package dev.overlay4j.nio;

import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.testkit.WritableLayerContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

class WritableDirectoryLayerContractTest extends WritableLayerContract {

    @Override
    protected WritableLayer openWritable(Path storage) throws IOException {
        Path upper = Files.createDirectories(storage.resolve("upper"));
        Path work = Files.createDirectories(storage.resolve("work"));
        return new NioLayerProvider().openUpper(upper.toUri(), work.toUri(), LayerOptions.DEFAULTS);
    }

    @Override
    protected boolean supportsDeviceNodes() {
        return LinuxCalls.geteuid() == 0;
    }

    @Override
    protected boolean supportsChown() {
        return LinuxCalls.geteuid() == 0;
    }
}
