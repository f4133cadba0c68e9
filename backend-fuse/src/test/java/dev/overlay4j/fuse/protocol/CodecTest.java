package dev.overlay4j.fuse.protocol;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Request decoding and reply encoding at the byte offsets of fuse.h. */
class CodecTest {

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(4096, 8);

    @AfterEach
    void free() {
        arena.close();
    }

    private static EntryAttributes device() {
        // 2001-09-09T01:46:40.123456789Z and pre-epoch times exercise the seconds/nanoseconds split
        return new EntryAttributes(EntryType.CHARACTER_DEVICE, 0640, 1000, 100, 0, 0,
                1_000_000_000_123_456_789L, -1L, 5L, 2, 4242, (5 << 8) | 1, false, null);
    }

    @Test
    void readsTheHeaderAndNulTerminatedArguments() {
        buffer.set(JAVA_INT, 0, 40 + 12);
        buffer.set(JAVA_INT, 4, Opcode.RENAME);
        buffer.set(JAVA_LONG, 8, 77L);
        buffer.set(JAVA_LONG, 16, 5L);
        buffer.set(JAVA_INT, 24, 1000);
        buffer.set(JAVA_INT, 28, 100);
        buffer.set(JAVA_INT, 32, 4321);
        byte[] names = "ab\0cde\0".getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(names, 0, buffer, JAVA_BYTE, 40 + 4, names.length);
        Request request = new Request(buffer);
        request.reset(40 + 4 + names.length);
        assertEquals(Opcode.RENAME, request.opcode());
        assertEquals(77, request.unique());
        assertEquals(5, request.nodeid());
        assertEquals(1000, request.uid());
        assertEquals(100, request.gid());
        assertEquals(4321, request.pid());
        assertEquals("ab", request.string(4));
        assertEquals(2, request.stringLength(4));
        assertEquals("cde", request.string(4 + 3));
    }

    @Test
    void refusesArgumentsBeyondTheRequest() {
        Request request = new Request(buffer);
        buffer.set(JAVA_INT, 4, Opcode.LOOKUP);
        buffer.set(JAVA_BYTE, 40, (byte) 'x');
        request.reset(41);
        assertThrows(IllegalArgumentException.class, () -> request.u64(0));
        assertThrows(IllegalArgumentException.class, () -> request.string(0)); // no NUL inside the request
        assertThrows(IllegalArgumentException.class, () -> request.reset(39));
    }

    @Test
    void writesAttributesWhereTheKernelReadsThem() {
        Reply reply = new Reply(buffer);
        reply.attrOut(0, 1_500_000_000L, device());
        long attr = 16 + Structs.AttrOut.ATTR;
        assertEquals(1, buffer.get(JAVA_LONG, 16));                       // attr_valid seconds
        assertEquals(500_000_000, buffer.get(JAVA_INT, 16 + 8));          // attr_valid_nsec
        assertEquals(4242, buffer.get(JAVA_LONG, attr));                  // ino
        assertEquals(1_000_000_000L, buffer.get(JAVA_LONG, attr + 24));   // atime
        assertEquals(123_456_789, buffer.get(JAVA_INT, attr + 48));       // atimensec
        assertEquals(-1L, buffer.get(JAVA_LONG, attr + 32));              // mtime one ns before the epoch
        assertEquals(999_999_999, buffer.get(JAVA_INT, attr + 52));
        assertEquals(0, buffer.get(JAVA_LONG, attr + 40));
        assertEquals(5, buffer.get(JAVA_INT, attr + 56));
        assertEquals(020640, buffer.get(JAVA_INT, attr + 60));            // mode: S_IFCHR | 0640
        assertEquals(2, buffer.get(JAVA_INT, attr + 64));
        assertEquals(1000, buffer.get(JAVA_INT, attr + 68));
        assertEquals(100, buffer.get(JAVA_INT, attr + 72));
        assertEquals((5 << 8) | 1, buffer.get(JAVA_INT, attr + 76));      // rdev, new_encode_dev(5, 1)
        assertEquals(4096, buffer.get(JAVA_INT, attr + 80));
    }

    @Test
    void writesEntryAndHeader() {
        Reply reply = new Reply(buffer);
        reply.entry(0, 9, 0, 2_000_000_001L, 3_000_000_000L, device());
        assertEquals(16 + 128, reply.header(55, 0, Structs.EntryOut.SIZE));
        assertEquals(144, buffer.get(JAVA_INT, 0));
        assertEquals(0, buffer.get(JAVA_INT, 4));
        assertEquals(55, buffer.get(JAVA_LONG, 8));
        assertEquals(9, buffer.get(JAVA_LONG, 16));
        assertEquals(2, buffer.get(JAVA_LONG, 16 + 16));
        assertEquals(3, buffer.get(JAVA_LONG, 16 + 24));
        assertEquals(1, buffer.get(JAVA_INT, 16 + 32));
        assertEquals(4242, buffer.get(JAVA_LONG, 16 + 40));

        assertEquals(16, reply.header(56, -2, 0));
        assertEquals(-2, buffer.get(JAVA_INT, 4));
    }

    @Test
    void writesDirentsWithZeroPadding() {
        buffer.fill((byte) 0x7f);
        Reply reply = new Reply(buffer);
        long size = reply.dirent(0, 11, 3, EntryType.DIRECTORY.direntType(), "abc".getBytes(StandardCharsets.UTF_8));
        assertEquals(32, size);
        assertEquals(11, buffer.get(JAVA_LONG, 16));
        assertEquals(3, buffer.get(JAVA_LONG, 16 + 8));
        assertEquals(3, buffer.get(JAVA_INT, 16 + 16));
        assertEquals(4, buffer.get(JAVA_INT, 16 + 20)); // DT_DIR
        assertEquals('a', buffer.get(JAVA_BYTE, 16 + 24));
        for (int i = 16 + 27; i < 16 + 32; i++) {
            assertEquals(0, buffer.get(JAVA_BYTE, i));
        }
    }

    @Test
    void writesInitOut() {
        Reply reply = new Reply(buffer);
        reply.initOut(new Init.Answer(7, 38, 65536, Flags.ASYNC_READ | Flags.INIT_EXT | Flags.PASSTHROUGH, 64, 48,
                1 << 20, 1, 256, 1, false));
        assertEquals(7, buffer.get(JAVA_INT, 16));
        assertEquals(38, buffer.get(JAVA_INT, 20));
        assertEquals(65536, buffer.get(JAVA_INT, 24));
        assertEquals((int) (Flags.ASYNC_READ | Flags.INIT_EXT), buffer.get(JAVA_INT, 28));
        assertEquals(64, buffer.get(JAVA_SHORT, 32));
        assertEquals(48, buffer.get(JAVA_SHORT, 34));
        assertEquals(1 << 20, buffer.get(JAVA_INT, 36));
        assertEquals(1, buffer.get(JAVA_INT, 40));
        assertEquals(256, buffer.get(JAVA_SHORT, 44));
        assertEquals(1 << 5, buffer.get(JAVA_INT, 48)); // PASSTHROUGH is bit 37: bit 5 of flags2
        assertEquals(1, buffer.get(JAVA_INT, 52)); // max_stack_depth
    }
}
