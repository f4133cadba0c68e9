package dev.overlay4j.nio;

import static dev.overlay4j.nio.LinuxCalls.AT_SYMLINK_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_CLOEXEC;
import static dev.overlay4j.nio.LinuxCalls.O_CREAT;
import static dev.overlay4j.nio.LinuxCalls.O_EXCL;
import static dev.overlay4j.nio.LinuxCalls.O_NOFOLLOW;
import static dev.overlay4j.nio.LinuxCalls.O_NONBLOCK;
import static dev.overlay4j.nio.LinuxCalls.O_WRONLY;
import static dev.overlay4j.nio.LinuxCalls.RESOLVE_IN_LAYER;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * Every form a whiteout or an opaque directory takes in a directory layer: the one place that
 * decides which entry is a mark, what it hides, and which form an upper layer writes.
 *
 * <p>Read in every directory layer, upper and lower alike:
 * <ul>
 * <li>the kernel's whiteout, a character device 0/0;</li>
 * <li>the kernel's xattr whiteout, a zero-size regular file with {@code <prefix>whiteout}: a
 *     whiteout for every lookup, and hidden from a listing where its directory is marked
 *     {@code <prefix>opaque=x} (the kernel's readdir checks only there);</li>
 * <li>the image-layer whiteout of OCI and AUFS, which containers/storage leaves in the layer
 *     directories it hands a mount program: a file {@code .wh.NAME} hides NAME in the layers
 *     below. A real NAME in the same directory wins over it (the OCI image spec: a whiteout hides
 *     lower layers only; fuse-overlayfs hides NAME there too);</li>
 * <li>an opaque directory: {@code <prefix>opaque=y}, fuse-overlayfs's
 *     {@code user.fuseoverlayfs.opaque=y}, or an entry {@code .wh..wh..opq} in it.</li>
 * </ul>
 * A name beginning with {@code .wh.} is always a mark, never an entry, in any layer: it is never
 * listed or found, and cannot be created ({@code .wh..wh.*} names such as AUFS's
 * {@code .wh..wh.plnk} hide nothing). fuse-overlayfs reads the same names in every layer.
 *
 * <p>An upper layer writes the kernel's forms where its file system lets this process make them,
 * and fuse-overlayfs's where it does not (decided once, by {@link #probe}):
 * <ul>
 * <li>whiteouts are character devices 0/0 ({@code mknod}, which Linux allows without privilege
 *     since 5.8), or {@code .wh.NAME} files where {@code mknod} of one is refused (an upper on
 *     overlayfs, which refuses it even to root; an older kernel without CAP_MKNOD);</li>
 * <li>opaque directories get {@code <prefix>opaque=y} where such xattrs can be written; where
 *     {@code trusted.*} is refused (no CAP_SYS_ADMIN, no {@code userxattr}) they get
 *     {@code user.fuseoverlayfs.opaque=y} and a {@code .wh..wh..opq} file, and where the file
 *     system has no xattrs the file alone. Without overlay xattrs a layer keeps no redirects
 *     (a directory with lower content cannot be renamed: EXDEV) and none of overlay4j's private
 *     marks (inode numbers, the hard-link index).</li>
 * </ul>
 */
final class WhiteoutFormats {

    /** The image-layer whiteout prefix: {@code .wh.NAME} hides NAME. */
    static final String MARK_PREFIX = ".wh.";
    /** The image-layer opaque mark: an entry of this name makes its directory opaque. */
    static final String OPAQUE_MARK = ".wh..wh..opq";
    /** fuse-overlayfs's own xattrs (its opaque mark, origin, stat override): never shown, never set. */
    static final String FUSE_OVERLAYFS_XATTR_PREFIX = "user.fuseoverlayfs.";
    static final String FUSE_OVERLAYFS_OPAQUE = FUSE_OVERLAYFS_XATTR_PREFIX + "opaque";
    /** The mode of a {@code .wh.} file, as fuse-overlayfs creates them. */
    private static final int MARK_MODE = 0700;

    private WhiteoutFormats() {
    }

    /** Whether {@code name} is an image-layer mark: never an entry of any layer. */
    static boolean isMark(String name) {
        return name.startsWith(MARK_PREFIX);
    }

    /** The name the mark {@code mark} hides, or null when it hides nothing (a {@code .wh..wh.} name, {@code .wh.} alone). */
    static String hiddenBy(String mark) {
        String hidden = mark.substring(MARK_PREFIX.length());
        if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..") || isMark(hidden)) {
            return null;
        }
        return hidden;
    }

    /** The mark that hides {@code name}. */
    static String markOf(String name) {
        return MARK_PREFIX + name;
    }

    /** An opaque xattr value that makes a directory opaque ({@code y}; the kernel's {@code x} does not). */
    static boolean opaqueValue(byte[] value) {
        return value != null && value.length == 1 && value[0] == 'y';
    }

    /** Whether an xattr is another overlay's mark that no layer shows (fuse-overlayfs's). */
    static boolean isForeignMark(String xattr) {
        return xattr.startsWith(FUSE_OVERLAYFS_XATTR_PREFIX);
    }

    /**
     * {@code statx} of the mark {@code markOf(name)} in {@code dirfd}: 0 with {@code out[0]} set,
     * or {@code -errno}; a name too long to have a mark answers ENOENT.
     */
    static int statMark(Arena arena, int dirfd, String name, LinuxCalls.Stat[] out) {
        int r = LinuxCalls.statx(arena, dirfd, markOf(name), AT_SYMLINK_NOFOLLOW, out);
        return r == -LinuxCalls.ENAMETOOLONG ? -LinuxCalls.ENOENT : r;
    }

    /** Whether {@code dirfd} (a directory descriptor) holds {@code .wh..wh..opq}. */
    static boolean hasOpaqueMark(Arena arena, int dirfd) {
        return LinuxCalls.statx(arena, dirfd, OPAQUE_MARK, AT_SYMLINK_NOFOLLOW, new LinuxCalls.Stat[1]) == 0;
    }

    /** Creates the empty file {@code mark} in {@code dirfd}: 0, or {@code -errno} (EEXIST when it is there). */
    static int createMark(Arena arena, int dirfd, String mark) {
        int fd = LinuxCalls.openat2(arena, dirfd, mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                MARK_MODE, RESOLVE_IN_LAYER);
        if (fd < 0) {
            return fd;
        }
        LinuxCalls.close(fd);
        return 0;
    }

    /** Removes the mark that hides {@code name} in {@code dirfd}: whether there was one. */
    static boolean removeMark(Arena arena, int dirfd, String name, IoErrors errors) throws IOException {
        int r = LinuxCalls.unlinkat(arena, dirfd, markOf(name), 0);
        if (r == 0) {
            return true;
        }
        if (r == -LinuxCalls.ENOENT || r == -LinuxCalls.ENAMETOOLONG) {
            return false;
        }
        throw errors.of(-r, "removing the whiteout " + markOf(name));
    }

    /** Turns an errno into the exception of the layer and path at hand. */
    @FunctionalInterface
    interface IoErrors {
        IOException of(int errno, String detail);
    }

    /** How an upper layer writes whiteouts. */
    enum WhiteoutForm {
        /** The kernel's character device 0/0. */
        DEVICE,
        /** fuse-overlayfs's (and OCI's) {@code .wh.NAME} file. */
        MARK_FILE
    }

    /** How an upper layer writes opaque directories, and whether it keeps the other overlay xattrs. */
    enum MarkForm {
        /** The kernel's {@code <prefix>opaque=y}; redirects and private marks are xattrs too. */
        XATTR,
        /** fuse-overlayfs's unprivileged form: {@code user.fuseoverlayfs.opaque=y} and {@code .wh..wh..opq}. */
        FUSE_OVERLAYFS,
        /** {@code .wh..wh..opq} alone, on a file system without xattrs. */
        MARK_FILE
    }

    /** The forms one upper layer (with its work area and index) writes. */
    record UpperForm(WhiteoutForm whiteouts, MarkForm marks) {

        static final UpperForm KERNEL = new UpperForm(WhiteoutForm.DEVICE, MarkForm.XATTR);

        /** Whether overlay xattrs (redirects, overlay4j's private marks) are stored. */
        boolean keepsXattrMarks() {
            return marks == MarkForm.XATTR;
        }

        /** What the forms mean, for the log, or null for the kernel's own. */
        String describe(String prefix) {
            if (equals(KERNEL)) {
                return null;
            }
            StringBuilder s = new StringBuilder();
            if (whiteouts == WhiteoutForm.MARK_FILE) {
                s.append("whiteouts are written as .wh.NAME files (the file system refuses character devices 0/0)");
            }
            if (marks != MarkForm.XATTR) {
                s.append(s.isEmpty() ? "" : "; ").append("opaque directories get ")
                        .append(marks == MarkForm.FUSE_OVERLAYFS ? FUSE_OVERLAYFS_OPAQUE + "=y and " : "")
                        .append(OPAQUE_MARK).append(" (").append(prefix).append("* xattrs cannot be written")
                        .append(prefix.startsWith("trusted.") ? ": they need CAP_SYS_ADMIN, or option userxattr" : "")
                        .append("), directories with lower content cannot be renamed (EXDEV), lower hard links are"
                                + " copied up as separate files");
            }
            return s.append("; the kernel's overlayfs does not read these forms").toString();
        }
    }

    /**
     * Finds out which forms an upper layer can write, in its work area {@code workFd} (emptied
     * just before): a character device 0/0, then {@code <prefix>opaque} and, where that is
     * refused, {@code user.fuseoverlayfs.opaque} on a directory, as fuse-overlayfs tries them.
     */
    static UpperForm probe(Arena arena, int workFd, String prefix, String description) throws IOException {
        String device = "#overlay4j-probe-whiteout";
        int r = LinuxCalls.mknodat(arena, workFd, device, EntryType.CHARACTER_DEVICE.formatBits(), 0);
        WhiteoutForm whiteouts;
        if (r == 0) {
            LinuxCalls.unlinkat(arena, workFd, device, 0);
            whiteouts = WhiteoutForm.DEVICE;
        } else if (r == -LinuxCalls.EPERM || r == -LinuxCalls.EOPNOTSUPP || r == -LinuxCalls.EINVAL) {
            whiteouts = WhiteoutForm.MARK_FILE;
        } else {
            throw Errno.ofCode(-r).exception(description, "cannot find out whether its work directory takes whiteouts");
        }
        String directory = "#overlay4j-probe-marks";
        r = LinuxCalls.mkdirat(arena, workFd, directory, 0700);
        if (r < 0) {
            throw Errno.ofCode(-r).exception(description, "cannot create a directory in its work directory");
        }
        try {
            r = LinuxCalls.setxattr(arena, workFd, directory, prefix + "opaque", new byte[] {'y'}, 0);
            MarkForm marks;
            if (r == 0) {
                marks = MarkForm.XATTR;
            } else if (r == -LinuxCalls.EPERM && !prefix.equals("user.overlay.")) {
                r = LinuxCalls.setxattr(arena, workFd, directory, FUSE_OVERLAYFS_OPAQUE, new byte[] {'y'}, 0);
                marks = r == 0 ? MarkForm.FUSE_OVERLAYFS : MarkForm.MARK_FILE;
            } else if (r == -LinuxCalls.EPERM || r == -LinuxCalls.EOPNOTSUPP) {
                marks = MarkForm.MARK_FILE;
            } else {
                throw Errno.ofCode(-r).exception(description, "cannot find out whether its work directory takes "
                        + prefix + "* xattrs");
            }
            return new UpperForm(whiteouts, marks);
        } finally {
            LinuxCalls.unlinkat(arena, workFd, directory, LinuxCalls.AT_REMOVEDIR);
        }
    }
}
