package dev.overlay4j.filesystem;

import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * A channel on an open {@link OverlayFile}; it serves both {@code newByteChannel} and
 * {@code newFileChannel}. The file position is guarded by one lock so the channel can be
 * shared between threads; positional reads and writes do not take it. Mapping and locking
 * are not offered (the bytes may live in any kind of layer).
 */
final class OverlayFileChannel extends FileChannel {

    /** Runs after the file is closed (DELETE_ON_CLOSE). */
    @FunctionalInterface
    interface CloseAction {
        void run() throws IOException;
    }

    private static final int TRANSFER_CHUNK = 64 * 1024;

    private final OverlayFile file;
    private final OpenOptions options;
    private final CloseAction afterClose;
    private final Object positionLock = new Object();
    private long position;

    OverlayFileChannel(OverlayFile file, OpenOptions options, CloseAction afterClose) {
        this.file = file;
        this.options = options;
        this.afterClose = afterClose;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    private void ensureReadable() throws ClosedChannelException {
        ensureOpen();
        if (!options.read()) {
            throw new NonReadableChannelException();
        }
    }

    private void ensureWritable() throws ClosedChannelException {
        ensureOpen();
        if (!options.write()) {
            throw new NonWritableChannelException();
        }
    }

    /** Runs a blocking call so that closing the channel or interrupting the thread ends it as the JDK's channels do. */
    private <T> T blocking(IoAction<T> action) throws IOException {
        boolean completed = false;
        try {
            begin();
            T result = action.run();
            completed = true;
            return result;
        } finally {
            end(completed);
        }
    }

    /** Writes all of {@code src} at {@code at}; a file write may take fewer bytes than offered. */
    private int writeFully(ByteBuffer src, long at) throws IOException {
        int written = 0;
        while (src.hasRemaining()) {
            written += file.write(src, at + written);
        }
        if (options.sync() && written > 0) {
            file.force(true);
        }
        return written;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureReadable();
        synchronized (positionLock) {
            return blocking(() -> {
                int read = file.read(dst, position);
                if (read > 0) {
                    position += read;
                }
                return read;
            });
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        ensureReadable();
        synchronized (positionLock) {
            return blocking(() -> {
                long total = 0;
                for (int i = offset; i < offset + length; i++) {
                    ByteBuffer dst = dsts[i];
                    int wanted = dst.remaining();
                    int read = file.read(dst, position);
                    if (read < 0) {
                        return total == 0 ? -1L : total;
                    }
                    position += read;
                    total += read;
                    if (read < wanted) {
                        break;
                    }
                }
                return total;
            });
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ensureWritable();
        synchronized (positionLock) {
            return blocking(() -> {
                long at = options.append() ? file.size() : position;
                int written = writeFully(src, at);
                position = at + written;
                return written;
            });
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureWritable();
        synchronized (positionLock) {
            return blocking(() -> {
                long at = options.append() ? file.size() : position;
                long total = 0;
                for (int i = offset; i < offset + length; i++) {
                    total += writeFully(srcs[i], at + total);
                }
                position = at + total;
                return total;
            });
        }
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        synchronized (positionLock) {
            return options.append() ? file.size() : position;
        }
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        ensureOpen();
        synchronized (positionLock) {
            position = newPosition;
        }
        return this;
    }

    @Override
    public long size() throws IOException {
        ensureOpen();
        return blocking(file::size);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        ensureWritable();
        synchronized (positionLock) {
            blocking(() -> {
                if (size < file.size()) {
                    file.truncate(size);
                }
                return null;
            });
            if (position > size) {
                position = size;
            }
        }
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        ensureOpen();
        blocking(() -> {
            file.force(metaData);
            return null;
        });
    }

    @Override
    public int read(ByteBuffer dst, long at) throws IOException {
        if (at < 0) {
            throw new IllegalArgumentException("negative position " + at);
        }
        ensureReadable();
        return blocking(() -> file.read(dst, at));
    }

    @Override
    public int write(ByteBuffer src, long at) throws IOException {
        if (at < 0) {
            throw new IllegalArgumentException("negative position " + at);
        }
        ensureWritable();
        return blocking(() -> writeFully(src, at));
    }

    @Override
    public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
        if (at < 0 || count < 0) {
            throw new IllegalArgumentException("negative position or count");
        }
        ensureReadable();
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(TRANSFER_CHUNK, Math.max(count, 1)));
        long transferred = 0;
        while (transferred < count) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), count - transferred));
            int read = read(buffer, at + transferred);
            if (read <= 0) {
                break;
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer);
            }
            transferred += read;
        }
        return transferred;
    }

    @Override
    public long transferFrom(ReadableByteChannel source, long at, long count) throws IOException {
        if (at < 0 || count < 0) {
            throw new IllegalArgumentException("negative position or count");
        }
        ensureWritable();
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(TRANSFER_CHUNK, Math.max(count, 1)));
        long transferred = 0;
        while (transferred < count) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), count - transferred));
            int read = source.read(buffer);
            if (read <= 0) {
                break;
            }
            buffer.flip();
            transferred += write(buffer, at + transferred);
        }
        return transferred;
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long at, long size) {
        throw new UnsupportedOperationException("memory mapping is not supported by the overlay file system");
    }

    @Override
    public FileLock lock(long at, long size, boolean shared) {
        throw new UnsupportedOperationException("file locks are not supported by the overlay file system");
    }

    @Override
    public FileLock tryLock(long at, long size, boolean shared) {
        throw new UnsupportedOperationException("file locks are not supported by the overlay file system");
    }

    @Override
    protected void implCloseChannel() throws IOException {
        try {
            file.close();
        } finally {
            if (afterClose != null) {
                afterClose.run();
            }
        }
    }
}
