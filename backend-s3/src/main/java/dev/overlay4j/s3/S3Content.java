package dev.overlay4j.s3;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An open S3 file: one pinned object version read in blocks. A reader that goes on where it
 * stopped is sequential, and gets the next {@code readahead} blocks fetched ahead, in runs of
 * several blocks per GET, the runs in parallel.
 */
final class S3Content implements ReadableContent {

    private final ObjectVersion version;
    private final BlockFetcher fetcher;
    private final int readahead;
    private final AtomicLong sequentialEnd = new AtomicLong(0);
    private volatile boolean closed;

    S3Content(ObjectVersion version, BlockFetcher fetcher, int readahead) {
        this.version = version;
        this.fetcher = fetcher;
        this.readahead = readahead;
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
        for (long i = first; i <= last; i++) {
            fetcher.start(version, i);
        }
        if (position == sequentialEnd.getAndSet(end) && readahead > 0) {
            // The readahead window in runs aligned to the run size, each fetched with one GET.
            int run = fetcher.runBlocks();
            for (long r = (last + 1) / run * run; r <= last + readahead; r += run) {
                fetcher.startRun(version, r, run);
            }
        }
        int copied = 0;
        for (long i = first; i <= last; i++) {
            byte[] block = fetcher.block(version, i);
            long blockStart = i * blockSize;
            int from = (int) Math.max(0, position - blockStart);
            int to = (int) Math.min(block.length, end - blockStart);
            dst.put(block, from, to - from);
            copied += to - from;
        }
        return copied;
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw Errno.EBADF.exception(version.display(), "the file is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
