package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Changes that must hide a lower entry and change a name at once reach the upper layer as one
 * atomic call, so a crash can never leave the lower entry showing again.
 */
class AtomicStepsTest {

    /** The upper-layer calls that change its tree. */
    private static final Set<String> TREE_CHANGES = Set.of("rename", "renameLeavingWhiteout", "publish", "delete",
            "createWhiteout", "link", "linkIntoWorkArea", "createFile", "createDirectory", "createSymlink");

    @TempDir
    Path tmp;

    private final List<String> changes = new CopyOnWriteArrayList<>();

    /** Opens the overlay with an upper layer that records which tree-changing calls it gets. */
    private Overlay openRecording(LayerTree tree) throws Exception {
        WritableLayer real = Layers.openUpper(tree.upper().toString(), tree.work().toString(), new LayerOptions(false, Map.of()));
        WritableLayer recording = (WritableLayer) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {WritableLayer.class}, (proxy, method, args) -> {
                    if (TREE_CHANGES.contains(method.getName())) {
                        changes.add(method.getName());
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        OverlayConfig.Builder builder = OverlayConfig.builder();
        for (int i = 1; i <= tree.lowers; i++) {
            builder.lower(tree.layer(i).toString());
        }
        return Overlay.open(builder.upper(recording).build());
    }

    @Test
    void renameOverAnUpperFileLeavesTheSourceWhiteoutInTheSameStep() throws Exception {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "a", "lower a").file(0, "b", "upper b").file(1, "c", "lower c");
        try (Overlay overlay = openRecording(tree)) {
            overlay.setTimes(p("a"), 0, 0); // copy-up first, so the rename itself is what is recorded
            changes.clear();
            overlay.rename(p("a"), p("b"), RenameMode.REPLACE);
            assertEquals(List.of("renameLeavingWhiteout"), changes);
            assertEquals("lower a", read(overlay, "b"));
            assertTrue(tree.isWhiteoutOnDisk("a"));
        }
    }

    @Test
    void renameToAFreeNameLeavesTheSourceWhiteoutInTheSameStep() throws Exception {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "a", "lower a");
        try (Overlay overlay = openRecording(tree)) {
            overlay.setTimes(p("a"), 0, 0);
            changes.clear();
            overlay.rename(p("a"), p("new"), RenameMode.NOREPLACE);
            assertEquals(List.of("renameLeavingWhiteout"), changes);
            assertEquals("lower a", read(overlay, "new"));
            assertTrue(tree.isWhiteoutOnDisk("a"));
        }
    }

    @Test
    void linkOverAWhiteoutReplacesItInOneStep() throws Exception {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "gone", "lower").file(0, "f", "upper f");
        try (Overlay overlay = openRecording(tree)) {
            overlay.unlink(p("gone"));
            assertTrue(tree.isWhiteoutOnDisk("gone"));
            changes.clear();
            overlay.link(p("f"), p("gone"));
            assertEquals(List.of("linkIntoWorkArea", "publish"), changes);
            assertEquals("upper f", read(overlay, "gone"));
            assertEquals(overlay.stat(p("f")).inode(), overlay.stat(p("gone")).inode());
            assertEquals(2, overlay.stat(p("gone")).nlink());
        }
    }
}
