package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;

/**
 * Names: LOOKUP and FORGET, and the requests that create, remove, rename or link a name, or
 * read a symlink. Each keeps the {@link NodeTable} in step with what the kernel's dentries
 * now say.
 */
final class EntryHandlers {

    private final Overlay overlay;
    private final NodeTable nodes;
    private final CachePolicy cache;
    private final OpenHandles handles;
    private final EntryReplies replies;
    /** Null without a FUSE device (tests). */
    private final Notifier notifier;

    EntryHandlers(Overlay overlay, NodeTable nodes, CachePolicy cache, OpenHandles handles, EntryReplies replies,
            Notifier notifier) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.cache = cache;
        this.handles = handles;
        this.replies = replies;
        this.notifier = notifier;
    }

    int lookup(Request rq, In.Name in, Reply rp) throws IOException {
        EntryPath path = nodes.path(rq.nodeid()).resolve(in.name());
        EntryAttributes attributes;
        try {
            attributes = overlay.stat(path);
        } catch (IOException e) {
            if (cache.negativeNanos() == 0 || Errno.of(e) != Errno.ENOENT) {
                throw e;
            }
            // Node id 0 is "no such name" that the kernel may remember for entry_valid.
            return rp.negativeEntry(cache.negativeNanos());
        }
        return replies.entry(rp, rq.nodeid(), in.name(), attributes);
    }

    int forget(Request rq, In.Forget in) {
        forget(rq.nodeid(), in.nlookup());
        return Operations.NO_REPLY;
    }

    int batchForget(In.BatchForget in) {
        for (int i = 0; i < in.nodeids().length; i++) {
            forget(in.nodeids()[i], in.nlookups()[i]);
        }
        return Operations.NO_REPLY;
    }

    void forget(long nodeid, long count) {
        if (nodes.forget(nodeid, count)) {
            handles.forgotten(nodeid);
        }
    }

    int readlink(Request rq, Reply rp) throws IOException {
        return rp.bytes(overlay.readLink(nodes.path(rq.nodeid())).getBytes(StandardCharsets.UTF_8));
    }

    int symlink(Request rq, In.Symlink in, Reply rp) throws IOException {
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(in.name());
        overlay.createSymlink(path, in.target(), EntryReplies.newEntry(rq, 0777));
        return replies.entry(rp, rq.nodeid(), in.name(), overlay.stat(path));
    }

    int mknod(Request rq, In.Mknod in, Reply rp) throws IOException {
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(in.name());
        EntryType type = (in.mode() & 0170000) == 0 ? EntryType.REGULAR_FILE : EntryType.ofFormatBits(in.mode());
        NewEntryAttributes attributes = EntryReplies.newEntry(rq, in.mode());
        switch (type) {
            case REGULAR_FILE -> overlay.open(path, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
                    attributes).close();
            case CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET -> overlay.createSpecial(path, type, attributes,
                    Integer.toUnsignedLong(in.rdev()));
            default -> throw Errno.EINVAL.exception(path, "mknod cannot create a " + type);
        }
        return replies.entry(rp, rq.nodeid(), in.name(), overlay.stat(path));
    }

    int mkdir(Request rq, In.Mkdir in, Reply rp) throws IOException {
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(in.name());
        overlay.createDirectory(path, EntryReplies.newEntry(rq, in.mode()));
        return replies.entry(rp, rq.nodeid(), in.name(), overlay.stat(path));
    }

    int unlink(Request rq, In.Name in, Reply rp) throws IOException {
        EntryPath path = nodes.path(rq.nodeid()).resolve(in.name());
        handles.beforeNameGoes(nodes.find(path), () -> {
            overlay.unlink(path);
            nodes.removed(rq.nodeid(), in.name());
        });
        return rp.ok();
    }

    int rmdir(Request rq, In.Name in, Reply rp) throws IOException {
        overlay.removeDirectory(nodes.path(rq.nodeid()).resolve(in.name()));
        nodes.removed(rq.nodeid(), in.name());
        return rp.ok();
    }

    int rename(Request rq, In.Rename in, Reply rp) throws IOException {
        RenameMode mode = switch (in.flags()) {
            case 0 -> RenameMode.REPLACE;
            case Flags.RENAME_NOREPLACE -> RenameMode.NOREPLACE;
            case Flags.RENAME_EXCHANGE -> RenameMode.EXCHANGE;
            // overlayfs refuses RENAME_WHITEOUT and unknown flags the same way.
            default -> throw Errno.EINVAL.exception(in.name(), "rename flags " + in.flags() + " are not supported");
        };
        EntryPath source = nodes.path(rq.nodeid()).resolve(in.name());
        EntryPath target = nodes.path(in.newDir()).resolve(in.newName());
        // Replacing a name detaches the target's node; an exchange moves both nodes with their names.
        long replaced = mode == RenameMode.REPLACE ? nodes.find(target) : -1;
        handles.beforeNameGoes(replaced, () -> {
            overlay.rename(source, target, mode);
            if (mode == RenameMode.EXCHANGE) {
                nodes.exchanged(rq.nodeid(), in.name(), in.newDir(), in.newName());
            } else {
                nodes.renamed(rq.nodeid(), in.name(), in.newDir(), in.newName());
            }
        });
        return rp.ok();
    }

    int link(Request rq, In.Link in, Reply rp) throws IOException {
        EntryPath path = nodes.path(rq.nodeid()).resolve(in.name());
        EntryPath existing = nodes.pathOrNull(in.oldNodeid());
        if (existing == null) {
            return linkUnnamed(rq, in, rp, path);
        }
        overlay.link(existing, path);
        nodes.linked(in.oldNodeid());
        // The new name gets its own node, so the kernel does not learn that the existing one's
        // link count changed: drop its cached attributes (attributes only, which takes no locks
        // the linking caller holds). From now on the file is not cached (see CachePolicy).
        if (notifier != null) {
            notifier.invalidateInode(in.oldNodeid(), -1, 0);
        }
        return replies.entry(rp, rq.nodeid(), in.name(), overlay.stat(path));
    }

    /**
     * LINK of a node without a name: an unnamed file (O_TMPFILE) given its name, by linkat of
     * its open file. Its first name keeps its node, as the kernel keeps the inode.
     */
    private int linkUnnamed(Request rq, In.Link in, Reply rp, EntryPath path) throws IOException {
        OverlayFile file = handles.orphan(in.oldNodeid());
        if (file == null) {
            nodes.path(in.oldNodeid()); // throws: says why the node has no path
        }
        overlay.linkUnnamed(file, path);
        EntryAttributes attributes = overlay.stat(path);
        if (nodes.named(in.oldNodeid(), rq.nodeid(), in.name(), attributes)) {
            return rp.entry(in.oldNodeid(), cache.entryNanos(), cache.attrNanos(attributes), attributes);
        }
        return replies.entry(rp, rq.nodeid(), in.name(), attributes);
    }
}
