package dev.overlay4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerOverlapTest {

    @TempDir
    Path tmp;

    private Path dir(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    private IOException refused(OverlayConfig config) {
        return assertThrows(IOException.class, () -> Overlay.open(config).close());
    }

    @Test
    void aLowerInsideTheUpperDirIsRefusedWithEloop() throws Exception {
        Path upper = dir("upper");
        IOException e = refused(OverlayConfig.builder().lower(dir("upper/lower").toString())
                .upper(upper.toString(), dir("work").toString()).build());
        assertEquals(Errno.ELOOP, Errno.of(e));
        assertTrue(e.getMessage().contains("lies inside the upper dir " + upper.toRealPath()), e.getMessage());
    }

    @Test
    void theUpperDirInsideALowerIsRefusedWithEloop() throws Exception {
        Path lower = dir("lower");
        IOException e = refused(OverlayConfig.builder().lower(lower.toString())
                .upper(dir("lower/upper").toString(), dir("work").toString()).build());
        assertEquals(Errno.ELOOP, Errno.of(e));
        assertTrue(e.getMessage().contains("lies inside the lower layer " + lower.toRealPath()), e.getMessage());
    }

    @Test
    void theWorkDirInsideALowerIsRefusedWithEloop() throws Exception {
        Path lower = dir("lower");
        IOException e = refused(OverlayConfig.builder().lower(lower.toString())
                .upper(dir("upper").toString(), dir("lower/work").toString()).build());
        assertEquals(Errno.ELOOP, Errno.of(e));
        assertTrue(e.getMessage().contains("work dir"), e.getMessage());
    }

    @Test
    void aLowerNamedTwiceIsRefusedWithEloop() throws Exception {
        Path lower = dir("lower");
        IOException e = refused(OverlayConfig.builder().lower(lower.toString()).lower(tmp.resolve("./lower").toString())
                .build());
        assertEquals(Errno.ELOOP, Errno.of(e));
        assertTrue(e.getMessage().contains("named twice"), e.getMessage());
    }

    @Test
    void nestedLowersAreAllowedAsInTheKernel() throws Exception {
        Files.writeString(dir("lower/sub").resolve("f"), "x");
        try (Overlay overlay = Overlay.open(OverlayConfig.builder().lower(tmp.resolve("lower/sub").toString())
                .lower(tmp.resolve("lower").toString()).build())) {
            assertEquals(2, overlay.listDirectory(dev.overlay4j.api.EntryPath.ROOT).size()); // f and sub
        }
    }
}
