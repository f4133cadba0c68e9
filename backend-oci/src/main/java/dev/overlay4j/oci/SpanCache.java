package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The last few inflated spans of a compressed archive, by span number. A span asked for while
 * another reader inflates it is waited for, never inflated twice; a span that failed is not kept.
 */
final class SpanCache {

    /** Inflates one span and checks it. */
    interface Loader {
        ByteBuffer load(int span) throws IOException;
    }

    private final Map<Integer, CompletableFuture<ByteBuffer>> spans;

    SpanCache(int kept) {
        this.spans = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, CompletableFuture<ByteBuffer>> eldest) {
                return size() > kept;
            }
        };
    }

    /** Span {@code i}, read-only for the caller: absolute gets only, it is shared. */
    ByteBuffer get(int i, Loader loader) throws IOException {
        CompletableFuture<ByteBuffer> mine = null;
        CompletableFuture<ByteBuffer> span;
        synchronized (spans) {
            span = spans.get(i);
            if (span == null) {
                span = mine = new CompletableFuture<>();
                spans.put(i, mine);
            }
        }
        if (mine != null) {
            try {
                mine.complete(loader.load(i));
            } catch (IOException | RuntimeException e) {
                synchronized (spans) {
                    spans.remove(i, mine);
                }
                mine.completeExceptionally(e);
                throw e;
            }
        }
        try {
            return span.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw e;
        }
    }
}
