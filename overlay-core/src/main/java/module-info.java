/**
 * The overlay engine, which merges the layers of an {@link dev.overlay4j.api.OverlayConfig}
 * with the semantics of Linux overlayfs and is found through
 * {@link dev.overlay4j.api.Overlay#open}, and the {@code overlay:} NIO file system on top of it:
 * {@code FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("lowerdir", ..., ...))}.
 */
module dev.overlay4j.core {
    requires dev.overlay4j.api;

    provides dev.overlay4j.api.spi.OverlayEngine with dev.overlay4j.core.OverlayfsEngine;
    provides java.nio.file.spi.FileSystemProvider with dev.overlay4j.core.fs.OverlayFileSystemProvider;
}
