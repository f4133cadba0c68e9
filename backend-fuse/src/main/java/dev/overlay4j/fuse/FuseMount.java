package dev.overlay4j.fuse;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Mount;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.kernel.Syscalls;
import dev.overlay4j.fuse.server.CachePolicy;
import dev.overlay4j.fuse.server.Operations;
import dev.overlay4j.fuse.server.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * An overlay mounted through the kernel's FUSE: a pure-Java server over {@code /dev/fuse}
 * (no libfuse). With CAP_SYS_ADMIN it mounts with mount(2); without, through the
 * set-user-ID {@code fusermount3} (package fuse3). The caller keeps ownership of the overlay
 * and closes it after the mount is gone.
 */
public final class FuseMount implements Mount {

    private static final System.Logger LOG = System.getLogger(FuseMount.class.getName());

    /** The file system type the mount shows: {@code fuse.overlay4j}. */
    public static final String TYPE = "fuse.overlay4j";
    /** How long to wait for the kernel's INIT after mount(2). */
    private static final long INIT_TIMEOUT_SECONDS = 30;
    /** How long {@link #close} waits for the readers once the mount is gone. */
    private static final long END_TIMEOUT_SECONDS = 10;

    private final Path mountpoint;
    private final Operations operations;
    private final Session session;
    private final int deviceFd;
    private final boolean viaFusermount;
    /** The mount's device number (its connection), known once the handshake is done; -1 before. */
    private volatile long device = -1;
    /**
     * Passes changes a lower layer noticed on to the kernel. Invalidating must not run on the
     * thread that noticed: that may be a reader answering a request the invalidation waits for.
     */
    private final ExecutorService invalidations = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("overlay4j-invalidate").factory());
    private volatile boolean closed;

    private FuseMount(Path mountpoint, Operations operations, Session session, int deviceFd, boolean viaFusermount) {
        this.mountpoint = mountpoint;
        this.operations = operations;
        this.session = session;
        this.deviceFd = deviceFd;
        this.viaFusermount = viaFusermount;
    }

    /** A lower layer's entry changed behind the mount: the kernel is to forget what it cached of it. */
    private void lowerChanged(EntryPath path) {
        if (closed) {
            return;
        }
        try {
            invalidations.execute(() -> {
                try {
                    operations.invalidate(path);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot make the kernel forget " + path + ": " + e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            // closing: the kernel's caches go with the mount
        }
    }

    /**
     * Mounts {@code overlay} on {@code mountpoint} and returns once the kernel has completed
     * the FUSE handshake, so the mount is usable. Nothing stays mounted when this fails.
     *
     * @throws IOException naming what failed: {@code /dev/fuse}, the mount, or the handshake
     */
    public static FuseMount mount(Overlay overlay, Path mountpoint, FuseOptions options) throws IOException {
        Path target = mountpoint.toAbsolutePath().normalize();
        if (!Files.isDirectory(target)) {
            throw new IOException("mountpoint " + target + " is not an existing directory");
        }
        int fd;
        boolean viaFusermount;
        try (Syscalls sys = new Syscalls()) {
            fd = sys.geteuid() == 0 ? mountDirectly(sys, overlay, target, options) : -Syscalls.EPERM;
            viaFusermount = fd == -Syscalls.EPERM;
            if (viaFusermount) {
                fd = Fusermount.mount(target, Fusermount.options(options, overlay.isReadOnly()));
            }
        }
        CachePolicy cache = new CachePolicy(options.entryTimeout().toNanos(), options.attrTimeout().toNanos(),
                options.negativeTimeout().toNanos());
        // Without xattrs (noxattrs=1) there are no ACLs for the kernel to read either.
        boolean posixAcl = options.posixAcl() && !overlay.config().noXattrs();
        Operations operations = new Operations(overlay, cache, fd, options.passthrough(), options.passthroughLowerFiles(),
                posixAcl);
        Session session = new Session(operations, fd);
        session.start(options.threads(), "overlay4j-fuse");
        FuseMount mount = new FuseMount(target, operations, session, fd, viaFusermount);
        overlay.addChangeListener(mount::lowerChanged);
        boolean ready;
        try {
            ready = operations.awaitInitialized(INIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ready = false;
        }
        if (!ready) {
            mount.close();
            throw new IOException("the kernel did not complete the FUSE handshake on " + target);
        }
        try (Syscalls sys = new Syscalls()) {
            mount.device = sys.deviceOf(target.toString());
        }
        return mount;
    }

    /**
     * mount(2) of {@code /dev/fuse} on {@code target}.
     *
     * @return the device descriptor, or {@code -EPERM} when this process may not mount
     */
    private static int mountDirectly(Syscalls sys, Overlay overlay, Path target, FuseOptions options)
            throws IOException {
        int fd = sys.open("/dev/fuse", Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open /dev/fuse: " + Syscalls.message(fd)
                    + " (load the fuse kernel module, or in a container pass --device /dev/fuse)");
        }
        String data = "fd=" + fd + ",rootmode=40000,user_id=" + sys.geteuid() + ",group_id=" + sys.getegid()
                + ",default_permissions,allow_other";
        long flags = options.mountFlagBits() | (overlay.isReadOnly() ? Syscalls.MS_RDONLY : 0);
        int r = sys.mount(options.fsName(), target.toString(), TYPE, flags, data);
        if (r < 0) {
            sys.close(fd);
            if (r == -Syscalls.EPERM) {
                return r;
            }
            throw new IOException("cannot mount " + target + ": " + Syscalls.message(r));
        }
        return fd;
    }

    public Path mountpoint() {
        return mountpoint;
    }

    /** Whether the kernel agreed to read and write files of local layers itself (kernel passthrough). */
    public boolean passthrough() {
        return operations.passthrough();
    }

    /**
     * Whether the kernel opens directories without asking the server (FUSE zero-message opendir),
     * as it does when attributes are cached. Files are always opened through the server.
     */
    public boolean kernelOpensDirectories() {
        return operations.kernelOpensDirectories();
    }

    /** Files and directories the server holds open for the kernel now. */
    public int openHandles() {
        return operations.openHandles();
    }

    /** Whether the mount was made by {@code fusermount3} (without privileges). */
    public boolean unprivileged() {
        return viaFusermount;
    }

    /**
     * Makes the kernel forget what it cached of {@code path}: its lookup (positive or negative),
     * attributes and pages. For layers that change behind the mount; changes made through the
     * mount never need it.
     */
    public void invalidate(EntryPath path) throws IOException {
        operations.invalidate(path);
    }

    @Override
    public String frontend() {
        return FuseFrontend.NAME;
    }

    /** Waits until the mount goes away (unmounted by anyone) and the readers have ended. */
    @Override
    public void awaitUnmount() throws InterruptedException {
        session.awaitEnd();
    }

    /**
     * Whether the mount at the mountpoint's path is still this server's connection: nobody
     * unmounted it, lazily or not, and nothing else was mounted there since. Only then may this
     * server unmount by path; otherwise it would take down someone else's mount.
     */
    private boolean stillMountedHere() {
        if (session.connectionEnded() || device < 0) {
            return false;
        }
        try (Syscalls sys = new Syscalls()) {
            return sys.deviceOf(mountpoint.toString()) == device;
        }
    }

    /**
     * Unmounts (lazily when the mount is busy), unless the kernel has already ended the
     * connection or the mount at the mountpoint's path is no longer this one, and waits a
     * bounded time for the readers to end. Idempotent.
     */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        invalidations.shutdownNow();
        try (Syscalls sys = new Syscalls()) {
            boolean ending = true;
            if (stillMountedHere()) {
                if (viaFusermount) {
                    Fusermount.unmount(mountpoint);
                } else {
                    int r = sys.umount2(mountpoint.toString(), 0);
                    if (r == -Syscalls.EBUSY) {
                        r = sys.umount2(mountpoint.toString(), Syscalls.MNT_DETACH);
                    }
                    // EINVAL: no longer mounted (someone else unmounted it meanwhile).
                    if (r < 0 && r != -Syscalls.EINVAL && r != -Syscalls.ENOENT) {
                        throw new IOException("cannot unmount " + mountpoint + ": " + Syscalls.message(r));
                    }
                }
            } else if (!session.connectionEnded()) {
                LOG.log(System.Logger.Level.INFO, mountpoint + " no longer shows this mount (detached, or "
                        + "covered by another): leaving the path alone and ending the connection");
                ending = abortConnection(sys);
            }
            if (ending && session.awaitEnd(END_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                sys.close(deviceFd);
                operations.closeAll();
            } else if (ending) {
                LOG.log(System.Logger.Level.WARNING, mountpoint + " was detached but is still in use; "
                        + "its FUSE readers keep serving until the last user lets go");
            } else {
                LOG.log(System.Logger.Level.WARNING, "cannot end the connection of " + mountpoint
                        + " (no fuse control file system): it ends with this process");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unmounting " + mountpoint, e);
        }
    }

    /** Where the fuse control file system lists the connections, as systemd mounts it. */
    private static final Path CONNECTIONS = Path.of("/sys/fs/fuse/connections");

    /**
     * Ends this mount's connection through the fuse control file system (mounted there first
     * when missing and this process may): the kernel then fails every request on it with
     * ENOTCONN and the readers end.
     *
     * @return whether the connection was aborted
     */
    private boolean abortConnection(Syscalls sys) {
        Path abort = CONNECTIONS.resolve(Long.toString(device)).resolve("abort");
        if (!Files.exists(abort) && Files.isDirectory(CONNECTIONS) && sys.geteuid() == 0) {
            int r = sys.mount("fusectl", CONNECTIONS.toString(), "fusectl", 0, "");
            if (r < 0) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot mount fusectl: " + Syscalls.message(r));
            }
        }
        try {
            Files.writeString(abort, "1");
            return true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot abort the connection through " + abort + ": " + e);
            return false;
        }
    }
}
