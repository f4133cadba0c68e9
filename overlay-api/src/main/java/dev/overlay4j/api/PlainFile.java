package dev.overlay4j.api;

import java.io.IOException;

/**
 * What the defaults of {@link ReadableContent}, {@link WritableContent} and {@link OverlayFile}
 * do for {@code lseek(2)}'s SEEK_DATA and SEEK_HOLE and for {@code fallocate(2)}: a file that
 * keeps no holes (all data up to its end) and reserves no space.
 */
final class PlainFile {

    private PlainFile() {
    }

    /** The first data at or after {@code offset} of a file of {@code size} bytes; ENXIO at or past the end. */
    static long nextData(String file, long offset, long size) throws IOException {
        if (offset < 0 || offset >= size) {
            throw Errno.ENXIO.exception(file, "no data at or after offset " + offset + " of " + size);
        }
        return offset;
    }

    /** The first hole at or after {@code offset}: the end; ENXIO at or past it. */
    static long nextHole(String file, long offset, long size) throws IOException {
        if (offset < 0 || offset >= size) {
            throw Errno.ENXIO.exception(file, "offset " + offset + " is past the end " + size);
        }
        return size;
    }

    /**
     * {@code fallocate(2)} with mode 0, by growing the file: the size to grow it to, or -1 when
     * it is long enough. Other modes fail with EOPNOTSUPP.
     */
    static long grownSize(String file, long offset, long length, int mode, long size) throws IOException {
        if (mode != 0) {
            throw Errno.EOPNOTSUPP.exception(file, "fallocate mode " + mode + " is not supported here");
        }
        if (offset < 0 || length <= 0) {
            throw Errno.EINVAL.exception(file, "fallocate of " + length + " bytes at " + offset);
        }
        long end = offset + length;
        if (end < 0) {
            throw Errno.EFBIG.exception(file, "fallocate past the largest file size");
        }
        return end > size ? end : -1;
    }
}
