package dev.overlay4j.s3;

import java.util.Map;

/**
 * One directory of the layer as one listing showed it.
 *
 * @param prefix  the directory's key prefix (ends in '/', or is the empty bucket root)
 * @param entries valid names to what they are; marker objects and refused keys are not here
 * @param opaque  whether the directory holds {@code .wh..wh..opq}
 * @param marker  whether an object with the directory's own key ({@code dir/}) exists
 * @param subdirectories how many of the entries are directories (for the directory's link count)
 * @param loadedAtNanos {@link System#nanoTime()} when the listing finished, for the TTL
 */
record Listing(String prefix, Map<String, Node> entries, boolean opaque, boolean marker, int subdirectories,
               long loadedAtNanos) {

    /** What a name of a listing is, before any HEAD. */
    sealed interface Node {
    }

    /** An object (a file, symlink or special file; its metadata says which). */
    record ObjectNode(String key, long size, String etag, long lastModifiedNanos) implements Node {
    }

    /** A common prefix {@code name/}: a directory, with or without a marker object. */
    record DirectoryNode(String prefix) implements Node {
    }

    /** A {@code .wh.NAME} object: NAME is whited out. */
    record WhiteoutNode(String key) implements Node {
    }
}
