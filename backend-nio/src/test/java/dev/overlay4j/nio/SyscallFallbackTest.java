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
import org.junit.jupiter.api.io.TempDir;

/**
 * Calls newer than some kernels, or unknown to container seccomp profiles (which answer ENOSYS),
 * have fallbacks that behave the same.
 */
class SyscallFallbackTest {

    @TempDir
    Path dir;

    @AfterEach
    void restore() {
        LinuxCalls.useFchmodat2(true);
    }

    private WritableLayer upper() throws IOException {
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path work = Files.createDirectories(dir.resolve("work"));
        return new NioLayerProvider().openUpper(upper.toUri(), work.toUri(), LayerOptions.DEFAULTS);
    }

    @Test
    void withoutFchmodat2PermissionsStillChangeAndSymlinksStillRefuse() throws IOException {
        LinuxCalls.useFchmodat2(false);
        try (WritableLayer layer = upper()) {
            EntryPath file = EntryPath.of("f");
            layer.createFile(file, new NewEntryAttributes(0644, LinuxCalls.geteuid(), LinuxCalls.getegid())).close();
            layer.setPermissions(file, 04710);
            assertEquals(04710, layer.stat(file).orElseThrow().permissions());

            EntryPath link = EntryPath.of("link");
            layer.createSymlink(link, "f", new NewEntryAttributes(0777, LinuxCalls.geteuid(), LinuxCalls.getegid()));
            IOException refused = assertThrows(IOException.class, () -> layer.setPermissions(link, 0600));
            assertEquals(Errno.EOPNOTSUPP, Errno.of(refused));
            assertEquals(04710, layer.stat(file).orElseThrow().permissions(), "the link's target is untouched");
            assertEquals(Errno.ENOENT, Errno.of(assertThrows(IOException.class,
                    () -> layer.setPermissions(EntryPath.of("missing"), 0600))));
        }
    }
}
