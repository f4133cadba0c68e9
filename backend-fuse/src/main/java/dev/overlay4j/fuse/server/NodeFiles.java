package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files this server opens itself when the kernel opens files without asking it (zero-message
 * opens): READ, WRITE and the other requests on a file then carry handle 0, and name the file
 * only by its node. Each node gets one handle, opened for reading at its first read and
 * reopened for writing (which copies a lower file up, as an open for writing does on the
 * kernel's overlayfs) at its first write; a read handle follows its file into the upper layer,
 * so one handle serves every open the kernel has of the node.
 *
 * <p>Handles are kept in access order and the least recently used beyond {@link #LIMIT} are
 * closed, so reading a million files does not hold a million descriptors; a handle closed that
 * way is simply opened again at the node's next request. A node whose name is about to go
 * (unlink, or a rename over it) is <em>pinned</em> first: its handle then stays until the
 * kernel forgets the node, because a process may still hold the file open and go on reading,
 * writing or stat'ing it, and the name no longer leads there.
 */
final class NodeFiles {

    /** Handles kept open beyond the pinned ones. */
    static final int LIMIT = 256;

    private static final Set<StandardOpenOption> READ = EnumSet.of(StandardOpenOption.READ);
    private static final Set<StandardOpenOption> READ_WRITE = EnumSet.of(StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    /** Opening an existing file creates nothing, so the attributes of a new one do not matter. */
    private static final NewEntryAttributes EXISTING = new NewEntryAttributes(0, 0, 0);

    /** One node's handle; closed once it is retired and no request uses it any more. */
    static final class Handle implements FileUse {
        private final OverlayFile file;
        private int users;
        private boolean retired;
        private boolean pinned;

        private Handle(OverlayFile file) {
            this.file = file;
        }

        @Override
        public OverlayFile file() {
            return file;
        }
    }

    private final Overlay overlay;
    private final NodeTable nodes;
    /** Access order: the eldest entry is the least recently used. */
    private final Map<Long, Handle> handles = new LinkedHashMap<>(64, 0.75f, true);
    private int pinnedCount;

    NodeFiles(Overlay overlay, NodeTable nodes) {
        this.overlay = overlay;
        this.nodes = nodes;
    }

    /**
     * The handle of {@code nodeid}, opened now when it has none (or, for {@code write}, none that
     * writes). Every handle returned must be given back with {@link #release}.
     */
    Handle acquire(long nodeid, boolean write) throws IOException {
        synchronized (this) {
            Handle handle = handles.get(nodeid);
            if (handle != null && (!write || handle.file.isWritable())) {
                handle.users++;
                return handle;
            }
        }
        // Opening (for writing: copying up) runs outside the lock, so other nodes' requests go on.
        OverlayFile file = overlay.open(nodes.path(nodeid), write ? READ_WRITE : READ, EXISTING);
        return install(nodeid, file, false);
    }

    /** Gives back a handle from {@link #acquire}. */
    void release(Handle handle) throws IOException {
        boolean close;
        synchronized (this) {
            handle.users--;
            close = handle.retired && handle.users == 0;
        }
        if (close) {
            handle.file.close();
        }
    }

    /**
     * Keeps the file at {@code path}, the node {@code nodeid}, open until the kernel forgets the
     * node: its name is about to be removed or replaced. The handle writes when the file is
     * already in the upper layer (opening it so copies nothing); a lower file stays readable.
     */
    void pin(long nodeid, EntryPath path) throws IOException {
        synchronized (this) {
            Handle handle = handles.get(nodeid);
            if (handle != null && (handle.file.isWritable() || overlay.isReadOnly())) {
                markPinned(handle);
                return;
            }
        }
        OverlayFile file = overlay.open(path, READ, EXISTING);
        if (!overlay.isReadOnly() && !file.mayBeCopiedUp()) {
            file.close();
            file = overlay.open(path, READ_WRITE, EXISTING);
        }
        release(install(nodeid, file, true));
    }

    /**
     * Closes the handles (but pinned ones) of {@code node} and of the nodes beneath it, after a
     * rename of it or a change behind the overlay. A handle found its file by the path it was
     * opened at, and a read handle looks there for the file's copy-up; at the node's next
     * request a new one is opened at the path it has then.
     */
    void dropWithin(long node) throws IOException {
        List<Handle> toClose = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<Long, Handle>> all = handles.entrySet().iterator();
            while (all.hasNext()) {
                Map.Entry<Long, Handle> entry = all.next();
                if (!entry.getValue().pinned && nodes.isWithin(entry.getKey(), node)) {
                    all.remove();
                    retire(entry.getValue(), toClose);
                }
            }
        }
        for (Handle handle : toClose) {
            handle.file.close();
        }
    }

    /** The pinned handle of a node whose name is gone, or null. */
    synchronized Handle pinned(long nodeid) {
        Handle handle = handles.get(nodeid);
        if (handle == null || !handle.pinned) {
            return null;
        }
        handle.users++;
        return handle;
    }

    /** FORGET: the kernel holds the node no more, so neither does this server. */
    void forget(long nodeid) throws IOException {
        Handle handle;
        synchronized (this) {
            handle = handles.remove(nodeid);
            if (handle == null) {
                return;
            }
            if (handle.pinned) {
                pinnedCount--;
            }
            handle.retired = true;
            if (handle.users > 0) {
                return;
            }
        }
        handle.file.close();
    }

    /** Handles open now, pinned ones included. */
    synchronized int size() {
        return handles.size();
    }

    /** Closes every handle (the connection is gone). */
    void closeAll() {
        List<Handle> all;
        synchronized (this) {
            all = new ArrayList<>(handles.values());
            handles.clear();
            pinnedCount = 0;
            all.forEach(handle -> handle.retired = true);
            all.removeIf(handle -> handle.users > 0);
        }
        for (Handle handle : all) {
            try {
                handle.file.close();
            } catch (IOException e) {
                System.getLogger(NodeFiles.class.getName()).log(System.Logger.Level.DEBUG, "closing a node file", e);
            }
        }
    }

    /**
     * Makes {@code file} the node's handle, used once by the caller. A handle another request
     * installed meanwhile wins when it does as much; one that does less is retired.
     */
    private Handle install(long nodeid, OverlayFile file, boolean pin) throws IOException {
        List<Handle> toClose = new ArrayList<>();
        Handle result;
        synchronized (this) {
            Handle existing = handles.get(nodeid);
            if (existing != null && (existing.file.isWritable() || !file.isWritable())) {
                toClose.add(new Handle(file));
                result = existing;
                if (pin) {
                    markPinned(existing);
                }
            } else {
                result = new Handle(file);
                if (existing != null) {
                    retire(existing, toClose);
                    if (existing.pinned) {
                        pinnedCount--;
                        pin = true;
                    }
                }
                handles.put(nodeid, result);
                if (pin) {
                    markPinned(result);
                }
            }
            result.users++;
            evictBeyondLimit(toClose);
        }
        for (Handle handle : toClose) {
            handle.file.close();
        }
        return result;
    }

    private void markPinned(Handle handle) {
        if (!handle.pinned) {
            handle.pinned = true;
            pinnedCount++;
        }
    }

    private void evictBeyondLimit(List<Handle> toClose) {
        Iterator<Handle> eldestFirst = handles.values().iterator();
        while (handles.size() - pinnedCount > LIMIT && eldestFirst.hasNext()) {
            Handle handle = eldestFirst.next();
            if (!handle.pinned) {
                eldestFirst.remove();
                retire(handle, toClose);
            }
        }
    }

    private static void retire(Handle handle, List<Handle> toClose) {
        handle.retired = true;
        if (handle.users == 0) {
            toClose.add(handle);
        }
    }
}
