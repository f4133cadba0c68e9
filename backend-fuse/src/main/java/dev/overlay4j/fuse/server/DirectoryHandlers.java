package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import dev.overlay4j.fuse.server.DirectoryListing.Listed;
import java.io.IOException;
import java.util.List;

/** Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR and FSYNCDIR. */
final class DirectoryHandlers {

    private final Overlay overlay;
    private final NodeTable nodes;
    private final CachePolicy cache;
    private final OpenHandles handles;
    private final EntryReplies replies;

    DirectoryHandlers(Overlay overlay, NodeTable nodes, CachePolicy cache, OpenHandles handles, EntryReplies replies) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.cache = cache;
        this.handles = handles;
        this.replies = replies;
    }

    int opendir(Request rq, Reply rp) throws IOException {
        if (handles.kernelOpensDirectories()) {
            // ENOSYS tells the kernel to open directories itself from now on, this one included.
            return rp.error(Errno.ENOSYS.code());
        }
        EntryPath path = nodes.path(rq.nodeid());
        if (!overlay.stat(path).isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        long fh = handles.addDirectory(path);
        // The kernel drops a cached listing itself when an entry is created, removed or renamed through it.
        return rp.open(fh, cache.cacheDirectories() ? Flags.FOPEN_KEEP_CACHE | Flags.FOPEN_CACHE_DIR : 0, 0);
    }

    int readdir(Request rq, In.Read in, Reply rp, boolean plus) throws IOException {
        List<Listed> entries = handles.listing(rq.nodeid(), in.fh(), in.offset());
        long size = Math.min(in.sizeAsked(), rp.capacity());
        // Over a remote layer each stat may wait on a server (an S3 HEAD): READDIRPLUS then gives
        // names and types alone, and the kernel looks up what its caller stats.
        EntryPath dir = plus && !overlay.remote() ? nodes.pathOrNull(rq.nodeid()) : null;
        long used = 0;
        for (long i = Math.max(in.offset(), 0); i < entries.size(); i++) {
            Listed entry = entries.get((int) i);
            long record = plus ? Structs.Dirent.plusRecordSize(entry.encoded().length)
                    : Structs.Dirent.recordSize(entry.encoded().length);
            if (used + record > size) {
                break;
            }
            if (!plus) {
                used += rp.dirent(used, entry.inode(), i + 1, entry.type(), entry.encoded());
                continue;
            }
            EntryAttributes attributes = dir == null || entry.isDotOrDotDot() ? null : statOrNull(dir.resolve(entry.name()));
            if (attributes == null) {
                used += rp.direntPlus(used, 0, 0, 0, null, entry.inode(), i + 1, entry.type(), entry.encoded());
            } else {
                used += replies.direntPlus(rp, used, rq.nodeid(), entry, attributes, i + 1);
            }
        }
        return rp.listing(used);
    }

    private EntryAttributes statOrNull(EntryPath path) {
        try {
            return overlay.stat(path);
        } catch (IOException e) {
            return null; // gone since the snapshot: the kernel looks it up itself if asked
        }
    }

    int releasedir(In.Release in, Reply rp) {
        handles.releaseDirectory(in.fh());
        return rp.ok();
    }

    /** fsync of a directory: that directory alone, in the upper layer (one only in lower layers has nothing to sync). */
    int fsyncdir(Request rq, In.Fsync in, Reply rp) throws IOException {
        overlay.syncDirectory(nodes.path(rq.nodeid()), !in.dataOnly());
        return rp.ok();
    }
}
