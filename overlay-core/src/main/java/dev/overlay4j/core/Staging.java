package dev.overlay4j.core;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The upper layer's work area: every entry that must appear in the upper tree whole (a copied-up
 * file, a whiteout replacing an entry, a directory created opaque) is built here under a unique
 * name and then published with one atomic rename. Entries moved out of the tree by an exchange
 * are removed here too.
 */
final class Staging {

    private static final System.Logger LOG = System.getLogger(Staging.class.getName());

    private final WritableLayer upper;
    private final String prefix = "#overlay4j-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
    private final AtomicLong counter = new AtomicLong();

    Staging(WritableLayer upper) {
        this.upper = upper;
    }

    WritableLayer work() {
        return upper.workArea();
    }

    /** A name in the work area no other staged entry has. */
    EntryPath newName(String purpose) {
        return EntryPath.ROOT.resolve(prefix + purpose + "-" + counter.incrementAndGet());
    }

    void publish(EntryPath staged, EntryPath target, dev.overlay4j.api.RenameMode mode) throws IOException {
        upper.publish(staged, target, mode);
    }

    /** Removes a staged entry and everything under it; failures are logged, as the area is emptied on the next open anyway. */
    void discard(EntryPath staged) {
        try {
            if (work().stat(staged).isPresent()) {
                removeTree(staged);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove " + staged + " from the work area of "
                    + upper.description() + ": " + e);
        }
    }

    private void removeTree(EntryPath path) throws IOException {
        WritableLayer work = work();
        if (work.stat(path).map(a -> a.isDirectory()).orElse(false)) {
            List<String> names;
            try (Stream<DirectoryEntry> children = work.list(path)) {
                names = children.map(DirectoryEntry::name).toList();
            }
            for (String name : names) {
                removeTree(path.resolve(name));
            }
        }
        work.delete(path);
    }
}
