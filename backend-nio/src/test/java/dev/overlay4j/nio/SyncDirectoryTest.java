package dev.overlay4j.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** {@code syncDirectory} fsyncs the named directory of the tree itself, found like every lookup. */
class SyncDirectoryTest {

    @TempDir
    Path storage;

    @AfterEach
    void removeDeepTrees() throws IOException {
        DeepTrees.removeAll(storage);
    }

    private static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    @Test
    void aDirectoryIsSyncedAtAnyDepthAndAnythingElseFailsWithItsErrno() throws IOException {
        Path upper = Files.createDirectory(storage.resolve("upper"));
        Path work = Files.createDirectory(storage.resolve("work"));
        Files.createDirectory(upper.resolve("dir"));
        Files.writeString(upper.resolve("file"), "x");
        Files.createSymbolicLink(upper.resolve("link"), Path.of("dir"));
        try (WritableLayer layer = new NioLayerProvider().openUpper(upper.toUri(), work.toUri(), LayerOptions.DEFAULTS)) {
            layer.syncDirectory(EntryPath.ROOT, true);
            layer.syncDirectory(EntryPath.of("dir"), false);
            EntryPath deep = DeepTrees.deep(20);
            NewEntryAttributes attributes = new NewEntryAttributes(0755, LinuxCalls.geteuid(), LinuxCalls.getegid());
            for (int i = 1; i <= deep.nameCount(); i++) {
                layer.createDirectory(deep.subpath(i), attributes);
            }
            layer.syncDirectory(deep, true);
            assertErrno(Errno.ENOENT, () -> layer.syncDirectory(EntryPath.of("missing"), true));
            assertErrno(Errno.ENOTDIR, () -> layer.syncDirectory(EntryPath.of("file"), true));
            assertErrno(Errno.ENOTDIR, () -> layer.syncDirectory(EntryPath.of("link"), true));
            assertErrno(Errno.ENOTDIR, () -> layer.syncDirectory(EntryPath.of("file/below"), true));
            assertErrno(Errno.ENAMETOOLONG, () -> layer.syncDirectory(EntryPath.of("n".repeat(256)), true));
        }
    }
}
