package dev.overlay4j.oci;

import java.util.Map;

/**
 * One member of a tar archive as its headers describe it, long names and PAX records applied.
 *
 * @param name       the member's name as stored (not yet checked or normalized)
 * @param type       the typeflag byte of its ustar header
 * @param linkName   the hard link's or symlink's target as stored, else empty
 * @param mode       the permission bits ({@code 07777})
 * @param size       the bytes of data that follow its header (0 for header-only types)
 * @param dataOffset where its data starts in the uncompressed archive
 * @param xattrs     extended attributes from {@code SCHILY.xattr.*} records, in archive order
 */
record TarEntry(String name, byte type, String linkName, int mode, long uid, long gid, long size,
                long mtimeNanos, long atimeNanos, long ctimeNanos, long devMajor, long devMinor,
                long dataOffset, Map<String, byte[]> xattrs) {

    static final byte REGULAR = '0';
    static final byte REGULAR_OLD = 0;
    static final byte HARD_LINK = '1';
    static final byte SYMLINK = '2';
    static final byte CHARACTER_DEVICE = '3';
    static final byte BLOCK_DEVICE = '4';
    static final byte DIRECTORY = '5';
    static final byte FIFO = '6';
    static final byte CONTIGUOUS = '7';

    boolean isRegular() {
        return type == REGULAR || type == REGULAR_OLD || type == CONTIGUOUS;
    }
}
