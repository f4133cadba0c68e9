package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

/**
 * File I/O: OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH, FSYNC, RELEASE, LSEEK, FALLOCATE and
 * COPY_FILE_RANGE. An open decides how the kernel does the file's reads and writes: kernel
 * passthrough to a local file, or through this server, keeping cached pages where that is safe.
 */
final class FileHandlers {

    private static final System.Logger LOG = System.getLogger(FileHandlers.class.getName());

    /** The most COPY_FILE_RANGE copies in one request; callers loop on short copies. */
    private static final long COPY_CHUNK_LIMIT = 1L << 30;

    private final Overlay overlay;
    private final NodeTable nodes;
    private final CachePolicy cache;
    private final OpenHandles handles;
    private final EntryReplies replies;

    FileHandlers(Overlay overlay, NodeTable nodes, CachePolicy cache, OpenHandles handles, EntryReplies replies) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.cache = cache;
        this.handles = handles;
        this.replies = replies;
    }

    private static EnumSet<StandardOpenOption> openOptions(int flags) {
        EnumSet<StandardOpenOption> options = EnumSet.noneOf(StandardOpenOption.class);
        switch (flags & Flags.O_ACCMODE) {
            case Flags.O_RDONLY -> options.add(StandardOpenOption.READ);
            case Flags.O_WRONLY -> options.add(StandardOpenOption.WRITE);
            default -> {
                options.add(StandardOpenOption.READ);
                options.add(StandardOpenOption.WRITE);
            }
        }
        // O_APPEND: the kernel sends the file size as each WRITE's offset, and the overlay writes
        // at the end too; it is passed on because an append-only file opens for appending alone.
        if ((flags & Flags.O_APPEND) != 0 && (flags & Flags.O_ACCMODE) != Flags.O_RDONLY) {
            options.add(StandardOpenOption.APPEND);
        }
        if ((flags & Flags.O_TRUNC) != 0 && (flags & Flags.O_ACCMODE) != Flags.O_RDONLY) {
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        return options;
    }

    int open(Request rq, In.Open in, Reply rp) throws IOException {
        EnumSet<StandardOpenOption> options = openOptions(in.flags());
        if ((in.flags() & Flags.O_TRUNC) != 0 && (in.flags() & Flags.O_ACCMODE) == Flags.O_RDONLY) {
            // Linux truncates at O_RDONLY | O_TRUNC too (the kernel has checked write permission),
            // and the kernel's overlayfs copies the file up for it.
            overlay.truncate(nodes.path(rq.nodeid()), 0);
        }
        BackingFiles backing = handles.backing();
        if (options.equals(READ_ONLY) && !backing.enabled() && nodes.type(rq.nodeid()) == EntryType.REGULAR_FILE) {
            // Served here and read from the kernel's page cache once read: the file is opened at
            // its first READ, which most opens of a file read before never send. What the
            // lookup saw decides the rest, so such an open costs the round trip alone.
            long nodeid = rq.nodeid();
            boolean keep = cache.keepCache(nodes.linkCount(nodeid)) && !backing.takePagesBypassed(nodeid);
            long fh = handles.addReader(nodeid, () -> nodes.path(nodeid));
            return rp.open(fh, Flags.FOPEN_NOFLUSH | (keep ? Flags.FOPEN_KEEP_CACHE : 0), 0);
        }
        EntryPath path = nodes.path(rq.nodeid());
        OverlayFile file = overlay.open(path, options, new NewEntryAttributes(0, rq.uid(), rq.gid()));
        try {
            Opened opened = opened(file, rq.nodeid(), path);
            return rp.open(opened.fh(), opened.openFlags(), opened.backingId());
        } catch (IOException | RuntimeException e) {
            closeQuietly(file);
            throw e;
        }
    }

    int create(Request rq, In.Create in, Reply rp) throws IOException {
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(in.name());
        Set<OpenOption> options = new HashSet<>(openOptions(in.flags()));
        options.add((in.flags() & Flags.O_EXCL) != 0 ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
        OverlayFile file = overlay.open(path, options, EntryReplies.newEntry(rq, in.mode()));
        long nodeid = 0;
        try {
            EntryAttributes attributes = overlay.stat(path);
            nodeid = nodes.lookedUp(rq.nodeid(), in.name(), attributes);
            Opened opened = opened(file, nodeid, path);
            return rp.created(nodeid, cache.entryNanos(), cache.attrNanos(attributes), attributes, opened.fh(),
                    opened.openFlags(), opened.backingId());
        } catch (IOException | RuntimeException e) {
            if (nodeid != 0) {
                nodes.forget(nodeid, 1); // the kernel never learns of this reference
            }
            closeQuietly(file);
            throw e;
        }
    }

    /**
     * TMPFILE (open(2) with O_TMPFILE): an unnamed file in the request's directory, answered
     * like CREATE with a node that has no name until a LINK gives it one.
     */
    int tmpfile(Request rq, In.Create in, Reply rp) throws IOException {
        EntryPath directory = nodes.path(rq.nodeid());
        boolean linkable = (in.flags() & Flags.O_EXCL) == 0;
        OverlayFile file = overlay.createUnnamed(directory, EntryReplies.newEntry(rq, in.mode()), linkable);
        long nodeid = 0;
        try {
            EntryAttributes attributes = file.stat();
            nodeid = nodes.unnamed(attributes.type());
            Opened opened = opened(file, nodeid, directory);
            // Link count 0, as the file has no name: the kernel keeps it so (fstat shows 0, as on overlayfs).
            return rp.created(nodeid, cache.entryNanos(), cache.attrNanos(attributes), attributes, opened.fh(),
                    opened.openFlags(), opened.backingId());
        } catch (IOException | RuntimeException e) {
            if (nodeid != 0) {
                nodes.forget(nodeid, 1);
            }
            closeQuietly(file);
            throw e;
        }
    }

    private static final EnumSet<StandardOpenOption> READ_ONLY = EnumSet.of(StandardOpenOption.READ);

    /** How an open file is handed to the kernel. */
    private record Opened(long fh, int openFlags, int backingId) {
    }

    /**
     * Registers an open file: kernel passthrough when its bytes are in a local file the kernel
     * may use, else reads and writes through this server, keeping the kernel's cached pages
     * when no other name can have changed them.
     */
    private Opened opened(OverlayFile file, long nodeid, EntryPath path) throws IOException {
        EntryAttributes attributes = file.stat();
        BackingFiles backing = handles.backing();
        BackingFiles.Grant grant = backing.acquire(nodeid, path, file.localFile(), file.isWritable(),
                attributes.size(), file.mayBeCopiedUp());
        int openFlags;
        if (grant.passthrough()) {
            openFlags = Flags.FOPEN_PASSTHROUGH;
        } else {
            // Pages cached before passthrough writes went around them are stale: this open drops them.
            boolean bypassed = backing.takePagesBypassed(nodeid);
            openFlags = !bypassed && cache.keepCache(attributes) ? Flags.FOPEN_KEEP_CACHE : 0;
        }
        // FLUSH (sent at every close) has nothing to do here: writes reach the overlay as they
        // come and there is no writeback cache, so the kernel may skip that round trip.
        openFlags |= Flags.FOPEN_NOFLUSH;
        return new Opened(handles.addFile(file, grant), openFlags, grant.backingId());
    }

    int release(In.Release in, Reply rp) throws IOException {
        handles.releaseFile(in.fh());
        return rp.ok();
    }

    int flush(In.Flush in, Reply rp) throws IOException {
        // Writes reach the overlay as they come: nothing is buffered here (files are opened with
        // FOPEN_NOFLUSH, so this comes only for a handle the kernel may no longer hold).
        handles.use(in.fh());
        return rp.ok();
    }

    int read(In.Read in, Reply rp) throws IOException {
        OverlayFile file = handles.use(in.fh());
        ByteBuffer buffer = rp.dataBuffer((int) Math.min(in.sizeAsked(), rp.capacity()));
        // The kernel takes a short read for the end of the file, so read until full or at the end.
        while (buffer.hasRemaining()) {
            int n = file.read(buffer, in.offset() + buffer.position());
            if (n < 0) {
                break;
            }
        }
        return rp.data(buffer.position());
    }

    int write(In.Write in, Reply rp) throws IOException {
        OverlayFile file = handles.use(in.fh());
        ByteBuffer data = in.data();
        while (data.hasRemaining()) {
            file.write(data, in.offset() + data.position());
        }
        return rp.written(in.size());
    }

    int fsync(In.Fsync in, Reply rp) throws IOException {
        handles.use(in.fh()).force(!in.dataOnly());
        return rp.ok();
    }

    /** SEEK_DATA and SEEK_HOLE, answered by the file's layer (lseek(2) on a local file): ENXIO at or past the end. */
    int lseek(In.Lseek in, Reply rp) throws IOException {
        OverlayFile file = handles.use(in.fh());
        long found = switch (in.whence()) {
            case Flags.SEEK_DATA -> file.nextData(in.offset());
            case Flags.SEEK_HOLE -> file.nextHole(in.offset());
            default -> throw Errno.EINVAL.exception("file handle " + in.fh(), "lseek whence " + in.whence());
        };
        return rp.lseek(found);
    }

    /**
     * fallocate(2) with the mode the kernel passes on (it sends KEEP_SIZE, PUNCH_HOLE and
     * ZERO_RANGE alone, having checked the range and the handle's access mode): done by the
     * file's layer, fallocate(2) on the upper file, with that call's errors.
     */
    int fallocate(In.Fallocate in, Reply rp) throws IOException {
        handles.use(in.fh()).allocate(in.offset(), in.length(), in.mode());
        return rp.ok();
    }

    int copyFileRange(In.CopyFileRange in, Reply rp) throws IOException {
        OverlayFile source = handles.use(in.fhIn());
        OverlayFile target = handles.use(in.fhOut());
        long length = Math.min(in.length(), COPY_CHUNK_LIMIT);
        if (!target.isWritable()) {
            throw Errno.EBADF.exception("file handle", "copy target not open for writing");
        }
        // The reply's body doubles as the copy buffer: the answer itself needs 8 bytes.
        long copied = 0;
        while (copied < length) {
            ByteBuffer buffer = rp.scratch(length - copied);
            int n = source.read(buffer, in.offIn() + copied);
            if (n <= 0) {
                break;
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer, in.offOut() + copied + buffer.position());
            }
            copied += n;
        }
        return rp.written(copied);
    }

    private static void closeQuietly(OverlayFile file) {
        try {
            file.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing a file that could not be handed to the kernel", e);
        }
    }
}
