/**
 * Layers on the local disk (directories in the kernel's overlayfs upper format), in zip and jar
 * files, and on any installed NIO {@link java.nio.file.spi.FileSystemProvider}. Offers nothing
 * but its {@link dev.overlay4j.api.spi.LayerProvider}.
 */
module dev.overlay4j.nio {
    requires dev.overlay4j.api;

    provides dev.overlay4j.api.spi.LayerProvider with dev.overlay4j.nio.NioLayerProvider;
}
