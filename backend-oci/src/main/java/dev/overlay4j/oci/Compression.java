package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** How an image layer's tar is compressed, told by its first bytes (not by its name or media type). */
enum Compression {
    NONE,
    GZIP,
    ZSTD;

    /** By the blob's magic number: gzip {@code 1f 8b}, zstd {@code 28 b5 2f fd}, anything else a plain tar. */
    static Compression of(Blob blob) throws IOException {
        byte[] magic = new byte[4];
        int n = blob.read(java.nio.ByteBuffer.wrap(magic), 0);
        if (n >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return GZIP;
        }
        if (n == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return ZSTD;
        }
        return NONE;
    }

    /**
     * The decompressed stream; gzip's concatenated members are read as one stream, as gunzip does,
     * and so are zstd's frames, its skippable frames skipped.
     */
    InputStream decompress(InputStream compressed) throws IOException {
        return switch (this) {
            case NONE -> compressed;
            case GZIP -> new GZIPInputStream(compressed, 1 << 16);
            case ZSTD -> new io.airlift.compress.zstd.ZstdInputStream(new ZstdSkippableFrames(compressed));
        };
    }
}
