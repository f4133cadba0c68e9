package dev.overlay4j.fuse.server;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Init;
import dev.overlay4j.fuse.protocol.Opcode;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Answers FUSE requests from an {@link Overlay}: {@link #handle} decodes each request
 * ({@link In}) and passes it to the handler of its concern, which makes the overlay calls that
 * do the same thing; every error the overlay raises goes back as its errno. The handlers:
 * {@link EntryHandlers} (names), {@link AttributeHandlers}, {@link FileHandlers} (file I/O),
 * {@link DirectoryHandlers}, {@link XattrHandlers}, {@link IoctlHandlers} and {@link FilesystemHandlers}; what the
 * kernel holds open is in {@link OpenHandles}. Safe for concurrent use by several readers of
 * one session.
 */
public final class Operations {

    /** What {@link #handle} returns for requests the kernel expects no answer to. */
    public static final int NO_REPLY = -1;

    private static final System.Logger LOG = System.getLogger(Operations.class.getName());

    private final Overlay overlay;
    private final NodeTable nodes = new NodeTable();
    private final BackingFiles backing;
    private final Notifier notifier;
    private final OpenHandles handles;
    private final EntryHandlers entries;
    private final AttributeHandlers attributes;
    private final FileHandlers files;
    private final DirectoryHandlers directories;
    private final XattrHandlers xattrs;
    private final FilesystemHandlers filesystem;
    private final IoctlHandlers ioctls;
    /** Whether to ask the kernel to open directories without telling this server. */
    private final boolean kernelOpensDirectoriesWanted;
    /** Whether INIT asks for POSIX_ACL (not with option noacl). */
    private final boolean posixAcl;
    private final CountDownLatch initialized = new CountDownLatch(1);
    private volatile Init.Answer negotiated;

    /**
     * Every open of a file reaches this server, so that an open for writing copies a lower file
     * up then, as on the kernel's overlayfs. Directories, whose opening changes nothing, the
     * kernel is asked to open by itself when their listings may be cached: opendir then costs
     * no round trip.
     *
     * @param deviceFd    the FUSE device, for registering passthrough backing files
     * @param passthrough whether to ask the kernel for passthrough of files in local layers; every
     *                    open then reaches this server
     * @param passthroughLowerFiles whether lower files read in a writable overlay get it too
     * @param posixAcl    whether to ask the kernel to handle POSIX ACLs (off with option noacl)
     */
    public Operations(Overlay overlay, CachePolicy cache, int deviceFd, boolean passthrough,
            boolean passthroughLowerFiles, boolean posixAcl) {
        this.overlay = overlay;
        this.posixAcl = posixAcl;
        this.backing = new BackingFiles(deviceFd, passthrough, passthroughLowerFiles);
        this.notifier = deviceFd >= 0 ? new Notifier(deviceFd) : null;
        this.kernelOpensDirectoriesWanted = cache.cacheDirectories();
        this.handles = new OpenHandles(overlay, nodes, backing);
        EntryReplies replies = new EntryReplies(overlay, nodes, cache);
        this.entries = new EntryHandlers(overlay, nodes, cache, handles, replies, notifier);
        this.attributes = new AttributeHandlers(overlay, nodes, cache, handles);
        this.files = new FileHandlers(overlay, nodes, cache, handles, replies);
        this.directories = new DirectoryHandlers(overlay, nodes, cache, handles, replies);
        this.xattrs = new XattrHandlers(overlay, nodes);
        this.filesystem = new FilesystemHandlers(overlay);
        this.ioctls = new IoctlHandlers(overlay, nodes);
        if (notifier != null) {
            overlay.addCopyUpListener(this::copiedUp);
        }
    }

    /**
     * A copy-up changed the attributes of {@code path} and of its parent behind the kernel's
     * cache (change times; a directory now merged counts one link): drop them. Attributes only,
     * which is safe while answering the request that caused the copy-up.
     */
    private void copiedUp(EntryPath path) {
        dropAttributes(path);
        if (!path.isRoot()) {
            dropAttributes(path.parent());
        }
    }

    private void dropAttributes(EntryPath path) {
        long node = nodes.find(path);
        if (node > 0) {
            notifier.invalidateInode(node, -1, 0);
        }
    }

    /** With POSIX ACLs handled by the kernel. */
    public Operations(Overlay overlay, CachePolicy cache, int deviceFd, boolean passthrough,
            boolean passthroughLowerFiles) {
        this(overlay, cache, deviceFd, passthrough, passthroughLowerFiles, true);
    }

    /** Without passthrough and without negative entries, for tests without a kernel. */
    Operations(Overlay overlay, long entryTimeoutNanos, long attrTimeoutNanos) {
        this(overlay, new CachePolicy(entryTimeoutNanos, attrTimeoutNanos, 0), -1, false, false, true);
    }

    /**
     * Answers one request into {@code reply}.
     *
     * @return the length of the reply to send, or {@link #NO_REPLY}
     */
    public int handle(Request request, Reply reply) {
        int opcode = request.opcode();
        reply.start(request.unique());
        try {
            return dispatch(opcode, request, reply);
        } catch (IOException e) {
            return reply.error(Errno.of(e).code());
        } catch (UncheckedIOException e) {
            return reply.error(Errno.of(e.getCause()).code());
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> Opcode.name(opcode) + ": " + e.getMessage());
            return reply.error(Errno.EINVAL.code());
        } catch (UnsupportedOperationException e) {
            return reply.error(Errno.EOPNOTSUPP.code());
        } catch (RuntimeException | Error e) {
            // Errors too (a class that cannot load, a stack overflow): unanswered, the request
            // would keep its caller waiting until the mount goes away.
            LOG.log(System.Logger.Level.WARNING, "FUSE " + Opcode.name(opcode) + " failed", e);
            return reply.error(Errno.EIO.code());
        }
    }

    /**
     * Whether a request of this opcode may be answered with EINTR when the kernel interrupts it,
     * while its handler goes on: the requests that change nothing, so an answer dropped later
     * loses nothing but what {@link #abandon} gives back. OPEN only without a write flag: an open
     * for writing copies up and may truncate, and its caller must learn whether it did.
     */
    public static boolean interruptible(Request request) {
        return switch (request.opcode()) {
            case Opcode.LOOKUP, Opcode.GETATTR, Opcode.READLINK, Opcode.ACCESS, Opcode.READ, Opcode.LSEEK,
                 Opcode.OPENDIR, Opcode.READDIR, Opcode.READDIRPLUS, Opcode.GETXATTR, Opcode.LISTXATTR,
                 Opcode.STATFS -> true;
            case Opcode.OPEN -> !In.Open.decode(request).writes();
            default -> false;
        };
    }

    /**
     * Gives back what the answer in {@code reply} handed to the kernel, an answer the kernel
     * never got because the request was interrupted and answered with EINTR first: the lookups of
     * the nodes in it and the handle it opened. Otherwise those would stay held for a kernel that
     * will never forget or release them.
     */
    public void abandon(int opcode, Reply reply, int length) {
        MemorySegment out = reply.segment();
        if (length < Structs.OutHeader.SIZE || out.get(JAVA_INT_UNALIGNED, Structs.OutHeader.ERROR) != 0) {
            return;
        }
        long body = Structs.OutHeader.SIZE;
        switch (opcode) {
            case Opcode.LOOKUP -> forgetOne(out.get(JAVA_LONG_UNALIGNED, body + Structs.EntryOut.NODEID));
            case Opcode.OPEN -> {
                try {
                    handles.releaseFile(out.get(JAVA_LONG_UNALIGNED, body + Structs.OpenOut.FH));
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "closing an abandoned open: " + e);
                }
            }
            case Opcode.OPENDIR -> handles.releaseDirectory(out.get(JAVA_LONG_UNALIGNED, body + Structs.OpenOut.FH));
            case Opcode.READDIRPLUS -> {
                long at = body;
                while (at + Structs.EntryOut.SIZE + Structs.Dirent.NAME <= length) {
                    forgetOne(out.get(JAVA_LONG_UNALIGNED, at + Structs.EntryOut.NODEID));
                    int nameLength = out.get(JAVA_INT_UNALIGNED, at + Structs.EntryOut.SIZE + Structs.Dirent.NAMELEN);
                    at += Structs.Dirent.plusRecordSize(nameLength);
                }
            }
            default -> { }
        }
    }

    private void forgetOne(long nodeid) {
        if (nodeid != 0) {
            entries.forget(nodeid, 1);
        }
    }

    private int dispatch(int opcode, Request rq, Reply rp) throws IOException {
        return switch (opcode) {
            case Opcode.INIT -> init(rq, rp);
            // names: EntryHandlers
            case Opcode.LOOKUP -> entries.lookup(rq, In.Name.decode(rq), rp);
            case Opcode.FORGET -> entries.forget(rq, In.Forget.decode(rq));
            case Opcode.BATCH_FORGET -> entries.batchForget(In.BatchForget.decode(rq));
            case Opcode.READLINK -> entries.readlink(rq, rp);
            case Opcode.SYMLINK -> entries.symlink(rq, In.Symlink.decode(rq), rp);
            case Opcode.MKNOD -> entries.mknod(rq, In.Mknod.decode(rq), rp);
            case Opcode.MKDIR -> entries.mkdir(rq, In.Mkdir.decode(rq), rp);
            case Opcode.UNLINK -> entries.unlink(rq, In.Name.decode(rq), rp);
            case Opcode.RMDIR -> entries.rmdir(rq, In.Name.decode(rq), rp);
            case Opcode.RENAME, Opcode.RENAME2 -> entries.rename(rq, In.Rename.decode(rq), rp);
            case Opcode.LINK -> entries.link(rq, In.Link.decode(rq), rp);
            // attributes: AttributeHandlers
            case Opcode.GETATTR -> attributes.getattr(rq, In.Getattr.decode(rq), rp);
            case Opcode.SETATTR -> attributes.setattr(rq, In.Setattr.decode(rq), rp);
            case Opcode.ACCESS -> attributes.access(rq, In.Access.decode(rq), rp);
            // file I/O: FileHandlers
            case Opcode.OPEN -> files.open(rq, In.Open.decode(rq), rp);
            case Opcode.CREATE -> files.create(rq, In.Create.decode(rq), rp);
            case Opcode.TMPFILE -> files.tmpfile(rq, In.Create.decodeTmpfile(rq), rp);
            case Opcode.READ -> files.read(In.Read.decode(rq), rp);
            case Opcode.WRITE -> files.write(In.Write.decode(rq), rp);
            case Opcode.FLUSH -> files.flush(In.Flush.decode(rq), rp);
            case Opcode.RELEASE -> files.release(In.Release.decode(rq), rp);
            case Opcode.FSYNC -> files.fsync(In.Fsync.decode(rq), rp);
            case Opcode.LSEEK -> files.lseek(In.Lseek.decode(rq), rp);
            case Opcode.FALLOCATE -> files.fallocate(In.Fallocate.decode(rq), rp);
            case Opcode.COPY_FILE_RANGE -> files.copyFileRange(In.CopyFileRange.decode(rq), rp);
            // directories: DirectoryHandlers
            case Opcode.OPENDIR -> directories.opendir(rq, rp);
            case Opcode.READDIR -> directories.readdir(rq, In.Read.decode(rq), rp, false);
            case Opcode.READDIRPLUS -> directories.readdir(rq, In.Read.decode(rq), rp, true);
            case Opcode.RELEASEDIR -> directories.releasedir(In.Release.decode(rq), rp);
            case Opcode.FSYNCDIR -> directories.fsyncdir(rq, In.Fsync.decode(rq), rp);
            // extended attributes: XattrHandlers
            case Opcode.SETXATTR -> xattrs.setxattr(rq, In.Setxattr.decode(rq), rp);
            case Opcode.GETXATTR -> xattrs.getxattr(rq, In.Getxattr.decode(rq), rp);
            case Opcode.LISTXATTR -> xattrs.listxattr(rq, In.Listxattr.decode(rq), rp);
            case Opcode.REMOVEXATTR -> xattrs.removexattr(rq, In.Removexattr.decode(rq), rp);
            // inode flags (lsattr, chattr): IoctlHandlers
            case Opcode.IOCTL -> ioctls.ioctl(rq, In.Ioctl.decode(rq), rp);
            // the file system: FilesystemHandlers
            case Opcode.STATFS -> filesystem.statfs(rp);
            case Opcode.SYNCFS -> filesystem.syncfs(rp);
            // Session answers INTERRUPT itself: it knows which reader holds which request.
            case Opcode.INTERRUPT -> NO_REPLY;
            case Opcode.DESTROY -> rp.ok();
            // Locks (GETLK, SETLK, SETLKW: the kernel keeps POSIX and flock locks itself after
            // ENOSYS), BMAP, POLL and the rest.
            default -> rp.error(Errno.ENOSYS.code());
        };
    }

    private int init(Request rq, Reply rp) {
        Init.Offer offer = In.init(rq);
        Init.Answer answer = Init.negotiate(offer, backing.enabled(), kernelOpensDirectoriesWanted, posixAcl);
        if (answer.major() == Init.MAJOR && offer.major() == Init.MAJOR) {
            if (!answer.passthrough()) {
                backing.disable("the kernel does not offer FUSE passthrough");
            }
            handles.kernelOpensDirectories(answer.kernelOpensDirectories());
            negotiated = answer;
            initialized.countDown();
        }
        return rp.init(answer);
    }

    /**
     * For a change made behind the mount's back (a lower layer that changed): makes the
     * overlay and the kernel look {@code path} up again, and the kernel drop the attributes and
     * pages it cached of it.
     * Must not be called from a thread answering a request.
     *
     * @throws IOException when the kernel refuses the notification
     */
    public void invalidate(EntryPath path) throws IOException {
        if (notifier == null) {
            throw new IllegalStateException("no FUSE device to notify");
        }
        overlay.invalidate(path);
        if (!path.isRoot()) {
            long parent = nodes.find(path.parent());
            if (parent > 0) {
                check(notifier.invalidateEntry(parent, path.fileName()), path);
            }
        }
        long node = nodes.find(path);
        if (node > 0) {
            check(notifier.invalidateInode(node, 0, 0), path);
        }
    }

    private static void check(int result, EntryPath path) throws IOException {
        // ENOENT: the kernel has already forgotten it, which is what was asked for.
        if (result < 0 && result != -Errno.ENOENT.code()) {
            throw Errno.ofCode(-result).exception(path, "invalidating the kernel's cache");
        }
    }

    /** Whether opens of files in local layers are served by kernel passthrough now. */
    public boolean passthrough() {
        return backing.enabled();
    }

    /** Waits until the kernel's INIT has been answered. */
    public boolean awaitInitialized(long timeout, TimeUnit unit) throws InterruptedException {
        return initialized.await(timeout, unit);
    }

    /** What INIT agreed on, or null before INIT. */
    public Init.Answer negotiated() {
        return negotiated;
    }

    /** The node table, for tests. */
    NodeTable nodes() {
        return nodes;
    }

    /** Number of open file and directory handles. */
    public int openHandles() {
        return handles.count();
    }

    /** Whether the kernel opens directories on this connection without asking (set by INIT). */
    public boolean kernelOpensDirectories() {
        return handles.kernelOpensDirectories();
    }

    /** Closes the files the kernel left open (a connection that ended without RELEASE). */
    public void closeAll() {
        handles.closeAll();
    }
}
