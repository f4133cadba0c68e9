/**
 * The {@code overlay:} NIO file system, a frontend like the FUSE mount:
 * {@code FileSystems.newFileSystem(URI.create("overlay:/"), Map.of("lowerdir", ..., ...))}.
 * It turns {@code java.nio.file} calls into calls on an {@link dev.overlay4j.api.Overlay},
 * which {@link dev.overlay4j.api.Overlay#open} gets from whichever engine is installed
 * (overlay-core's). Offers nothing but its {@link java.nio.file.spi.FileSystemProvider}.
 */
module dev.overlay4j.filesystem {
    requires dev.overlay4j.api;

    provides java.nio.file.spi.FileSystemProvider with dev.overlay4j.filesystem.OverlayFileSystemProvider;
}
