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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Test double of a layer whose store changes behind the overlay, as an S3 bucket can: a
 * directory layer that the test changes on disk and then announces with {@link #changed}.
 */
final class ChangingLayer implements Layer {

    private final Layer directory;
    private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

    ChangingLayer(Path root) throws IOException {
        this.directory = Layers.openLower(root.toString(), LayerOptions.DEFAULTS);
    }

    /** Tells the listeners, as a layer that noticed the change would. */
    void changed(EntryPath path) {
        listeners.forEach(listener -> listener.changed(path));
    }

    @Override
    public void addChangeListener(ChangeListener listener) {
        listeners.add(listener);
    }

    @Override
    public String description() {
        return "changing " + directory.description();
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
