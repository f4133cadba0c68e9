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
 * says how long the kernel may cache it ({@link CachePolicy}). Also the rule for the owner of
 * what those calls create.
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
     * Owner and permissions of a new entry. The kernel has already applied the caller's umask
     * (FUSE_DONT_MASK is not negotiated). A set-group-ID parent passes its group on, and to new
     * directories its set-group-ID bit too, as Linux file systems do.
     */
    NewEntryAttributes newEntry(Request rq, EntryPath parent, int mode, boolean directory) throws IOException {
        int permissions = mode & 07777;
        int gid = rq.gid();
        EntryAttributes parentAttributes = overlay.stat(parent);
        if ((parentAttributes.permissions() & 02000) != 0) {
            gid = parentAttributes.gid();
            if (directory) {
                permissions |= 02000;
            }
        }
        return new NewEntryAttributes(permissions, rq.uid(), gid);
    }
}
