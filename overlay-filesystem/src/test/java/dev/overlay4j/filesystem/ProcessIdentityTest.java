package dev.overlay4j.filesystem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.NewEntryAttributes;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProcessIdentityTest {

    @Test
    void readsFileSystemIdsGroupsAndUmaskFromProcStatus() throws IOException {
        ProcessIdentity identity = ProcessIdentity.parseStatus(List.of(
                "Name:\tjava", "Umask:\t0027", "Uid:\t1000\t1001\t1002\t1003", "Gid:\t2000\t2001\t2002\t2003",
                "Groups:\t4 24 27 "));
        assertEquals(new ProcessIdentity(1003, 2003, Set.of(4, 24, 27), 027), identity);
        assertEquals(new NewEntryAttributes(0640, 1003, 2003), identity.newEntry(0666));
        assertTrue(identity.inGroup(24));
    }

    @Test
    void theCurrentProcessHasAnIdentity() throws IOException {
        ProcessIdentity identity = ProcessIdentity.current();
        assertTrue(identity.uid() >= 0);
    }

    @Test
    void statusWithoutIdsIsAnError() {
        assertThrows(IOException.class, () -> ProcessIdentity.parseStatus(List.of("Name:\tx")));
    }
}
