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

    /**
     * The capabilities asked for when the kernel offers them. POSIX_ACL: the kernel checks ACLs
     * itself (as overlayfs does) and caches them per inode, so {@code ls -l}'s ACL probe of every
     * file is answered once, not at every listing. What it asks of the server holds here: ACLs
     * are real xattrs of the layers' files, whose file system keeps the mode in step with them
     * and gives new files their directory's default ACL; the umask is still applied by the
     * kernel (no DONT_MASK), as before; default_permissions is on anyway.
     */
    static final long WANTED = Flags.ASYNC_READ | Flags.ATOMIC_O_TRUNC | Flags.BIG_WRITES | Flags.DO_READDIRPLUS
            | Flags.READDIRPLUS_AUTO | Flags.PARALLEL_DIROPS | Flags.MAX_PAGES | Flags.CACHE_SYMLINKS
            | Flags.POSIX_ACL;

    private Init() {
    }

    /** What the kernel sent in {@code fuse_init_in}. */
    public record Offer(int major, int minor, int maxReadahead, long flags) {
    }

    /**
     * The stacking depth asked for with PASSTHROUGH: backing files must live on a file system
     * that stacks on nothing (ext4, xfs, ...), and this mount may in turn serve as a layer of
     * the kernel's overlayfs. Layers on an overlayfs (a container's root) fall back to reads
     * through the server.
     */
    public static final int PASSTHROUGH_STACK_DEPTH = 1;

    /**
     * What goes into {@code fuse_init_out}; {@code major} alone when the majors differ.
     * {@code kernelOpensDirectories}: directories are opened by the kernel alone (no OPENDIR or
     * RELEASEDIR reach the server); not a wire flag, the server's ENOSYS to OPENDIR says it.
     */
    public record Answer(int major, int minor, int maxReadahead, long flags, int maxBackground,
                         int congestionThreshold, int maxWrite, int timeGranularity, int maxPages,
                         int maxStackDepth, boolean kernelOpensDirectories) {

        /** Whether the kernel reads and writes files opened with FOPEN_PASSTHROUGH itself. */
        public boolean passthrough() {
            return (flags & Flags.PASSTHROUGH) != 0;
        }
    }

    /** {@link #negotiate(Offer, boolean, boolean)} without passthrough, opens through the server. */
    public static Answer negotiate(Offer offer) {
        return negotiate(offer, false, false);
    }

    /** {@link #negotiate(Offer, boolean, boolean)} with opens through the server. */
    public static Answer negotiate(Offer offer, boolean passthrough) {
        return negotiate(offer, passthrough, false);
    }

    /**
     * Agrees on a version and capabilities: the smaller minor version of the two, and of the
     * wanted capabilities those the kernel offers ({@code INIT_EXT} whenever any is above bit
     * 31 or the kernel knows it, so that flags2 is read). PASSTHROUGH too when
     * {@code passthrough} and offered, with {@link #PASSTHROUGH_STACK_DEPTH}. With
     * {@code kernelOpensDirectories} and a kernel that offers zero-message opens of directories,
     * the answer says {@link Answer#kernelOpensDirectories()} and the server is to answer OPENDIR
     * with ENOSYS. Files are always opened through the server: an open for writing copies a
     * lower file up, as on the kernel's overlayfs.
     *
     * @throws IllegalArgumentException for a kernel older than protocol 7.x
     */
    public static Answer negotiate(Offer offer, boolean passthrough, boolean kernelOpensDirectories) {
        return negotiate(offer, passthrough, kernelOpensDirectories, true);
    }

    /**
     * {@link #negotiate(Offer, boolean, boolean)}; without {@code posixAcl} (option
     * {@code noacl}) POSIX_ACL is not asked for, so the kernel neither checks ACLs nor applies
     * default ACLs itself.
     */
    public static Answer negotiate(Offer offer, boolean passthrough, boolean kernelOpensDirectories, boolean posixAcl) {
        if (offer.major() < MAJOR) {
            throw new IllegalArgumentException("the kernel speaks FUSE protocol " + offer.major() + "." + offer.minor()
                    + "; overlay4j needs 7.x");
        }
        if (offer.major() > MAJOR) {
            // fuse.h: answer with our major alone; the kernel then retries INIT with it.
            return new Answer(MAJOR, MINOR, 0, 0, 0, 0, 0, 0, 0, 0, false);
        }
        boolean zeroMessageOpendir = kernelOpensDirectories && (offer.flags() & Flags.NO_OPENDIR_SUPPORT) != 0;
        long wanted = posixAcl ? WANTED : WANTED & ~Flags.POSIX_ACL;
        long flags = (wanted | (passthrough ? Flags.PASSTHROUGH : 0)) & offer.flags();
        if ((offer.flags() & Flags.INIT_EXT) != 0) {
            flags |= Flags.INIT_EXT;
        }
        int stackDepth = (flags & Flags.PASSTHROUGH) != 0 ? PASSTHROUGH_STACK_DEPTH : 0;
        return new Answer(MAJOR, Math.min(offer.minor(), MINOR), offer.maxReadahead(), flags, 64, 48, MAX_WRITE, 1,
                MAX_PAGES, stackDepth, zeroMessageOpendir);
    }
}
