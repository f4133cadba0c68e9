package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.FsxAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * IOCTL: the file-attribute ioctls the kernel's overlayfs supports, {@code FS_IOC_GETFLAGS} and
 * {@code SETFLAGS} ({@code lsattr}/{@code chattr}), {@code FS_IOC_FSGETXATTR} and
 * {@code FSSETXATTR}. The kernel sends them for a regular file or directory it opened for the
 * purpose (fs/fuse/ioctl.c, fuse_fileattr_get/set: a directory opened by the kernel alone comes
 * with handle 0), after checking CAP_LINUX_IMMUTABLE and ownership itself; they act on the
 * request's node. Every other command is answered ENOTTY, as overlayfs answers it.
 */
final class IoctlHandlers {

    // include/uapi/linux/fs.h; FS_IOC_GETFLAGS is _IOR('f', 1, long), but an int travels.
    static final int FS_IOC_GETFLAGS = 0x80086601;
    static final int FS_IOC_SETFLAGS = 0x40086602;
    static final int FS_IOC_FSGETXATTR = 0x801c581f;
    static final int FS_IOC_FSSETXATTR = 0x401c5820;
    /** {@code struct fsxattr}: five u32 and 8 bytes of padding. */
    static final int FSXATTR_SIZE = 28;

    private final Overlay overlay;
    private final NodeTable nodes;

    IoctlHandlers(Overlay overlay, NodeTable nodes) {
        this.overlay = overlay;
        this.nodes = nodes;
    }

    int ioctl(Request rq, In.Ioctl in, Reply rp) throws IOException {
        EntryPath path = nodes.path(rq.nodeid());
        return switch (in.cmd()) {
            case FS_IOC_GETFLAGS -> rp.ioctl(0, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder())
                    .putInt(overlay.fileFlags(path)).array());
            case FS_IOC_SETFLAGS -> {
                overlay.setFileFlags(path, input(in, 4).getInt());
                yield rp.ioctl(0, new byte[0]);
            }
            case FS_IOC_FSGETXATTR -> {
                FsxAttributes fsx = overlay.fsxAttributes(path);
                yield rp.ioctl(0, ByteBuffer.allocate(FSXATTR_SIZE).order(ByteOrder.nativeOrder())
                        .putInt(fsx.xflags()).putInt(fsx.extentSize()).putInt(fsx.extents())
                        .putInt(fsx.projectId()).putInt(fsx.cowExtentSize()).array());
            }
            case FS_IOC_FSSETXATTR -> {
                ByteBuffer fsx = input(in, FSXATTR_SIZE);
                overlay.setFsxAttributes(path, new FsxAttributes(fsx.getInt(), fsx.getInt(), fsx.getInt(),
                        fsx.getInt(), fsx.getInt()));
                yield rp.ioctl(0, new byte[0]);
            }
            default -> throw Errno.ENOTTY.exception(path, "ioctl " + Integer.toHexString(in.cmd()));
        };
    }

    /** The caller's argument: EINVAL when the kernel sent fewer bytes than the command takes. */
    private static ByteBuffer input(In.Ioctl in, int size) throws IOException {
        if (in.input().length < size) {
            throw Errno.EINVAL.exception("ioctl " + Integer.toHexString(in.cmd()), "argument of " + in.input().length
                    + " bytes, " + size + " needed");
        }
        return ByteBuffer.wrap(in.input(), 0, size).order(ByteOrder.nativeOrder());
    }
}
