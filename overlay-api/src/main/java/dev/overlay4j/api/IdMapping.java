package dev.overlay4j.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How user or group ids stored in the layers relate to the ids seen through the overlay
 * (fuse-overlayfs's {@code uidmapping=} and {@code gidmapping=}): each range maps
 * {@code count} stored ids from {@code stored} on to as many shown ids from {@code shown}.
 * Ids are unsigned 32-bit values held in an {@code int}. An id in no range has no
 * counterpart: the overlay shows (or stores) the overflow id for it. Immutable.
 */
public final class IdMapping {

    /** One range: stored ids {@code stored .. stored+count-1} are shown as {@code shown .. shown+count-1}. */
    public record Range(long stored, long shown, long count) {
        public Range {
            if (count < 1) {
                throw new IllegalArgumentException("an id range needs at least one id, not " + count);
            }
            for (long start : new long[] {stored, shown}) {
                if (start < 0 || start + count > MAX_IDS) {
                    throw new IllegalArgumentException("the id range " + stored + ":" + shown + ":" + count
                            + " goes past the largest id " + (MAX_IDS - 1));
                }
            }
        }
    }

    /** Ids are 32-bit: 0 .. 4294967295. */
    private static final long MAX_IDS = 1L << 32;

    /** Searched from the last range given to the first, so a later range wins where two overlap (as in fuse-overlayfs). */
    private final List<Range> ranges;

    private IdMapping(List<Range> ranges) {
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("an id mapping needs at least one range");
        }
        this.ranges = List.copyOf(ranges);
    }

    /** A mapping of the given ranges, in the order given. */
    public static IdMapping of(List<Range> ranges) {
        return new IdMapping(Objects.requireNonNull(ranges, "ranges"));
    }

    /**
     * Reads fuse-overlayfs's syntax {@code STORED:SHOWN:COUNT[:STORED:SHOWN:COUNT...]}, decimal
     * numbers separated by colons. Empty fields are skipped as fuse-overlayfs does, which is
     * how containers/storage's form with a leading colon ({@code :0:100000:65536}) reads.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code spec}
     */
    public static IdMapping parse(String spec) {
        List<Long> numbers = new ArrayList<>();
        for (String field : spec.split(":")) {
            if (field.isEmpty()) {
                continue;
            }
            numbers.add(number(spec, field));
        }
        if (numbers.isEmpty() || numbers.size() % 3 != 0) {
            throw new IllegalArgumentException("\"" + spec + "\" is not a list of STORED:SHOWN:COUNT ranges");
        }
        List<Range> ranges = new ArrayList<>();
        for (int i = 0; i < numbers.size(); i += 3) {
            ranges.add(new Range(numbers.get(i), numbers.get(i + 1), numbers.get(i + 2)));
        }
        return new IdMapping(ranges);
    }

    private static long number(String spec, String field) {
        boolean digits = field.length() <= 10 && field.chars().allMatch(c -> c >= '0' && c <= '9');
        long value = digits ? Long.parseLong(field) : -1;
        if (value < 0 || value >= MAX_IDS) {
            throw new IllegalArgumentException("\"" + field + "\" in \"" + spec + "\" is not an id (0 to "
                    + (MAX_IDS - 1) + ")");
        }
        return value;
    }

    public List<Range> ranges() {
        return ranges;
    }

    /** The id shown for stored id {@code stored}, or {@code unmapped} when no range holds it. */
    public int shown(int stored, int unmapped) {
        long id = Integer.toUnsignedLong(stored);
        for (int i = ranges.size() - 1; i >= 0; i--) {
            Range range = ranges.get(i);
            if (id >= range.stored() && id < range.stored() + range.count()) {
                return (int) (range.shown() + (id - range.stored()));
            }
        }
        return unmapped;
    }

    /** The id stored for shown id {@code shown}, or {@code unmapped} when no range holds it. */
    public int stored(int shown, int unmapped) {
        long id = Integer.toUnsignedLong(shown);
        for (int i = ranges.size() - 1; i >= 0; i--) {
            Range range = ranges.get(i);
            if (id >= range.shown() && id < range.shown() + range.count()) {
                return (int) (range.stored() + (id - range.shown()));
            }
        }
        return unmapped;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof IdMapping mapping && mapping.ranges.equals(ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode();
    }

    /** In the syntax {@link #parse} reads. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (Range range : ranges) {
            s.append(s.isEmpty() ? "" : ":").append(range.stored()).append(':').append(range.shown()).append(':')
                    .append(range.count());
        }
        return s.toString();
    }
}
