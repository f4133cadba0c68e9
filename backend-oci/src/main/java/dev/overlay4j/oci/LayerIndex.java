package dev.overlay4j.oci;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a layer needs to know of its archive without reading it: the members as their
 * headers describe them, in archive order, and how the blob is compressed. Built by one pass over
 * the archive, or read back from the {@link IndexCache}.
 *
 * @param compression how the blob is compressed
 * @param blobSize    the blob's length, which a cached index must match
 * @param entries     the members, in archive order
 */
record LayerIndex(Compression compression, long blobSize, List<TarEntry> entries) {

    LayerIndex {
        entries = List.copyOf(entries);
    }

    /** Reads every header of the blob's archive: the one full pass over it. */
    static LayerIndex build(Blob blob) throws IOException {
        Compression compression = Compression.of(blob);
        List<TarEntry> entries = new ArrayList<>();
        ArchiveBytes archive = compression == Compression.NONE ? new PlainArchive(blob) : new CompressedArchive(blob, compression);
        try (InputStream in = archive.stream()) {
            TarReader reader = new TarReader(in);
            for (TarEntry entry; (entry = reader.next()) != null; ) {
                entries.add(entry);
            }
        }
        return new LayerIndex(compression, blob.size(), entries);
    }

    /** The archive's uncompressed bytes, read from the blob. */
    ArchiveBytes archive(Blob blob) {
        return compression == Compression.NONE ? new PlainArchive(blob) : new CompressedArchive(blob, compression);
    }
}
