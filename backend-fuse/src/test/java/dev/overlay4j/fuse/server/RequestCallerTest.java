package dev.overlay4j.fuse.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequestCallerTest {

    @TempDir
    Path proc;

    private void status(int pid, String groups) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("status"), "Name:\tcat\nUid:\t1000\t1000\t1000\t1000\n"
                + "Gid:\t100\t100\t100\t100\n" + groups + "\nNSpid:\t42\n");
    }

    @Test
    void theSupplementaryGroupsComeFromTheProcessStatus() throws IOException {
        status(42, "Groups:\t27 4 1000 ");
        RequestCaller caller = new RequestCaller(1000, 100, 42, proc);
        assertEquals(1000, caller.uid());
        assertTrue(caller.inGroup(100), "the primary group");
        assertTrue(caller.inGroup(4));
        assertTrue(caller.inGroup(27));
        assertFalse(caller.inGroup(5));
    }

    @Test
    void theStatusIsReadOnlyWhenTheCheckGetsPastThePrimaryGroup() throws IOException {
        RequestCaller caller = new RequestCaller(1000, 100, 42, proc);
        assertTrue(caller.inGroup(100));
        status(42, "Groups:\t7");
        assertTrue(caller.inGroup(7), "read now, not at construction");
        Files.writeString(proc.resolve("42/status"), "Groups:\t8\n");
        assertFalse(caller.inGroup(8), "read once per request");
    }

    @Test
    void aProcessThatCannotBeReadHasItsPrimaryGroupAlone() throws IOException {
        status(0, "Groups:\t7");
        assertFalse(new RequestCaller(1000, 100, 43, proc).inGroup(7), "gone");
        assertFalse(new RequestCaller(1000, 100, 0, proc).inGroup(7), "pid 0: outside the server's pid namespace");
        assertTrue(new RequestCaller(1000, 100, 0, proc).inGroup(100));
    }

    @Test
    void anEmptyGroupsLineMeansNone() throws IOException {
        status(42, "Groups:\t ");
        assertArrayEquals(new int[0], RequestCaller.supplementaryGroups(proc.resolve("42/status")));
        status(43, "Groups:\t5 3");
        assertArrayEquals(new int[] {3, 5}, RequestCaller.supplementaryGroups(proc.resolve("43/status")));
    }
}
