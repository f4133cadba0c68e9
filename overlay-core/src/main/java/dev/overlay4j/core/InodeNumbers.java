package dev.overlay4j.core;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The overlay's st_ino: {@code (layerIndex + 1) << 48 | realInode}, where the layer is the
 * entry's origin (the topmost lower layer that has it, else the upper layer). This is the
 * kernel's "xino" scheme with the layer index as fsid, so numbers of different layers never
 * collide and survive closing and reopening. A real inode number that needs more than 48 bits
 * is folded into 48 bits by a mixing hash; only such numbers can collide.
 *
 * <p>A copy-up records the number in the overlay xattr {@link #XATTR_KEY}, so the entry keeps
 * it after a rename, when its lower origin can no longer be found by name.
 */
final class InodeNumbers {

    /** Overlay xattr key (under the layer's overlay prefix) holding an 8-byte big-endian st_ino. */
    static final String XATTR_KEY = "overlay4j.ino";

    private static final int LAYER_SHIFT = 48;
    private static final long LOW_MASK = (1L << LAYER_SHIFT) - 1;

    private InodeNumbers() {
    }

    static long compose(int layerIndex, long realInode) {
        long low = (realInode & ~LOW_MASK) == 0 ? realInode : mix(realInode) & LOW_MASK;
        return ((long) (layerIndex + 1) << LAYER_SHIFT) | low;
    }

    static byte[] encode(long inode) {
        return ByteBuffer.allocate(Long.BYTES).putLong(inode).array();
    }

    /** The recorded number, or empty when the value is not 8 bytes (not ours). */
    static Optional<Long> decode(byte[] value) {
        return value.length == Long.BYTES ? Optional.of(ByteBuffer.wrap(value).getLong()) : Optional.empty();
    }

    /** Stafford's variant 13 of the 64-bit finalizer: spreads all input bits over the low bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
