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
    WHITEOUT;

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

    /** The {@code d_type} value of {@code readdir(3)} for this type. */
    public int direntType() {
        return (formatBits() >>> 12) & 017;
    }
}
