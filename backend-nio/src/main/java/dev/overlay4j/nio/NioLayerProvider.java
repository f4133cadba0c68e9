package dev.overlay4j.nio;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Layers on the local disk and in NIO filesystems:
 * <ul>
 * <li>{@code file:} a directory (lower, or upper with a work directory), or a {@code .zip} /
 *     {@code .jar} file as a read-only lower layer;</li>
 * <li>{@code jar:file:/x.jar!/} the whole archive, {@code jar:file:/x.jar!/sub/dir/} a subtree;</li>
 * <li>any other scheme of an installed {@link FileSystemProvider} (those found when this provider
 *     is created, for example {@code jrt} or a third party's in-memory filesystem): the directory
 *     its URI names, read-only. A filesystem that must be created first is created with no
 *     environment and closed with the layer.</li>
 * </ul>
 */
public final class NioLayerProvider implements LayerProvider {

    private final Set<String> schemes;

    public NioLayerProvider() {
        Set<String> all = new TreeSet<>(Set.of("file", "jar"));
        try {
            for (FileSystemProvider provider : FileSystemProvider.installedProviders()) {
                all.add(provider.getScheme().toLowerCase(Locale.ROOT));
            }
        } catch (Error circular) {
            // An installed FileSystemProvider that looks up layer providers while the JDK is still
            // loading the installed providers: offer the built-in schemes only, rather than fail.
            System.getLogger(NioLayerProvider.class.getName()).log(System.Logger.Level.DEBUG,
                    "installed NIO providers not available yet: " + circular);
        }
        this.schemes = Set.copyOf(all);
    }

    @Override
    public Set<String> schemes() {
        return schemes;
    }

    @Override
    public Layer openLower(URI location, LayerOptions options) throws IOException {
        String scheme = location.getScheme() == null ? "file" : location.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "file" -> {
                Path path = Path.of(location);
                if (isArchive(path)) {
                    yield openArchive(path, "/", path.toString());
                }
                yield new DirectoryLayer(path, path.toString(), options);
            }
            case "jar" -> openJarUri(location);
            default -> openGeneric(location);
        };
    }

    @Override
    public WritableLayer openUpper(URI upper, URI work, LayerOptions options) throws IOException {
        if (!"file".equalsIgnoreCase(upper.getScheme())) {
            throw Errno.EOPNOTSUPP.exception(Layers.redacted(upper), "only local directories (file:) can be an upper layer");
        }
        if (!"file".equalsIgnoreCase(work.getScheme())) {
            throw Errno.EINVAL.exception(Layers.redacted(work), "the workdir must be a local directory (file:)");
        }
        return UpperDirectories.open(Path.of(upper), Path.of(work), options);
    }

    private static boolean isArchive(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        return (name.endsWith(".zip") || name.endsWith(".jar")) && Files.isRegularFile(path);
    }

    /** {@code jar:<file URI>!/<subtree>}. */
    private static Layer openJarUri(URI location) throws IOException {
        String ssp = location.getRawSchemeSpecificPart();
        int bang = ssp.indexOf("!/");
        String archive = bang < 0 ? ssp : ssp.substring(0, bang);
        String subtree = bang < 0 ? "/" : ssp.substring(bang + 1);
        URI archiveUri = URI.create(archive);
        if (!"file".equalsIgnoreCase(archiveUri.getScheme())) {
            throw Errno.EINVAL.exception(location.toString(), "a jar: layer must name a local file (jar:file:/x.jar!/)");
        }
        Path path = Path.of(archiveUri);
        return openArchive(path, URI.create("x:" + subtree).getSchemeSpecificPart(), location.toString());
    }

    private static Layer openArchive(Path archive, String subtree, String description) throws IOException {
        if (!Files.exists(archive)) {
            throw Errno.ENOENT.exception(archive, "the archive of layer " + description + " does not exist; fix the path");
        }
        if (!Files.isRegularFile(archive)) {
            throw Errno.EINVAL.exception(archive, "layer " + description + " names an archive, but this is not a regular file");
        }
        FileSystem zip;
        try {
            // A private filesystem instance: nothing registered globally, closed with the layer.
            zip = FileSystems.newFileSystem(archive, Map.of());
        } catch (IOException | RuntimeException e) {
            throw Errno.EIO.exception(archive, "cannot read it as a zip archive for layer " + description + ": " + e.getMessage());
        }
        Set<String> symlinks;
        try {
            symlinks = ZipSymlinks.of(archive);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw Errno.EIO.exception(archive, "cannot read the central directory of layer " + description + ": " + e.getMessage());
        }
        return new NioPathLayer(zip.getPath(subtree.isEmpty() ? "/" : subtree), description, zip, symlinks);
    }

    private static Layer openGeneric(URI location) throws IOException {
        String description = Layers.redacted(location);
        Path root;
        FileSystem created = null;
        try {
            root = Path.of(location);
        } catch (FileSystemNotFoundException notYet) {
            created = FileSystems.newFileSystem(location, Map.of());
            root = created.provider().getPath(location);
        } catch (IllegalArgumentException e) {
            throw Errno.EINVAL.exception(description, "not a location its filesystem provider accepts: " + e.getMessage());
        }
        return new NioPathLayer(root, description, created);
    }
}
