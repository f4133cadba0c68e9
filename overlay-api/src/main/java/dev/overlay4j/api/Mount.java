package dev.overlay4j.api;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An overlay served to every program of the machine at a mountpoint, by a mount frontend
 * ({@link Overlay#mount}). Closing unmounts it (lazily when it is busy, so that programs inside
 * keep working until they leave) and leaves the overlay open: close that too when done.
 */
public interface Mount extends AutoCloseable {

    /** Where the overlay is mounted, absolute. */
    Path mountpoint();

    /** The name of the frontend that serves it ({@code fuse}). */
    String frontend();

    /** Waits until the mount is gone: closed here, or unmounted by anyone ({@code umount}). */
    void awaitUnmount() throws InterruptedException;

    @Override
    void close() throws IOException;
}
