package dev.overlay4j.fuse.server;

import static dev.overlay4j.fuse.protocol.Flags.FATTR_ATIME;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_ATIME_NOW;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_FH;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_GID;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MODE;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MTIME;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_MTIME_NOW;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_SIZE;
import static dev.overlay4j.fuse.protocol.Flags.FATTR_UID;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.StoreSpace;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.Init;
import dev.overlay4j.fuse.protocol.Opcode;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers FUSE requests from an {@link Overlay}: each opcode becomes the overlay calls that
 * do the same thing, and every error the overlay raises goes back as its errno. Safe for
 * concurrent use by several readers of one session.
 */
public final class Operations {

    /** What {@link #handle} returns for requests the kernel expects no answer to. */
    public static final int NO_REPLY = -1;

    private static final System.Logger LOG = System.getLogger(Operations.class.getName());

    /** The longest name a Linux file system accepts, in bytes (NAME_MAX). */
    private static final int NAME_MAX = 255;
    /** The most COPY_FILE_RANGE copies in one request; callers loop on short copies. */
    private static final long COPY_CHUNK_LIMIT = 1L << 30;

    /** An open file and how the kernel does its reads and writes. */
    private record OpenFile(OverlayFile file, BackingFiles.Grant grant) implements FileUse {
    }

    /** What a request on a file answers from the file; static, so that passing it allocates nothing. */
    @FunctionalInterface
    private interface FileRequest {
        int answer(Request rq, Reply rp, OverlayFile file) throws IOException;
    }

    /** One name of a directory snapshot, encoded once. */
    private record Listed(String name, byte[] encoded, int type, long inode) {
    }

    /**
     * An open directory. Its listing is taken at the first READDIR, not at OPENDIR: with the
     * kernel's directory cache most opens never read, and listing a merged directory is costly.
     */
    private static final class OpenDirectory {
        private final EntryPath path;
        private List<Listed> entries;

        OpenDirectory(EntryPath path) {
            this.path = path;
        }

        synchronized List<Listed> entries(Overlay overlay) throws IOException {
            if (entries == null) {
                entries = snapshot(overlay, path);
            }
            return entries;
        }
    }

    private final Overlay overlay;
    private final CachePolicy cache;
    private final BackingFiles backing;
    private final Notifier notifier;
    private final NodeTable nodes = new NodeTable();
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, OpenDirectory> directories = new ConcurrentHashMap<>();
    /** Whether to ask the kernel to open files and directories without telling this server. */
    private final boolean kernelOpensWanted;
    /** Whether it does so on this connection (set by INIT): requests then carry handle 0. */
    private volatile boolean kernelOpens;
    private final NodeFiles nodeFiles;
    /** With kernel opens: the listing a directory's reading from offset 0 took, until read to its end. */
    private final Map<Long, List<Listed>> nodeListings = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    private final CountDownLatch initialized = new CountDownLatch(1);
    private volatile Init.Answer negotiated;

    /**
     * Without passthrough (and with cached attributes) the kernel is asked to open files and
     * directories by itself, when it can: an open then costs no round trip to this server, which
     * makes opening small files nearly as cheap as on a local file system. The price: the kernel
     * keeps every file's cached pages across opens, which is why it is not done when attributes
     * are not cached (a lower layer that changes behind the mount); and an open for writing
     * copies a lower file up at its first write or truncation, not at the open itself.
     *
     * @param deviceFd    the FUSE device, for registering passthrough backing files
     * @param passthrough whether to ask the kernel for passthrough of files in local layers; every
     *                    open then reaches this server
     * @param passthroughLowerFiles whether lower files read in a writable overlay get it too
     */
    public Operations(Overlay overlay, CachePolicy cache, int deviceFd, boolean passthrough,
            boolean passthroughLowerFiles) {
        this.overlay = overlay;
        this.cache = cache;
        this.backing = new BackingFiles(deviceFd, passthrough, passthroughLowerFiles);
        this.notifier = deviceFd >= 0 ? new Notifier(deviceFd) : null;
        this.kernelOpensWanted = !passthrough && cache.cacheDirectories();
        this.nodeFiles = new NodeFiles(overlay, nodes);
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
            nodeFiles.dropWithin(node); // the layer may have put another file there
            check(notifier.invalidateInode(node, 0, 0), path);
        }
    }

    private static void check(int result, EntryPath path) throws IOException {
        // ENOENT: the kernel has already forgotten it, which is what was asked for.
        if (result < 0 && result != -Errno.ENOENT.code()) {
            throw Errno.ofCode(-result).exception(path, "invalidating the kernel's cache");
        }
    }

    /** Without passthrough and without negative entries, for tests without a kernel. */
    Operations(Overlay overlay, long entryTimeoutNanos, long attrTimeoutNanos) {
        this(overlay, new CachePolicy(entryTimeoutNanos, attrTimeoutNanos, 0), -1, false, false);
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

    /** Number of open file and directory handles, those the server holds for nodes included. */
    public int openHandles() {
        return files.size() + directories.size() + nodeFiles.size();
    }

    /** Whether the kernel opens files and directories on this connection without asking (set by INIT). */
    public boolean kernelOpens() {
        return kernelOpens;
    }

    /** Closes the files the kernel left open (a connection that ended without RELEASE). */
    public void closeAll() {
        for (Long fh : List.copyOf(files.keySet())) {
            OpenFile open = files.remove(fh);
            if (open != null) {
                closeQuietly(open.file());
            }
        }
        directories.clear();
        nodeFiles.closeAll();
        nodeListings.clear();
        backing.closeAll();
    }

    /**
     * Answers one request into {@code reply}.
     *
     * @return the length of the reply to send, or {@link #NO_REPLY}
     */
    public int handle(Request request, Reply reply) {
        int opcode = request.opcode();
        long unique = request.unique();
        try {
            return dispatch(opcode, request, reply);
        } catch (IOException e) {
            return reply.header(unique, -Errno.of(e).code(), 0);
        } catch (UncheckedIOException e) {
            return reply.header(unique, -Errno.of(e.getCause()).code(), 0);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> Opcode.name(opcode) + ": " + e.getMessage());
            return reply.header(unique, -Errno.EINVAL.code(), 0);
        } catch (UnsupportedOperationException e) {
            return reply.header(unique, -Errno.EOPNOTSUPP.code(), 0);
        } catch (RuntimeException | Error e) {
            // Errors too (a class that cannot load, a stack overflow): unanswered, the request
            // would keep its caller waiting until the mount goes away.
            LOG.log(System.Logger.Level.WARNING, "FUSE " + Opcode.name(opcode) + " failed", e);
            return reply.header(unique, -Errno.EIO.code(), 0);
        }
    }

    private int dispatch(int opcode, Request rq, Reply rp) throws IOException {
        return switch (opcode) {
            case Opcode.INIT -> init(rq, rp);
            case Opcode.LOOKUP -> lookup(rq, rp);
            case Opcode.FORGET -> forget(rq);
            case Opcode.BATCH_FORGET -> batchForget(rq);
            case Opcode.GETATTR -> getattr(rq, rp);
            case Opcode.SETATTR -> setattr(rq, rp);
            case Opcode.READLINK -> readlink(rq, rp);
            case Opcode.SYMLINK -> symlink(rq, rp);
            case Opcode.MKNOD -> mknod(rq, rp);
            case Opcode.MKDIR -> mkdir(rq, rp);
            case Opcode.UNLINK -> remove(rq, rp, false);
            case Opcode.RMDIR -> remove(rq, rp, true);
            case Opcode.RENAME -> rename(rq, rp, Structs.RenameIn.SIZE, 0);
            case Opcode.RENAME2 -> rename(rq, rp, Structs.RenameIn.SIZE2, rq.u32(Structs.RenameIn.FLAGS));
            case Opcode.LINK -> link(rq, rp);
            case Opcode.OPEN -> open(rq, rp);
            case Opcode.CREATE -> create(rq, rp);
            case Opcode.READ -> onFile(rq, rp, rq.u64(Structs.ReadIn.FH), false, Operations::read);
            case Opcode.WRITE -> onFile(rq, rp, rq.u64(Structs.WriteIn.FH), true, Operations::write);
            case Opcode.STATFS -> statfs(rq, rp);
            case Opcode.RELEASE -> release(rq, rp);
            case Opcode.FLUSH -> flush(rq, rp);
            case Opcode.FSYNC -> onFile(rq, rp, rq.u64(Structs.FsyncIn.FH), syncsThroughWriter(rq), Operations::fsync);
            case Opcode.FSYNCDIR, Opcode.SYNCFS -> syncAll(rq, rp);
            case Opcode.SETXATTR -> setxattr(rq, rp);
            case Opcode.GETXATTR -> getxattr(rq, rp);
            case Opcode.LISTXATTR -> listxattr(rq, rp);
            case Opcode.REMOVEXATTR -> removexattr(rq, rp);
            case Opcode.OPENDIR -> opendir(rq, rp);
            case Opcode.READDIR -> readdir(rq, rp, false);
            case Opcode.READDIRPLUS -> readdir(rq, rp, true);
            case Opcode.RELEASEDIR -> releasedir(rq, rp);
            case Opcode.ACCESS -> access(rq, rp);
            case Opcode.LSEEK -> onFile(rq, rp, rq.u64(Structs.LseekIn.FH), false, Operations::lseek);
            case Opcode.FALLOCATE -> onFile(rq, rp, rq.u64(Structs.FallocateIn.FH), true, Operations::fallocate);
            case Opcode.COPY_FILE_RANGE -> copyFileRange(rq, rp);
            // The kernel does not wait for an answer to INTERRUPT; every request here runs to its end.
            case Opcode.INTERRUPT -> NO_REPLY;
            case Opcode.DESTROY -> rp.header(rq.unique(), 0, 0);
            default -> rp.header(rq.unique(), -Errno.ENOSYS.code(), 0);
        };
    }

    // ---- session ----

    private int init(Request rq, Reply rp) {
        long flags = (rq.u32(Structs.InitIn.FLAGS) & 0xffffffffL);
        if (rq.argumentLength() >= Structs.InitIn.FLAGS2 + 4) {
            flags |= (long) rq.u32(Structs.InitIn.FLAGS2) << 32;
        }
        Init.Answer answer = Init.negotiate(new Init.Offer(rq.u32(Structs.InitIn.MAJOR), rq.u32(Structs.InitIn.MINOR),
                rq.u32(Structs.InitIn.MAX_READAHEAD), flags), backing.enabled(), kernelOpensWanted);
        rp.initOut(answer);
        if (answer.major() == Init.MAJOR && rq.u32(Structs.InitIn.MAJOR) == Init.MAJOR) {
            if (!answer.passthrough()) {
                backing.disable("the kernel does not offer FUSE passthrough");
            }
            kernelOpens = answer.kernelOpens();
            negotiated = answer;
            initialized.countDown();
        }
        return rp.header(rq.unique(), 0, Structs.InitOut.SIZE);
    }

    // ---- names ----

    private int lookup(Request rq, Reply rp) throws IOException {
        String name = name(rq, 0);
        EntryPath path = nodes.path(rq.nodeid()).resolve(name);
        EntryAttributes attributes;
        try {
            attributes = overlay.stat(path);
        } catch (IOException e) {
            if (cache.negativeNanos() == 0 || Errno.of(e) != Errno.ENOENT) {
                throw e;
            }
            // Node id 0 is "no such name" that the kernel may remember for entry_valid.
            rp.zero(0, Structs.EntryOut.SIZE);
            rp.u64(Structs.EntryOut.ENTRY_VALID, cache.negativeNanos() / 1_000_000_000L);
            rp.u32(Structs.EntryOut.ENTRY_VALID_NSEC, (int) (cache.negativeNanos() % 1_000_000_000L));
            return rp.header(rq.unique(), 0, Structs.EntryOut.SIZE);
        }
        return entryReply(rq, rp, rq.nodeid(), name, attributes);
    }

    /** Answers with a {@code fuse_entry_out} for a name the kernel now holds a reference to. */
    private int entryReply(Request rq, Reply rp, long parent, String name, EntryAttributes attributes)
            throws IOException {
        putEntry(rp, 0, parent, name, attributes);
        return rp.header(rq.unique(), 0, Structs.EntryOut.SIZE);
    }

    /** Writes a {@code fuse_entry_out} for a name the kernel now holds one more reference to; returns its node id. */
    private long putEntry(Reply rp, long offset, long parent, String name, EntryAttributes attributes)
            throws IOException {
        long nodeid = nodes.lookedUp(parent, name, attributes.type());
        rp.entry(offset, nodeid, 0, cache.entryNanos(), cache.attrNanos(attributes), attributes);
        return nodeid;
    }

    private int forget(Request rq) {
        forget(rq.nodeid(), rq.u64(Structs.ForgetIn.NLOOKUP));
        return NO_REPLY;
    }

    private int batchForget(Request rq) {
        int count = rq.u32(Structs.ForgetIn.BATCH_COUNT);
        for (int i = 0; i < count; i++) {
            long at = Structs.ForgetIn.BATCH_SIZE + i * Structs.ForgetIn.ONE_SIZE;
            forget(rq.u64(at + Structs.ForgetIn.ONE_NODEID), rq.u64(at + Structs.ForgetIn.ONE_NLOOKUP));
        }
        return NO_REPLY;
    }

    private void forget(long nodeid, long count) {
        if (nodes.forget(nodeid, count)) {
            backing.forgotten(nodeid);
            nodeListings.remove(nodeid);
            try {
                nodeFiles.forget(nodeid);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing the file of a forgotten node", e);
            }
        }
    }

    // ---- attributes ----

    private int getattr(Request rq, Reply rp) throws IOException {
        EntryAttributes attributes;
        OpenFile open = (rq.u32(Structs.GetattrIn.GETATTR_FLAGS) & Flags.GETATTR_FH) != 0
                ? files.get(rq.u64(Structs.GetattrIn.FH)) : null;
        if (open != null) {
            attributes = open.file().stat();
        } else {
            EntryPath path = pathOrNull(rq.nodeid());
            FileUse orphan = path == null ? orphan(rq.nodeid()) : null;
            if (orphan == null) {
                attributes = overlay.stat(path != null ? path : nodes.path(rq.nodeid()));
            } else {
                try {
                    attributes = orphan.file().stat();
                } finally {
                    done(orphan);
                }
            }
        }
        rp.attrOut(0, cache.attrNanos(attributes), attributes);
        return rp.header(rq.unique(), 0, Structs.AttrOut.SIZE);
    }

    private int setattr(Request rq, Reply rp) throws IOException {
        int valid = rq.u32(Structs.SetattrIn.VALID);
        EntryPath path = pathOrNull(rq.nodeid());
        FileUse open = null;
        if ((valid & FATTR_FH) != 0) {
            OpenFile opened = files.get(rq.u64(Structs.SetattrIn.FH));
            open = opened != null ? opened : path == null ? orphan(rq.nodeid()) : null;
        }
        if (open == null && path == null) {
            nodes.path(rq.nodeid()); // throws: says why the node has no path
        }
        try {
            return setattr(rq, rp, valid, path, open);
        } finally {
            done(open);
        }
    }

    private int setattr(Request rq, Reply rp, int valid, EntryPath path, FileUse open) throws IOException {
        if ((valid & FATTR_MODE) != 0) {
            overlay.setPermissions(required(path, rq), rq.u32(Structs.SetattrIn.MODE) & 07777);
        }
        if ((valid & (FATTR_UID | FATTR_GID)) != 0) {
            overlay.setOwner(required(path, rq), (valid & FATTR_UID) != 0 ? rq.u32(Structs.SetattrIn.UID) : -1,
                    (valid & FATTR_GID) != 0 ? rq.u32(Structs.SetattrIn.GID) : -1);
        }
        if ((valid & FATTR_SIZE) != 0) {
            long size = rq.u64(Structs.SetattrIn.SIZE_FIELD);
            if (open != null && open.file().isWritable()) {
                open.file().truncate(size);
            } else {
                overlay.truncate(required(path, rq), size);
            }
        }
        if ((valid & (FATTR_ATIME | FATTR_ATIME_NOW | FATTR_MTIME | FATTR_MTIME_NOW)) != 0) {
            overlay.setTimes(required(path, rq),
                    time(valid, FATTR_ATIME, FATTR_ATIME_NOW, rq.u64(Structs.SetattrIn.ATIME),
                            rq.u32(Structs.SetattrIn.ATIMENSEC)),
                    time(valid, FATTR_MTIME, FATTR_MTIME_NOW, rq.u64(Structs.SetattrIn.MTIME),
                            rq.u32(Structs.SetattrIn.MTIMENSEC)));
        }
        EntryAttributes attributes = path != null ? overlay.stat(path) : open.file().stat();
        rp.attrOut(0, cache.attrNanos(attributes), attributes);
        return rp.header(rq.unique(), 0, Structs.AttrOut.SIZE);
    }

    private static long time(int valid, int setBit, int nowBit, long seconds, int nanos) {
        if ((valid & nowBit) != 0) {
            return WritableLayer.TIME_NOW;
        }
        if ((valid & setBit) != 0) {
            return Math.addExact(Math.multiplyExact(seconds, 1_000_000_000L), Integer.toUnsignedLong(nanos));
        }
        return WritableLayer.TIME_OMIT;
    }

    private EntryPath pathOrNull(long nodeid) {
        try {
            return nodes.path(nodeid);
        } catch (IOException e) {
            return null;
        }
    }

    private static EntryPath required(EntryPath path, Request rq) throws IOException {
        if (path == null) {
            throw Errno.ENOENT.exception("node " + rq.nodeid(), "removed from the overlay");
        }
        return path;
    }

    // ---- creating and removing names ----

    private int readlink(Request rq, Reply rp) throws IOException {
        byte[] target = overlay.readLink(nodes.path(rq.nodeid())).getBytes(StandardCharsets.UTF_8);
        rp.bytes(0, target);
        return rp.header(rq.unique(), 0, target.length);
    }

    private int symlink(Request rq, Reply rp) throws IOException {
        String name = name(rq, 0);
        String target = rq.string(rq.stringLength(0) + 1L);
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(name);
        overlay.createSymlink(path, target, newEntry(rq, parent, 0777, false));
        return entryReply(rq, rp, rq.nodeid(), name, overlay.stat(path));
    }

    private int mknod(Request rq, Reply rp) throws IOException {
        int mode = rq.u32(Structs.MknodIn.MODE);
        long rdev = Integer.toUnsignedLong(rq.u32(Structs.MknodIn.RDEV));
        String name = name(rq, Structs.MknodIn.SIZE);
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(name);
        EntryType type = (mode & 0170000) == 0 ? EntryType.REGULAR_FILE : EntryType.ofFormatBits(mode);
        NewEntryAttributes attributes = newEntry(rq, parent, mode, false);
        switch (type) {
            case REGULAR_FILE -> overlay.open(path, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
                    attributes).close();
            case CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET -> overlay.createSpecial(path, type, attributes, rdev);
            default -> throw Errno.EINVAL.exception(path, "mknod cannot create a " + type);
        }
        return entryReply(rq, rp, rq.nodeid(), name, overlay.stat(path));
    }

    private int mkdir(Request rq, Reply rp) throws IOException {
        int mode = rq.u32(Structs.MkdirIn.MODE);
        String name = name(rq, Structs.MkdirIn.SIZE);
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(name);
        overlay.createDirectory(path, newEntry(rq, parent, mode, true));
        return entryReply(rq, rp, rq.nodeid(), name, overlay.stat(path));
    }

    /**
     * Owner and permissions of a new entry. The kernel has already applied the caller's umask
     * (FUSE_DONT_MASK is not negotiated). A set-group-ID parent passes its group on, and to new
     * directories its set-group-ID bit too, as Linux file systems do.
     */
    private NewEntryAttributes newEntry(Request rq, EntryPath parent, int mode, boolean directory) throws IOException {
        int permissions = mode & 07777;
        int gid = rq.gid();
        EntryAttributes parentAttributes = overlay.stat(parent);
        if ((parentAttributes.permissions() & 02000) != 0) {
            gid = parentAttributes.gid();
            if (directory) {
                permissions |= 02000;
            }
        }
        return new NewEntryAttributes(permissions, rq.uid(), gid);
    }

    private int remove(Request rq, Reply rp, boolean directory) throws IOException {
        String name = name(rq, 0);
        EntryPath path = nodes.path(rq.nodeid()).resolve(name);
        if (directory) {
            overlay.removeDirectory(path);
        } else {
            keepIfOpen(path);
            overlay.unlink(path);
        }
        nodes.removed(rq.nodeid(), name);
        return rp.header(rq.unique(), 0, 0);
    }

    private int rename(Request rq, Reply rp, long namesAt, int flags) throws IOException {
        long newParent = rq.u64(Structs.RenameIn.NEWDIR);
        String name = name(rq, namesAt);
        String newName = name(rq, namesAt + rq.stringLength(namesAt) + 1);
        RenameMode mode = switch (flags) {
            case 0 -> RenameMode.REPLACE;
            case Flags.RENAME_NOREPLACE -> RenameMode.NOREPLACE;
            case Flags.RENAME_EXCHANGE -> RenameMode.EXCHANGE;
            // overlayfs refuses RENAME_WHITEOUT and unknown flags the same way.
            default -> throw Errno.EINVAL.exception(name, "rename flags " + flags + " are not supported");
        };
        EntryPath source = nodes.path(rq.nodeid()).resolve(name);
        EntryPath target = nodes.path(newParent).resolve(newName);
        if (mode == RenameMode.REPLACE) {
            keepIfOpen(target);
        }
        long sourceNode = nodes.find(source);
        long targetNode = mode == RenameMode.EXCHANGE ? nodes.find(target) : -1;
        overlay.rename(source, target, mode);
        if (kernelOpens) {
            nodeFiles.dropWithin(sourceNode);
            nodeFiles.dropWithin(targetNode);
        }
        if (mode == RenameMode.EXCHANGE) {
            nodes.exchanged(rq.nodeid(), name, newParent, newName);
        } else {
            nodes.renamed(rq.nodeid(), name, newParent, newName);
        }
        return rp.header(rq.unique(), 0, 0);
    }

    private int link(Request rq, Reply rp) throws IOException {
        long existingNode = rq.u64(Structs.LinkIn.OLDNODEID);
        EntryPath existing = nodes.path(existingNode);
        String name = name(rq, Structs.LinkIn.SIZE);
        EntryPath path = nodes.path(rq.nodeid()).resolve(name);
        overlay.link(existing, path);
        // The new name gets its own node, so the kernel does not learn that the existing one's
        // link count changed: drop its cached attributes (attributes only, which takes no locks
        // the linking caller holds). From now on the file is not cached (see CachePolicy).
        if (notifier != null) {
            notifier.invalidateInode(existingNode, -1, 0);
        }
        return entryReply(rq, rp, rq.nodeid(), name, overlay.stat(path));
    }

    // ---- files ----

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
        // O_APPEND is not passed on: the kernel turns it into the file size as each WRITE's offset.
        if ((flags & Flags.O_TRUNC) != 0 && (flags & Flags.O_ACCMODE) != Flags.O_RDONLY) {
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        return options;
    }

    private int open(Request rq, Reply rp) throws IOException {
        if (kernelOpens) {
            // ENOSYS tells the kernel to open files itself from now on, this one included.
            return rp.header(rq.unique(), -Errno.ENOSYS.code(), 0);
        }
        EntryPath path = nodes.path(rq.nodeid());
        OverlayFile file = overlay.open(path, openOptions(rq.u32(Structs.OpenIn.FLAGS)),
                new NewEntryAttributes(0, rq.uid(), rq.gid()));
        try {
            opened(rp, 0, file, rq.nodeid(), path);
        } catch (IOException | RuntimeException e) {
            closeQuietly(file);
            throw e;
        }
        return rp.header(rq.unique(), 0, Structs.OpenOut.SIZE);
    }

    private int create(Request rq, Reply rp) throws IOException {
        int flags = rq.u32(Structs.CreateIn.FLAGS);
        int mode = rq.u32(Structs.CreateIn.MODE);
        String name = name(rq, Structs.CreateIn.SIZE);
        EntryPath parent = nodes.path(rq.nodeid());
        EntryPath path = parent.resolve(name);
        Set<OpenOption> options = new HashSet<>(openOptions(flags));
        options.add((flags & Flags.O_EXCL) != 0 ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
        OverlayFile file = overlay.open(path, options, newEntry(rq, parent, mode, false));
        long nodeid = 0;
        try {
            EntryAttributes attributes = overlay.stat(path);
            nodeid = putEntry(rp, 0, rq.nodeid(), name, attributes);
            opened(rp, Structs.EntryOut.SIZE, file, nodeid, path);
        } catch (IOException | RuntimeException e) {
            if (nodeid != 0) {
                nodes.forget(nodeid, 1); // the kernel never learns of this reference
            }
            closeQuietly(file);
            throw e;
        }
        return rp.header(rq.unique(), 0, Structs.EntryOut.SIZE + Structs.OpenOut.SIZE);
    }

    /**
     * Registers an open file and writes its {@code fuse_open_out}: kernel passthrough when its
     * bytes are in a local file the kernel may use, else reads and writes through this server,
     * keeping the kernel's cached pages when no other name can have changed them.
     */
    private void opened(Reply rp, long offset, OverlayFile file, long nodeid, EntryPath path) throws IOException {
        EntryAttributes attributes = file.stat();
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
        long fh = nextHandle.getAndIncrement();
        files.put(fh, new OpenFile(file, grant));
        putOpenOut(rp, offset, fh, openFlags, grant.backingId());
    }

    private static void putOpenOut(Reply rp, long offset, long fh, int openFlags, int backingId) {
        rp.u64(offset + Structs.OpenOut.FH, fh);
        rp.u32(offset + Structs.OpenOut.OPEN_FLAGS, openFlags);
        rp.u32(offset + Structs.OpenOut.BACKING_ID, backingId);
    }

    /**
     * The file a request on handle {@code fh} of node {@code nodeid} works on; give it back with
     * {@link #done}. Handle 0 under kernel opens: the node's own file, which writes when
     * {@code write} (copying a lower file up, as the open for writing would have).
     */
    private FileUse use(long nodeid, long fh, boolean write) throws IOException {
        OpenFile open = files.get(fh);
        if (open != null) {
            return open;
        }
        if (fh == 0 && kernelOpens) {
            return nodeFiles.acquire(nodeid, write);
        }
        throw Errno.EBADF.exception("file handle " + fh);
    }

    /**
     * The file of a node whose name is gone but which is (under kernel opens: may still be) open,
     * or null: requests without a handle, such as fstat's GETATTR, still reach it.
     */
    private FileUse orphan(long nodeid) {
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

    private void done(FileUse use) throws IOException {
        if (use instanceof NodeFiles.Handle handle) {
            nodeFiles.release(handle);
        }
    }

    /** Answers a request on the file of handle {@code fh} (see {@link #use}). */
    private int onFile(Request rq, Reply rp, long fh, boolean write, FileRequest request) throws IOException {
        FileUse use = use(rq.nodeid(), fh, write);
        try {
            return request.answer(rq, rp, use.file());
        } finally {
            done(use);
        }
    }

    /**
     * Under kernel opens, keeps the file that {@code path} names open until the kernel forgets
     * its node, before that name is removed or replaced: the kernel may hold it open.
     */
    private void keepIfOpen(EntryPath path) throws IOException {
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

    private static int read(Request rq, Reply rp, OverlayFile file) throws IOException {
        long offset = rq.u64(Structs.ReadIn.OFFSET);
        int size = (int) Math.min(Integer.toUnsignedLong(rq.u32(Structs.ReadIn.SIZE_FIELD)), rp.capacity());
        ByteBuffer buffer = rp.view(0, size);
        // The kernel takes a short read for the end of the file, so read until full or at the end.
        while (buffer.hasRemaining()) {
            int n = file.read(buffer, offset + buffer.position());
            if (n < 0) {
                break;
            }
        }
        return rp.header(rq.unique(), 0, buffer.position());
    }

    private static int write(Request rq, Reply rp, OverlayFile file) throws IOException {
        long offset = rq.u64(Structs.WriteIn.OFFSET);
        int size = rq.u32(Structs.WriteIn.SIZE_FIELD);
        ByteBuffer data = rq.view(Structs.WriteIn.SIZE, size);
        while (data.hasRemaining()) {
            file.write(data, offset + data.position());
        }
        rp.u32(Structs.WriteOut.SIZE_FIELD, size);
        rp.u32(Structs.WriteOut.SIZE_FIELD + 4, 0);
        return rp.header(rq.unique(), 0, Structs.WriteOut.SIZE);
    }

    private int release(Request rq, Reply rp) throws IOException {
        OpenFile open = files.remove(rq.u64(Structs.ReleaseIn.FH));
        if (open != null) {
            backing.release(open.grant());
            open.file().close();
        }
        return rp.header(rq.unique(), 0, 0);
    }

    private int flush(Request rq, Reply rp) throws IOException {
        // Writes reach the overlay as they come: nothing is buffered here. Files the server opened
        // say FOPEN_NOFLUSH; for those the kernel opened, ENOSYS makes it stop sending FLUSH.
        if (kernelOpens && rq.u64(Structs.FlushIn.FH) == 0) {
            return rp.header(rq.unique(), -Errno.ENOSYS.code(), 0);
        }
        done(use(rq.nodeid(), rq.u64(Structs.FlushIn.FH), false));
        return rp.header(rq.unique(), 0, 0);
    }

    /**
     * Whether FSYNC is to go through a writing handle: under kernel opens, for a file already in
     * the upper layer. The node's current handle may be one that only reads (its writing handle
     * was closed as the least recently used), and forcing that does nothing, while the bytes
     * written before are still in the upper file's page cache. A lower file has nothing to sync.
     */
    private boolean syncsThroughWriter(Request rq) throws IOException {
        if (!kernelOpens || rq.u64(Structs.FsyncIn.FH) != 0 || overlay.isReadOnly()) {
            return false;
        }
        FileUse current = use(rq.nodeid(), 0, false);
        try {
            return !current.file().isWritable() && !current.file().mayBeCopiedUp();
        } finally {
            done(current);
        }
    }

    private static int fsync(Request rq, Reply rp, OverlayFile file) throws IOException {
        file.force((rq.u32(Structs.FsyncIn.FSYNC_FLAGS) & Flags.FSYNC_FDATASYNC) == 0);
        return rp.header(rq.unique(), 0, 0);
    }

    private int syncAll(Request rq, Reply rp) throws IOException {
        overlay.sync();
        return rp.header(rq.unique(), 0, 0);
    }

    private static int lseek(Request rq, Reply rp, OverlayFile file) throws IOException {
        long offset = rq.u64(Structs.LseekIn.OFFSET);
        int whence = rq.u32(Structs.LseekIn.WHENCE);
        long size = file.size();
        if (whence != Flags.SEEK_DATA && whence != Flags.SEEK_HOLE) {
            throw Errno.EINVAL.exception("file handle", "lseek whence " + whence);
        }
        if (offset < 0 || offset >= size) {
            throw Errno.ENXIO.exception("file handle", "offset " + offset + " is at or past the end");
        }
        // The overlay API does not expose holes: all data up to the end, one hole at the end.
        rp.u64(0, whence == Flags.SEEK_DATA ? offset : size);
        return rp.header(rq.unique(), 0, Structs.LseekIn.OUT_SIZE);
    }

    private static int fallocate(Request rq, Reply rp, OverlayFile file) throws IOException {
        int mode = rq.u32(Structs.FallocateIn.MODE);
        if (mode != 0) {
            throw Errno.EOPNOTSUPP.exception("file handle", "fallocate mode " + mode);
        }
        if (!file.isWritable()) {
            throw Errno.EBADF.exception("file handle", "not open for writing");
        }
        long end = Math.addExact(rq.u64(Structs.FallocateIn.OFFSET), rq.u64(Structs.FallocateIn.LENGTH));
        if (end > file.size()) {
            file.truncate(end);
        }
        return rp.header(rq.unique(), 0, 0);
    }

    private int copyFileRange(Request rq, Reply rp) throws IOException {
        FileUse source = use(rq.nodeid(), rq.u64(Structs.CopyFileRangeIn.FH_IN), false);
        try {
            FileUse target = use(rq.u64(Structs.CopyFileRangeIn.NODEID_OUT), rq.u64(Structs.CopyFileRangeIn.FH_OUT),
                    true);
            try {
                return copyFileRange(rq, rp, source.file(), target.file());
            } finally {
                done(target);
            }
        } finally {
            done(source);
        }
    }

    private int copyFileRange(Request rq, Reply rp, OverlayFile source, OverlayFile target) throws IOException {
        long in = rq.u64(Structs.CopyFileRangeIn.OFF_IN);
        long out = rq.u64(Structs.CopyFileRangeIn.OFF_OUT);
        long length = Math.min(rq.u64(Structs.CopyFileRangeIn.LEN), COPY_CHUNK_LIMIT);
        if (!target.isWritable()) {
            throw Errno.EBADF.exception("file handle", "copy target not open for writing");
        }
        // The reply's body doubles as the copy buffer: the answer itself needs 8 bytes.
        long scratchAt = Structs.WriteOut.SIZE;
        int chunk = (int) Math.min(rp.capacity() - scratchAt, Integer.MAX_VALUE);
        long copied = 0;
        while (copied < length) {
            ByteBuffer buffer = rp.view(scratchAt, (int) Math.min(chunk, length - copied));
            int n = source.read(buffer, in + copied);
            if (n <= 0) {
                break;
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer, out + copied + buffer.position());
            }
            copied += n;
        }
        rp.u32(Structs.WriteOut.SIZE_FIELD, (int) copied);
        rp.u32(Structs.WriteOut.SIZE_FIELD + 4, 0);
        return rp.header(rq.unique(), 0, Structs.WriteOut.SIZE);
    }

    private int statfs(Request rq, Reply rp) throws IOException {
        StoreSpace space = overlay.space();
        rp.zero(0, Structs.Kstatfs.SIZE);
        rp.u64(Structs.Kstatfs.BLOCKS, space.totalBlocks());
        rp.u64(Structs.Kstatfs.BFREE, space.freeBlocks());
        rp.u64(Structs.Kstatfs.BAVAIL, space.availableBlocks());
        rp.u64(Structs.Kstatfs.FILES, space.totalFiles());
        rp.u64(Structs.Kstatfs.FFREE, space.freeFiles());
        rp.u32(Structs.Kstatfs.BSIZE, (int) space.blockSize());
        rp.u32(Structs.Kstatfs.NAMELEN, space.nameMax());
        rp.u32(Structs.Kstatfs.FRSIZE, (int) space.blockSize());
        return rp.header(rq.unique(), 0, Structs.Kstatfs.SIZE);
    }

    private int access(Request rq, Reply rp) throws IOException {
        int mask = rq.u32(Structs.AccessIn.MASK);
        EntryAttributes attributes = overlay.stat(nodes.path(rq.nodeid()));
        if ((mask & Flags.W_OK) != 0 && overlay.isReadOnly()) {
            throw Errno.EROFS.exception(nodes.path(rq.nodeid()));
        }
        if (!Permissions.allows(attributes, rq.uid(), rq.gid(), mask)) {
            throw Errno.EACCES.exception(nodes.path(rq.nodeid()));
        }
        return rp.header(rq.unique(), 0, 0);
    }

    // ---- extended attributes ----

    private int setxattr(Request rq, Reply rp) throws IOException {
        int size = rq.u32(Structs.SetxattrIn.SIZE_FIELD);
        int flags = rq.u32(Structs.SetxattrIn.FLAGS);
        String name = rq.string(Structs.SetxattrIn.SIZE);
        byte[] value = rq.bytes(Structs.SetxattrIn.SIZE + rq.stringLength(Structs.SetxattrIn.SIZE) + 1, size);
        XattrMode mode = switch (flags) {
            case 0 -> XattrMode.CREATE_OR_REPLACE;
            case Flags.XATTR_CREATE -> XattrMode.CREATE;
            case Flags.XATTR_REPLACE -> XattrMode.REPLACE;
            default -> throw Errno.EINVAL.exception(name, "setxattr flags " + flags);
        };
        overlay.setXattr(nodes.path(rq.nodeid()), name, value, mode);
        return rp.header(rq.unique(), 0, 0);
    }

    private int getxattr(Request rq, Reply rp) throws IOException {
        int size = rq.u32(Structs.GetxattrIn.SIZE_FIELD);
        String name = rq.string(Structs.GetxattrIn.SIZE);
        return sizedReply(rq, rp, size, overlay.readXattr(nodes.path(rq.nodeid()), name));
    }

    private int listxattr(Request rq, Reply rp) throws IOException {
        int size = rq.u32(Structs.GetxattrIn.SIZE_FIELD);
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String name : overlay.listXattrs(nodes.path(rq.nodeid()))) {
            names.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        return sizedReply(rq, rp, size, names.toByteArray());
    }

    /** fuse.h: a size of 0 asks for the length alone; a value longer than the size is ERANGE. */
    private static int sizedReply(Request rq, Reply rp, int size, byte[] value) throws IOException {
        if (size == 0) {
            rp.u32(Structs.GetxattrIn.SIZE_FIELD, value.length);
            rp.u32(Structs.GetxattrIn.SIZE_FIELD + 4, 0);
            return rp.header(rq.unique(), 0, Structs.GetxattrIn.SIZE);
        }
        if (Integer.toUnsignedLong(size) < value.length) {
            throw Errno.ERANGE.exception("extended attribute", value.length + " bytes do not fit in " + size);
        }
        if (value.length > rp.capacity()) {
            throw Errno.E2BIG.exception("extended attribute");
        }
        rp.bytes(0, value);
        return rp.header(rq.unique(), 0, value.length);
    }

    private int removexattr(Request rq, Reply rp) throws IOException {
        overlay.removeXattr(nodes.path(rq.nodeid()), rq.string(0));
        return rp.header(rq.unique(), 0, 0);
    }

    // ---- directories ----

    private int opendir(Request rq, Reply rp) throws IOException {
        if (kernelOpens) {
            return rp.header(rq.unique(), -Errno.ENOSYS.code(), 0); // as for OPEN
        }
        EntryPath path = nodes.path(rq.nodeid());
        if (!overlay.stat(path).isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        long fh = nextHandle.getAndIncrement();
        directories.put(fh, new OpenDirectory(path));
        // The kernel drops a cached listing itself when an entry is created, removed or renamed through it.
        putOpenOut(rp, 0, fh, cache.cacheDirectories() ? Flags.FOPEN_KEEP_CACHE | Flags.FOPEN_CACHE_DIR : 0, 0);
        return rp.header(rq.unique(), 0, Structs.OpenOut.SIZE);
    }

    /** The merged listing of a directory with {@code .} and {@code ..}, names encoded once. */
    private static List<Listed> snapshot(Overlay overlay, EntryPath path) throws IOException {
        EntryAttributes self = overlay.stat(path);
        if (!self.isDirectory()) {
            throw Errno.ENOTDIR.exception(path);
        }
        long parentInode = path.isRoot() ? self.inode() : overlay.stat(path.parent()).inode();
        List<Listed> entries = new ArrayList<>();
        int dirType = EntryType.DIRECTORY.direntType();
        entries.add(new Listed(".", ".".getBytes(StandardCharsets.UTF_8), dirType, self.inode()));
        entries.add(new Listed("..", "..".getBytes(StandardCharsets.UTF_8), dirType, parentInode));
        for (var entry : overlay.listDirectory(path)) {
            entries.add(new Listed(entry.name(), entry.name().getBytes(StandardCharsets.UTF_8),
                    entry.type().direntType(), entry.inode()));
        }
        return List.copyOf(entries);
    }

    /**
     * The listing a READDIR reads from. Under kernel opens there is no handle to keep it in: a
     * reading from offset 0 takes a new one, which later offsets of that reading use until the
     * end of the listing is reached (the kernel reads on until a READDIR returns nothing).
     */
    private List<Listed> listing(Request rq, long offset) throws IOException {
        long fh = rq.u64(Structs.ReadIn.FH);
        OpenDirectory directory = directories.get(fh);
        if (directory != null) {
            return directory.entries(overlay);
        }
        if (fh != 0 || !kernelOpens) {
            throw Errno.EBADF.exception("directory handle " + fh);
        }
        List<Listed> entries = offset == 0 ? null : nodeListings.get(rq.nodeid());
        if (entries == null) {
            entries = snapshot(overlay, nodes.path(rq.nodeid()));
        }
        if (offset >= entries.size()) {
            nodeListings.remove(rq.nodeid());
        } else {
            nodeListings.put(rq.nodeid(), entries);
        }
        return entries;
    }

    private int readdir(Request rq, Reply rp, boolean plus) throws IOException {
        long offset = rq.u64(Structs.ReadIn.OFFSET);
        List<Listed> entries = listing(rq, offset);
        long size = Math.min(Integer.toUnsignedLong(rq.u32(Structs.ReadIn.SIZE_FIELD)), rp.capacity());
        EntryPath dir = plus ? pathOrNull(rq.nodeid()) : null;
        long used = 0;
        for (long i = Math.max(offset, 0); i < entries.size(); i++) {
            Listed entry = entries.get((int) i);
            long record = plus ? Structs.Dirent.plusRecordSize(entry.encoded().length)
                    : Structs.Dirent.recordSize(entry.encoded().length);
            if (used + record > size) {
                break;
            }
            long direntAt = used;
            if (plus) {
                EntryAttributes attributes = dir == null || entry.name().equals(".") || entry.name().equals("..")
                        ? null : statOrNull(dir.resolve(entry.name()));
                if (attributes == null) {
                    rp.entry(used, 0, 0, 0, 0, null);
                } else {
                    putEntry(rp, used, rq.nodeid(), entry.name(), attributes);
                }
                direntAt += Structs.EntryOut.SIZE;
            }
            rp.dirent(direntAt, entry.inode(), i + 1, entry.type(), entry.encoded());
            used += record;
        }
        return rp.header(rq.unique(), 0, used);
    }

    private EntryAttributes statOrNull(EntryPath path) {
        try {
            return overlay.stat(path);
        } catch (IOException e) {
            return null; // gone since the snapshot: the kernel looks it up itself if asked
        }
    }

    private int releasedir(Request rq, Reply rp) {
        directories.remove(rq.u64(Structs.ReleaseIn.FH));
        return rp.header(rq.unique(), 0, 0);
    }

    // ---- helpers ----

    /** The name argument at {@code offset}; ENAMETOOLONG beyond NAME_MAX bytes. */
    private static String name(Request rq, long offset) throws IOException {
        int length = rq.stringLength(offset);
        String name = rq.string(offset);
        if (length > NAME_MAX) {
            throw Errno.ENAMETOOLONG.exception(name.substring(0, 32) + "...");
        }
        return name;
    }

    private static void closeQuietly(OverlayFile file) {
        try {
            file.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing a file the kernel no longer holds", e);
        }
    }
}
