package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.LayerOptions;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ObjectNamesTest {

    @Test
    void namesThatCannotBeLinuxFileNamesAreRefused() {
        assertNotNull(ObjectNames.refusal(""));
        assertNotNull(ObjectNames.refusal("."));
        assertNotNull(ObjectNames.refusal(".."));
        assertNotNull(ObjectNames.refusal("a\0b"));
        assertNotNull(ObjectNames.refusal("n".repeat(256)));
        assertNotNull(ObjectNames.refusal("é".repeat(128)));
        assertNull(ObjectNames.refusal("n".repeat(255)));
        assertNull(ObjectNames.refusal("...hidden"));
    }

    @Test
    void printableEscapesControlCharactersSoKeysCannotForgeLogLines() {
        assertEquals("a\\x0ab\\x00", ObjectNames.printable("a\nb\0"));
    }

    @Test
    void s3fsModeWithTypeBitsDecidesTheTypeAndACharDevice00IsAWhiteout() {
        assertEquals(EntryType.SYMLINK, S3fsMetadata.parse(Map.of("mode", "41471")).type(EntryType.REGULAR_FILE));
        assertEquals(EntryType.REGULAR_FILE, S3fsMetadata.parse(Map.of("mode", "420")).type(EntryType.REGULAR_FILE));
        assertEquals(EntryType.WHITEOUT, S3fsMetadata.parse(Map.of("mode", "8192")).type(EntryType.REGULAR_FILE));
        assertEquals(EntryType.CHARACTER_DEVICE,
                S3fsMetadata.parse(Map.of("mode", "8630", "rdev", "259")).type(EntryType.REGULAR_FILE));
        assertEquals(0644, S3fsMetadata.parse(Map.of("mode", "not a number")).permissions(0644));
    }

    @Test
    void s3fsTimesAreSecondsWithAnOptionalFraction() {
        assertEquals(1_700_000_000_500_000_000L, S3fsMetadata.parse(Map.of("mtime", "1700000000.5")).mtimeNanos());
        assertEquals("1700000000", S3fsMetadata.seconds(1_700_000_000_000_000_000L));
        assertEquals("1700000000.000000001", S3fsMetadata.seconds(1_700_000_000_000_000_001L));
    }

    @Test
    void layerUrisParseBucketPrefixAndOptions() throws Exception {
        S3Settings s = S3Settings.parse(URI.create("s3://bkt/a/b?endpoint=http%3A%2F%2Fhost%3A9000&region=eu-west-1"
                + "&pathStyle=true&listTtl=500ms&blockSize=4M&cacheDir=/tmp/c"), LayerOptions.DEFAULTS);
        assertEquals("bkt", s.bucket());
        assertEquals("a/b/", s.prefix());
        assertEquals(URI.create("http://host:9000"), s.endpoint());
        assertEquals("eu-west-1", s.region());
        assertEquals(true, s.pathStyle());
        assertEquals(Duration.ofMillis(500), s.listTtl());
        assertEquals(4 << 20, s.blockSize());
        assertEquals("", S3Settings.parse(URI.create("s3://bkt"), LayerOptions.DEFAULTS).prefix());
    }
}
