package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Fetches fixed-size blocks of pinned object versions with ranged, If-Match GETs: from memory,
 * else the disk cache, else S3. Concurrent requests for one block share one GET; at most
 * {@code parallel} GETs run at once, on virtual threads.
 */
final class BlockFetcher implements AutoCloseable {

    private record BlockId(String version, long index) {
    }

    private final S3Client client;
    private final String bucket;
    private final int blockSize;
    private final long waitMillis;
    private final DiskBlockCache disk;
    private final LruCache<BlockId, byte[]> memory;
    private final ConcurrentHashMap<BlockId, CompletableFuture<byte[]>> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("overlay4j-s3-get-", 0).factory());
    private final Semaphore parallel;

    BlockFetcher(S3Client client, S3Settings settings, DiskBlockCache disk) {
        this.client = client;
        this.bucket = settings.bucket();
        this.blockSize = settings.blockSize();
        // The SDK bounds each GET (retries included) by the timeout; the margin covers queueing.
        this.waitMillis = settings.timeout().toMillis() * 2 + 1000;
        this.disk = disk;
        this.memory = new LruCache<>(settings.memoryCache(), bytes -> bytes.length);
        this.parallel = new Semaphore(Math.max(4, settings.readahead()));
    }

    int blockSize() {
        return blockSize;
    }

    /** The block's bytes, waiting for them; EIO after the time bound, ESTALE when the object changed. */
    byte[] block(ObjectVersion version, long index) throws IOException {
        CompletableFuture<byte[]> future = start(version, index);
        try {
            return future.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw S3Errors.interrupted(version.display());
        } catch (TimeoutException e) {
            throw Errno.EIO.exception(version.display(), "no answer from S3 within " + waitMillis + " ms");
        } catch (ExecutionException e) {
            throw unwrap(e.getCause(), version);
        }
    }

    /** Starts fetching the block unless it is cached or on its way. */
    CompletableFuture<byte[]> start(ObjectVersion version, long index) {
        BlockId id = new BlockId(version.key() + '\0' + version.etag(), index);
        byte[] cached = memory.get(id);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        CompletableFuture<byte[]> created = new CompletableFuture<>();
        CompletableFuture<byte[]> existing = inFlight.putIfAbsent(id, created);
        if (existing != null) {
            return existing;
        }
        try {
            executor.execute(() -> {
                byte[] bytes = null;
                Throwable failure = null;
                try {
                    bytes = fetch(version, index);
                    memory.put(id, bytes);
                } catch (Throwable t) {
                    failure = t;
                }
                // Leave the in-flight map before waking the waiters: a failure is not remembered,
                // so the next read (even by a waiter that just saw it) asks S3 again and recovers.
                inFlight.remove(id, created);
                if (failure == null) {
                    created.complete(bytes);
                } else {
                    created.completeExceptionally(failure);
                }
            });
        } catch (RejectedExecutionException e) {
            inFlight.remove(id, created);
            created.completeExceptionally(Errno.EBADF.exception(version.display(), "the layer is closed"));
        }
        return created;
    }

    private int length(ObjectVersion version, long index) {
        return (int) Math.min(blockSize, version.size() - index * blockSize);
    }

    private byte[] fetch(ObjectVersion version, long index) throws IOException {
        int length = length(version, index);
        String diskName = disk == null ? null : diskName(version);
        if (disk != null) {
            byte[] bytes = disk.get(diskName, index, length);
            if (bytes != null) {
                return bytes;
            }
        }
        long first = index * blockSize;
        try {
            parallel.acquire();
        } catch (InterruptedException e) {
            throw S3Errors.interrupted(version.display());
        }
        byte[] bytes;
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(r -> r.bucket(bucket).key(version.key())
                .range("bytes=" + first + "-" + (first + length - 1)).ifMatch(version.etag()))) {
            if (!version.sameEtag(in.response().eTag())) {
                throw Errno.ESTALE.exception(version.display(), "the object changed while open (ETag "
                        + in.response().eTag() + ", opened as " + version.etag() + ")");
            }
            bytes = readFully(in, length, version);
        } catch (SdkException e) {
            throw S3Errors.of(e, version.display(), "ranged GET");
        } finally {
            parallel.release();
        }
        if (disk != null) {
            disk.put(diskName, index, bytes);
        }
        return bytes;
    }

    private String diskName(ObjectVersion version) {
        return client.serviceClientConfiguration().endpointOverride().map(Object::toString).orElse("aws") + '\0'
                + bucket + '\0' + version.key() + '\0' + version.etag() + '\0' + blockSize;
    }

    private static byte[] readFully(InputStream in, int length, ObjectVersion version) throws IOException {
        byte[] bytes = new byte[length];
        int n = 0;
        try {
            while (n < length) {
                int r = in.read(bytes, n, length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        } catch (SdkException e) {
            throw S3Errors.of(e, version.display(), "reading a ranged GET");
        } catch (IOException e) {
            throw Errno.EIO.exception(version.display(), "reading a ranged GET: " + e.getMessage());
        }
        if (n != length) {
            // The object is shorter than when it was opened: another version.
            throw Errno.ESTALE.exception(version.display(), "got " + n + " bytes where " + length + " were expected");
        }
        return bytes;
    }

    private static IOException unwrap(Throwable cause, ObjectVersion version) {
        Throwable c = cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof IOException io) {
            return io;
        }
        if (c instanceof SdkException sdk) {
            return S3Errors.of(sdk, version.display(), "ranged GET");
        }
        return Errno.EIO.exception(version.display(), String.valueOf(c));
    }

    @Override
    public void close() {
        executor.shutdownNow();
        memory.clear();
    }
}
