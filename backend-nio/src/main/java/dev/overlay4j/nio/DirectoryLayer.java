package dev.overlay4j.nio;

import static dev.overlay4j.nio.LinuxCalls.AT_FDCWD;
import static dev.overlay4j.nio.LinuxCalls.AT_SYMLINK_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_CLOEXEC;
import static dev.overlay4j.nio.LinuxCalls.O_DIRECTORY;
import static dev.overlay4j.nio.LinuxCalls.O_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_NONBLOCK;
import static dev.overlay4j.nio.LinuxCalls.O_PATH;
import static dev.overlay4j.nio.LinuxCalls.O_RDONLY;
import static dev.overlay4j.nio.LinuxCalls.RESOLVE_IN_LAYER;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.StoreSpace;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A layer on a local directory, read in the kernel's overlayfs format. Every lookup starts at
 * an {@code O_PATH} descriptor of the root and goes through {@code openat2} with
 * {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}, so no symlink inside the layer is ever followed
 * and no path leaves the root, whatever the tree holds. The descriptors of parent directories
 * are kept ({@link DirectoryHandles}), so a lookup in a directory met before is one system call;
 * system call arguments live in per-thread {@link Scratch} memory.
 *
 * <p>Paths of any length work, as they do below a kernel mount: a path too long for one system
 * call ({@link #PATH_MAX}) is resolved in pieces that fit, each from the directory descriptor the
 * previous piece opened (or from a kept descriptor of one of its directories), with the same
 * {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}.
 */
class DirectoryLayer implements Layer {

    /** The name that stands for the root itself when the root descriptor is the directory. */
    static final String SELF = ".";

    /** Linux's PATH_MAX: the bytes of a path argument, with its terminating NUL, must be fewer. */
    static final int PATH_MAX = 4096;

    final Path root;
    final String description;
    final String prefix;
    final int rootFd;
    /** Descriptors of directories met before (see {@link DirectoryHandles}). */
    private final DirectoryHandles handles;
    private final AtomicBoolean closed = new AtomicBoolean();

    DirectoryLayer(Path root, String description, LayerOptions options) throws IOException {
        this.root = root;
        this.description = description;
        this.prefix = options.overlayXattrPrefix();
        this.rootFd = openRoot(root, description);
        this.handles = new DirectoryHandles();
    }

    /** Whether this layer's tree never changes while open (true for a read-only layer, which overlayfs requires). */
    boolean unchanging() {
        return true;
    }

    /** Forgets the cached descriptors of {@code path} and below: call after removing, renaming or replacing it. */
    void forgetDirectories(EntryPath path) {
        handles.invalidate(path);
    }

    /** Opens {@code root} as an {@code O_PATH} directory descriptor, failing with a message that names it. */
    static int openRoot(Path root, String role) throws IOException {
        try (Arena arena = Scratch.open()) {
            int fd = LinuxCalls.openat2(arena, AT_FDCWD, root.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
            if (fd == -LinuxCalls.ENOENT) {
                throw Errno.ENOENT.exception(root, role + " does not exist; create the directory or fix the path");
            }
            if (fd == -LinuxCalls.ENOTDIR) {
                throw Errno.ENOTDIR.exception(root, role + " is not a directory; a layer must be a directory (or a .zip/.jar file as lower layer)");
            }
            if (fd < 0) {
                throw Errno.ofCode(-fd).exception(root, "cannot open " + role);
            }
            return fd;
        }
    }

    @Override
    public String description() {
        return description;
    }

    /**
     * A directory descriptor and a name in it: where an entry lives. The root is ({@code rootFd}, ".").
     * Closing gives the descriptor back: to its {@code handle} when it came from the cache, else
     * to the system when {@code owned}.
     */
    record At(int dirfd, String name, boolean owned, DirectoryHandles.Handle handle) implements AutoCloseable {
        At(int dirfd, String name, boolean owned) {
            this(dirfd, name, owned, null);
        }

        @Override
        public void close() {
            if (handle != null) {
                handle.release();
            } else if (owned) {
                LinuxCalls.close(dirfd);
            }
        }
    }

    void checkOpen() throws IOException {
        if (closed.get()) {
            throw Errno.EBADF.exception(description, "the layer is closed");
        }
    }

    /**
     * Resolves the parent of {@code path} inside the layer, for an entry that may exist: a name
     * that is an image-layer mark ({@link WhiteoutFormats#isMark}) is no entry, so ENOENT.
     */
    At at(Arena arena, EntryPath path) throws IOException {
        if (!path.isRoot() && WhiteoutFormats.isMark(path.fileName())) {
            checkOpen();
            throw error(LinuxCalls.ENOENT, path, "names beginning with " + WhiteoutFormats.MARK_PREFIX
                    + " are whiteouts, not entries");
        }
        return parentOf(arena, path);
    }

    /** Resolves the parent of {@code path} inside the layer, whatever its last name. */
    At parentOf(Arena arena, EntryPath path) throws IOException {
        checkOpen();
        if (path.isRoot()) {
            return new At(rootFd, SELF, false);
        }
        if (path.nameCount() == 1) {
            return new At(rootFd, path.fileName(), false);
        }
        EntryPath parent = path.parent();
        DirectoryHandles.Handle cached = handles.hold(parent);
        if (cached != null) {
            return new At(cached.fd, path.fileName(), false, cached);
        }
        long seen = handles.generation();
        int fd = open(arena, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw error(-fd == LinuxCalls.ELOOP ? LinuxCalls.ENOTDIR : -fd, path, null);
        }
        return new At(fd, path.fileName(), false, handles.add(parent, fd, seen));
    }

    /**
     * {@code openat2} of {@code path} with {@code flags}, resolved inside the layer from its root:
     * a new descriptor or {@code -errno} (ELOOP for a symlink on the way).
     */
    int open(Arena arena, EntryPath path, int flags) {
        if (path.isRoot()) {
            return LinuxCalls.openat2(arena, rootFd, SELF, flags, 0, RESOLVE_IN_LAYER);
        }
        if (throughMark(path)) {
            return -LinuxCalls.ENOENT;
        }
        String relative = path.relativeString();
        if (fitsPathMax(relative)) {
            return LinuxCalls.openat2(arena, rootFd, relative, flags, 0, RESOLVE_IN_LAYER);
        }
        return openInPieces(arena, path, flags);
    }

    /** Whether a name of {@code path} is an image-layer mark, which no lookup goes through. */
    private static boolean throughMark(EntryPath path) {
        for (int i = 0; i < path.nameCount(); i++) {
            if (WhiteoutFormats.isMark(path.name(i))) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code path} fits a system call's path argument: fewer than {@link #PATH_MAX} bytes of UTF-8. */
    static boolean fitsPathMax(String path) {
        int chars = path.length();
        if (chars < PATH_MAX / 3) {
            return true; // UTF-8 takes at most three bytes per UTF-16 char
        }
        return chars < PATH_MAX && utf8Length(path) < PATH_MAX;
    }

    private static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /**
     * {@link #open} of a path too long for one call, as the kernel walks it: from the kept
     * descriptor of its deepest directory that has one (else the root), in pieces of names that
     * each fit PATH_MAX, every piece but the last opened as an {@code O_PATH} directory. A piece
     * resolves as every lookup does, so no symlink is followed and nothing leaves the layer.
     */
    private int openInPieces(Arena arena, EntryPath path, int flags) {
        DirectoryHandles.Handle start = null;
        int first = path.nameCount() - 1; // names before this one are resolved by the start descriptor
        while (first > 0 && (start = handles.hold(path.subpath(first))) == null) {
            first--;
        }
        try {
            int dirfd = start == null ? rootFd : start.fd;
            boolean owned = false;
            StringBuilder piece = new StringBuilder(PATH_MAX);
            int next = first;
            while (true) {
                piece.setLength(0);
                int bytes = 0;
                while (next < path.nameCount()) {
                    String name = path.name(next);
                    int added = (piece.isEmpty() ? 0 : 1) + utf8Length(name);
                    if (bytes + added >= PATH_MAX) {
                        break;
                    }
                    if (!piece.isEmpty()) {
                        piece.append('/');
                    }
                    piece.append(name);
                    bytes += added;
                    next++;
                }
                int fd;
                if (piece.isEmpty()) {
                    fd = -LinuxCalls.ENAMETOOLONG; // one name longer than PATH_MAX
                } else {
                    boolean last = next == path.nameCount();
                    fd = LinuxCalls.openat2(arena, dirfd, piece.toString(), last ? flags : O_PATH | O_DIRECTORY | O_CLOEXEC,
                            0, RESOLVE_IN_LAYER);
                }
                if (owned) {
                    LinuxCalls.close(dirfd);
                }
                if (fd < 0 || next == path.nameCount()) {
                    return fd;
                }
                dirfd = fd;
                owned = true;
            }
        } finally {
            if (start != null) {
                start.release();
            }
        }
    }

    /** The exception for a failed call on {@code path}, naming this layer. */
    java.nio.file.FileSystemException error(int errno, EntryPath path, String detail) {
        return Errno.ofCode(errno).exception(path.toString(), null,
                (detail == null ? "" : detail + "; ") + "in layer " + description);
    }

    /** Opens the entry itself (a final symlink too) as an {@code O_PATH} descriptor; ENOTDIR for a symlink on the way. */
    int openPath(Arena arena, EntryPath path) throws IOException {
        checkOpen();
        int fd = open(arena, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            // With O_PATH | O_NOFOLLOW a final symlink opens as itself: ELOOP means one on the way.
            if (fd == -LinuxCalls.ELOOP) {
                throw error(LinuxCalls.ENOTDIR, path, "a symlink on the way is not a directory of this layer");
            }
            throw error(-fd, path, null);
        }
        return fd;
    }

    LinuxCalls.Stat rawStat(Arena arena, int dirfd, String name, EntryPath path) throws IOException {
        LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
        int r = LinuxCalls.statx(arena, dirfd, name, AT_SYMLINK_NOFOLLOW, out);
        if (r == -LinuxCalls.ENOENT) {
            return null;
        }
        if (r < 0) {
            throw error(-r, path, null);
        }
        return out[0];
    }

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        try (Arena arena = Scratch.open()) {
            At at;
            try {
                at = at(arena, path);
            } catch (java.nio.file.NoSuchFileException missingParent) {
                return Optional.empty();
            }
            try (at) {
                LinuxCalls.Stat st = rawStat(arena, at.dirfd(), at.name(), path);
                if (st != null) {
                    return Optional.of(attributes(arena, at, st, path));
                }
                return path.isRoot() ? Optional.empty() : markedWhiteout(arena, at, path);
            }
        }
    }

    /** The whiteout a {@code .wh.NAME} file makes of the missing NAME, or empty when there is none. */
    private Optional<EntryAttributes> markedWhiteout(Arena arena, At at, EntryPath path) throws IOException {
        LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
        int r = WhiteoutFormats.statMark(arena, at.dirfd(), at.name(), out);
        if (r == -LinuxCalls.ENOENT) {
            return Optional.empty();
        }
        if (r < 0) {
            throw error(-r, path, "looking for its whiteout " + WhiteoutFormats.markOf(at.name()));
        }
        return Optional.of(markAttributes(out[0]));
    }

    /** A whiteout kept as a {@code .wh.} file, described as the kernel's: a character device 0/0 of mode 0. */
    static EntryAttributes markAttributes(LinuxCalls.Stat mark) {
        return new EntryAttributes(EntryType.WHITEOUT, EntryType.WHITEOUT.formatBits(), mark.uid(), mark.gid(), 0, 0,
                mark.atimeNanos(), mark.mtimeNanos(), mark.ctimeNanos(), 1, mark.inode(), 0, false, null);
    }

    /** Turns {@code statx} into attributes, reading overlay xattrs only where they can matter. */
    EntryAttributes attributes(Arena arena, At at, LinuxCalls.Stat st, EntryPath path) throws IOException {
        EntryType type = EntryType.ofFormatBits(st.mode());
        boolean opaque = false;
        String redirect = null;
        switch (type) {
            case CHARACTER_DEVICE -> {
                if (st.rdev() == 0) {
                    type = EntryType.WHITEOUT;
                }
            }
            case DIRECTORY -> {
                // One call finds out whether there is any mark to read: most directories have none.
                List<String> names = LinuxCalls.listxattr(arena, at.dirfd(), at.name(), new int[1]);
                if (names != null && names.contains(prefix + "opaque")) {
                    opaque = WhiteoutFormats.opaqueValue(xattr(arena, at, prefix + "opaque"));
                }
                if (!opaque && names != null && names.contains(WhiteoutFormats.FUSE_OVERLAYFS_OPAQUE)) {
                    opaque = WhiteoutFormats.opaqueValue(xattr(arena, at, WhiteoutFormats.FUSE_OVERLAYFS_OPAQUE));
                }
                if (!opaque) {
                    opaque = hasOpaqueMark(arena, at, path);
                }
                if (names != null && names.contains(prefix + "redirect")) {
                    byte[] target = xattr(arena, at, prefix + "redirect");
                    redirect = target == null ? null : new String(target, StandardCharsets.UTF_8);
                }
            }
            case REGULAR_FILE -> {
                // The kernel's lookup takes any empty file with the whiteout xattr for a whiteout, marked parent or not.
                if (st.size() == 0 && !SELF.equals(at.name()) && xattr(arena, at, prefix + "whiteout") != null) {
                    type = EntryType.WHITEOUT;
                }
            }
            default -> {
            }
        }
        return new EntryAttributes(type, st.mode(), st.uid(), st.gid(), st.size(), st.blocks(), st.atimeNanos(),
                st.mtimeNanos(), st.ctimeNanos(), st.nlink(), st.inode(), st.rdev(), opaque, redirect);
    }

    /**
     * Whether the directory at {@code at} holds {@code .wh..wh..opq}, looked up in its kept
     * descriptor (opened and kept here when there is none: its entries are likely next).
     */
    private boolean hasOpaqueMark(Arena arena, At at, EntryPath path) throws IOException {
        if (SELF.equals(at.name())) {
            return WhiteoutFormats.hasOpaqueMark(arena, at.dirfd());
        }
        DirectoryHandles.Handle handle = handles.hold(path);
        if (handle == null) {
            long seen = handles.generation();
            int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                    RESOLVE_IN_LAYER);
            if (fd < 0) {
                // Gone or replaced since its statx: what it held is for the next lookup to find.
                return false;
            }
            handle = handles.add(path, fd, seen);
        }
        try {
            return WhiteoutFormats.hasOpaqueMark(arena, handle.fd);
        } finally {
            handle.release();
        }
    }

    private boolean parentHasXattrWhiteouts(Arena arena, int dirfd) {
        byte[] mark = xattr(arena, new At(dirfd, SELF, false), prefix + "opaque");
        return mark != null && mark.length == 1 && mark[0] == 'x';
    }

    /** An xattr value or null when absent (or unreadable, which overlayfs treats the same). */
    static byte[] xattr(Arena arena, At at, String name) {
        return LinuxCalls.getxattr(arena, at.dirfd(), at.name(), name, new int[1]);
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
        checkOpen();
        try (Arena arena = Scratch.open()) {
            int fd = open(arena, directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                throw error(-fd == LinuxCalls.ELOOP ? LinuxCalls.ENOTDIR : -fd, directory, null);
            }
            try {
                int[] errno = new int[1];
                List<LinuxCalls.Dirent> dirents = LinuxCalls.readDirectory(arena, fd, errno);
                if (dirents == null) {
                    throw error(errno[0], directory, null);
                }
                Boolean xattrWhiteouts = null;
                List<DirectoryEntry> entries = new ArrayList<>(dirents.size());
                Map<String, Long> marked = null; // names hidden by .wh. files, with the files' inodes
                for (LinuxCalls.Dirent d : dirents) {
                    if (WhiteoutFormats.isMark(d.name())) {
                        String hidden = WhiteoutFormats.hiddenBy(d.name());
                        if (hidden != null) {
                            if (marked == null) {
                                marked = new HashMap<>();
                            }
                            marked.put(hidden, d.inode());
                        }
                        continue;
                    }
                    EntryType type = direntType(d.type());
                    if (type == null || type == EntryType.CHARACTER_DEVICE) {
                        LinuxCalls.Stat st = rawStat(arena, fd, d.name(), directory.resolve(d.name()));
                        if (st == null) {
                            continue; // removed since readdir
                        }
                        type = EntryType.ofFormatBits(st.mode());
                        if (type == EntryType.CHARACTER_DEVICE && st.rdev() == 0) {
                            type = EntryType.WHITEOUT;
                        }
                    }
                    if (type == EntryType.REGULAR_FILE) {
                        if (xattrWhiteouts == null) {
                            xattrWhiteouts = parentHasXattrWhiteouts(arena, fd);
                        }
                        if (xattrWhiteouts) {
                            At at = new At(fd, d.name(), false);
                            LinuxCalls.Stat st = rawStat(arena, fd, d.name(), directory.resolve(d.name()));
                            if (st != null && st.size() == 0 && xattr(arena, at, prefix + "whiteout") != null) {
                                type = EntryType.WHITEOUT;
                            }
                        }
                    }
                    entries.add(new DirectoryEntry(d.name(), type, d.inode()));
                }
                if (marked != null) {
                    // A real entry wins over the .wh. file of its name in the same directory.
                    for (DirectoryEntry entry : entries) {
                        marked.remove(entry.name());
                    }
                    marked.forEach((name, inode) -> entries.add(new DirectoryEntry(name, EntryType.WHITEOUT, inode)));
                }
                return entries.stream();
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    /** {@code d_type} to a type; null for DT_UNKNOWN (the caller stats). */
    private static EntryType direntType(int dtype) {
        return switch (dtype) {
            case 1 -> EntryType.FIFO;
            case 2 -> EntryType.CHARACTER_DEVICE;
            case 4 -> EntryType.DIRECTORY;
            case 6 -> EntryType.BLOCK_DEVICE;
            case 8 -> EntryType.REGULAR_FILE;
            case 10 -> EntryType.SYMLINK;
            case 12 -> EntryType.SOCKET;
            default -> null;
        };
    }

    /**
     * Opens a regular file such that a FIFO or device is never opened and no symlink followed.
     * In a layer that does not change, by name in its (cached) directory once {@code statx} has
     * shown that the name is a regular file; else through its {@code O_PATH} descriptor.
     */
    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        if (!unchanging() || file.isRoot()) {
            return openContent(file, false);
        }
        try (Arena arena = Scratch.open(); At at = at(arena, file)) {
            LinuxCalls.Stat st = rawStat(arena, at.dirfd(), at.name(), file);
            if (st == null) {
                throw error(LinuxCalls.ENOENT, file, null);
            }
            checkRegular(st, file);
            int fd = LinuxCalls.openat2(arena, at.dirfd(), at.name(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0,
                    RESOLVE_IN_LAYER);
            if (fd < 0) {
                throw error(-fd, file, null);
            }
            return new FileContent(fd, false, file.toString() + " in layer " + description);
        }
    }

    /** Opens a regular file through its {@code O_PATH} descriptor, so a FIFO or device is never opened. */
    FileContent openContent(EntryPath file, boolean writable) throws IOException {
        try (Arena arena = Scratch.open()) {
            int fd = openPath(arena, file);
            try {
                return reopen(arena, fd, file, writable);
            } finally {
                LinuxCalls.close(fd);
            }
        }
    }

    /** A content over the file behind {@code fd}, which must be a regular file (EISDIR for a directory, ELOOP for a symlink, else EINVAL). */
    FileContent reopen(Arena arena, int fd, EntryPath file, boolean writable) throws IOException {
        LinuxCalls.Stat[] out = new LinuxCalls.Stat[1];
        int r = LinuxCalls.statx(arena, fd, "", LinuxCalls.AT_EMPTY_PATH, out);
        if (r < 0) {
            throw error(-r, file, null);
        }
        checkRegular(out[0], file);
        // Reopening the descriptor's /proc link opens exactly this inode, with no further lookup.
        int opened = LinuxCalls.openat2(arena, AT_FDCWD, "/proc/self/fd/" + fd,
                (writable ? LinuxCalls.O_RDWR : O_RDONLY) | O_CLOEXEC, 0, 0);
        if (opened < 0) {
            throw error(-opened, file, null);
        }
        return new FileContent(opened, writable, file.toString() + " in layer " + description);
    }

    /** EISDIR for a directory, ELOOP for a symlink, EINVAL for anything else but a regular file. */
    private void checkRegular(LinuxCalls.Stat st, EntryPath file) throws IOException {
        EntryType type = EntryType.ofFormatBits(st.mode());
        if (type == EntryType.DIRECTORY) {
            throw error(LinuxCalls.EISDIR, file, null);
        }
        if (type == EntryType.SYMLINK) {
            throw error(LinuxCalls.ELOOP, file, "a symlink is never followed inside a layer");
        }
        if (type != EntryType.REGULAR_FILE) {
            throw error(Errno.EINVAL.code(), file, "not a regular file but " + type);
        }
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, link)) {
            int[] errno = new int[1];
            byte[] target = LinuxCalls.readlinkat(arena, at.dirfd(), at.name(), errno);
            if (target == null) {
                throw error(errno[0], link, errno[0] == Errno.EINVAL.code() ? "not a symbolic link" : null);
            }
            return new String(target, StandardCharsets.UTF_8);
        }
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int[] errno = new int[1];
            List<String> names = LinuxCalls.listxattr(arena, at.dirfd(), at.name(), errno);
            if (names == null) {
                if (errno[0] == LinuxCalls.EOPNOTSUPP) {
                    return List.of();
                }
                throw error(errno[0], path, null);
            }
            names.removeIf(name -> name.startsWith(prefix) || WhiteoutFormats.isForeignMark(name));
            return List.copyOf(names);
        }
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        if (name.startsWith(prefix) || WhiteoutFormats.isForeignMark(name)) {
            return Optional.empty(); // the overlay's own marks are read through readOverlayXattr only
        }
        return readRawXattr(path, name);
    }

    private Optional<byte[]> readRawXattr(EntryPath path, String name) throws IOException {
        try (Arena arena = Scratch.open(); At at = at(arena, path)) {
            int[] errno = new int[1];
            byte[] value = LinuxCalls.getxattr(arena, at.dirfd(), at.name(), name, errno);
            if (value != null) {
                return Optional.of(value);
            }
            if (errno[0] == LinuxCalls.ENODATA || errno[0] == LinuxCalls.EOPNOTSUPP) {
                return Optional.empty();
            }
            throw error(errno[0], path, "reading xattr " + name);
        }
    }

    @Override
    public Optional<byte[]> readOverlayXattr(EntryPath path, String key) throws IOException {
        return readRawXattr(path, prefix + key);
    }

    /** Empty too when the file's absolute path is too long to open by name (PATH_MAX). */
    @Override
    public Optional<Path> localFile(EntryPath file) throws IOException {
        Optional<EntryAttributes> attributes = stat(file);
        if (attributes.isEmpty() || !attributes.get().isRegularFile()) {
            return Optional.empty();
        }
        Path local = root.resolve(file.relativeString());
        return fitsPathMax(local.toString()) ? Optional.of(local) : Optional.empty();
    }

    @Override
    public int fileFlags(EntryPath path) throws IOException {
        return InodeFlagIoctls.flags(this, path);
    }

    @Override
    public dev.overlay4j.api.FsxAttributes fsxAttributes(EntryPath path) throws IOException {
        return InodeFlagIoctls.fsx(this, path);
    }

    @Override
    public Optional<StoreSpace> space() throws IOException {
        checkOpen();
        try (Arena arena = Scratch.open()) {
            int[] errno = new int[1];
            long[] v = LinuxCalls.statvfs(arena, "/proc/self/fd/" + rootFd + "/" + SELF, errno);
            if (v == null) {
                throw error(errno[0], EntryPath.ROOT, "statvfs");
            }
            return Optional.of(new StoreSpace(v[1], v[2], v[3], v[4], v[5], v[6], (int) v[7]));
        }
    }

    @Override
    public void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            handles.close();
            LinuxCalls.close(rootFd);
        }
    }

    @Override
    public String toString() {
        return "DirectoryLayer[" + description + "]";
    }
}
