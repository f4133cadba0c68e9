package dev.overlay4j.fuse.server;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.overlay4j.fuse.kernel.Syscalls;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Tells the kernel to forget what it cached, for changes that did not come through the
 * mount (a lower layer that changes under it). A notification is a message written to the
 * FUSE device with unique 0 and the notification code in the error field.
 *
 * <p>Only {@link #invalidateInode} with a negative offset (attributes only) may be called
 * while answering a request: dropping pages or names takes locks that the request's caller
 * may hold.
 */
public final class Notifier {

    private final int deviceFd;

    public Notifier(int deviceFd) {
        this.deviceFd = deviceFd;
    }

    /**
     * Drops the cached attributes of node {@code nodeid} and its cached pages from
     * {@code offset} on, {@code length} bytes ({@code length} 0: to the end; {@code offset}
     * negative: attributes only).
     *
     * @return 0, {@code -ENOENT} when the kernel holds no such inode, or another {@code -errno}
     */
    public int invalidateInode(long nodeid, long offset, long length) {
        try (Arena arena = Arena.ofConfined(); Syscalls sys = new Syscalls()) {
            long size = Structs.OutHeader.SIZE + Structs.NotifyInvalInode.SIZE;
            MemorySegment message = arena.allocate(size, 8);
            header(message, size, Flags.NOTIFY_INVAL_INODE);
            long body = Structs.OutHeader.SIZE;
            message.set(JAVA_LONG_UNALIGNED, body + Structs.NotifyInvalInode.INO, nodeid);
            message.set(JAVA_LONG_UNALIGNED, body + Structs.NotifyInvalInode.OFF, offset);
            message.set(JAVA_LONG_UNALIGNED, body + Structs.NotifyInvalInode.LEN, length);
            return written(sys.write(deviceFd, message, size));
        }
    }

    /**
     * Drops the cached lookup of {@code name} in directory node {@code parent} (a positive or
     * a negative one), and the parent's cached attributes.
     *
     * @return 0, {@code -ENOENT} when the kernel holds no such directory or name, or another {@code -errno}
     */
    public int invalidateEntry(long parent, String name) {
        byte[] encoded = name.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined(); Syscalls sys = new Syscalls()) {
            long size = Structs.OutHeader.SIZE + Structs.NotifyInvalEntry.SIZE + encoded.length + 1;
            MemorySegment message = arena.allocate(size, 8);
            header(message, size, Flags.NOTIFY_INVAL_ENTRY);
            long body = Structs.OutHeader.SIZE;
            message.set(JAVA_LONG_UNALIGNED, body + Structs.NotifyInvalEntry.PARENT, parent);
            message.set(JAVA_INT_UNALIGNED, body + Structs.NotifyInvalEntry.NAMELEN, encoded.length);
            message.set(JAVA_INT_UNALIGNED, body + Structs.NotifyInvalEntry.FLAGS, 0);
            long nameAt = body + Structs.NotifyInvalEntry.SIZE;
            MemorySegment.copy(encoded, 0, message, JAVA_BYTE, nameAt, encoded.length);
            message.set(JAVA_BYTE, nameAt + encoded.length, (byte) 0);
            return written(sys.write(deviceFd, message, size));
        }
    }

    private static void header(MemorySegment message, long size, int code) {
        message.set(JAVA_INT_UNALIGNED, Structs.OutHeader.LEN, (int) size);
        message.set(JAVA_INT_UNALIGNED, Structs.OutHeader.ERROR, code);
        message.set(JAVA_LONG_UNALIGNED, Structs.OutHeader.UNIQUE, 0L);
    }

    private static int written(long result) {
        return result < 0 ? (int) result : 0;
    }
}
