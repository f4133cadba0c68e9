package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.fuse.kernel.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Kernel passthrough: an open file whose bytes are in a local file is read and written by the
 * kernel directly, without the server. The kernel allows one backing file per inode, shared
 * by all opens of that inode, and refuses (EIO to the caller) an inode that mixes passthrough
 * opens with opens through the server ({@code fs/fuse/iomode.c}). So this class keeps, per
 * node with open handles, either the one backing file all its opens share or the fact that
 * they go through the server. A backing file is registered (FUSE_DEV_IOC_BACKING_OPEN) at the
 * node's first open and unregistered when its last handle is released.
 *
 * <p>A lower file of a writable overlay opened for reading is served by the daemon unless asked
 * otherwise ({@code passthrough=all}): if the kernel held its lower file, a later open for
 * writing, which copies it up, would need the upper file as the inode's backing file, and the
 * kernel allows one per inode and no daemon-served open beside passthrough ones, so that open
 * could only fail with EBUSY where the kernel's overlayfs succeeds. With {@code passthrough=all}
 * it does fail so.
 */
final class BackingFiles {

    private static final System.Logger LOG = System.getLogger(BackingFiles.class.getName());

    /**
     * How one open is served: {@code backingId} > 0 for passthrough, 0 through the server.
     * {@code tracked}: counted in the node's state (to be given back with {@link #release}).
     */
    record Grant(long nodeid, int backingId, boolean tracked) {
        boolean passthrough() {
            return backingId > 0;
        }
    }

    private record Backing(int fd, int id, long dev, long ino, Path file) {
    }

    /** The opens of one node: all through {@code backing}, or all through the server when it is null. */
    private static final class NodeIo {
        final Backing backing;
        int users = 1;

        NodeIo(Backing backing) {
            this.backing = backing;
        }
    }

    /**
     * Files up to this size opened read-only go through the server even with passthrough on:
     * with FOPEN_KEEP_CACHE their pages stay in the kernel, so a warm open costs the OPEN and
     * RELEASE round trips alone, where passthrough adds registering the backing file and the
     * attribute refresh its reads cause (atime). Large files keep passthrough's native reads.
     */
    static final long SERVED_SIZE_LIMIT = 64 * 1024;

    private final int deviceFd;
    private final Map<Long, NodeIo> nodes = new HashMap<>();
    /** Nodes written through passthrough since their last open through the server: their cached pages may be stale. */
    private final Set<Long> pagesBypassed = new HashSet<>();
    private final Set<Integer> reportedErrors = new HashSet<>();
    private boolean enabled;
    /** Whether lower files that may still be copied up are handed to the kernel too. */
    private final boolean lowerFilesToo;

    /**
     * @param deviceFd the FUSE device to register backing files with
     * @param wanted   whether to use passthrough once the kernel agrees to it
     */
    BackingFiles(int deviceFd, boolean wanted, boolean lowerFilesToo) {
        this.deviceFd = deviceFd;
        this.enabled = wanted && deviceFd >= 0;
        this.lowerFilesToo = lowerFilesToo;
    }

    synchronized boolean enabled() {
        return enabled;
    }

    /** Turns passthrough off for opens to come, saying why once. */
    synchronized void disable(String reason) {
        if (enabled) {
            enabled = false;
            LOG.log(System.Logger.Level.INFO, "kernel passthrough is off (" + reason
                    + "): file reads and writes go through the overlay4j server");
        }
    }

    /**
     * Decides how an open of {@code nodeid} is served.
     *
     * @param path      the node's path, for errors
     * @param localFile the local file the open handle reads and writes, if any
     * @param write     whether the open may write
     * @param size      the file's size at the open
     * @param mayBeCopiedUp whether the file lies in a lower layer of a writable overlay
     * @throws IOException EBUSY when the node is open through passthrough on another file
     */
    synchronized Grant acquire(long nodeid, EntryPath path, Optional<Path> localFile, boolean write, long size,
            boolean mayBeCopiedUp) throws IOException {
        NodeIo io = nodes.get(nodeid);
        if (io == null && !enabled) {
            return new Grant(nodeid, 0, false);
        }
        if (io != null && io.backing == null) {
            io.users++;
            return new Grant(nodeid, 0, true);
        }
        boolean servedHere = !write && (size <= SERVED_SIZE_LIMIT || (mayBeCopiedUp && !lowerFilesToo));
        if (localFile.isEmpty() || (io == null && servedHere)) {
            if (io != null) {
                throw busy(path, io.backing, "a file with no local copy");
            }
            nodes.put(nodeid, new NodeIo(null));
            return new Grant(nodeid, 0, true);
        }
        Path file = localFile.get();
        try (Syscalls sys = new Syscalls()) {
            int fd = openBacking(sys, file, write);
            long[] identity = fd >= 0 ? sys.identity(fd) : null;
            if (fd < 0 || identity.length < 2) {
                if (fd >= 0) {
                    sys.close(fd);
                }
                int errno = fd < 0 ? -fd : (int) -identity[0];
                if (io != null) {
                    throw Errno.ofCode(errno).exception(path, "cannot open " + file + " to compare it with the open one");
                }
                report(errno, "cannot open " + file);
                nodes.put(nodeid, new NodeIo(null));
                return new Grant(nodeid, 0, true);
            }
            if (io != null) {
                sys.close(fd);
                if (io.backing.dev() == identity[0] && io.backing.ino() == identity[1]) {
                    io.users++;
                    if (write) {
                        pagesBypassed.add(nodeid);
                    }
                    return new Grant(nodeid, io.backing.id(), true);
                }
                throw busy(path, io.backing, file.toString());
            }
            int id = sys.backingOpen(deviceFd, fd);
            if (id <= 0) {
                sys.close(fd);
                if (id == -Syscalls.EPERM) {
                    disable("registering a backing file needs CAP_SYS_ADMIN");
                } else {
                    report(-id, "FUSE_DEV_IOC_BACKING_OPEN of " + file);
                }
                nodes.put(nodeid, new NodeIo(null));
                return new Grant(nodeid, 0, true);
            }
            nodes.put(nodeid, new NodeIo(new Backing(fd, id, identity[0], identity[1], file)));
            if (write) {
                pagesBypassed.add(nodeid);
            }
            return new Grant(nodeid, id, true);
        }
    }

    /**
     * For an open through the server: whether passthrough writes went around the kernel's
     * cached pages of the node since its last such open, so that this open must drop them
     * (no FOPEN_KEEP_CACHE). Forgets the mark: the open answered without it drops the pages.
     */
    synchronized boolean takePagesBypassed(long nodeid) {
        return pagesBypassed.remove(nodeid);
    }

    /** The kernel forgot the node, and its pages with it. */
    synchronized void forgotten(long nodeid) {
        pagesBypassed.remove(nodeid);
    }

    /** Gives back what {@link #acquire} granted; the node's last handle unregisters its backing file. */
    synchronized void release(Grant grant) {
        if (!grant.tracked()) {
            return;
        }
        NodeIo io = nodes.get(grant.nodeid());
        if (io == null || --io.users > 0) {
            return;
        }
        nodes.remove(grant.nodeid());
        if (io.backing != null) {
            unregister(io.backing);
        }
    }

    /** Unregisters every backing file: the connection is gone. */
    synchronized void closeAll() {
        for (NodeIo io : List.copyOf(nodes.values())) {
            if (io.backing != null) {
                unregister(io.backing);
            }
        }
        nodes.clear();
        pagesBypassed.clear();
    }

    /** Backing files registered now, for tests. */
    synchronized int registered() {
        return (int) nodes.values().stream().filter(io -> io.backing != null).count();
    }

    private void unregister(Backing backing) {
        try (Syscalls sys = new Syscalls()) {
            int r = sys.backingClose(deviceFd, backing.id());
            if (r < 0 && r != -Syscalls.ENODEV) {
                LOG.log(System.Logger.Level.DEBUG, () -> "FUSE_DEV_IOC_BACKING_CLOSE of " + backing.file() + ": "
                        + Syscalls.message(r));
            }
            sys.close(backing.fd());
        }
    }

    /** The access mode the open asks for, or read-only when the file may not be opened for writing. */
    private static int openBacking(Syscalls sys, Path file, boolean write) {
        int flags = Syscalls.O_CLOEXEC | Syscalls.O_NOFOLLOW;
        if (write) {
            int fd = sys.open(file.toString(), flags | Syscalls.O_RDWR);
            if (fd != -Syscalls.EACCES) {
                return fd;
            }
        }
        return sys.open(file.toString(), flags | Syscalls.O_RDONLY);
    }

    private void report(int errno, String what) {
        if (reportedErrors.add(errno)) {
            LOG.log(System.Logger.Level.INFO, "kernel passthrough refused: " + what + ": " + Syscalls.message(errno)
                    + "; files like it are read and written through the overlay4j server");
        }
    }

    private static IOException busy(EntryPath path, Backing open, String wanted) {
        return Errno.EBUSY.exception(path, "open through kernel passthrough on " + open.file() + ", cannot also open "
                + wanted + " (the kernel allows one backing file per inode)");
    }
}
