package dev.overlay4j.fuse;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Test double of a remote layer whose server stopped answering: a directory layer in which
 * looking up a name that starts with {@code stuck} waits until {@link #release}, as a request
 * to a hung S3 server waits for its timeout. Everything else answers at once.
 */
final class StallingLayer extends ForwardingLayer {

    private final CountDownLatch released = new CountDownLatch(1);
    private final Semaphore waiting = new Semaphore(0);

    StallingLayer(Path root) throws IOException {
        super(root);
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

    /** As an S3 layer: the overlay reads it before taking its namespace lock. */
    @Override
    public boolean remote() {
        return true;
    }

    @Override
    public String description() {
        return "stalling " + super.description();
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
        return super.stat(path);
    }

    @Override
    public void close() throws IOException {
        released.countDown();
        super.close();
    }
}
