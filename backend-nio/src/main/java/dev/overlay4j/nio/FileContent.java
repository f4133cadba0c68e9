package dev.overlay4j.nio;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.WritableContent;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The bytes of a local regular file: positional reads and writes on its {@link FileChannel}.
 * Copies between two local files go through {@link FileChannel#transferTo}, which the JDK
 * hands to the kernel ({@code copy_file_range}/{@code sendfile}).
 */
final class FileContent implements WritableContent {

    private final RandomAccessFile file;
    private final FileChannel channel;
    private final String description;

    FileContent(RandomAccessFile file, String description) {
        this.file = file;
        this.channel = file.getChannel();
        this.description = description;
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position < 0) {
            throw Errno.EINVAL.exception(description, "negative position " + position);
        }
        return channel.read(dst, position);
    }

    @Override
    public long copyTo(dev.overlay4j.api.WritableContent target, long position, long count) throws IOException {
        if (!(target instanceof FileContent local)) {
            return WritableContent.super.copyTo(target, position, count);
        }
        long copied = 0;
        synchronized (local) {
            local.channel.position(position);
            while (copied < count) {
                long n = channel.transferTo(position + copied, count - copied, local.channel);
                if (n <= 0) {
                    break;
                }
                copied += n;
            }
        }
        return copied;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (position < 0) {
            throw Errno.EINVAL.exception(description, "negative position " + position);
        }
        int written = 0;
        while (src.hasRemaining()) {
            written += channel.write(src, position + written);
        }
        return written;
    }

    @Override
    public void truncate(long size) throws IOException {
        if (size < 0) {
            throw Errno.EINVAL.exception(description, "negative size " + size);
        }
        file.setLength(size); // ftruncate: grows with a hole, unlike FileChannel.truncate
    }

    @Override
    public void force(boolean metadata) throws IOException {
        channel.force(metadata);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    @Override
    public String toString() {
        return "FileContent[" + description + "]";
    }
}
