package dev.overlay4j.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/** The bytes of a regular file in a writable layer. */
public interface WritableContent extends ReadableContent {

    /** Writes all of {@code src} at {@code position}, growing the file as needed (a gap reads as zeros). */
    int write(ByteBuffer src, long position) throws IOException;

    /** Sets the size: cuts the file or extends it with zeros. */
    void truncate(long size) throws IOException;

    /** Forces written data (and metadata when asked) to stable storage, like {@code fsync(2)}. */
    void force(boolean metadata) throws IOException;
}
