package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Fetches fixed-size blocks of pinned object versions with ranged, If-Match GETs: from memory,
 * else the disk cache, else S3. Concurrent requests for one block share one GET; at most
 * {@code parallel} transfers run at once. A sequential reader gets a {@link Readahead}: one GET
 * that streams the blocks ahead of it for as long as it keeps reading. Each GET has a fixed cost
 * (against s3proxy here 2 ms and 3 ms of CPU, against AWS tens of milliseconds of latency), so one
 * stream that keeps going reads at 86-92% of a plain GET's speed here, where GETs of four blocks
 * each, two at a time, reached 56-73% of it. Full blocks' arrays are used again (see {@link Block}).
 */
final class BlockFetcher implements AutoCloseable {

    /** A block of one object version: its key and ETag as they are, with no string built per read. */
    private record BlockId(String key, String etag, long index) {
    }

    private final S3Client client;
    private final String bucket;
    private final int blockSize;
    private final long waitMillis;
    private final DiskBlockCache disk;
    private final LruCache<BlockId, Block> memory;
    private final ConcurrentHashMap<BlockId, CompletableFuture<Block>> inFlight = new ConcurrentHashMap<>();
    /** Arrays of full blocks that left the memory cache, for the next ones fetched. */
    private final ConcurrentLinkedQueue<Block> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger freeCount = new AtomicInteger();
    /**
     * Whether arrays are used again: only when memory holds a few blocks, so that a block is not
     * evicted (and its array refilled) while the reader that waited for it is still copying.
     */
    private final boolean recycles;
    /**
     * Platform threads, not virtual ones: a virtual thread's socket read that would block parks
     * and is woken by the JDK's poller, which on a streaming GET costs a context switch or two per
     * read and cut a readahead stream from 1.3 to 1.0 GiB/s here.
     */
    private final ExecutorService executor = Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("overlay4j-s3-get-", 0).factory());
    private final Semaphore parallel;
    private final int streams;

    BlockFetcher(S3Client client, S3Settings settings, DiskBlockCache disk) {
        this.client = client;
        this.bucket = settings.bucket();
        this.blockSize = settings.blockSize();
        // The SDK bounds each GET (retries included) by the timeout; the margin covers queueing.
        this.waitMillis = settings.timeout().toMillis() * 2 + 1000;
        this.disk = disk;
        this.memory = new LruCache<>(settings.memoryCache(), Block::length, this::dropped);
        this.recycles = settings.memoryCache() >= 4L * settings.blockSize();
        this.streams = settings.streams();
        // Every stream of a reader may be transferring at once.
        this.parallel = new Semaphore(Math.max(4, Math.max(settings.readahead(), settings.streams())));
    }

    int blockSize() {
        return blockSize;
    }

    private static BlockId id(ObjectVersion version, long index) {
        return new BlockId(version.key(), version.etag(), index);
    }

    /** Fetches one block: from the disk cache, else with a GET of just that block. */
    private void fetchBlock(ObjectVersion version, long index, CompletableFuture<Block> future) {
        try {
            String diskName = disk == null ? null : diskName(version);
            Block block = disk == null ? null : fromDisk(diskName, version, index);
            if (block == null) {
                try (ResponseInputStream<GetObjectResponse> in = get(version, index, index + 1)) {
                    block = transfer(in, version, index);
                }
                if (disk != null) {
                    disk.put(diskName, index, block.bytes, length(version, index));
                }
            }
            complete(version, index, future, block);
        } catch (IOException | RuntimeException | Error e) {
            fail(version, index, future, e);
        }
    }

    /** A ranged GET of the blocks {@code first .. end - 1}, failing with ESTALE if the object changed. */
    private ResponseInputStream<GetObjectResponse> get(ObjectVersion version, long first, long end) throws IOException {
        return getBytes(version, first * blockSize, Math.min(version.size(), end * blockSize));
    }

    /** A ranged GET of the bytes {@code from .. to - 1}, failing with ESTALE if the object changed. */
    private ResponseInputStream<GetObjectResponse> getBytes(ObjectVersion version, long from, long to) throws IOException {
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = client.getObject(r -> r.bucket(bucket).key(version.key())
                    .range("bytes=" + from + "-" + (to - 1)).ifMatch(version.etag()));
        } catch (SdkException e) {
            throw S3Errors.of(e, version.display(), "ranged GET");
        }
        if (!version.sameEtag(in.response().eTag())) {
            in.abort();
            throw Errno.ESTALE.exception(version.display(), "the object changed while open (ETag "
                    + in.response().eTag() + ", opened as " + version.etag() + ")");
        }
        return in;
    }

    /** Reads the next block from a GET, holding one of the {@code parallel} permits meanwhile. */
    private Block transfer(InputStream in, ObjectVersion version, long index) throws IOException {
        try {
            parallel.acquire();
        } catch (InterruptedException e) {
            throw S3Errors.interrupted(version.display());
        }
        try {
            Block block = newBlock(length(version, index));
            readFully(in, block.bytes, length(version, index), version);
            return block;
        } finally {
            parallel.release();
        }
    }

    /** The block from the disk cache, in an array of its own; null when not there. */
    private Block fromDisk(String diskName, ObjectVersion version, long index) {
        int length = length(version, index);
        Block block = newBlock(length);
        return disk.read(diskName, index, length, block.bytes) ? block : null;
    }

    /** An array for a block of {@code length} bytes: a used one for a full block when there is one. */
    private Block newBlock(int length) {
        if (length == blockSize) {
            Block used = free.poll();
            if (used != null) {
                freeCount.decrementAndGet();
                return used;
            }
        }
        return new Block(length);
    }

    /**
     * A block the memory cache let go of: its array serves the next full block, up to a few
     * spare. Only an array that is used again is retired; any other stays readable to whoever
     * still holds it, and the GC takes it.
     */
    private void dropped(Block block) {
        if (!recycles || block.bytes.length != blockSize) {
            return;
        }
        if (freeCount.incrementAndGet() <= 16) {
            block.retire();
            free.offer(block);
        } else {
            freeCount.decrementAndGet();
        }
    }

    /**
     * Reads part of a block with a GET of just those bytes, past the caches: for a reader whose
     * block keeps leaving the memory cache before it can copy it.
     */
    void readPast(ObjectVersion version, long index, int offset, int length, ByteBuffer dst) throws IOException {
        long from = index * blockSize + offset;
        try (ResponseInputStream<GetObjectResponse> in = getBytes(version, from, from + length)) {
            byte[] bytes = new byte[length];
            readFully(in, bytes, length, version);
            dst.put(bytes);
        }
    }

    /**
     * Blocks a sequential reader may have fetched ahead: the {@code readahead} option, but no more
     * than half the memory cache holds, so that blocks fetched ahead are still there when read.
     */
    int readaheadBlocks(int readahead) {
        return (int) Math.min(readahead, memory.capacity() / blockSize / 2);
    }

    /** The readahead of one sequential reader that reads up to {@code window} blocks ahead. */
    Readahead readahead(ObjectVersion version, int window) {
        return new Readahead(version, Math.max(1, (window + streams - 1) / streams));
    }

    /**
     * How long a readahead GET is kept open for a reader that has stopped asking for more: long
     * enough for a reader's pauses between reads, short enough that readers of the first bytes
     * of many files do not hold a connection and a thread each for long.
     */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * The blocks ahead of one sequential reader. They are claimed as the reader advances, so that
     * the reader's own requests wait for them instead of fetching them again, and filled by
     * {@code streams} threads. With one, its GET runs to the end of the object and fills the
     * claims in order; once every claim is filled it waits (TCP holds the server back) for the
     * reader to claim more. With more, each takes the first claims nobody has taken, a run of
     * them, and fetches that run with a GET of just those blocks. A thread that finds nothing
     * to take for {@link #IDLE_NANOS}, or nothing left of the object, ends and drops its GET; a
     * later claim starts another where the reader is.
     */
    final class Readahead implements AutoCloseable {

        private static final class Claim {
            final long index;
            final CompletableFuture<Block> future;
            /** Whether a filling thread has taken it; guarded by the Readahead. */
            boolean taken;

            Claim(long index, CompletableFuture<Block> future) {
                this.index = index;
                this.future = future;
            }
        }

        private final ObjectVersion version;
        private final String diskName;
        private final long blocks;
        /** Blocks per GET when several fill the claims at once. */
        private final int runBlocks;
        private final ArrayDeque<Claim> claims = new ArrayDeque<>();
        /** The block after the last one claimed; -1 to start afresh. */
        private long claimedEnd = -1;
        /** Threads filling the claims, at most {@code streams}. */
        private int fillers;
        private boolean closed;

        private Readahead(ObjectVersion version, int runBlocks) {
            this.version = version;
            this.diskName = disk == null ? null : diskName(version);
            this.blocks = (version.size() + blockSize - 1) / blockSize;
            this.runBlocks = runBlocks;
        }

        /**
         * Claims the blocks {@code from .. until - 1} that are neither cached nor on their way,
         * going on from the last claim when that lies in this window, and has them fetched.
         */
        synchronized void extend(long from, long until) {
            long end = Math.min(until, blocks);
            if (closed) {
                return;
            }
            long index = claimedEnd >= from && claimedEnd <= end ? claimedEnd : from;
            if (streams > 1 && end < blocks) {
                // Whole runs only, so that each GET fetches a run, not the one block the window
                // moved by; but always the block the reader is at.
                end = Math.max(index + (end - index) / runBlocks * runBlocks, Math.min(end, from + 1));
            }
            boolean added = false;
            for (; index < end; index++) {
                BlockId id = id(version, index);
                if (memory.get(id) != null
                        || disk != null && disk.contains(diskName, index, length(version, index))) {
                    // Read where it is: a cached block in the way only costs the GET a restart.
                    continue;
                }
                CompletableFuture<Block> created = new CompletableFuture<>();
                if (inFlight.putIfAbsent(id, created) == null) {
                    claims.add(new Claim(index, created));
                    added = true;
                }
            }
            claimedEnd = Math.max(end, from);
            if (!added) {
                return;
            }
            notifyAll();
            if (fillers < streams) {
                try {
                    executor.execute(this::fill);
                    fillers++;
                } catch (RejectedExecutionException e) {
                    failAll(Errno.EBADF.exception(version.display(), "the layer is closed"));
                }
            }
        }

        /** Fills runs of claims, each in order: from the disk cache while no GET is open, else from the GET. */
        private void fill() {
            ResponseInputStream<GetObjectResponse> in = null;
            long next = -1; // the block that `in` delivers next
            long getEnd = -1; // the block after the last that `in` delivers
            int delivered = 0; // blocks read from `in`
            try {
                while (true) {
                    java.util.List<Claim> run = nextRun(next);
                    if (run == null) {
                        return;
                    }
                    for (int i = 0; i < run.size(); ) {
                        Claim claim = run.get(i);
                        long index = claim.index;
                        if (in != null && next != index) {
                            // A gap: the blocks between are cached or someone else's.
                            in.abort();
                            in = null;
                        }
                        Block bytes = in == null && disk != null ? fromDisk(diskName, version, index) : null;
                        if (bytes == null) {
                            if (in == null) {
                                getEnd = streams == 1 ? blocks : run.getLast().index + 1;
                                in = get(version, index, getEnd);
                                next = index;
                                delivered = 0;
                            }
                            try {
                                bytes = transfer(in, version, index);
                            } catch (IOException e) {
                                if (delivered == 0 || Errno.of(e) == Errno.ESTALE) {
                                    throw e;
                                }
                                // The GET broke after serving blocks (a dropped idle connection, a
                                // restarted server): a new GET from this block gets a full set of retries.
                                in.abort();
                                in = null;
                                continue;
                            }
                            next++;
                            delivered++;
                            if (next >= getEnd) {
                                // All of it read: closing, not aborting, keeps the connection for the next GET.
                                try {
                                    in.close();
                                } catch (IOException ignored) {
                                    // The bytes are all here; only the connection is lost.
                                }
                                in = null;
                            }
                            if (disk != null) {
                                disk.put(diskName, index, bytes.bytes, length(version, index));
                            }
                        }
                        synchronized (this) {
                            claims.remove(claim);
                        }
                        complete(version, index, claim.future, bytes);
                        i++;
                    }
                }
            } catch (InterruptedException e) {
                ended(S3Errors.interrupted(version.display()));
            } catch (IOException | RuntimeException | Error e) {
                ended(e);
            } finally {
                if (in != null) {
                    in.abort();
                }
            }
        }

        /**
         * Takes the claims to fill next, waiting for some: the one at {@code next} if nobody has
         * it (so that one GET goes on), else the first nobody has; with several streams, also
         * the untaken claims right after it, up to {@link #runBlocks}. Null, and this filler
         * gone, when idle, closed or at the object's end.
         */
        private synchronized java.util.List<Claim> nextRun(long next) throws InterruptedException {
            long deadline = System.nanoTime() + IDLE_NANOS;
            while (true) {
                Claim first = null;
                for (Claim claim : claims) {
                    if (!claim.taken && (first == null || claim.index == next)) {
                        first = claim;
                        if (claim.index == next) {
                            break;
                        }
                    }
                }
                if (first != null) {
                    java.util.List<Claim> run = new java.util.ArrayList<>();
                    first.taken = true;
                    run.add(first);
                    if (streams > 1) {
                        for (Claim claim : claims) {
                            if (run.size() < runBlocks && !claim.taken && claim.index == run.getLast().index + 1) {
                                claim.taken = true;
                                run.add(claim);
                            }
                        }
                    }
                    return run;
                }
                long left = deadline - System.nanoTime();
                if (closed || left <= 0 || claimedEnd >= blocks) {
                    fillers--;
                    return null;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        /** A filler ends with a failure: every claim fails with it, and the next claim starts afresh. */
        private synchronized void ended(Throwable failure) {
            failAll(failure);
            fillers--;
        }

        private synchronized void failAll(Throwable failure) {
            for (Claim claim : claims) {
                fail(version, claim.index, claim.future, failure);
            }
            claims.clear();
            claimedEnd = -1;
        }

        /** Stops claiming; blocks already claimed are still filled, for whoever waits on them. */
        @Override
        public synchronized void close() {
            closed = true;
            notifyAll();
        }
    }

    private void complete(ObjectVersion version, long index, CompletableFuture<Block> future, Block bytes) {
        BlockId id = id(version, index);
        bytes.publish(id, length(version, index));
        memory.put(id, bytes);
        inFlight.remove(id, future);
        future.complete(bytes);
    }

    /**
     * Leaves the in-flight map before waking the waiters: a failure is not remembered, so the
     * next read (even by a waiter that just saw it) asks S3 again and recovers.
     */
    private void fail(ObjectVersion version, long index, CompletableFuture<Block> future, Throwable failure) {
        inFlight.remove(id(version, index), future);
        future.completeExceptionally(failure);
    }

    /** The block's bytes, waiting for them; EIO after the time bound, ESTALE when the object changed. */
    Block block(ObjectVersion version, long index) throws IOException {
        CompletableFuture<Block> future = start(version, index);
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

    /**
     * Puts {@code length} bytes of block {@code index} from {@code offset} on into {@code dst},
     * from memory or straight from the disk cache's file (so that a warm re-read copies the bytes
     * once, not three times); false, leaving {@code dst} as it was, when neither has the block.
     */
    boolean readCached(ObjectVersion version, long index, int offset, int length, ByteBuffer dst, DiskCursor cursor) {
        BlockId id = id(version, index);
        Block block = memory.get(id);
        if (block != null && block.copyTo(id, offset, length, dst)) {
            return true;
        }
        return cursor != null && cursor.read(index, offset, length, dst);
    }

    /** Copies from a block returned by {@link #block}; false if its array went to another block meanwhile. */
    boolean copy(ObjectVersion version, long index, Block block, int offset, int length, ByteBuffer dst) {
        return block.copyTo(id(version, index), offset, length, dst);
    }

    /** A cursor for one reader of {@code version} in the disk cache; null without one. */
    DiskCursor diskCursor(ObjectVersion version) {
        return disk == null ? null : new DiskCursor(version);
    }

    /**
     * One reader's place in the disk cache: the file of the block it last read from there, kept
     * open for the reads that follow (a FUSE reader takes a 4 MiB block in 32 reads). Reads use
     * it under the read lock; putting another in its place takes the write lock, so that the file
     * it replaces is closed only once no read is using it.
     */
    final class DiskCursor implements AutoCloseable {

        private final ObjectVersion version;
        private final String diskName;
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        private long index = -1;
        private FileChannel channel;
        private boolean closed;

        private DiskCursor(ObjectVersion version) {
            this.version = version;
            this.diskName = diskName(version);
        }

        /** Like {@link #readCached}, from the disk cache only. */
        boolean read(long block, int offset, int length, ByteBuffer dst) {
            lock.readLock().lock();
            try {
                if (closed) {
                    return false;
                }
                if (channel != null && index == block) {
                    return readFully(channel, offset, length, dst);
                }
            } finally {
                lock.readLock().unlock();
            }
            FileChannel opened = disk.open(diskName, block, length(version, block));
            if (opened == null) {
                return false;
            }
            boolean read = readFully(opened, offset, length, dst);
            FileChannel replaced;
            lock.writeLock().lock();
            try {
                replaced = closed ? opened : channel;
                if (!closed) {
                    channel = opened;
                    index = block;
                }
            } finally {
                lock.writeLock().unlock();
            }
            closeQuietly(replaced);
            return read;
        }

        private boolean readFully(FileChannel from, int offset, int length, ByteBuffer dst) {
            try {
                if (!DiskBlockCache.readFully(from, offset, dst.slice(dst.position(), length))) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
            dst.position(dst.position() + length);
            return true;
        }

        @Override
        public void close() {
            FileChannel open;
            lock.writeLock().lock();
            try {
                closed = true;
                open = channel;
                channel = null;
            } finally {
                lock.writeLock().unlock();
            }
            closeQuietly(open);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // A file opened only for reading has nothing left to lose.
            }
        }
    }

    /** Starts fetching the block unless it is cached or on its way. */
    CompletableFuture<Block> start(ObjectVersion version, long index) {
        BlockId id = id(version, index);
        Block cached = memory.get(id);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        CompletableFuture<Block> created = new CompletableFuture<>();
        CompletableFuture<Block> existing = inFlight.putIfAbsent(id, created);
        if (existing != null) {
            return existing;
        }
        try {
            executor.execute(() -> fetchBlock(version, index, created));
        } catch (RejectedExecutionException e) {
            fail(version, index, created, Errno.EBADF.exception(version.display(), "the layer is closed"));
        }
        return created;
    }

    private int length(ObjectVersion version, long index) {
        return (int) Math.min(blockSize, version.size() - index * blockSize);
    }

    private String diskName(ObjectVersion version) {
        return client.serviceClientConfiguration().endpointOverride().map(Object::toString).orElse("aws") + '\0'
                + bucket + '\0' + version.key() + '\0' + version.etag() + '\0' + blockSize;
    }

    private static void readFully(InputStream in, byte[] bytes, int length, ObjectVersion version) throws IOException {
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
