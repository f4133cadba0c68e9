package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything a layer needs to know of its archive without reading it: the members as their
 * headers describe them, in archive order, how the blob is compressed, and for gzip the
 * checkpoints that let a read start near its position. Built by one pass over the archive, or
 * read back from the {@link IndexCache}.
 *
 * @param compression how the blob is compressed
 * @param blobSize    the blob's length, which a cached index must match
 * @param entries     the members, in archive order
 * @param gzip        a gzip blob's checkpoints; null for other blobs, for eStargz, and for gzip when
 *                    the system zlib could not be loaded (then its reads go forward from the start)
 * @param chunks      the files' chunks of an eStargz or zstd:chunked blob, as its TOC lists them;
 *                    null for other blobs. Then the entries came from the TOC and their data
 *                    offsets point into the files' bytes
 */
record LayerIndex(Compression compression, long blobSize, List<TarEntry> entries, GzipIndex gzip, ChunkIndex chunks) {

    LayerIndex {
        entries = List.copyOf(entries);
    }

    /**
     * Reads every header of the blob's archive, the one full pass over it, with gzip checkpoints
     * every {@code interval} bytes; of an eStargz or zstd:chunked blob, reads the footer and the
     * TOC alone.
     */
    static LayerIndex build(Blob blob, int interval) throws IOException {
        Compression compression = Compression.of(blob);
        List<TarEntry> entries = new ArrayList<>();
        Optional<Stargz.Toc> toc = switch (compression) {
            case GZIP -> Stargz.read(blob);
            case ZSTD -> ZstdChunked.read(blob);
            case NONE -> Optional.empty();
        };
        if (toc.isPresent()) {
            return new LayerIndex(compression, blob.size(), toc.get().entries(), null, toc.get().index());
        }
        if (compression == Compression.GZIP && Zlib.available()) {
            try (GzipIndexer in = new GzipIndexer(blob, interval)) {
                readHeaders(in, entries);
                in.drain();
                return new LayerIndex(compression, blob.size(), entries, in.index(), null);
            }
        }
        try (InputStream in = compression == Compression.NONE ? new PlainArchive(blob).stream()
                : new CompressedArchive(blob, compression).stream()) {
            readHeaders(in, entries);
        }
        return new LayerIndex(compression, blob.size(), entries, null, null);
    }

    private static void readHeaders(InputStream in, List<TarEntry> entries) throws IOException {
        TarReader reader = new TarReader(in);
        for (TarEntry entry; (entry = reader.next()) != null; ) {
            entries.add(entry);
        }
    }

    /** Whether this index lacks what this process could use: gzip checkpoints, made without zlib. */
    boolean outdated() {
        return compression == Compression.GZIP && gzip == null && chunks == null && Zlib.available();
    }

    /** The archive's uncompressed bytes, read from the blob; closing it closes the blob and the checkpoints' windows. */
    ArchiveBytes archive(Blob blob) {
        if (gzip != null) {
            return new SeekableGzip(blob, gzip);
        }
        if (chunks != null) {
            return new ChunkedArchive(blob, compression, chunks);
        }
        return compression == Compression.NONE ? new PlainArchive(blob) : new CompressedArchive(blob, compression);
    }

    /** Releases what a loaded index holds open (its cache file) when it is not turned into an archive. */
    void discard() throws IOException {
        if (gzip != null) {
            gzip.close();
        }
    }
}
