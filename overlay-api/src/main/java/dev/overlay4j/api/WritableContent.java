package dev.overlay4j.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/** The bytes of a regular file in a writable layer. */
public interface WritableContent extends ReadableContent {

    /** {@link #allocate} mode bit ({@code FALLOC_FL_KEEP_SIZE}): the size stays as it is. */
    int ALLOCATE_KEEP_SIZE = 0x01;
    /** {@link #allocate} mode bit ({@code FALLOC_FL_PUNCH_HOLE}, with {@link #ALLOCATE_KEEP_SIZE}): frees the range. */
    int ALLOCATE_PUNCH_HOLE = 0x02;
    /** {@link #allocate} mode bit ({@code FALLOC_FL_COLLAPSE_RANGE}): removes the range, moving what follows down. */
    int ALLOCATE_COLLAPSE_RANGE = 0x08;
    /** {@link #allocate} mode bit ({@code FALLOC_FL_ZERO_RANGE}): the range reads as zeros. */
    int ALLOCATE_ZERO_RANGE = 0x10;
    /** {@link #allocate} mode bit ({@code FALLOC_FL_INSERT_RANGE}): inserts a hole, moving what follows up. */
    int ALLOCATE_INSERT_RANGE = 0x20;
    /** {@link #allocate} mode bit ({@code FALLOC_FL_UNSHARE_RANGE}): unshares blocks shared with other files. */
    int ALLOCATE_UNSHARE_RANGE = 0x40;

    /** Writes all of {@code src} at {@code position}, growing the file as needed (a gap reads as zeros). */
    int write(ByteBuffer src, long position) throws IOException;

    /** Sets the size: cuts the file or extends it with zeros. */
    void truncate(long size) throws IOException;

    /**
     * {@code fallocate(2)}: {@code mode} holds Linux's {@code FALLOC_FL_*} bits (the
     * {@code ALLOCATE_*} constants), and errors are those of the call (EOPNOTSUPP for a mode the
     * store lacks, EINVAL for a range it cannot take). The default supports mode 0 alone, by
     * growing the file to {@code offset + length} when it is shorter, which reserves no space.
     */
    default void allocate(long offset, long length, int mode) throws IOException {
        long grown = PlainFile.grownSize(toString(), offset, length, mode, size());
        if (grown > 0) {
            truncate(grown);
        }
    }

    /** Forces written data (and metadata when asked) to stable storage, like {@code fsync(2)}. */
    void force(boolean metadata) throws IOException;
}
