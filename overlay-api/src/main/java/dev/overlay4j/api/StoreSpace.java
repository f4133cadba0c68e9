package dev.overlay4j.api;

/**
 * Capacity figures of the store a layer lives on, as {@code statfs(2)} gives them.
 *
 * @param blockSize       the block size the counts below use
 * @param totalBlocks     size of the store in blocks
 * @param freeBlocks      free blocks
 * @param availableBlocks free blocks an unprivileged user may use
 * @param totalFiles      inode count (0 when unknown)
 * @param freeFiles       free inodes (0 when unknown)
 * @param nameMax         longest file name in bytes
 */
public record StoreSpace(long blockSize, long totalBlocks, long freeBlocks, long availableBlocks,
                         long totalFiles, long freeFiles, int nameMax) {
}
