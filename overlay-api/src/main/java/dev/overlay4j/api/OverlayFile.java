package dev.overlay4j.api;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An open regular file of an overlay. A file opened for reading from a lower layer keeps
 * reading that layer's bytes even if the file is later copied up (as with the kernel's
 * overlayfs); a file opened for writing lives in the upper layer.
 */
public interface OverlayFile extends Closeable {

    /** Whether {@link #write} and {@link #truncate} are allowed (EBADF otherwise). */
    boolean isWritable();

    int read(ByteBuffer dst, long position) throws IOException;

    int write(ByteBuffer src, long position) throws IOException;

    long size() throws IOException;

    void truncate(long size) throws IOException;

    /** {@code fsync(2)} / {@code fdatasync(2)}. */
    void force(boolean metadata) throws IOException;

    /**
     * {@code fstat(2)}: the attributes of the file this handle holds, also once its name is gone
     * (then with the link count the store reports, 0 when no name is left).
     */
    EntryAttributes stat() throws IOException;

    /**
     * {@code fallocate(2)} on a handle open for writing (EBADF otherwise); see
     * {@link WritableContent#allocate} for {@code mode}.
     */
    default void allocate(long offset, long length, int mode) throws IOException {
        if (!isWritable()) {
            throw Errno.EBADF.exception(toString(), "the file is not open for writing");
        }
        long grown = PlainFile.grownSize(toString(), offset, length, mode, size());
        if (grown > 0) {
            truncate(grown);
        }
    }

    /** {@code lseek(2)} with {@code SEEK_DATA}; see {@link ReadableContent#nextData}. */
    default long nextData(long offset) throws IOException {
        return PlainFile.nextData(toString(), offset, size());
    }

    /** {@code lseek(2)} with {@code SEEK_HOLE}; see {@link ReadableContent#nextHole}. */
    default long nextHole(long offset) throws IOException {
        return PlainFile.nextHole(toString(), offset, size());
    }

    /** The local file that holds the bytes this handle reads and writes, for kernel passthrough. */
    Optional<Path> localFile();

    /**
     * Whether this read-only handle's file lies in a lower layer of a writable overlay, so a
     * write to it (through any handle) would copy it up and move its bytes to another file.
     * A frontend that hands {@link #localFile()} to the kernel must know this: the handle then
     * follows the copy-up, a kernel-held file would not.
     */
    default boolean mayBeCopiedUp() {
        return false;
    }
}
