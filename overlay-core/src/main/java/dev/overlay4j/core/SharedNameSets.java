package dev.overlay4j.core;

import java.lang.ref.WeakReference;
import java.util.Set;

/**
 * One copy of each set of lower-directory names in the process. Overlays over the same lower
 * layers (a shared FUSE server hosts many mounts of one image) list the same directories and
 * would each keep their own copy of the same names; an overlay that finds an equal set here
 * keeps that one instead. Only storage is shared: every overlay still lists and decides for
 * itself, so a set found here is never trusted for more than being equal to one just built.
 *
 * <p>Lossy and weak: a slot keeps the last set that hashed to it, for as long as an overlay's
 * cache holds that set. Races lose only sharing: reference reads and writes are atomic.
 */
final class SharedNameSets {

    @SuppressWarnings("unchecked")
    private static final WeakReference<Set<String>>[] SLOTS = new WeakReference[1 << 12];

    private SharedNameSets() {
    }

    /** The process's copy of a set equal to {@code names}, which becomes that copy when there is none. */
    static Set<String> canonical(Set<String> names) {
        if (names.isEmpty()) {
            return Set.of();
        }
        int hash = names.hashCode();
        int index = (hash ^ (hash >>> 16)) & (SLOTS.length - 1);
        WeakReference<Set<String>> slot = SLOTS[index];
        Set<String> shared = slot == null ? null : slot.get();
        if (shared != null && shared.size() == names.size() && shared.equals(names)) {
            return shared;
        }
        SLOTS[index] = new WeakReference<>(names);
        return names;
    }
}
