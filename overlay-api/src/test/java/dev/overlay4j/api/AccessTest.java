package dev.overlay4j.api;

import static dev.overlay4j.api.Access.EXECUTE;
import static dev.overlay4j.api.Access.READ;
import static dev.overlay4j.api.Access.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.FileSystemException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessTest {

    /** A caller with a file system uid/gid and supplementary groups. */
    private record Who(int uid, int gid, Set<Integer> groups) implements Access.Caller {
        @Override
        public boolean inGroup(int id) {
            return id == gid || groups.contains(id);
        }
    }

    private static final Who OWNER = new Who(1000, 5, Set.of());
    private static final Who GROUP_MEMBER = new Who(2000, 100, Set.of());
    private static final Who SUPPLEMENTARY_MEMBER = new Who(2000, 5, Set.of(7, 100));
    private static final Who OTHER = new Who(2000, 200, Set.of(7));
    private static final Who ROOT = new Who(0, 0, Set.of());

    /** An entry owned by 1000:100. */
    private static EntryAttributes entry(EntryType type, int permissions) {
        return new EntryAttributes(type, permissions, 1000, 100, 0, 0, 0, 0, 0, 1, 7, 0, false, null);
    }

    private static EntryAttributes file(int permissions) {
        return entry(EntryType.REGULAR_FILE, permissions);
    }

    /** The errno of the check, or null when it passes. */
    private static Errno check(EntryAttributes attributes, int mask, Access.Caller caller, boolean readOnly) {
        try {
            Access.check(attributes, mask, caller, readOnly, "/f");
            return null;
        } catch (FileSystemException e) {
            assertEquals("/f", e.getFile());
            return Errno.of(e);
        }
    }

    private static Errno check(EntryAttributes attributes, int mask, Access.Caller caller) {
        return check(attributes, mask, caller, false);
    }

    @Test
    void ownerGroupAndOthersUseTheirOwnBits() {
        EntryAttributes f = file(0640);
        assertEquals(null, check(f, READ | WRITE, OWNER));
        assertEquals(Errno.EACCES, check(f, EXECUTE, OWNER));
        assertEquals(null, check(f, READ, GROUP_MEMBER));
        assertEquals(Errno.EACCES, check(f, WRITE, GROUP_MEMBER));
        assertEquals(Errno.EACCES, check(f, READ, OTHER));
    }

    @Test
    void aSupplementaryGroupCountsAsTheGroup() {
        assertEquals(null, check(file(0640), READ, SUPPLEMENTARY_MEMBER));
        assertEquals(Errno.EACCES, check(file(0604), READ, SUPPLEMENTARY_MEMBER), "the group's bits, not the others'");
    }

    @Test
    void onlyTheFirstMatchingClassDecides() {
        assertEquals(Errno.EACCES, check(file(0077), READ, OWNER), "the owner gets no bits of the group or others");
        assertEquals(Errno.EACCES, check(file(0707), READ, GROUP_MEMBER), "a member gets no bits of the others");
    }

    @Test
    void everyBitAskedForMustBeGranted() {
        assertEquals(Errno.EACCES, check(file(0400), READ | WRITE, OWNER));
        assertEquals(null, check(file(0700), READ | WRITE | EXECUTE, OWNER));
    }

    @Test
    void existenceNeedsNoBits() {
        assertEquals(null, check(file(0), 0, OTHER));
        assertEquals(null, check(file(0), 0, OTHER, true));
    }

    @Test
    void rootReadsAndWritesAnythingAndExecutesWhatHasAnExecuteBit() {
        assertEquals(null, check(file(0), READ | WRITE, ROOT));
        assertEquals(Errno.EACCES, check(file(0644), EXECUTE, ROOT));
        assertEquals(Errno.EACCES, check(file(0644), READ | EXECUTE, ROOT));
        assertEquals(null, check(file(0001), EXECUTE, ROOT), "any execute bit, even the others'");
        assertEquals(null, check(entry(EntryType.DIRECTORY, 0), READ | WRITE | EXECUTE, ROOT), "any directory is searched");
    }

    @Test
    void writingAFileDirectoryOrSymlinkOfAReadOnlyOverlayIsEroFsWhateverTheBits() {
        for (EntryType type : new EntryType[] {EntryType.REGULAR_FILE, EntryType.DIRECTORY, EntryType.SYMLINK}) {
            assertEquals(Errno.EROFS, check(entry(type, 0777), WRITE, OWNER, true), type.name());
            assertEquals(Errno.EROFS, check(entry(type, 0), READ | WRITE, OTHER, true), type + ": before EACCES");
            assertEquals(Errno.EROFS, check(entry(type, 0), WRITE, ROOT, true), type + ": root too");
            assertEquals(null, check(entry(type, 0444), READ, OTHER, true), type + ": reading is fine");
        }
    }

    @Test
    void devicesFifosAndSocketsOfAReadOnlyOverlayMayBeWritten() {
        for (EntryType type : new EntryType[] {EntryType.CHARACTER_DEVICE, EntryType.BLOCK_DEVICE, EntryType.FIFO,
                EntryType.SOCKET}) {
            assertEquals(null, check(entry(type, 0666), WRITE, OTHER, true), type.name());
            assertEquals(Errno.EACCES, check(entry(type, 0644), WRITE, OTHER, true), type + ": the bits still decide");
        }
    }

    @Test
    void aMaskWithOtherBitsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Access.check(file(0777), 8, OWNER, false, "/f"));
    }
}
