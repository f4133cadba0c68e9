package dev.overlay4j.fuse.server;

import static dev.overlay4j.fuse.protocol.Flags.FATTR_ATIME;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_ATIME_NOW;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_FH;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_GID;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MODE;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MTIME;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MTIME_NOW;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_SIZE;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_UID;

import dev.overlay4j.api.Access;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.IOException;

/**
 * Attributes: GETATTR, SETATTR (chmod, chown, truncate, utimens) and ACCESS. A node whose
 * name is gone is still answered from its open file, as fstat and ftruncate on it must be.
 */
final class AttributeHandlers {

    private final Overlay overlay;
    private final NodeTable nodes;
    private final CachePolicy cache;
    private final OpenHandles handles;

    AttributeHandlers(Overlay overlay, NodeTable nodes, CachePolicy cache, OpenHandles handles) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.cache = cache;
        this.handles = handles;
    }

    int getattr(Request rq, In.Getattr in, Reply rp) throws IOException {
        EntryAttributes attributes;
        OpenHandles.OpenFile open = in.hasHandle() ? handles.file(in.fh()) : null;
        if (open != null && open.isOpen()) {
            attributes = open.file().stat();
        } else {
            EntryPath path = nodes.pathOrNull(rq.nodeid());
            OverlayFile orphan = path == null ? handles.orphan(rq.nodeid()) : null;
            attributes = orphan != null ? orphan.stat() : overlay.stat(path != null ? path : nodes.path(rq.nodeid()));
        }
        return rp.attr(cache.attrNanos(attributes), attributes);
    }

    int setattr(Request rq, In.Setattr in, Reply rp) throws IOException {
        EntryPath path = nodes.pathOrNull(rq.nodeid());
        OverlayFile open = null;
        if (in.sets(FATTR_FH)) {
            OpenHandles.OpenFile opened = handles.file(in.fh());
            open = opened != null ? opened.file() : path == null ? handles.orphan(rq.nodeid()) : null;
        }
        if (open == null && path == null) {
            nodes.path(rq.nodeid()); // throws: says why the node has no path
        }
        return setattr(rq, in, rp, path, open);
    }

    private int setattr(Request rq, In.Setattr in, Reply rp, EntryPath path, OverlayFile open) throws IOException {
        if (in.sets(FATTR_MODE)) {
            overlay.setPermissions(required(path, rq), in.mode() & 07777);
        }
        if (in.sets(FATTR_UID | FATTR_GID)) {
            overlay.setOwner(required(path, rq), in.sets(FATTR_UID) ? in.uid() : -1, in.sets(FATTR_GID) ? in.gid() : -1);
        }
        if (in.sets(FATTR_SIZE)) {
            if (open != null && open.isWritable()) {
                open.truncate(in.size());
            } else {
                overlay.truncate(required(path, rq), in.size());
            }
        }
        if (in.sets(FATTR_ATIME | FATTR_ATIME_NOW | FATTR_MTIME | FATTR_MTIME_NOW)) {
            overlay.setTimes(required(path, rq),
                    time(in, FATTR_ATIME, FATTR_ATIME_NOW, in.atime(), in.atimensec()),
                    time(in, FATTR_MTIME, FATTR_MTIME_NOW, in.mtime(), in.mtimensec()));
        }
        EntryAttributes attributes = path != null ? overlay.stat(path) : open.stat();
        return rp.attr(cache.attrNanos(attributes), attributes);
    }

    private static long time(In.Setattr in, int setBit, int nowBit, long seconds, int nanos) {
        if (in.sets(nowBit)) {
            return WritableLayer.TIME_NOW;
        }
        if (in.sets(setBit)) {
            return Math.addExact(Math.multiplyExact(seconds, 1_000_000_000L), Integer.toUnsignedLong(nanos));
        }
        return WritableLayer.TIME_OMIT;
    }

    private static EntryPath required(EntryPath path, Request rq) throws IOException {
        if (path == null) {
            throw Errno.ENOENT.exception("node " + rq.nodeid(), "removed from the overlay");
        }
        return path;
    }

    int access(Request rq, In.Access in, Reply rp) throws IOException {
        // Under default_permissions (always on) the kernel checks access itself and sends no
        // ACCESS; one that sends it anyway gets the answer the kernel would give.
        EntryPath path = nodes.path(rq.nodeid());
        Access.check(overlay.stat(path), in.mask() & (Flags.R_OK | Flags.W_OK | Flags.X_OK),
                new RequestCaller(rq.uid(), rq.gid(), rq.pid()), overlay.isReadOnly(), path);
        return rp.ok();
    }
}
