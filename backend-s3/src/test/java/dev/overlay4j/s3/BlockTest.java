package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BlockTest {

    private static Block filled(String id, byte value) {
        Block block = new Block(8);
        java.util.Arrays.fill(block.bytes, value);
        block.publish(id, 8);
        return block;
    }

    @Test
    void aPublishedBlockCopiesItsBytes() {
        Block block = filled("a", (byte) 7);
        ByteBuffer dst = ByteBuffer.allocate(5);
        assertTrue(block.copyTo("a", 2, 5, dst));
        assertEquals(5, dst.position());
        assertArrayEquals(new byte[] {7, 7, 7, 7, 7}, dst.array());
    }

    @Test
    void aRetiredOrRepublishedBlockRefusesTheCopyAndLeavesThePosition() {
        Block block = filled("a", (byte) 7);
        ByteBuffer dst = ByteBuffer.allocate(8).position(1);
        block.retire();
        assertFalse(block.copyTo("a", 0, 4, dst));
        assertEquals(1, dst.position());
        block.publish("b", 8);
        assertFalse(block.copyTo("a", 0, 4, dst), "the array holds another block now");
        assertTrue(block.copyTo("b", 0, 4, dst));
        assertEquals(5, dst.position());
    }

    @Test
    void aCopyBeyondTheBlocksLengthIsRefused() {
        Block block = new Block(8);
        block.publish("short", 3);
        assertFalse(block.copyTo("short", 1, 3, ByteBuffer.allocate(8)));
        assertTrue(block.copyTo("short", 1, 2, ByteBuffer.allocate(8)));
    }
}
