package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An uncompressed archive: a file's bytes are read in place, and nothing else is read for them. */
final class PlainArchive implements ArchiveBytes {

    private final FileChannel channel;

    PlainArchive(Path file) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total == 0 && dst.hasRemaining() ? -1 : total;
    }

    /** Reads headers only: skipping a member's data moves the position and reads nothing. */
    @Override
    public InputStream stream() {
        return new InputStream() {
            private long position;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = channel.read(ByteBuffer.wrap(b, off, len), position);
                if (n > 0) {
                    position += n;
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                long skipped = Math.max(0, Math.min(n, channel.size() - position));
                position += skipped;
                return skipped;
            }
        };
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
