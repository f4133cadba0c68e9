package dev.overlay4j.oci;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The stored bytes of one image layer, its blob as it lies on disk (compressed or not), read at
 * any position. Safe for concurrent reads. Everything a layer reads of its archive goes through
 * here, so a blob that is not read is provably not read.
 */
interface Blob extends Closeable {

    /** The blob's length in bytes. */
    long size();

    /**
     * Reads from {@code position} until {@code dst} is full or the blob ends.
     *
     * @return the bytes read: fewer than asked only at the end, 0 at or past it
     */
    int read(ByteBuffer dst, long position) throws IOException;

    /** How to name the blob in messages. */
    String describe();

    /** The blob from {@code start} on, as a stream; closing it leaves the blob open. */
    default InputStream stream(long start) {
        return new InputStream() {
            private long position = start;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                int n = Blob.this.read(ByteBuffer.wrap(b, off, len), position);
                if (n == 0) {
                    return -1;
                }
                position += n;
                return n;
            }

            @Override
            public long skip(long n) {
                long skipped = Math.max(0, Math.min(n, size() - position));
                position += skipped;
                return skipped;
            }
        };
    }
}
