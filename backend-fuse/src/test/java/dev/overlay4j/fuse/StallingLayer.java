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
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test double of a remote layer whose server stopped answering: a directory layer in which
 * looking up a name that starts with {@code stuck} waits until {@link #release}, as a request
 * to a hung S3 server waits for its timeout. Everything else answers at once.
 */
final class StallingLayer implements Layer {

    private final Layer directory;
    private final CountDownLatch released = new CountDownLatch(1);
    private final Semaphore waiting = new Semaphore(0);

    StallingLayer(Path root) throws IOException {
        this.directory = Layers.openLower(root.toString(), LayerOptions.DEFAULTS);
    }

    /** Waits until {@code count} lookups wait in this layer; false after the timeout. */
    boolean awaitWaiting(int count, long timeout, TimeUnit unit) throws InterruptedException {
        if (!waiting.tryAcquire(count, timeout, unit)) {
            return false;
        }
        waiting.release(count);
        return true;
    }

    /** Lets every waiting lookup, and all later ones, go on. */
    void release() {
        released.countDown();
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        return directory.openRead(file);
    }

    /** As an S3 layer: the overlay reads it before taking its namespace lock. */
    @Override
    public boolean remote() {
        return true;
    }

    @Override
    public String description() {
        return "stalling " + directory.description();
    }

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        if (!path.isRoot() && path.fileName().startsWith("stuck")) {
            waiting.release();
            try {
                released.await();
            } catch (InterruptedException e) {
                throw new InterruptedIOException("interrupted while the layer stalled");
            } finally {
                waiting.acquireUninterruptibly();
            }
        }
        return directory.stat(path);
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath path) throws IOException {
        return directory.list(path);
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
        released.countDown();
        directory.close();
    }
}
