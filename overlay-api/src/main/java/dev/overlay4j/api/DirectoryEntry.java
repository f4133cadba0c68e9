package dev.overlay4j.api;

/**
 * One name in a directory listing.
 *
 * @param name  the entry's name
 * @param type  what it is; layers report whiteouts as {@link EntryType#WHITEOUT}, the overlay never
 *              does; {@link EntryType#UNKNOWN} when the layer cannot tell without a stat (never
 *              a directory or whiteout then)
 * @param inode the entry's inode number when known without a further stat (the overlay always
 *              fills it with the {@code st_ino} that stat reports), else 0
 */
public record DirectoryEntry(String name, EntryType type, long inode) {
}
