package dev.overlay4j.fuse;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.StoreSpace;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Base of the test layers that behave like a remote store over a local directory: every read
 * goes to a directory layer, and a subclass overrides what it changes.
 */
abstract class ForwardingLayer implements Layer {

    private final Layer directory;

    ForwardingLayer(Path root) throws IOException {
        this.directory = Layers.openLower(root.toString(), LayerOptions.DEFAULTS);
    }

    @Override
    public String description() {
        return directory.description();
    }

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        return directory.stat(path);
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath path) throws IOException {
        return directory.list(path);
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        return directory.openRead(file);
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        return directory.readLink(link);
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        return directory.listXattrs(path);
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        return directory.readXattr(path, name);
    }

    @Override
    public Optional<byte[]> readOverlayXattr(EntryPath path, String key) throws IOException {
        return directory.readOverlayXattr(path, key);
    }

    @Override
    public Optional<StoreSpace> space() throws IOException {
        return directory.space();
    }

    @Override
    public void close() throws IOException {
        directory.close();
    }
}
