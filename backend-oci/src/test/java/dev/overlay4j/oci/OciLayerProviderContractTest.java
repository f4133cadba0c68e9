package dev.overlay4j.oci;

import dev.overlay4j.api.spi.LayerProvider;
import dev.overlay4j.testkit.LayerProviderContract;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

class OciLayerProviderContractTest extends LayerProviderContract {

    @Override
    protected LayerProvider provider() {
        return new OciLayerProvider();
    }

    @Override
    protected URI existingLowerLocation(Path scratch) throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(scratch.resolve("image"));
        image.topIndex(List.of(image.manifest(List.of(image.blob(ImageLayoutWriter.TAR,
                new TarWriter().add(TarWriter.file("f", "x")).bytes(), "")), "")));
        return URI.create("oci:" + image.dir);
    }

    @Override
    protected URI missingLocation(Path scratch) {
        return URI.create("oci:" + scratch.resolve("missing"));
    }
}
