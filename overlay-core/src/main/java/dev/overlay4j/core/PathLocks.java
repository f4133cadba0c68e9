package dev.overlay4j.core;

import dev.overlay4j.api.EntryPath;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes copy-ups of one path: the second of two concurrent copy-ups waits and then finds
 * the first one's result. Locks are striped by path, so unrelated paths rarely wait for each
 * other; a caller never holds two of them at once, so striping cannot deadlock.
 */
final class PathLocks {

    private final ReentrantLock[] stripes = new ReentrantLock[64];

    PathLocks() {
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    ReentrantLock of(EntryPath path) {
        return stripes[Math.floorMod(path.hashCode() * 0x9E3779B9, stripes.length)];
    }
}
