package dev.overlay4j.fuse;

import dev.overlay4j.api.EntryPath;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test double of a layer whose store changes behind the overlay, as an S3 bucket can: a
 * directory layer that the test changes on disk and then announces with {@link #changed}.
 */
final class ChangingLayer extends ForwardingLayer {

    private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

    ChangingLayer(Path root) throws IOException {
        super(root);
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
        return "changing " + super.description();
    }
}
