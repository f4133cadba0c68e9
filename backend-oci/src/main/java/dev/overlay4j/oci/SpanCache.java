package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The last few decompressed spans of a compressed archive, by span number. A span asked for
 * while another reader decompresses it is waited for, never decompressed twice; a span that
 * failed is not kept. The arrays of evicted spans are used again once no reader holds them: a
 * daemon reading a large file front to back then allocates a few arrays, not one per span (each
 * new array grew the heap, and so the daemon's resident size, by the file's size).
 */
final class SpanCache {

    /** Decompresses one span into {@code into} when it is large enough (else into an array of its own) and checks it. */
    interface Loader {
        ByteBuffer load(int span, SpanCache arrays) throws IOException;
    }

    /** A span held by a reader until it closes the lease; absolute gets only, it is shared. */
    interface Lease extends AutoCloseable {
        ByteBuffer bytes();

        @Override
        void close();
    }

    private static final class Entry implements Lease {
        final CompletableFuture<ByteBuffer> span = new CompletableFuture<>();
        int readers;
        boolean evicted;
        private final SpanCache cache;

        Entry(SpanCache cache) {
            this.cache = cache;
        }

        @Override
        public ByteBuffer bytes() {
            return span.join();
        }

        @Override
        public void close() {
            cache.release(this);
        }
    }

    private final int kept;
    private final Map<Integer, Entry> spans;
    /** Arrays of evicted spans no reader holds, to decompress the next spans into. */
    private final Deque<byte[]> free = new ArrayDeque<>();

    SpanCache(int kept) {
        this.kept = kept;
        this.spans = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** Span {@code i}, decompressed by {@code loader} unless it is kept; close the lease when done with its bytes. */
    Lease get(int i, Loader loader) throws IOException {
        Entry mine = null;
        Entry entry;
        synchronized (this) {
            entry = spans.get(i);
            if (entry == null) {
                entry = mine = new Entry(this);
                spans.put(i, mine);
                evictBeyond(kept);
            }
            entry.readers++;
        }
        if (mine != null) {
            try {
                mine.span.complete(loader.load(i, this));
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    spans.remove(i, mine);
                    mine.readers--;
                }
                mine.span.completeExceptionally(e);
                throw e;
            }
        }
        try {
            entry.span.join();
            return entry;
        } catch (CompletionException e) {
            release(entry);
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw e;
        }
    }

    /** An array of at least {@code length} bytes: one an evicted span left, or a new one. */
    byte[] array(int length) {
        synchronized (this) {
            for (var it = free.iterator(); it.hasNext(); ) {
                byte[] array = it.next();
                if (array.length >= length) {
                    it.remove();
                    return array;
                }
            }
        }
        return new byte[length];
    }

    private void evictBeyond(int count) {
        var it = spans.values().iterator();
        while (spans.size() > count && it.hasNext()) {
            Entry eldest = it.next();
            it.remove();
            eldest.evicted = true;
            recycle(eldest);
        }
    }

    private synchronized void release(Entry entry) {
        entry.readers--;
        if (entry.evicted) {
            recycle(entry);
        }
    }

    /** Keeps an evicted span's array once its last reader is done (a few, for the spans to come). */
    private void recycle(Entry entry) {
        if (entry.readers == 0 && entry.span.isDone() && !entry.span.isCompletedExceptionally()) {
            ByteBuffer bytes = entry.span.join();
            if (bytes.hasArray() && free.size() < 2) {
                free.add(bytes.array());
            }
        }
    }
}
