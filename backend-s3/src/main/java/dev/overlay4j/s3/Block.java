package dev.overlay4j.s3;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.StampedLock;

/**
 * The bytes of one block in an array that serves other blocks once this one leaves the memory
 * cache: 4 MiB arrays are humongous objects to G1, which collects them so seldom that a daemon
 * reading S3 grew by the size of every file it read. Readers copy optimistically and check
 * afterwards that the array held their block throughout; one that lost that race (the block was
 * evicted and its array taken for another meanwhile) gets false and fetches the block again.
 */
final class Block {

    final byte[] bytes;
    private final StampedLock lock = new StampedLock();
    /** What the array holds now, null while it is being filled or is free; written under the lock. */
    private Object holds;
    private int length;

    Block(int capacity) {
        this.bytes = new byte[capacity];
    }

    /** Makes the array, filled with {@code length} bytes, readable as {@code id}. */
    void publish(Object id, int length) {
        long stamp = lock.writeLock();
        this.holds = id;
        this.length = length;
        lock.unlockWrite(stamp);
    }

    /** Ends what the array held; a copy that was under way fails its check. */
    void retire() {
        long stamp = lock.writeLock();
        holds = null;
        lock.unlockWrite(stamp);
    }

    int length() {
        return length;
    }

    /**
     * Puts {@code length} bytes from {@code offset} into {@code dst} if the array holds {@code id}
     * from before the copy to after it; otherwise false, with {@code dst}'s position as it was
     * (what was written beyond it is to be overwritten).
     */
    boolean copyTo(Object id, int offset, int length, ByteBuffer dst) {
        long stamp = lock.tryOptimisticRead();
        if (stamp == 0 || !id.equals(holds) || offset + length > this.length) {
            return false;
        }
        int position = dst.position();
        dst.put(bytes, offset, length);
        if (!lock.validate(stamp)) {
            dst.position(position);
            return false;
        }
        return true;
    }
}
