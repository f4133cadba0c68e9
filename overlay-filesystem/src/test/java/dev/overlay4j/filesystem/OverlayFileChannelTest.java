package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Channel bookkeeping (position, append, modes, close) over a mocked open file. */
class OverlayFileChannelTest {

    private final OverlayFile file = mock(OverlayFile.class);

    private OverlayFileChannel channel(StandardOpenOption... options) {
        return new OverlayFileChannel(file, OpenOptions.of(Set.of(options)), null);
    }

    private static int consumeAll(ByteBuffer src) {
        int n = src.remaining();
        src.position(src.limit());
        return n;
    }

    @Test
    void appendWritesAtTheCurrentEndOfFile() throws IOException {
        when(file.size()).thenReturn(100L);
        when(file.write(any(), anyLong())).thenAnswer(call -> consumeAll(call.getArgument(0)));
        OverlayFileChannel channel = channel(StandardOpenOption.APPEND);
        assertEquals(3, channel.write(ByteBuffer.wrap(new byte[3])));
        verify(file).write(any(), eq(100L));
        assertEquals(100L, channel.position()); // the mocked size did not grow
    }

    @Test
    void partialWritesAreContinuedAtTheRightOffset() throws IOException {
        when(file.write(any(), anyLong())).thenAnswer(call -> {
            ByteBuffer src = call.getArgument(0);
            src.position(src.position() + 1);
            return 1;
        });
        OverlayFileChannel channel = channel(StandardOpenOption.WRITE);
        channel.position(10);
        assertEquals(2, channel.write(ByteBuffer.wrap(new byte[2])));
        verify(file).write(any(), eq(10L));
        verify(file).write(any(), eq(11L));
        assertEquals(12L, channel.position());
    }

    @Test
    void modesAreEnforced() {
        assertThrows(NonWritableChannelException.class, () -> channel(StandardOpenOption.READ).write(ByteBuffer.allocate(1)));
        assertThrows(NonWritableChannelException.class, () -> channel(StandardOpenOption.READ).truncate(0));
        assertThrows(NonReadableChannelException.class, () -> channel(StandardOpenOption.WRITE).read(ByteBuffer.allocate(1)));
        assertThrows(IllegalArgumentException.class, () -> channel(StandardOpenOption.READ).position(-1));
    }

    @Test
    void closeIsIdempotentAndLaterCallsFail() throws IOException {
        OverlayFileChannel channel = channel(StandardOpenOption.READ);
        channel.close();
        channel.close();
        assertFalse(channel.isOpen());
        verify(file, times(1)).close();
        assertThrows(ClosedChannelException.class, () -> channel.read(ByteBuffer.allocate(1)));
        assertThrows(ClosedChannelException.class, channel::size);
        assertThrows(ClosedChannelException.class, channel::position);
    }

    @Test
    void truncateOnlyShrinksAndPullsThePositionBack() throws IOException {
        when(file.size()).thenReturn(10L);
        OverlayFileChannel channel = channel(StandardOpenOption.WRITE);
        channel.position(8);
        channel.truncate(20);
        verify(file, times(0)).truncate(anyLong());
        assertEquals(8, channel.position());
        channel.truncate(5);
        verify(file).truncate(5);
        assertEquals(5, channel.position());
    }
}
