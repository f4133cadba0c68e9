package dev.overlay4j.api;

/** What an entry of a layer or of the overlay is. */
public enum EntryType {
    REGULAR_FILE,
    DIRECTORY,
    SYMLINK,
    CHARACTER_DEVICE,
    BLOCK_DEVICE,
    FIFO,
    SOCKET,
    /**
     * A layer entry that hides the same name in all layers below. Never seen through the
     * overlay. How a backend stores it (a 0/0 character device, an xattr, a {@code .wh.} key)
     * is the backend's business.
     */
    WHITEOUT,
    /**
     * Only in a directory listing ({@link DirectoryEntry}): a layer that cannot tell an entry's
     * type without a further request to its store (an S3 object whose type is in metadata only
     * a HEAD returns) lists it so, and {@link Layer#stat} gives the type. Such an entry is never
     * a directory or a whiteout, which the overlay's merge must know from the listing. Through
     * the overlay it is {@code DT_UNKNOWN}, which readdir(3) allows and which makes programs
     * that need the type ({@code find -type}, {@code ls -F}) stat the entry. Never the type of
     * {@link EntryAttributes}.
     */
    UNKNOWN;

    /** The {@code S_IFMT} bits of {@code st_mode} for this type; a whiteout reports a character device. */
    public int formatBits() {
        return switch (this) {
            case REGULAR_FILE -> 0100000;
            case DIRECTORY -> 0040000;
            case SYMLINK -> 0120000;
            case CHARACTER_DEVICE, WHITEOUT -> 0020000;
            case BLOCK_DEVICE -> 0060000;
            case FIFO -> 0010000;
            case SOCKET -> 0140000;
            case UNKNOWN -> throw new IllegalStateException("an entry listed as of unknown type has no S_IFMT bits; stat it");
        };
    }

    /** The type for the {@code S_IFMT} bits of a {@code st_mode}. */
    public static EntryType ofFormatBits(int mode) {
        return switch (mode & 0170000) {
            case 0100000 -> REGULAR_FILE;
            case 0040000 -> DIRECTORY;
            case 0120000 -> SYMLINK;
            case 0020000 -> CHARACTER_DEVICE;
            case 0060000 -> BLOCK_DEVICE;
            case 0010000 -> FIFO;
            case 0140000 -> SOCKET;
            default -> throw new IllegalArgumentException("unknown file type in mode " + Integer.toOctalString(mode));
        };
    }

    /** The {@code d_type} value of {@code readdir(3)} for this type: {@code DT_UNKNOWN} (0) for {@link #UNKNOWN}. */
    public int direntType() {
        return this == UNKNOWN ? 0 : (formatBits() >>> 12) & 017;
    }
}
