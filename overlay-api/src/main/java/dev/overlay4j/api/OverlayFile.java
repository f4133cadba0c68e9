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

    /** {@code fstat(2)}. */
    EntryAttributes stat() throws IOException;

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
