package dev.overlay4j.nio;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.testkit.LayerContract;
import dev.overlay4j.testkit.LayerTree;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A zip file as a read-only lower layer, written with unix permissions through the zip filesystem. */
class ZipLayerContractTest extends LayerContract {

    @Override
    protected Layer openLayer(LayerTree tree, Path scratch) throws IOException {
        Path zip = scratch.resolve("layer.zip");
        try (FileSystem fs = FileSystems.newFileSystem(zip, Map.of("create", "true", "enablePosixFileAttributes", "true"))) {
            for (LayerTree.Node node : tree.nodes()) {
                Path p = fs.getPath("/" + node.path().relativeString());
                switch (node) {
                    case LayerTree.Directory d -> {
                        Files.createDirectory(p);
                        Files.setPosixFilePermissions(p, permissions(d.permissions()));
                    }
                    case LayerTree.File f -> {
                        try (OutputStream out = Files.newOutputStream(p)) {
                            out.write(f.content());
                        }
                        Files.setPosixFilePermissions(p, permissions(f.permissions()));
                        Files.setLastModifiedTime(p, FileTime.from(f.mtimeNanos(), TimeUnit.NANOSECONDS));
                    }
                    default -> throw new IllegalArgumentException("a zip layer cannot hold " + node);
                }
            }
        }
        return new NioLayerProvider().openLower(zip.toUri(), LayerOptions.DEFAULTS);
    }

    private static Set<PosixFilePermission> permissions(int bits) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission permission : PosixFilePermission.values()) {
            if ((bits & (0400 >> permission.ordinal())) != 0) {
                set.add(permission);
            }
        }
        return set;
    }

    @Override
    protected boolean supportsXattrs() {
        return false;
    }

    @Override
    protected boolean supportsSymlinks() {
        return false;
    }

    @Override
    protected boolean supportsWhiteouts() {
        return false;
    }

    @Override
    protected long mtimeResolutionNanos() {
        return 2_000_000_000L; // DOS time in the zip's headers
    }
}
