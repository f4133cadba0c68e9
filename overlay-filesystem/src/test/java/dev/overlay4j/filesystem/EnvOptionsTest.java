package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.OverlayConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvOptionsTest {

    private static List<String> lowers(OverlayConfig config) {
        return config.lowers().stream()
                .map(source -> ((OverlayConfig.LayerSource.Location) source).spec())
                .toList();
    }

    private static String upper(OverlayConfig config) {
        return ((OverlayConfig.LayerSource.Location) config.upper()).spec();
    }

    @Test
    void colonSeparatedLowerdirWithEscapedColon() {
        OverlayConfig config = EnvOptions.toConfig(Map.of("lowerdir", "/l/top:/l/a\\:b,c:/l/base"));
        assertEquals(List.of("/l/top", "/l/a:b,c", "/l/base"), lowers(config));
        assertNull(config.upper());
        assertTrue(config.readOnly());
    }

    @Test
    void listLowerdirTakesStringsPathsAndUris() {
        OverlayConfig config = EnvOptions.toConfig(Map.of("lowerdir",
                List.of("/l/with:colon,comma\\slash", Path.of("/l/path"), URI.create("zip:file:///x.zip"))));
        assertEquals(List.of("/l/with:colon,comma\\slash", "/l/path", "zip:file:///x.zip"), lowers(config));
    }

    @Test
    void upperAndWorkAsStringsOrPaths() {
        OverlayConfig config = EnvOptions.toConfig(Map.of("lowerdir", "/l", "upperdir", Path.of("/u,1"),
                "workdir", "/w:2"));
        assertEquals("/u,1", upper(config));
        assertEquals("/w:2", config.work());
        assertFalse(config.readOnly());
    }

    @Test
    void flagsAsBooleansOrStrings() {
        OverlayConfig config = EnvOptions.toConfig(Map.of("lowerdir", "/l", "upperdir", "/u", "workdir", "/w",
                "redirect_dir", "off", "userxattr", true, "ro", "true"));
        assertFalse(config.redirectDir());
        assertTrue(config.userXattr());
        assertTrue(config.readOnly());
        assertTrue(EnvOptions.toConfig(Map.of("lowerdir", "/l", "redirect_dir", Boolean.TRUE)).redirectDir());
        assertFalse(EnvOptions.toConfig(Map.of("lowerdir", "/l", "userxattr", "false")).userXattr());
        assertTrue(EnvOptions.toConfig(Map.of("lowerdir", "/l", "upperdir", "/u", "workdir", "/w", "volatile", true))
                .volatileMount());
        assertFalse(EnvOptions.toConfig(Map.of("lowerdir", "/l", "volatile", "false")).volatileMount());
        assertFalse(config.volatileMount(), "not volatile unless asked");
    }

    private static String error(Map<String, ?> env) {
        return assertThrows(IllegalArgumentException.class, () -> EnvOptions.toConfig(env)).getMessage();
    }

    @Test
    void badEnvironmentsNameTheKey() {
        assertTrue(error(Map.of()).contains("lowerdir"));
        assertTrue(error(Map.of("lowerdir", 42)).contains("lowerdir"));
        assertTrue(error(Map.of("lowerdir", List.of())).contains("lowerdir"));
        assertTrue(error(Map.of("lowerdir", "/a::/b")).contains("lowerdir"));
        assertTrue(error(Map.of("lowerdir", "/l", "upperdir", "/u")).contains("workdir"));
        assertTrue(error(Map.of("lowerdir", "/l", "upperdir", 3, "workdir", "/w")).contains("upperdir"));
        assertTrue(error(Map.of("lowerdir", "/l", "redirect_dir", "maybe")).contains("redirect_dir"));
        assertTrue(error(Map.of("lowerdir", "/l", "ro", "yes")).contains("ro"));
        assertTrue(error(Map.of("lowerdir", "/l", "lowerdirs", "/x")).contains("lowerdirs"));
    }
}
