package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The TOC of a zstd:chunked layer (containers/storage): a zstd blob that ends in a 72-byte
 * skippable frame (magic {@code 0x184D2A50}, 64 bytes of content) holding eight little-endian
 * 64-bit numbers: the manifest's position, compressed and uncompressed length and type (1), the
 * tar-split's position and two lengths, and the magic {@code "GNUlInUx"}. The manifest, one zstd
 * frame at its position, is a TOC in the format eStargz uses ({@link Stargz#parse}); each
 * regular file's data lies in zstd frames of its own, without tar padding. Opening such a layer
 * reads the footer and the manifest alone; the tar-split is not needed for reading.
 */
final class ZstdChunked {

    static final int FOOTER = 72;
    static final int SKIPPABLE_MAGIC = 0x184D2A50;
    static final long FOOTER_MAGIC = 0x78556e496c554e47L; // "GNUlInUx", little-endian
    private static final int MAX_MANIFEST = 256 << 20;
    private static final System.Logger LOG = System.getLogger(ZstdChunked.class.getName());

    private ZstdChunked() {
    }

    /** The TOC of a zstd:chunked blob; empty for any other zstd blob, or when its manifest cannot be read (with a warning). */
    static Optional<Stargz.Toc> read(Blob blob) throws IOException {
        if (blob.size() < FOOTER) {
            return Optional.empty();
        }
        ByteBuffer footer = ByteBuffer.allocate(FOOTER).order(ByteOrder.LITTLE_ENDIAN);
        blob.read(footer, blob.size() - FOOTER);
        if (footer.getInt(0) != SKIPPABLE_MAGIC || footer.getInt(4) != 64 || footer.getLong(64) != FOOTER_MAGIC) {
            return Optional.empty();
        }
        long offset = footer.getLong(8);
        long compressed = footer.getLong(16);
        long uncompressed = footer.getLong(24);
        long type = footer.getLong(32);
        try {
            if (type != 1) {
                throw new IOException("manifest type " + type + ", not 1");
            }
            if (offset < 0 || compressed <= 0 || offset > blob.size() - FOOTER - compressed || uncompressed < 0
                    || uncompressed > MAX_MANIFEST) {
                throw new IOException("the footer's manifest position is out of range");
            }
            byte[] manifest;
            try (InputStream in = Compression.ZSTD.decompress(new java.io.BufferedInputStream(
                    new Bounded(blob.stream(offset), compressed), 1 << 16))) {
                manifest = in.readNBytes((int) uncompressed);
            } catch (RuntimeException e) {
                throw new IOException("the manifest is not a zstd frame: " + e.getMessage());
            }
            if (manifest.length != uncompressed) {
                throw new IOException("the manifest is shorter than the footer says");
            }
            return Optional.of(Stargz.parse(manifest, offset));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, blob.describe() + " has a zstd:chunked footer but its manifest cannot be"
                    + " used (" + e.getMessage() + "); reading the whole layer instead");
            return Optional.empty();
        }
    }

    /** The first {@code limit} bytes of a stream. */
    private static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long limit) {
            this.in = in;
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
