package dev.overlay4j.api;

/**
 * The metadata of one entry, as {@code lstat(2)} reports it, plus the overlay marks a layer
 * keeps on directories.
 *
 * @param type          what the entry is
 * @param permissions   the permission bits, {@code 07777} (set-id and sticky bits included)
 * @param uid           owner user id
 * @param gid           owner group id
 * @param size          size in bytes (link target length for symlinks)
 * @param blocks        512-byte blocks allocated
 * @param atimeNanos    last access, nanoseconds since the epoch
 * @param mtimeNanos    last modification, nanoseconds since the epoch
 * @param ctimeNanos    last status change, nanoseconds since the epoch
 * @param nlink         number of hard links
 * @param inode         inode identity: stable for the life of the entry and equal for hard links
 *                      of one file within one layer; in the overlay, the overlay's {@code st_ino}
 * @param rdev          device number of character and block devices, else 0
 * @param opaque        a directory that hides everything below it in lower layers
 * @param redirect      for a directory renamed in an upper layer: where its lower content lives
 *                      (absolute from the overlay root when it starts with {@code '/'}, else a
 *                      name in the same parent); {@code null} when there is none
 */
public record EntryAttributes(
        EntryType type,
        int permissions,
        int uid,
        int gid,
        long size,
        long blocks,
        long atimeNanos,
        long mtimeNanos,
        long ctimeNanos,
        int nlink,
        long inode,
        long rdev,
        boolean opaque,
        String redirect) {

    public EntryAttributes {
        if (type == null || type == EntryType.UNKNOWN) {
            throw new IllegalArgumentException(type == null ? "type is required" : "an entry's attributes have a known type");
        }
        permissions &= 07777;
    }

    /** {@code st_mode}: file type bits and permissions. */
    public int mode() {
        return type.formatBits() | permissions;
    }

    public boolean isDirectory() {
        return type == EntryType.DIRECTORY;
    }

    public boolean isRegularFile() {
        return type == EntryType.REGULAR_FILE;
    }

    public boolean isSymlink() {
        return type == EntryType.SYMLINK;
    }

    public boolean isWhiteout() {
        return type == EntryType.WHITEOUT;
    }

    /** A copy with another inode number; used where the overlay assigns its own {@code st_ino}. */
    public EntryAttributes withInode(long newInode) {
        return new EntryAttributes(type, permissions, uid, gid, size, blocks, atimeNanos, mtimeNanos,
                ctimeNanos, nlink, newInode, rdev, opaque, redirect);
    }

    /** A copy with another link count. */
    public EntryAttributes withNlink(int newNlink) {
        return new EntryAttributes(type, permissions, uid, gid, size, blocks, atimeNanos, mtimeNanos,
                ctimeNanos, newNlink, inode, rdev, opaque, redirect);
    }

    /** A copy without the overlay marks (opaque, redirect), as the merged view shows it. */
    public EntryAttributes withoutOverlayMarks() {
        return opaque || redirect != null
                ? new EntryAttributes(type, permissions, uid, gid, size, blocks, atimeNanos, mtimeNanos,
                        ctimeNanos, nlink, inode, rdev, false, null)
                : this;
    }
}
