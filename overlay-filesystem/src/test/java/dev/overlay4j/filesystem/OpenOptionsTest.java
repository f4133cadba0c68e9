package dev.overlay4j.filesystem;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.OpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpenOptionsTest {

    @Test
    void noReadOrWriteMeansRead() {
        assertEquals(Set.of(READ), OpenOptions.of(Set.of()).forEngine());
    }

    @Test
    void appendImpliesWrite() {
        assertEquals(Set.of(WRITE, APPEND, CREATE), OpenOptions.of(Set.of(APPEND, CREATE)).forEngine());
    }

    @Test
    void createAndTruncateCountOnlyWhenWriting() {
        assertEquals(Set.of(READ), OpenOptions.of(Set.of(READ, CREATE, CREATE_NEW, TRUNCATE_EXISTING)).forEngine());
    }

    @Test
    void createNewWinsOverCreate() {
        assertEquals(Set.of(WRITE, CREATE_NEW), OpenOptions.of(Set.of(WRITE, CREATE, CREATE_NEW)).forEngine());
    }

    @Test
    void readWithAppendAndAppendWithTruncateAreRefused() {
        assertEquals("READ + APPEND not allowed",
                assertThrows(IllegalArgumentException.class, () -> OpenOptions.of(Set.of(READ, APPEND))).getMessage());
        assertEquals("APPEND + TRUNCATE_EXISTING not allowed",
                assertThrows(IllegalArgumentException.class,
                        () -> OpenOptions.of(Set.of(APPEND, TRUNCATE_EXISTING))).getMessage());
    }

    @Test
    void foreignOptionsAreUnsupported() {
        OpenOption custom = new OpenOption() {
        };
        assertThrows(UnsupportedOperationException.class, () -> OpenOptions.of(Set.of(custom)));
    }
}
