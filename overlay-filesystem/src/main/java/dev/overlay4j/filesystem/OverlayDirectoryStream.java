package dev.overlay4j.filesystem;

import dev.overlay4j.api.DirectoryEntry;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The entries of a merged directory, from the snapshot the overlay took when the stream was
 * opened, each resolved against the path the stream was opened with.
 */
final class OverlayDirectoryStream implements DirectoryStream<Path> {

    private final OverlayPath directory;
    private final List<DirectoryEntry> entries;
    private final Filter<? super Path> filter;
    private boolean iteratorTaken;
    private volatile boolean closed;

    OverlayDirectoryStream(OverlayPath directory, List<DirectoryEntry> entries, Filter<? super Path> filter) {
        this.directory = directory;
        this.entries = entries;
        this.filter = filter;
    }

    @Override
    public synchronized Iterator<Path> iterator() {
        if (closed) {
            throw new IllegalStateException("Directory stream is closed");
        }
        if (iteratorTaken) {
            throw new IllegalStateException("Iterator already obtained");
        }
        iteratorTaken = true;
        return new Iterator<>() {
            private int index;
            private Path next;

            @Override
            public boolean hasNext() {
                while (next == null && !closed && index < entries.size()) {
                    Path candidate = directory.resolve(directory.getFileSystem().getPath(entries.get(index++).name()));
                    try {
                        if (filter == null || filter.accept(candidate)) {
                            next = candidate;
                        }
                    } catch (IOException e) {
                        throw new DirectoryIteratorException(e);
                    }
                }
                return next != null;
            }

            @Override
            public Path next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Path result = next;
                next = null;
                return result;
            }
        };
    }

    @Override
    public void close() {
        closed = true;
    }
}
