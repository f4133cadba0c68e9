package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.fuse.server.DirectoryListing.Listed;
import dev.overlay4j.fuse.server.DirectoryListing.OpenDirectory;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the kernel holds open on this connection: files and directories it opened through the
 * server, by handle, and, when it opens them by itself (zero-message opens, {@link #kernelOpens}),
 * the files the server opens for its nodes ({@link NodeFiles}) and the listings its readings of
 * directories are part way through. Requests on a file find it here; FORGET, rename and removal
 * tell it what changed.
 */
final class OpenHandles {

    private static final System.Logger LOG = System.getLogger(OpenHandles.class.getName());

    /** An open file and how the kernel does its reads and writes. */
    record OpenFile(OverlayFile file, BackingFiles.Grant grant) implements FileUse {
    }

    private final Overlay overlay;
    private final NodeTable nodes;
    private final BackingFiles backing;
    private final NodeFiles nodeFiles;
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, OpenDirectory> directories = new ConcurrentHashMap<>();
    /** With kernel opens: the listing a directory's reading from offset 0 took, until read to its end. */
    private final Map<Long, List<Listed>> nodeListings = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Whether the kernel opens files and directories without telling this server (set by INIT). */
    private volatile boolean kernelOpens;

    OpenHandles(Overlay overlay, NodeTable nodes, BackingFiles backing) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.backing = backing;
        this.nodeFiles = new NodeFiles(overlay, nodes);
    }

    BackingFiles backing() {
        return backing;
    }

    boolean kernelOpens() {
        return kernelOpens;
    }

    void kernelOpens(boolean on) {
        kernelOpens = on;
    }

    // ---- files ----

    /** Registers a file opened for the kernel; returns its handle. */
    long addFile(OverlayFile file, BackingFiles.Grant grant) {
        long fh = nextHandle.getAndIncrement();
        files.put(fh, new OpenFile(file, grant));
        return fh;
    }

    /** RELEASE: the kernel closed handle {@code fh}. */
    void releaseFile(long fh) throws IOException {
        OpenFile open = files.remove(fh);
        if (open != null) {
            backing.release(open.grant());
            open.file().close();
        }
    }

    /** The file the kernel opened as {@code fh} through this server, or null. */
    OpenFile file(long fh) {
        return files.get(fh);
    }

    /**
     * The file a request on handle {@code fh} of node {@code nodeid} works on; give it back with
     * {@link #done}. Handle 0 under kernel opens: the node's own file, which writes when
     * {@code write} (copying a lower file up, as the open for writing would have).
     */
    FileUse use(long nodeid, long fh, boolean write) throws IOException {
        OpenFile open = files.get(fh);
        if (open != null) {
            return open;
        }
        if (fh == 0 && kernelOpens) {
            return nodeFiles.acquire(nodeid, write);
        }
        throw Errno.EBADF.exception("file handle " + fh);
    }

    /** Gives back a file from {@link #use} or {@link #orphan}; null is allowed. */
    void done(FileUse use) throws IOException {
        if (use instanceof NodeFiles.Handle handle) {
            nodeFiles.release(handle);
        }
    }

    /**
     * The file of a node whose name is gone but which is (under kernel opens: may still be) open,
     * or null: requests without a handle, such as fstat's GETATTR, still reach it.
     */
    FileUse orphan(long nodeid) {
        if (kernelOpens) {
            return nodeFiles.pinned(nodeid);
        }
        for (OpenFile open : files.values()) {
            if (open.grant().nodeid() == nodeid) {
                return open;
            }
        }
        return null;
    }

    /**
     * Under kernel opens, keeps the file that {@code path} names open until the kernel forgets
     * its node, before that name is removed or replaced: the kernel may hold it open.
     */
    void keepIfOpen(EntryPath path) {
        if (!kernelOpens) {
            return;
        }
        long node = nodes.find(path);
        if (node > 0 && nodes.type(node) == EntryType.REGULAR_FILE) {
            try {
                nodeFiles.pin(node, path);
            } catch (IOException e) {
                // The removal itself reports what is wrong with the name, and nothing is open then.
                LOG.log(System.Logger.Level.DEBUG, () -> "keeping " + path + " open: " + e.getMessage());
            }
        }
    }

    /**
     * The nodes {@code node} (and what lies below it) now stand for other files: after a rename,
     * or a change behind the overlay. Handles the server opened for them by path are dropped.
     */
    void moved(long node) throws IOException {
        if (kernelOpens && node > 0) {
            nodeFiles.dropWithin(node);
        }
    }

    /** FORGET of a node's last reference: nothing of it is needed any more. */
    void forgotten(long nodeid) {
        backing.forgotten(nodeid);
        nodeListings.remove(nodeid);
        try {
            nodeFiles.forget(nodeid);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the file of a forgotten node", e);
        }
    }

    // ---- directories ----

    long addDirectory(EntryPath path) {
        long fh = nextHandle.getAndIncrement();
        directories.put(fh, new OpenDirectory(path));
        return fh;
    }

    void releaseDirectory(long fh) {
        directories.remove(fh);
    }

    /**
     * The listing a READDIR of {@code nodeid} on handle {@code fh} reads from. Under kernel opens
     * there is no handle to keep it in: a reading from offset 0 takes a new one, which later
     * offsets of that reading use until the end of the listing is reached (the kernel reads on
     * until a READDIR returns nothing).
     */
    List<Listed> listing(long nodeid, long fh, long offset) throws IOException {
        OpenDirectory directory = directories.get(fh);
        if (directory != null) {
            return directory.entries(overlay);
        }
        if (fh != 0 || !kernelOpens) {
            throw Errno.EBADF.exception("directory handle " + fh);
        }
        List<Listed> entries = offset == 0 ? null : nodeListings.get(nodeid);
        if (entries == null) {
            entries = DirectoryListing.snapshot(overlay, nodes.path(nodeid));
        }
        if (offset >= entries.size()) {
            nodeListings.remove(nodeid);
        } else {
            nodeListings.put(nodeid, entries);
        }
        return entries;
    }

    // ---- the connection ----

    /** Open file and directory handles, those the server holds for nodes included. */
    int count() {
        return files.size() + directories.size() + nodeFiles.size();
    }

    /** Closes the files the kernel left open (a connection that ended without RELEASE). */
    void closeAll() {
        for (Long fh : List.copyOf(files.keySet())) {
            OpenFile open = files.remove(fh);
            if (open != null) {
                try {
                    open.file().close();
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "closing a file the kernel no longer holds", e);
                }
            }
        }
        directories.clear();
        nodeFiles.closeAll();
        nodeListings.clear();
        backing.closeAll();
    }
}
