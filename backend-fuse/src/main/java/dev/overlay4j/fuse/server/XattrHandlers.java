package dev.overlay4j.fuse.server;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.XattrMode;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.In;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Extended attributes: SETXATTR, GETXATTR, LISTXATTR and REMOVEXATTR of a node's entry. */
final class XattrHandlers {

    private static final String TRUSTED = "trusted.";

    private final Overlay overlay;
    private final NodeTable nodes;

    XattrHandlers(Overlay overlay, NodeTable nodes) {
        this.overlay = overlay;
        this.nodes = nodes;
    }

    int setxattr(Request rq, In.Setxattr in, Reply rp) throws IOException {
        XattrMode mode = switch (in.flags()) {
            case 0 -> XattrMode.CREATE_OR_REPLACE;
            case Flags.XATTR_CREATE -> XattrMode.CREATE;
            case Flags.XATTR_REPLACE -> XattrMode.REPLACE;
            default -> throw Errno.EINVAL.exception(in.name(), "setxattr flags " + in.flags());
        };
        overlay.setXattr(nodes.path(rq.nodeid()), in.name(), in.value(), mode);
        return rp.ok();
    }

    int getxattr(Request rq, In.Getxattr in, Reply rp) throws IOException {
        return sized(rp, in.size(), overlay.readXattr(nodes.path(rq.nodeid()), in.name()));
    }

    int listxattr(Request rq, In.Listxattr in, Reply rp) throws IOException {
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String name : overlay.listXattrs(nodes.path(rq.nodeid()))) {
            // The kernel lists trusted.* names to CAP_SYS_ADMIN alone, and the server, which runs as
            // root, would list them to everyone; root is the caller that has it.
            if (rq.uid() != 0 && name.startsWith(TRUSTED)) {
                continue;
            }
            names.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        return sized(rp, in.size(), names.toByteArray());
    }

    int removexattr(Request rq, In.Removexattr in, Reply rp) throws IOException {
        overlay.removeXattr(nodes.path(rq.nodeid()), in.name());
        return rp.ok();
    }

    /** fuse.h: a size of 0 asks for the length alone; a value longer than the size is ERANGE. */
    private static int sized(Reply rp, int size, byte[] value) throws IOException {
        if (size == 0) {
            return rp.xattrSize(value.length);
        }
        if (Integer.toUnsignedLong(size) < value.length) {
            throw Errno.ERANGE.exception("extended attribute", value.length + " bytes do not fit in " + size);
        }
        if (value.length > rp.capacity()) {
            throw Errno.E2BIG.exception("extended attribute");
        }
        return rp.bytes(value);
    }
}
