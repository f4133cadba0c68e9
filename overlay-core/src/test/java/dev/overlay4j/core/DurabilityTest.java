package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static dev.overlay4j.core.LayerTree.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * What reaches stable storage and when: a copied-up file is synced whole (data and metadata)
 * before the rename that publishes it, as the kernel's copy-up does; option {@code volatile}
 * syncs nothing; fsync of a directory syncs that directory of the upper layer only.
 */
class DurabilityTest {

    /** Calls that matter for durability, on the upper layer, its work area and index, and the files they open. */
    private static final Set<String> RECORDED = Set.of("createFile", "createDirectory", "write", "truncate", "force",
            "close", "setXattr", "writeOverlayXattr", "setOwner", "setPermissions", "setTimes", "publish",
            "linkFromIndex", "sync", "syncDirectory");

    @TempDir
    Path tmp;

    /** What the upper layer was asked, in order: "upper.publish", "work.createFile", "file.force(true)". */
    private final List<String> calls = new CopyOnWriteArrayList<>();

    private Overlay openRecording(LayerTree tree, boolean volatileMount) throws IOException {
        WritableLayer real = Layers.openUpper(tree.upper().toString(), tree.work().toString(), new LayerOptions(false, Map.of()));
        OverlayConfig.Builder builder = OverlayConfig.builder().volatileMount(volatileMount);
        for (int i = 1; i <= tree.lowers; i++) {
            builder.lower(tree.layer(i).toString());
        }
        return Overlay.open(builder.upper(recording("upper", real, WritableLayer.class)).build());
    }

    /** {@code target} behind a proxy that records the calls in {@link #RECORDED}, and wraps what they hand out. */
    private <T> T recording(String role, T target, Class<T> type) {
        return type.cast(Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (RECORDED.contains(method.getName())) {
                calls.add(role + "." + method.getName() + describe(method, args));
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return switch (method.getName()) {
                case "workArea" -> recording("work", (WritableLayer) result, WritableLayer.class);
                case "indexArea" -> recording("index", (WritableLayer) result, WritableLayer.class);
                case "createFile", "openWrite" -> recording("file", (WritableContent) result, WritableContent.class);
                default -> result;
            };
        }));
    }

    private static String describe(Method method, Object[] args) {
        return switch (method.getName()) {
            case "force" -> "(" + args[0] + ")";
            case "syncDirectory", "publish" -> "(" + args[0] + (args.length > 1 && args[1] instanceof Boolean b ? ", " + b : "")
                    + ")";
            default -> "";
        };
    }

    private List<String> callsAfter(String first) {
        int start = calls.indexOf(first);
        assertTrue(start >= 0, () -> first + " was not called: " + calls);
        return calls.subList(start, calls.size());
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    private static void append(Overlay overlay, String path, String text) throws IOException {
        try (OverlayFile f = overlay.open(p(path), Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND), null)) {
            f.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    @Test
    void aCopiedUpFileIsSyncedWholeBeforeTheRenameThatPublishesIt() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "d/f", "lower bytes");
        LayerTree.run("setfattr", "-n", "user.kept", "-v", "1", tree.layer(1).resolve("d/f").toString());
        try (Overlay overlay = openRecording(tree, false)) {
            calls.clear();
            append(overlay, "d/f", "!");
            List<String> copyUp = callsAfter("work.createFile");
            assertEquals("file.write", copyUp.get(1), () -> "the data first: " + copyUp);
            // Then xattrs and attributes, then one fsync of the whole file, then the rename.
            List<String> afterData = copyUp.stream().filter(c -> !c.equals("file.write")).toList();
            assertEquals(List.of("work.createFile", "work.setXattr", "work.writeOverlayXattr", "work.setOwner",
                    "work.setPermissions", "work.setTimes", "file.force(true)", "file.close"), afterData.subList(0, 8));
            assertTrue(afterData.get(8).startsWith("upper.publish("), () -> "then published: " + copyUp);
            assertEquals("lower bytes!", read(overlay, "d/f"));
            assertEquals("lower bytes!", Files.readString(tree.upper().resolve("d/f")));
        }
    }

    @Test
    void aLowerHardLinkIsSyncedBeforeItIsPublishedIntoTheIndex() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "f", "linked");
        Files.createLink(tree.layer(1).resolve("g"), tree.layer(1).resolve("f"));
        try (Overlay overlay = openRecording(tree, false)) {
            calls.clear();
            overlay.setPermissions(p("f"), 0600);
            List<String> copyUp = callsAfter("work.createFile");
            // Its origin and link-count marks too are written before the fsync: nothing of the index copy is left unsynced.
            assertEquals(List.of("work.writeOverlayXattr", "work.writeOverlayXattr", "work.writeOverlayXattr",
                    "work.setOwner", "work.setPermissions",
                    "work.setTimes", "file.force(true)", "file.close"),
                    copyUp.subList(copyUp.indexOf("work.writeOverlayXattr"), copyUp.indexOf("file.close") + 1));
            assertTrue(copyUp.get(copyUp.indexOf("file.close") + 1).startsWith("index.publish("),
                    () -> "then published into the index: " + copyUp);
            assertEquals(0600, overlay.stat(p("g")).permissions());
        }
    }

    @Test
    void aCopyWithoutDataIsNotSyncedAsInTheKernel() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "empty", "").file(1, "full", "bytes").dir(1, "dir");
        LayerTree.run("ln", "-s", "target", tree.layer(1).resolve("link").toString());
        try (Overlay overlay = openRecording(tree, false)) {
            calls.clear();
            overlay.setPermissions(p("empty"), 0600);
            overlay.setPermissions(p("dir"), 0700);
            overlay.setOwner(p("link"), -1, -1);
            try (OverlayFile f = overlay.open(p("full"), Set.of(StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                    null)) {
                f.write(ByteBuffer.wrap("new".getBytes(StandardCharsets.UTF_8)), 0);
            }
            assertEquals(4, calls.stream().filter(c -> c.startsWith("upper.publish(")).count(), () -> "four copy-ups: " + calls);
            assertEquals(List.of(), calls.stream().filter(c -> c.contains("force")).toList());
            assertEquals("new", read(overlay, "full"));
        }
    }

    @Test
    void aVolatileOverlaySyncsNothingAndSaysSuccess() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "d/f", "lower bytes").dir(0, "d2");
        try (Overlay overlay = openRecording(tree, true)) {
            calls.clear();
            append(overlay, "d/f", "!");
            try (OverlayFile f = overlay.open(p("d/f"), Set.of(StandardOpenOption.WRITE), null)) {
                f.write(ByteBuffer.wrap("L".getBytes(StandardCharsets.UTF_8)), 0);
                f.force(true);
                f.force(false);
            }
            overlay.sync();
            overlay.syncDirectory(p("d"), true);
            overlay.syncDirectory(p("d2"), false);
            assertEquals(List.of(), calls.stream().filter(c -> c.contains("force") || c.contains("sync")).toList());
            assertTrue(calls.stream().anyMatch(c -> c.startsWith("upper.publish(")), () -> "copied up all the same: " + calls);
            assertEquals("Lower bytes!", read(overlay, "d/f"));
            assertErrno(Errno.ENOENT, () -> overlay.syncDirectory(p("missing"), true));
        }
    }

    @Test
    void durableOverlaysSyncFilesTheStoreAndOneDirectoryWhenAsked() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "lower/f", "x").dir(0, "merged").dir(1, "merged")
                .file(0, "upper/f", "u");
        try (Overlay overlay = openRecording(tree, false)) {
            calls.clear();
            try (OverlayFile f = overlay.open(p("upper/f"), Set.of(StandardOpenOption.WRITE), null)) {
                f.force(false);
            }
            overlay.sync();
            overlay.syncDirectory(p("merged"), true);
            overlay.syncDirectory(p("upper"), false);
            overlay.syncDirectory(p("lower"), true); // only in the lower layer: nothing to sync
            overlay.syncDirectory(p(""), true);
            assertEquals(List.of("file.force(false)", "upper.sync", "upper.syncDirectory(/merged, true)",
                    "upper.syncDirectory(/upper, false)", "upper.syncDirectory(/, true)"),
                    calls.stream().filter(c -> c.contains("force") || c.contains("sync")).toList());
            calls.clear();
            assertErrno(Errno.ENOENT, () -> overlay.syncDirectory(p("missing"), true));
            assertErrno(Errno.ENOTDIR, () -> overlay.syncDirectory(p("upper/f"), true));
            assertErrno(Errno.ENOTDIR, () -> overlay.syncDirectory(p("lower/f/below"), true));
            assertEquals(List.of(), calls);
        }
    }

    @Test
    void aDirectoryCopiedUpSinceItWasSeenIsSyncedInTheUpperLayer() throws IOException {
        LayerTree tree = new LayerTree(tmp, 1).file(1, "lower/f", "x");
        try (Overlay overlay = openRecording(tree, false)) {
            overlay.syncDirectory(p("lower"), true);
            LayerTree.write(overlay, "lower/new", "n"); // copies the directory up
            calls.clear();
            overlay.syncDirectory(p("lower"), true);
            assertEquals(List.of("upper.syncDirectory(/lower, true)"), calls);
        }
    }
}
