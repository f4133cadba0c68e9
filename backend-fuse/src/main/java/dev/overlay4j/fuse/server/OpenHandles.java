package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.fuse.server.DirectoryListing.Listed;
import dev.overlay4j.fuse.server.DirectoryListing.OpenDirectory;
import java.io.IOException;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What the kernel holds open on this connection: the files and directories it opened through
 * the server, by handle, and, when it opens directories by itself (zero-message opendir,
 * {@link #kernelOpensDirectories}), the listings its readings of directories are part way
 * through. Requests on a file find it here, by handle, or by node for a file whose name is gone.
 */
final class OpenHandles {

    private static final System.Logger LOG = System.getLogger(OpenHandles.class.getName());

    /** What opening a file for reading needs: nothing is created, so the attributes of a new one do not matter. */
    private static final Set<StandardOpenOption> READ = EnumSet.of(StandardOpenOption.READ);
    private static final NewEntryAttributes EXISTING = new NewEntryAttributes(0, 0, 0);

    /**
     * A file the kernel opened, and how it does its reads and writes. A file opened only for
     * reading and served through this server is opened in the overlay at its first request
     * that needs the bytes ({@link #file}): with the kernel's page cache most opens of a file
     * read before never send one, so such an open costs the round trip alone.
     */
    final class OpenFile {
        private final long nodeid;
        private final BackingFiles.Grant grant;
        private OverlayFile file;

        private OpenFile(long nodeid, BackingFiles.Grant grant, OverlayFile file) {
            this.nodeid = nodeid;
            this.grant = grant;
            this.file = file;
        }

        /** The overlay's open file, opened now by the node's current path if not yet. */
        synchronized OverlayFile file() throws IOException {
            if (file == null) {
                file = overlay.open(nodes.path(nodeid), READ, EXISTING);
            }
            return file;
        }

        /** Whether {@link #file} costs nothing now. */
        synchronized boolean isOpen() {
            return file != null;
        }

        long nodeid() {
            return nodeid;
        }

        synchronized void close() throws IOException {
            if (file != null) {
                file.close();
            }
        }
    }

    private final Overlay overlay;
    private final NodeTable nodes;
    private final BackingFiles backing;
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, OpenDirectory> directories = new ConcurrentHashMap<>();
    /** With kernel-opened directories: the listing a directory's reading from offset 0 took, until read to its end. */
    private final Map<Long, List<Listed>> nodeListings = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /**
     * Held to read while an open for reading is registered without opening the file, and to
     * write while a name is removed or replaced: so no such open slips in between
     * {@link #openBeforeNameGoes} and the name's removal.
     */
    private final ReadWriteLock names = new ReentrantReadWriteLock();
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

    /** Registers {@code file}, opened for the kernel; returns its handle. */
    long addFile(OverlayFile file, BackingFiles.Grant grant) {
        long fh = nextHandle.getAndIncrement();
        files.put(fh, new OpenFile(grant.nodeid(), grant, file));
        return fh;
    }

    /**
     * Registers an open of node {@code nodeid} for reading through this server, whose file is
     * opened in the overlay only when a request needs it; returns its handle. {@code check}
     * runs first, under the same lock: it says whether the node is a file that opens.
     */
    long addReader(long nodeid, IoAction check) throws IOException {
        names.readLock().lock();
        try {
            check.run();
            long fh = nextHandle.getAndIncrement();
            files.put(fh, new OpenFile(nodeid, new BackingFiles.Grant(nodeid, 0, false), null));
            return fh;
        } finally {
            names.readLock().unlock();
        }
    }

    /** Something that may fail with an I/O error. */
    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    /** RELEASE: the kernel closed handle {@code fh}. */
    void releaseFile(long fh) throws IOException {
        OpenFile open = files.remove(fh);
        if (open != null) {
            backing.release(open.grant);
            open.close();
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
     * Removes or replaces the name of node {@code nodeid} with {@code change}. First the files
     * of the node opened for reading but not yet in the overlay are opened, by the name they
     * still have: an open file must keep reading the file it opened.
     */
    void beforeNameGoes(long nodeid, IoAction change) throws IOException {
        names.writeLock().lock();
        try {
            if (nodeid > 0) {
                for (OpenFile open : files.values()) {
                    if (open.nodeid == nodeid) {
                        open.file();
                    }
                }
            }
            change.run();
        } finally {
            names.writeLock().unlock();
        }
    }

    /**
     * An open file of a node whose name is gone, or null: requests without a handle, such as
     * fstat's GETATTR, still reach it.
     */
    OverlayFile orphan(long nodeid) {
        for (OpenFile open : files.values()) {
            if (open.nodeid == nodeid && open.isOpen()) {
                try {
                    return open.file();
                } catch (IOException e) {
                    throw new AssertionError("an open file needs no opening", e);
                }
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
                    open.close();
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
