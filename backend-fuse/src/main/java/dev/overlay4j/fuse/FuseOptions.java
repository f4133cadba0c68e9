package dev.overlay4j.fuse;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How an overlay is served over FUSE.
 *
 * <p>The cache timeouts default to a day: every change reaches the overlay through the mount
 * (lower layers are immutable, the upper layer is the mount's own while mounted) and the
 * kernel keeps its caches right for the changes it passes on, so the timeouts only bound how
 * long a change made behind the mount's back (against the rules) stays unseen.
 *
 * @param threads         reader threads, each with its own {@code /dev/fuse} descriptor
 * @param entryTimeout    how long the kernel may cache a name lookup
 * @param attrTimeout     how long the kernel may cache an entry's attributes
 * @param negativeTimeout how long the kernel may remember that a name does not exist (0: not at all)
 * @param fsName          the mount's source, shown by {@code mount} and {@code df}
 * @param flags           generic mount flags
 * @param passthrough     let the kernel read and write files of local layers directly when it
 *                        can (needs CAP_SYS_ADMIN). Off by default: data goes through the server
 *                        and the kernel's page cache. Every open of a file reaches the server
 *                        either way, so that an open for writing copies a lower file up
 * @param passthroughLowerFiles also hand the kernel files of lower layers opened for reading in a
 *                        writable overlay. Faster, but while such a file is open that way, opening
 *                        it for writing (which copies it up) fails with EBUSY: the kernel keeps one
 *                        backing file per inode. Off by default, so the kernel's semantics hold.
 * @param allowOther      let users other than the mounting one in (always on when mounted by root;
 *                        an unprivileged mount needs {@code user_allow_other} in /etc/fuse.conf)
 * @param posixAcl        ask the kernel to check and cache POSIX ACLs itself (FUSE_POSIX_ACL), as
 *                        the kernel's overlayfs does; on by default, off with option {@code noacl}
 */
public record FuseOptions(int threads, Duration entryTimeout, Duration attrTimeout, Duration negativeTimeout,
                          String fsName, Set<MountFlag> flags, boolean passthrough, boolean passthroughLowerFiles,
                          boolean allowOther, boolean posixAcl) {

    /** Generic mount flags ({@code mount(2)} MS_*); read-only follows the overlay. */
    public enum MountFlag {
        NOSUID(2, "nosuid"), NODEV(4, "nodev"), NOEXEC(8, "noexec"), NOATIME(1024, "noatime"),
        NODIRATIME(2048, "nodiratime"), SYNCHRONOUS(16, "sync"), DIRSYNC(128, "dirsync"),
        RELATIME(1 << 21, "relatime"), STRICTATIME(1 << 24, "strictatime"), LAZYTIME(1 << 25, "lazytime");

        final long bit;
        final String option;

        MountFlag(long bit, String option) {
            this.bit = bit;
            this.option = option;
        }
    }

    public static final int DEFAULT_THREADS = 2;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofDays(1);

    public FuseOptions {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("threads must be between 1 and 64, not " + threads);
        }
        Objects.requireNonNull(entryTimeout, "entryTimeout");
        Objects.requireNonNull(attrTimeout, "attrTimeout");
        Objects.requireNonNull(negativeTimeout, "negativeTimeout");
        if (entryTimeout.isNegative() || attrTimeout.isNegative() || negativeTimeout.isNegative()) {
            throw new IllegalArgumentException("cache timeouts must not be negative");
        }
        if (fsName == null || fsName.isEmpty() || fsName.contains(",")) {
            throw new IllegalArgumentException("fsname must be a non-empty name without commas");
        }
        flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    }

    /** Two readers, one-day caches, no passthrough, source name {@code overlay4j}, no flags. */
    public static FuseOptions defaults() {
        return new FuseOptions(DEFAULT_THREADS, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, "overlay4j", Set.of(),
                false, false, false, true);
    }

    public FuseOptions withThreads(int count) {
        return new FuseOptions(count, entryTimeout, attrTimeout, negativeTimeout, fsName, flags, passthrough,
                passthroughLowerFiles, allowOther, posixAcl);
    }

    public FuseOptions withFsName(String name) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, name, flags, passthrough,
                passthroughLowerFiles, allowOther, posixAcl);
    }

    public FuseOptions withFlags(Set<MountFlag> newFlags) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, fsName, newFlags, passthrough,
                passthroughLowerFiles, allowOther, posixAcl);
    }

    /** Entry and attribute timeouts; the negative-entry timeout follows the entry timeout. */
    public FuseOptions withTimeouts(Duration entry, Duration attr) {
        return new FuseOptions(threads, entry, attr, entry, fsName, flags, passthrough, passthroughLowerFiles, allowOther, posixAcl);
    }

    public FuseOptions withNegativeTimeout(Duration negative) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negative, fsName, flags, passthrough, passthroughLowerFiles, allowOther, posixAcl);
    }

    /** Passthrough on or off; off also turns off {@link #passthroughLowerFiles()}. */
    public FuseOptions withPassthrough(boolean on) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, fsName, flags, on,
                on && passthroughLowerFiles, allowOther, posixAcl);
    }

    /** Passthrough also of lower files read in a writable overlay (turns passthrough on). */
    public FuseOptions withPassthroughOfLowerFiles(boolean on) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, fsName, flags, passthrough || on,
                on, allowOther, posixAcl);
    }

    public FuseOptions withAllowOther(boolean on) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, fsName, flags, passthrough, passthroughLowerFiles, on, posixAcl);
    }

    /** With {@code on} false (option {@code noacl}) the kernel is not asked to handle POSIX ACLs. */
    public FuseOptions withPosixAcl(boolean on) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, negativeTimeout, fsName, flags, passthrough,
                passthroughLowerFiles, allowOther, on);
    }

    long mountFlagBits() {
        long bits = 0;
        for (MountFlag flag : flags) {
            bits |= flag.bit;
        }
        return bits;
    }
}
