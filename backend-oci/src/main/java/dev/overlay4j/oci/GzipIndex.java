package dev.overlay4j.oci;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * Where a gzip stream can be entered other than at its start: checkpoints at deflate block
 * boundaries about every {@code interval} bytes of output, each with what resuming there takes
 * (the compressed position to the bit, and the 32 KiB of output before it that back-references
 * may reach), and the CRC-32 of the output from it to the next, which every read checks. The
 * stream may be several gzip members one after another (eStargz is); checkpoints lie in any.
 *
 * @param size        the stream's whole uncompressed length
 * @param interval    the output between checkpoints that the index was built for
 * @param checkpoints in stream order; the first at output 0
 */
record GzipIndex(long size, int interval, List<Checkpoint> checkpoints, Windows windows) implements Closeable {

    /**
     * One place to resume inflating.
     *
     * @param out          the uncompressed position it stands at
     * @param in           the compressed position of the first whole byte after it
     * @param bits         how many high bits of the byte before {@code in} belong to the block it starts (0-7)
     * @param crc          CRC-32 of the output from here to the next checkpoint (or the end)
     * @param windowOffset where its window lies among {@link #windows}
     * @param windowLength its window's length: up to 32 KiB
     */
    record Checkpoint(long out, long in, int bits, int crc, long windowOffset, int windowLength) {
    }

    /** The windows of all checkpoints, one after another: in memory, or in the cache file they were read from. */
    sealed interface Windows extends Closeable {
        ByteBuffer read(long offset, int length) throws IOException;

        long length() throws IOException;
    }

    record InMemory(byte[] bytes) implements Windows {
        @Override
        public ByteBuffer read(long offset, int length) {
            return ByteBuffer.wrap(bytes, Math.toIntExact(offset), length).slice();
        }

        @Override
        public long length() {
            return bytes.length;
        }

        @Override
        public void close() {
        }
    }

    /** A region of an open cache file: a window is read when its span is inflated, so the index holds none in memory. */
    record InFile(FileChannel channel, long start, long length) implements Windows {
        @Override
        public ByteBuffer read(long offset, int count) throws IOException {
            ByteBuffer window = ByteBuffer.allocate(count);
            while (window.hasRemaining()) {
                if (channel.read(window, start + offset + window.position()) < 0) {
                    throw new IOException("the cache file ends inside a checkpoint's window");
                }
            }
            return window.flip();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    GzipIndex {
        checkpoints = List.copyOf(checkpoints);
    }

    /** The checkpoint whose span holds {@code position} (which is in {@code [0, size)}). */
    int spanOf(long position) {
        int low = 0;
        int high = checkpoints.size() - 1;
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            if (checkpoints.get(mid).out() <= position) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }

    /** Where span {@code i} ends: the next checkpoint, or the end of the stream. */
    long spanEnd(int i) {
        return i + 1 < checkpoints.size() ? checkpoints.get(i + 1).out() : size;
    }

    byte[] window(Checkpoint checkpoint) throws IOException {
        ByteBuffer buffer = windows.read(checkpoint.windowOffset(), checkpoint.windowLength());
        byte[] window = new byte[checkpoint.windowLength()];
        buffer.get(window);
        return window;
    }

    @Override
    public void close() throws IOException {
        windows.close();
    }
}
