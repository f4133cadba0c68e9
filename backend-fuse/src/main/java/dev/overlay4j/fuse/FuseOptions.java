package dev.overlay4j.fuse;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How an overlay is served over FUSE.
 *
 * @param threads      reader threads, each with its own {@code /dev/fuse} descriptor
 * @param entryTimeout how long the kernel may cache a name lookup
 * @param attrTimeout  how long the kernel may cache an entry's attributes
 * @param fsName       the mount's source, shown by {@code mount} and {@code df}
 * @param flags        generic mount flags
 */
public record FuseOptions(int threads, Duration entryTimeout, Duration attrTimeout, String fsName,
                          Set<MountFlag> flags) {

    /** Generic mount flags ({@code mount(2)} MS_*); read-only follows the overlay. */
    public enum MountFlag {
        NOSUID(2), NODEV(4), NOEXEC(8), NOATIME(1024), NODIRATIME(2048);

        final long bit;

        MountFlag(long bit) {
            this.bit = bit;
        }
    }

    public static final int DEFAULT_THREADS = 2;

    public FuseOptions {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("threads must be between 1 and 64, not " + threads);
        }
        Objects.requireNonNull(entryTimeout, "entryTimeout");
        Objects.requireNonNull(attrTimeout, "attrTimeout");
        if (entryTimeout.isNegative() || attrTimeout.isNegative()) {
            throw new IllegalArgumentException("cache timeouts must not be negative");
        }
        if (fsName == null || fsName.isEmpty() || fsName.contains(",")) {
            throw new IllegalArgumentException("fsname must be a non-empty name without commas");
        }
        flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    }

    /** Two readers, one-second caches, source name {@code overlay4j}, no flags. */
    public static FuseOptions defaults() {
        return new FuseOptions(DEFAULT_THREADS, Duration.ofSeconds(1), Duration.ofSeconds(1), "overlay4j", Set.of());
    }

    public FuseOptions withThreads(int count) {
        return new FuseOptions(count, entryTimeout, attrTimeout, fsName, flags);
    }

    public FuseOptions withFsName(String name) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, name, flags);
    }

    public FuseOptions withFlags(Set<MountFlag> newFlags) {
        return new FuseOptions(threads, entryTimeout, attrTimeout, fsName, newFlags);
    }

    public FuseOptions withTimeouts(Duration entry, Duration attr) {
        return new FuseOptions(threads, entry, attr, fsName, flags);
    }

    long mountFlagBits() {
        long bits = 0;
        for (MountFlag flag : flags) {
            bits |= flag.bit;
        }
        return bits;
    }
}
