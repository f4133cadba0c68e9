package dev.overlay4j.fuse.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryType;
import org.junit.jupiter.api.Test;

class PermissionsTest {

    private static EntryAttributes file(int permissions) {
        return new EntryAttributes(EntryType.REGULAR_FILE, permissions, 1000, 100, 0, 0, 0, 0, 0, 1, 7, 0, false, null);
    }

    @Test
    void ownerGroupAndOthersUseTheirOwnBits() {
        EntryAttributes f = file(0640);
        assertTrue(Permissions.allows(f, 1000, 5, 4 | 2));
        assertTrue(Permissions.allows(f, 2000, 100, 4));
        assertFalse(Permissions.allows(f, 2000, 100, 2));
        assertFalse(Permissions.allows(f, 2000, 200, 4));
    }

    @Test
    void rootMayDoAllButExecuteAFileWithoutExecuteBits() {
        assertTrue(Permissions.allows(file(0), 0, 0, 4 | 2));
        assertFalse(Permissions.allows(file(0644), 0, 0, 1));
        assertTrue(Permissions.allows(file(0744), 0, 0, 1));
    }
}
