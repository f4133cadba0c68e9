package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An open S3 file: one pinned object version read in blocks. A reader that goes on where it
 * stopped is sequential, and gets up to {@code readahead} blocks fetched ahead by one GET that
 * streams on as the reader advances.
 */
final class S3Content implements ReadableContent {

    private final ObjectVersion version;
    private final BlockFetcher fetcher;
    private final int readahead;
    private final BlockFetcher.Readahead ahead;
    private final BlockFetcher.DiskCursor diskCursor;
    private final AtomicLong sequentialEnd = new AtomicLong(0);
    /** Where the reads that went on from each other began; a heuristic, so races only blur it. */
    private volatile long streakStart;
    private volatile boolean closed;

    S3Content(ObjectVersion version, BlockFetcher fetcher, int readahead) {
        this.version = version;
        this.fetcher = fetcher;
        this.readahead = fetcher.readaheadBlocks(readahead);
        this.ahead = this.readahead > 0 ? fetcher.readahead(version, this.readahead) : null;
        this.diskCursor = fetcher.diskCursor(version);
    }

    @Override
    public long size() throws IOException {
        checkOpen();
        return version.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkOpen();
        if (position < 0) {
            throw Errno.EINVAL.exception(version.display(), "negative position");
        }
        if (position >= version.size()) {
            return -1;
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        long end = Math.min(version.size(), position + dst.remaining());
        int blockSize = fetcher.blockSize();
        long first = position / blockSize;
        long last = (end - 1) / blockSize;
        if (position != sequentialEnd.getAndSet(end)) {
            streakStart = position;
        } else if (ahead != null) {
            // Four times as far ahead as the reader has come in order, growing as the kernel's
            // readahead does: a reader of a file's first bytes does not pull in the next 24 MiB.
            // The blocks read now are claimed too, so that a reader's first read starts the stream.
            long aheadBlocks = Math.min(readahead, ((position - streakStart) * 4 + blockSize - 1) / blockSize);
            ahead.extend(first, last + 1 + aheadBlocks);
        }
        if (last > first) {
            // A read of several blocks fetches them in parallel.
            for (long i = first; i <= last; i++) {
                fetcher.start(version, i);
            }
        }
        int copied = 0;
        for (long i = first; i <= last; i++) {
            long blockStart = i * blockSize;
            int from = (int) Math.max(0, position - blockStart);
            int length = (int) (Math.min(blockStart + blockSize, end) - blockStart) - from;
            copy(i, from, length, dst);
            copied += length;
        }
        return copied;
    }

    /**
     * Copies part of block {@code index} from memory, the disk cache or S3. A block whose array
     * went to another block before the copy was done (evicted that fast) is fetched again, and
     * if that happens again, just these bytes are read past the caches.
     */
    private void copy(long index, int from, int length, ByteBuffer dst) throws IOException {
        for (int attempt = 0; attempt < 2; attempt++) {
            if (fetcher.readCached(version, index, from, length, dst, diskCursor)
                    || fetcher.copy(version, index, fetcher.block(version, index), from, length, dst)) {
                return;
            }
        }
        fetcher.readPast(version, index, from, length, dst);
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw Errno.EBADF.exception(version.display(), "the file is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        if (ahead != null) {
            ahead.close();
        }
        if (diskCursor != null) {
            diskCursor.close();
        }
    }
}
