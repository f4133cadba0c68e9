package dev.overlay4j.fuse.protocol;

/**
 * The INIT handshake: what the kernel offered and what this server answers. Pure data, so the
 * negotiation rules can be tested without a kernel.
 */
public final class Init {

    /** The protocol major version this server speaks. */
    public static final int MAJOR = 7;
    /** The newest minor version whose structs {@link Structs} lays out. */
    public static final int MINOR = 38;
    /** Pages per request: 256 x 4 KiB = 1 MiB, the kernel's default {@code max_pages_limit}. */
    public static final int MAX_PAGES = 256;
    /** The largest WRITE payload asked for. */
    public static final int MAX_WRITE = MAX_PAGES * 4096;

    /** The capabilities asked for when the kernel offers them. */
    static final long WANTED = Flags.ASYNC_READ | Flags.ATOMIC_O_TRUNC | Flags.BIG_WRITES | Flags.DO_READDIRPLUS
            | Flags.READDIRPLUS_AUTO | Flags.PARALLEL_DIROPS | Flags.MAX_PAGES | Flags.CACHE_SYMLINKS;

    private Init() {
    }

    /** What the kernel sent in {@code fuse_init_in}. */
    public record Offer(int major, int minor, int maxReadahead, long flags) {
    }

    /** What goes into {@code fuse_init_out}; {@code major} alone when the majors differ. */
    public record Answer(int major, int minor, int maxReadahead, long flags, int maxBackground,
                         int congestionThreshold, int maxWrite, int timeGranularity, int maxPages) {
    }

    /**
     * Agrees on a version and capabilities: the smaller minor version of the two, and of the
     * wanted capabilities those the kernel offers ({@code INIT_EXT} whenever any is above bit
     * 31 or the kernel knows it, so that flags2 is read).
     *
     * @throws IllegalArgumentException for a kernel older than protocol 7.x
     */
    public static Answer negotiate(Offer offer) {
        if (offer.major() < MAJOR) {
            throw new IllegalArgumentException("the kernel speaks FUSE protocol " + offer.major() + "." + offer.minor()
                    + "; overlay4j needs 7.x");
        }
        if (offer.major() > MAJOR) {
            // fuse.h: answer with our major alone; the kernel then retries INIT with it.
            return new Answer(MAJOR, MINOR, 0, 0, 0, 0, 0, 0, 0);
        }
        long flags = WANTED & offer.flags();
        if ((offer.flags() & Flags.INIT_EXT) != 0) {
            flags |= Flags.INIT_EXT;
        }
        return new Answer(MAJOR, Math.min(offer.minor(), MINOR), offer.maxReadahead(), flags, 64, 48, MAX_WRITE, 1,
                MAX_PAGES);
    }
}
