package dev.overlay4j.it.differential;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;
import java.util.Map;

/** overlay4j's {@code overlay:} FileSystem over the same kind of layout the kernel mounts. */
final class Overlay4jFileSystem implements OverlayUnderTest {
    static final String SCHEME = "overlay";

    static final Kind KIND = Kind.of("overlay4j", Features.IN_PROCESS, (layout, scratch) -> Overlay4jFileSystem.open(layout));

    private final FileSystem fileSystem;

    private Overlay4jFileSystem(FileSystem fileSystem) {
        this.fileSystem = fileSystem;
    }

    static boolean providerInstalled() {
        return FileSystemProvider.installedProviders().stream()
                .anyMatch(provider -> SCHEME.equalsIgnoreCase(provider.getScheme()));
    }

    static Overlay4jFileSystem open(Layout layout) throws IOException {
        Map<String, String> env = Map.of(
                "lowerdir", layout.lowerdir(),
                "upperdir", layout.upper().toString(),
                "workdir", layout.work().toString(),
                "redirect_dir", "on");
        return new Overlay4jFileSystem(FileSystems.newFileSystem(URI.create(SCHEME + ":/"), env));
    }

    @Override
    public Path root() {
        return fileSystem.getPath("/");
    }

    @Override
    public void close() throws IOException {
        fileSystem.close();
    }
}
