package dev.overlay4j.fuse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import java.io.IOException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The server's own handles for files the kernel opened without asking: bounded, shared, closed once. */
class NodeFilesTest {

    private static final Set<StandardOpenOption> READ = EnumSet.of(StandardOpenOption.READ);
    private static final Set<StandardOpenOption> READ_WRITE = EnumSet.of(StandardOpenOption.READ,
            StandardOpenOption.WRITE);

    private final Overlay overlay = mock(Overlay.class);
    private final NodeTable nodes = new NodeTable();
    private final NodeFiles files = new NodeFiles(overlay, nodes);

    private long file(String name) throws IOException {
        return nodes.lookedUp(NodeTable.ROOT_ID, name, EntryType.REGULAR_FILE);
    }

    private OverlayFile opens(String name, Set<StandardOpenOption> options, boolean writable, boolean lower)
            throws IOException {
        OverlayFile file = mock(OverlayFile.class);
        when(file.isWritable()).thenReturn(writable);
        when(file.mayBeCopiedUp()).thenReturn(lower);
        when(overlay.open(eq(EntryPath.of(name)), eq(options), any())).thenReturn(file);
        return file;
    }

    /** Reads {@code count} lower files f0, f1, ... once each; their files in that order. */
    private List<OverlayFile> readOnce(int count) throws IOException {
        List<OverlayFile> opened = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long node = file("f" + i);
            opened.add(opens("f" + i, READ, false, true));
            files.release(files.acquire(node, false));
        }
        return opened;
    }

    @Test
    void oneReadHandlePerNodeServesEveryRequestUntilTheNodeIsForgotten() throws IOException {
        long node = file("f");
        OverlayFile reader = opens("f", READ, false, true);
        NodeFiles.Handle first = files.acquire(node, false);
        NodeFiles.Handle second = files.acquire(node, false);
        assertSame(first, second);
        assertSame(reader, first.file());
        files.release(first);
        files.release(second);
        verify(overlay, times(1)).open(eq(EntryPath.of("f")), eq(READ), any());
        files.forget(node);
        verify(reader, times(1)).close();
        assertEquals(0, files.size());
    }

    @Test
    void aWriteReplacesTheReadHandleWhichClosesOnceItsLastRequestIsDone() throws IOException {
        long node = file("f");
        OverlayFile reader = opens("f", READ, false, true);
        OverlayFile writer = opens("f", READ_WRITE, true, false);
        NodeFiles.Handle reading = files.acquire(node, false);
        NodeFiles.Handle writing = files.acquire(node, true);
        assertSame(writer, writing.file());
        verify(reader, never()).close(); // a read is still under way on it
        files.release(reading);
        verify(reader, times(1)).close();
        assertSame(writing, files.acquire(node, false), "reads now use the handle that writes");
    }

    @Test
    void beyondTheLimitTheLeastRecentlyUsedHandlesCloseButNotOnesInUse() throws IOException {
        long busy = file("busy");
        OverlayFile busyFile = opens("busy", READ, false, true);
        NodeFiles.Handle inUse = files.acquire(busy, false);
        List<OverlayFile> opened = readOnce(NodeFiles.LIMIT + 10);
        assertEquals(NodeFiles.LIMIT, files.size());
        for (int i = 0; i < 10; i++) {
            verify(opened.get(i), times(1)).close();
        }
        verify(opened.get(NodeFiles.LIMIT + 9), never()).close();
        verify(busyFile, never()).close(); // evicted first, but a request still reads it
        files.release(inUse);
        verify(busyFile, times(1)).close();
    }

    @Test
    void aPinnedFileOutlivesItsNameAndTheLimitUntilForgotten() throws IOException {
        long node = file("tmp");
        OverlayFile upperRead = opens("tmp", READ, false, false);
        OverlayFile upperWrite = opens("tmp", READ_WRITE, true, false);
        files.pin(node, EntryPath.of("tmp"));
        verify(upperRead, times(1)).close(); // an upper file is kept open for writing instead
        nodes.removed(NodeTable.ROOT_ID, "tmp");
        readOnce(NodeFiles.LIMIT + 1);
        NodeFiles.Handle orphan = files.pinned(node);
        assertSame(upperWrite, orphan.file());
        files.release(orphan);
        NodeFiles.Handle writing = files.acquire(node, true);
        assertSame(upperWrite, writing.file(), "writes after the unlink reach the same file");
        files.forget(node);
        assertNull(files.pinned(node));
        verify(upperWrite, never()).close(); // the write still holds it
        files.release(writing);
        verify(upperWrite, times(1)).close();
    }

    @Test
    void aLowerFileIsPinnedForReadingWithoutCopyingItUp() throws IOException {
        long node = file("lower");
        OverlayFile reader = opens("lower", READ, false, true);
        files.pin(node, EntryPath.of("lower"));
        verify(overlay, never()).open(eq(EntryPath.of("lower")), eq(READ_WRITE), any());
        files.forget(node);
        verify(reader, times(1)).close();
    }

    @Test
    void aRenameDropsTheHandlesBeneathTheMovedDirectory() throws IOException {
        long dir = nodes.lookedUp(NodeTable.ROOT_ID, "d", EntryType.DIRECTORY);
        long inside = nodes.lookedUp(dir, "f", EntryType.REGULAR_FILE);
        long outside = file("g");
        OverlayFile insideFile = mock(OverlayFile.class);
        when(overlay.open(eq(EntryPath.of("d/f")), eq(READ), any())).thenReturn(insideFile);
        OverlayFile outsideFile = opens("g", READ, false, true);
        files.release(files.acquire(inside, false));
        files.release(files.acquire(outside, false));
        nodes.renamed(NodeTable.ROOT_ID, "d", NodeTable.ROOT_ID, "e");
        files.dropWithin(dir);
        verify(insideFile, times(1)).close();
        verify(outsideFile, never()).close();
        OverlayFile reopened = mock(OverlayFile.class);
        when(overlay.open(eq(EntryPath.of("e/f")), eq(READ), any())).thenReturn(reopened);
        assertSame(reopened, files.acquire(inside, false).file(), "opened again at the node's new path");
    }
}
