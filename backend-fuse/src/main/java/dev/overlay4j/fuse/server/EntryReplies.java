package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.IOException;

/**
 * Hands names to the kernel: every reply that gives it a reference to a node (LOOKUP, the
 * calls that create a name, READDIRPLUS) counts that reference in the {@link NodeTable} and
 * says how long the kernel may cache it ({@link CachePolicy}). Also the owner of what those
 * calls create.
 */
final class EntryReplies {

    private final Overlay overlay;
    private final NodeTable nodes;
    private final CachePolicy cache;

    EntryReplies(Overlay overlay, NodeTable nodes, CachePolicy cache) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.cache = cache;
    }

    /** Answers with a {@code fuse_entry_out} for {@code name} in {@code parent}. */
    int entry(Reply rp, long parent, String name, EntryAttributes attributes) throws IOException {
        long nodeid = nodes.lookedUp(parent, name, attributes);
        return rp.entry(nodeid, cache.entryNanos(), cache.attrNanos(attributes), attributes);
    }

    /** Writes a READDIRPLUS record at {@code at} whose entry gives the kernel a reference. */
    long direntPlus(Reply rp, long at, long parent, DirectoryListing.Listed listed, EntryAttributes attributes,
            long nextOffset) throws IOException {
        long nodeid = nodes.lookedUp(parent, listed.name(), attributes);
        return rp.direntPlus(at, nodeid, cache.entryNanos(), cache.attrNanos(attributes), attributes,
                listed.inode(), nextOffset, listed.type(), listed.encoded());
    }

    /**
     * Owner and permissions of a new entry, as the caller asks: the kernel has already applied
     * its umask (FUSE_DONT_MASK is not negotiated), and the engine gives an entry in a
     * set-group-ID directory that directory's group (and a new directory the bit), as every
     * frontend needs.
     */
    static NewEntryAttributes newEntry(Request rq, int mode) {
        return new NewEntryAttributes(mode & 07777, rq.uid(), rq.gid());
    }
}
