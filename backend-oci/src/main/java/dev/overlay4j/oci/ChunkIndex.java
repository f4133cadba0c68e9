package dev.overlay4j.oci;

import java.util.List;

/**
 * Where the bytes of an eStargz or zstd:chunked layer's files lie: each file is one or more
 * chunks, each chunk in a gzip member or zstd frames of its own (or shared, at an offset inside
 * it), so a file is read by decompressing its chunks' members alone. The layer's "uncompressed
 * stream" is then not the tar stream but the files' bytes laid one after another in TOC order: a
 * {@link TarEntry#dataOffset()} points into it.
 *
 * @param size   the length of that stream: all files' bytes
 * @param chunks in stream order, without gaps
 */
record ChunkIndex(long size, List<Chunk> chunks) {

    /**
     * One chunk of one file.
     *
     * @param out         where it starts in the stream of the files' bytes
     * @param length      its length
     * @param member      the blob position of the gzip member or zstd frame that holds it; -1 for a
     *                    chunk of zeros (zstd:chunked's {@code chunkType: zeros}), which holds no data
     * @param innerOffset where it starts in that member's uncompressed bytes
     * @param sha256      its SHA-256 as the TOC gives it ({@code chunkDigest}), or empty when none is given
     */
    record Chunk(long out, long length, long member, long innerOffset, byte[] sha256) {
    }

    ChunkIndex {
        chunks = List.copyOf(chunks);
    }

    /** The chunk that holds {@code position}, which is in {@code [0, size)}. */
    int chunkOf(long position) {
        int low = 0;
        int high = chunks.size() - 1;
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            if (chunks.get(mid).out() <= position) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }
}
