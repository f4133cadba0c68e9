package dev.overlay4j.fuse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class NodeTableTest {

    private final NodeTable table = new NodeTable();

    private long dir(long parent, String name) throws IOException {
        return table.lookedUp(parent, name, EntryType.DIRECTORY);
    }

    private long file(long parent, String name) throws IOException {
        return table.lookedUp(parent, name, EntryType.REGULAR_FILE);
    }

    @Test
    void rebuildsPathsFromParentsAndNames() throws IOException {
        long a = dir(NodeTable.ROOT_ID, "a");
        long b = file(a, "b");
        assertEquals(EntryPath.ROOT, table.path(NodeTable.ROOT_ID));
        assertEquals(EntryPath.of("a/b"), table.path(b));
    }

    @Test
    void oneNodePerNameUntilForgotten() throws IOException {
        long first = file(NodeTable.ROOT_ID, "f");
        assertEquals(first, file(NodeTable.ROOT_ID, "f"));
        table.forget(first, 1);
        assertEquals(EntryPath.of("f"), table.path(first)); // one reference left
        table.forget(first, 1);
        assertFalse(table.contains(first));
        assertEquals(Errno.ESTALE, Errno.of(assertThrows(IOException.class, () -> table.path(first))));
        assertNotEquals(first, file(NodeTable.ROOT_ID, "f")); // ids are never reused
    }

    @Test
    void aNameWithANewTypeGetsANewNode() throws IOException {
        long asFile = file(NodeTable.ROOT_ID, "x");
        long asDir = dir(NodeTable.ROOT_ID, "x");
        assertNotEquals(asFile, asDir);
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(asFile))));
    }

    @Test
    void removedNodesAndTheirChildrenHaveNoPath() throws IOException {
        long d = dir(NodeTable.ROOT_ID, "d");
        long f = file(d, "f");
        table.removed(NodeTable.ROOT_ID, "d");
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(d))));
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(f))));
        assertNotEquals(d, dir(NodeTable.ROOT_ID, "d"));
    }

    @Test
    void renameMovesTheSubtreeAndDetachesTheReplacedTarget() throws IOException {
        long src = dir(NodeTable.ROOT_ID, "src");
        long child = file(src, "c");
        long dst = dir(NodeTable.ROOT_ID, "dst");
        long other = dir(NodeTable.ROOT_ID, "other");
        table.renamed(NodeTable.ROOT_ID, "src", other, "dst");
        assertEquals(EntryPath.of("other/dst/c"), table.path(child));
        assertEquals(EntryPath.of("dst"), table.path(dst)); // a different name: untouched

        long replaced = file(other, "victim");
        long mover = file(other, "mover");
        table.renamed(other, "mover", other, "victim");
        assertEquals(EntryPath.of("other/victim"), table.path(mover));
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(replaced))));
        assertEquals(mover, file(other, "victim"));
    }

    @Test
    void exchangeSwapsBothNames() throws IOException {
        long a = file(NodeTable.ROOT_ID, "a");
        long d = dir(NodeTable.ROOT_ID, "d");
        long b = file(d, "b");
        table.exchanged(NodeTable.ROOT_ID, "a", d, "b");
        assertEquals(EntryPath.of("d/b"), table.path(a));
        assertEquals(EntryPath.of("a"), table.path(b));
    }

    @Test
    void theRootIsNeverForgotten() throws IOException {
        table.forget(NodeTable.ROOT_ID, 1000);
        assertEquals(EntryPath.ROOT, table.path(NodeTable.ROOT_ID));
    }

    @Test
    void thousandsOfNodesKeepTheirPathsWhileOthersComeAndGo() throws IOException {
        // Enough nodes to grow the table several times, and forgotten slots reused in between.
        int dirs = 50;
        int perDir = 200;
        long[] dirIds = new long[dirs];
        long[][] fileIds = new long[dirs][perDir];
        for (int d = 0; d < dirs; d++) {
            dirIds[d] = dir(NodeTable.ROOT_ID, "d" + d);
            for (int f = 0; f < perDir; f++) {
                fileIds[d][f] = file(dirIds[d], "f" + f);
            }
        }
        assertEquals(1 + dirs + dirs * perDir, table.size());
        for (int d = 0; d < dirs; d++) {
            for (int f = 0; f < perDir; f += 2) {
                assertTrue(table.forget(fileIds[d][f], 1));
            }
        }
        for (int d = 0; d < dirs; d++) {
            for (int f = 0; f < perDir; f += 2) {
                long again = file(dirIds[d], "f" + f);
                assertNotEquals(fileIds[d][f], again);
                fileIds[d][f] = again;
            }
        }
        assertEquals(1 + dirs + dirs * perDir, table.size());
        for (int d = 0; d < dirs; d++) {
            for (int f = 0; f < perDir; f++) {
                EntryPath path = EntryPath.of("d" + d + "/f" + f);
                assertEquals(path, table.path(fileIds[d][f]));
                assertEquals(fileIds[d][f], table.find(path));
            }
        }
        assertEquals(-1, table.find(EntryPath.of("d0/f" + perDir)));
    }

    @Test
    void anUnnamedFileTakesItsFirstLinkName() throws IOException {
        long tmp = table.unnamed(EntryType.REGULAR_FILE);
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(tmp))));
        long old = file(NodeTable.ROOT_ID, "kept");
        assertTrue(table.named(tmp, NodeTable.ROOT_ID, "kept", new EntryAttributes(EntryType.REGULAR_FILE, 0644, 0, 0, 0, 0, 0, 0, 0, 1, 7, 0, false, null)));
        assertEquals(EntryPath.of("kept"), table.path(tmp));
        assertEquals(tmp, table.find(EntryPath.of("kept")));
        assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class, () -> table.path(old))));
        assertFalse(table.forget(tmp, 1)); // the unnamed reference and the link's reply
        assertTrue(table.forget(tmp, 1));
        assertEquals(-1, table.find(EntryPath.of("kept")));
    }
}
