package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
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
 * What the kernel holds open on this connection: the files and directories it opened through
 * the server, by handle, and, when it opens directories by itself (zero-message opendir,
 * {@link #kernelOpensDirectories}), the listings its readings of directories are part way
 * through. Requests on a file find it here, by handle, or by node for a file whose name is gone.
 */
final class OpenHandles {

    private static final System.Logger LOG = System.getLogger(OpenHandles.class.getName());

    /** An open file and how the kernel does its reads and writes. */
    record OpenFile(OverlayFile file, BackingFiles.Grant grant) {
    }

    private final Overlay overlay;
    private final NodeTable nodes;
    private final BackingFiles backing;
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, OpenDirectory> directories = new ConcurrentHashMap<>();
    /** With kernel-opened directories: the listing a directory's reading from offset 0 took, until read to its end. */
    private final Map<Long, List<Listed>> nodeListings = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Whether the kernel opens directories without telling this server (set by INIT). */
    private volatile boolean kernelOpensDirectories;

    OpenHandles(Overlay overlay, NodeTable nodes, BackingFiles backing) {
        this.overlay = overlay;
        this.nodes = nodes;
        this.backing = backing;
    }

    BackingFiles backing() {
        return backing;
    }

    boolean kernelOpensDirectories() {
        return kernelOpensDirectories;
    }

    void kernelOpensDirectories(boolean on) {
        kernelOpensDirectories = on;
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

    /** The file a request on handle {@code fh} works on; EBADF when the kernel holds no such handle. */
    OverlayFile use(long fh) throws IOException {
        OpenFile open = files.get(fh);
        if (open == null) {
            throw Errno.EBADF.exception("file handle " + fh);
        }
        return open.file();
    }

    /**
     * An open file of a node whose name is gone, or null: requests without a handle, such as
     * fstat's GETATTR, still reach it.
     */
    OverlayFile orphan(long nodeid) {
        for (OpenFile open : files.values()) {
            if (open.grant().nodeid() == nodeid) {
                return open.file();
            }
        }
        return null;
    }

    /** FORGET of a node's last reference: nothing of it is needed any more. */
    void forgotten(long nodeid) {
        backing.forgotten(nodeid);
        nodeListings.remove(nodeid);
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
     * The listing a READDIR of {@code nodeid} on handle {@code fh} reads from. For a directory the
     * kernel opened by itself there is no handle to keep it in: a reading from offset 0 takes a new one, which later
     * offsets of that reading use until the end of the listing is reached (the kernel reads on
     * until a READDIR returns nothing).
     */
    List<Listed> listing(long nodeid, long fh, long offset) throws IOException {
        OpenDirectory directory = directories.get(fh);
        if (directory != null) {
            return directory.entries(overlay);
        }
        if (fh != 0 || !kernelOpensDirectories) {
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

    /** Open file and directory handles. */
    int count() {
        return files.size() + directories.size();
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
        nodeListings.clear();
        backing.closeAll();
    }
}
