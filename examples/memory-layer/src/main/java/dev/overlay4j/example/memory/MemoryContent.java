package dev.overlay4j.example.memory;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.WritableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.util.Arrays;
import java.util.Optional;

/** The bytes of one file node, opened for reading or for reading and writing. */
final class MemoryContent implements WritableContent {

    private final MemoryStore store;
    private final Node file;
    private final String name;
    private final boolean writable;

    MemoryContent(MemoryStore store, Node file, String name, boolean writable) {
        this.store = store;
        this.file = file;
        this.name = name;
        this.writable = writable;
    }

    @Override
    public long size() {
        synchronized (store.lock) {
            return file.size;
        }
    }

    @Override
    public int read(ByteBuffer dst, long position) {
        synchronized (store.lock) {
            if (position >= file.size) {
                return -1;
            }
            int count = (int) Math.min(dst.remaining(), file.size - position);
            dst.put(file.data, (int) position, count);
            return count;
        }
    }

    @Override
    public Optional<EntryAttributes> stat() {
        synchronized (store.lock) {
            return Optional.of(file.attributes());
        }
    }

    /** Makes room for {@code size} bytes; what lies past the old size is already zeros (see {@link #truncate}). */
    private void reserve(long size) throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw Errno.EFBIG.exception(name, "a memory file holds less than 2 GiB");
        }
        if (size > file.data.length) {
            file.data = Arrays.copyOf(file.data, (int) Math.max(size, Math.min(2L * file.data.length, Integer.MAX_VALUE - 8)));
        }
    }

    private void changed() {
        long now = MemoryStore.now();
        file.mtimeNanos = now;
        file.ctimeNanos = now;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (!writable) {
            throw new NonWritableChannelException();
        }
        synchronized (store.lock) {
            int count = src.remaining();
            reserve(position + count);
            src.get(file.data, (int) position, count);
            file.size = (int) Math.max(file.size, position + count);
            changed();
            return count;
        }
    }

    @Override
    public void truncate(long size) throws IOException {
        if (!writable) {
            throw new NonWritableChannelException();
        }
        synchronized (store.lock) {
            reserve(size);
            if (size < file.size) {
                Arrays.fill(file.data, (int) size, file.size, (byte) 0); // so that growing again reads zeros
            }
            file.size = (int) size;
            changed();
        }
    }

    @Override
    public void force(boolean metadata) {
        // Memory is as stable as it gets.
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name;
    }
}
