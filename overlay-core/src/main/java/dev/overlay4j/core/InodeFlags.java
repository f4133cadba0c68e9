package dev.overlay4j.core;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.FsxAttributes;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Inode flags ({@code lsattr}/{@code chattr}), as the kernel's overlayfs keeps them
 * (fs/overlayfs/inode.c, ovl_fileattr_get/set): read from the entry's layer, upper or lower; set
 * on the upper entry after copy-up, except immutable and append-only, which the overlay keeps in
 * its {@code protattr} xattr on the upper entry ({@code "a"}, {@code "i"}, or both as
 * {@code "ai"}) and merges into what it reports. The upper file itself never gets those two, so
 * the overlay can still copy up below an immutable directory and link to an immutable file's
 * other names.
 */
final class InodeFlags {

    /** Overlay xattr key (under the layer's overlay prefix) of the protection flags, as the kernel names it. */
    static final String PROTATTR_KEY = "protattr";
    private static final int PROTECTION = FsxAttributes.FLAG_APPEND | FsxAttributes.FLAG_IMMUTABLE;
    private static final int XPROTECTION = FsxAttributes.XFLAG_APPEND | FsxAttributes.XFLAG_IMMUTABLE;
    /** {@code FS_SYNC_FL | FS_NOATIME_FL}: the flags a copy-up carries over to the upper entry, as the kernel's. */
    private static final int COPIED = 0x08 | 0x80;

    private final LayerStack layers;
    /** The overlay's xattr prefix, for removing the mark by its full name. */
    private final String privatePrefix;

    InodeFlags(LayerStack layers, String privatePrefix) {
        this.layers = layers;
        this.privatePrefix = privatePrefix;
    }

    /** ENOTTY for anything but a regular file or a directory, as FUSE and overlayfs answer. */
    static void requireFlaggable(MergedEntry entry) throws IOException {
        EntryType type = entry.top().attributes().type();
        if (type != EntryType.REGULAR_FILE && type != EntryType.DIRECTORY) {
            throw Errno.ENOTTY.exception(entry.path(), "inode flags belong to regular files and directories");
        }
    }

    int flags(MergedEntry entry) throws IOException {
        requireFlaggable(entry);
        LayerEntry top = entry.top();
        int flags = layers.layer(top.layer()).fileFlags(top.path());
        return flags | marked(entry);
    }

    FsxAttributes fsxAttributes(MergedEntry entry) throws IOException {
        requireFlaggable(entry);
        LayerEntry top = entry.top();
        FsxAttributes fsx = layers.layer(top.layer()).fsxAttributes(top.path());
        int protection = marked(entry);
        int xflags = fsx.xflags()
                | ((protection & FsxAttributes.FLAG_APPEND) != 0 ? FsxAttributes.XFLAG_APPEND : 0)
                | ((protection & FsxAttributes.FLAG_IMMUTABLE) != 0 ? FsxAttributes.XFLAG_IMMUTABLE : 0);
        return fsx.withXflags(xflags);
    }

    /** Sets the flags of {@code entry}, which is in the upper layer already. */
    void setFlags(MergedEntry entry, int flags) throws IOException {
        EntryPath path = entry.upper().path();
        protect(entry, path, (flags & FsxAttributes.FLAG_APPEND) != 0, (flags & FsxAttributes.FLAG_IMMUTABLE) != 0);
        layers.upper().setFileFlags(path, flags & ~PROTECTION);
    }

    /** Sets the {@code struct fsxattr} of {@code entry}, which is in the upper layer already. */
    void setFsxAttributes(MergedEntry entry, FsxAttributes fsx) throws IOException {
        EntryPath path = entry.upper().path();
        protect(entry, path, (fsx.xflags() & FsxAttributes.XFLAG_APPEND) != 0,
                (fsx.xflags() & FsxAttributes.XFLAG_IMMUTABLE) != 0);
        layers.upper().setFsxAttributes(path, fsx.withXflags(fsx.xflags() & ~XPROTECTION));
    }

    /**
     * A copy-up's share (the kernel's ovl_copy_fileattr): the lower entry's sync and noatime
     * flags are set on the staged copy, its immutable and append-only flags become the copy's
     * {@code protattr} mark. A lower layer without inode flags has nothing to carry over.
     */
    static void copyUp(dev.overlay4j.api.Layer from, EntryPath source, WritableLayer work, EntryPath staged)
            throws IOException {
        int flags;
        try {
            flags = from.fileFlags(source);
        } catch (IOException e) {
            Errno errno = Errno.of(e);
            if (errno == Errno.ENOTTY || errno == Errno.EOPNOTSUPP || errno == Errno.EINVAL) {
                return;
            }
            throw e;
        }
        if ((flags & PROTECTION) != 0) {
            String mark = ((flags & FsxAttributes.FLAG_APPEND) != 0 ? "a" : "")
                    + ((flags & FsxAttributes.FLAG_IMMUTABLE) != 0 ? "i" : "");
            try {
                work.writeOverlayXattr(staged, PROTATTR_KEY, mark.getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                if (Errno.of(e) != Errno.EOPNOTSUPP && Errno.of(e) != Errno.EPERM) {
                    throw e; // else the upper store keeps no xattrs: the kernel goes on without the mark too
                }
            }
        }
        if ((flags & COPIED) != 0) {
            int now = work.fileFlags(staged);
            work.setFileFlags(staged, (now & ~COPIED) | (flags & COPIED));
        }
    }

    /**
     * The protection flags of an entry ({@code FLAG_APPEND}, {@code FLAG_IMMUTABLE}): those its
     * upper entry's {@code protattr} mark holds, or for a lower entry those its layer has on it
     * (the kernel copies them from the real inode).
     */
    int protection(MergedEntry entry) throws IOException {
        if (!entry.hasUpper()) {
            LayerEntry top = entry.top();
            if (!top.attributes().isRegularFile() && !top.attributes().isDirectory()) {
                return 0;
            }
            try {
                return layers.layer(top.layer()).fileFlags(top.path()) & PROTECTION;
            } catch (IOException e) {
                Errno errno = Errno.of(e);
                if (errno == Errno.ENOTTY || errno == Errno.EOPNOTSUPP || errno == Errno.EINVAL) {
                    return 0;
                }
                throw e;
            }
        }
        return marked(entry);
    }

    /** The protection flags the upper entry's {@code protattr} mark holds; none without an upper entry. */
    private int marked(MergedEntry entry) throws IOException {
        if (!entry.hasUpper()) {
            return 0;
        }
        Optional<byte[]> mark = layers.upper().readOverlayXattr(entry.upper().path(), PROTATTR_KEY);
        int flags = 0;
        if (mark.isPresent()) {
            for (byte b : mark.get()) {
                flags |= b == 'a' ? FsxAttributes.FLAG_APPEND : b == 'i' ? FsxAttributes.FLAG_IMMUTABLE : 0;
            }
        }
        return flags;
    }

    /**
     * Writes the mark for the flags asked for, or removes it when neither is; EPERM when the
     * upper layer cannot hold the mark, as the kernel answers (it never sets them on the upper file).
     */
    private void protect(MergedEntry entry, EntryPath path, boolean append, boolean immutable) throws IOException {
        WritableLayer upper = layers.upper();
        if (append || immutable) {
            String mark = (append ? "a" : "") + (immutable ? "i" : "");
            try {
                upper.writeOverlayXattr(path, PROTATTR_KEY, mark.getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                if (Errno.of(e) == Errno.EOPNOTSUPP) {
                    throw Errno.EPERM.exception(path, "the upper layer cannot keep the immutable and append-only flags");
                }
                throw e;
            }
        } else if (marked(entry) != 0) {
            try {
                upper.removeXattr(path, privatePrefix + PROTATTR_KEY);
            } catch (IOException e) {
                if (Errno.of(e) != Errno.ENODATA && Errno.of(e) != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
        }
    }

    /**
     * EPERM for a change of an immutable entry, or of an append-only one unless the change only
     * appends ({@code appending}: an open for appending, a touch to the current time), as the
     * kernel's VFS refuses them on the overlay's inode.
     */
    void requireChangeable(MergedEntry entry, boolean appending) throws IOException {
        int protection = protection(entry);
        if ((protection & FsxAttributes.FLAG_IMMUTABLE) != 0) {
            throw Errno.EPERM.exception(entry.path(), "the file is immutable (chattr +i)");
        }
        if ((protection & FsxAttributes.FLAG_APPEND) != 0 && !appending) {
            throw Errno.EPERM.exception(entry.path(), "the file is append-only (chattr +a)");
        }
    }

    /**
     * EPERM for adding a name to an immutable directory, or for removing one from a directory
     * that is immutable or append-only.
     */
    void requireNamesChange(MergedEntry directory, boolean removing) throws IOException {
        int protection = protection(directory);
        if ((protection & FsxAttributes.FLAG_IMMUTABLE) != 0) {
            throw Errno.EPERM.exception(directory.path(), "the directory is immutable (chattr +i)");
        }
        if ((protection & FsxAttributes.FLAG_APPEND) != 0 && removing) {
            throw Errno.EPERM.exception(directory.path(), "the directory is append-only (chattr +a): names stay");
        }
    }
}
