package dev.overlay4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerTreeTest {

    @Test
    void undeclaredParentsComeFirstAsPlainDirectories() {
        LayerTree tree = LayerTree.builder().file("a/b/f", new byte[] {1}, 0600, 0).build();
        assertEquals(List.of(EntryPath.of("a"), EntryPath.of("a/b"), EntryPath.of("a/b/f")),
                tree.nodes().stream().map(LayerTree.Node::path).toList());
        LayerTree.Directory parent = (LayerTree.Directory) tree.nodes().get(1);
        assertEquals(0755, parent.permissions());
    }

    @Test
    void xattrsAttachToTheDeclaredEntry() {
        LayerTree tree = LayerTree.builder().opaqueDirectory("d").xattr("d", "user.k", new byte[] {2}).build();
        LayerTree.Directory d = (LayerTree.Directory) tree.nodes().getFirst();
        assertTrue(d.opaque());
        assertEquals(2, d.xattrs().get("user.k")[0]);
    }

    @Test
    void aNameDeclaredTwiceOrAnXattrOnAnUndeclaredEntryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LayerTree.builder().whiteout("x").whiteout("x"));
        assertThrows(IllegalArgumentException.class, () -> LayerTree.builder().xattr("x", "user.k", new byte[0]));
    }
}
