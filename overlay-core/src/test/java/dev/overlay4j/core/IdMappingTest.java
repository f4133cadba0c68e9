package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.IdMapping;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * uidmapping/gidmapping, squash_to_* and static_nlink through the engine, with fuse-overlayfs's
 * rules: stat shows stored ids mapped, what is created or chowned is stored mapped back, an id
 * in no range is the overflow id, a copy-up keeps the stored ids.
 */
class IdMappingTest {

    /** Stored 0..65535 show as 100000..165535, as containers/storage passes for --uidmap 0:100000:65536. */
    private static final IdMapping SHIFT = IdMapping.parse(":0:100000:65536");
    private static final int OVERFLOW = ShownAttributes.overflowId("overflowuid");

    @TempDir
    Path tmp;

    @BeforeEach
    void needsRoot() {
        assumeTrue("root".equals(System.getProperty("user.name")), "SKIPPED: storing other owners needs root (chown)");
    }

    private LayerTree layers() throws IOException {
        return new LayerTree(tmp, 1);
    }

    private static Overlay shifted(LayerTree t) throws IOException {
        return t.open(b -> b.uidMapping(SHIFT).gidMapping(SHIFT));
    }

    private static void chown(Path file, int uid, int gid) throws IOException {
        LayerTree.run("chown", "-h", uid + ":" + gid, file.toString());
    }

    private static int storedUid(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static int storedGid(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void theOverflowIdIsTheKernels() throws Exception {
        for (String name : new String[] {"overflowuid", "overflowgid"}) {
            Process cat = new ProcessBuilder("cat", "/proc/sys/kernel/" + name).start();
            int kernels = Integer.parseInt(new String(cat.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip());
            assertEquals(kernels, ShownAttributes.overflowId(name), name);
        }
    }

    @Test
    void statShowsStoredIdsMappedAndIdsOutsideEveryRangeAsTheOverflowId() throws Exception {
        LayerTree t = layers().file(1, "root-owned", "r").file(1, "user-owned", "u").file(1, "outside", "o");
        chown(t.layer(1).resolve("root-owned"), 0, 0);
        chown(t.layer(1).resolve("user-owned"), 1000, 1001);
        chown(t.layer(1).resolve("outside"), 70000, 65536);
        try (Overlay o = shifted(t)) {
            EntryAttributes root = o.stat(p("root-owned"));
            assertEquals(100000, root.uid());
            assertEquals(100000, root.gid());
            assertEquals(101000, o.stat(p("user-owned")).uid());
            assertEquals(101001, o.stat(p("user-owned")).gid());
            assertEquals(OVERFLOW, o.stat(p("outside")).uid());
            assertEquals(OVERFLOW, o.stat(p("outside")).gid());
            try (OverlayFile f = o.open(p("user-owned"), Set.of(StandardOpenOption.READ), null)) {
                assertEquals(101000, f.stat().uid(), "fstat shows what stat shows");
            }
        }
    }

    @Test
    void newEntriesStoreTheCallersIdsMappedBack() throws Exception {
        LayerTree t = layers().dir(1, "d");
        try (Overlay o = shifted(t)) {
            NewEntryAttributes caller = new NewEntryAttributes(0644, 100005, 100007);
            o.open(p("d/file"), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), caller).close();
            o.createDirectory(p("d/dir"), new NewEntryAttributes(0755, 100005, 100007));
            o.createSymlink(p("d/link"), "file", caller);
            o.createSpecial(p("d/fifo"), dev.overlay4j.api.EntryType.FIFO, caller, 0);
            for (String name : new String[] {"file", "dir", "link", "fifo"}) {
                Path stored = t.upper().resolve("d").resolve(name);
                assertEquals(5, storedUid(stored), name);
                assertEquals(7, storedGid(stored), name);
                assertEquals(100005, o.stat(p("d/" + name)).uid(), name);
                assertEquals(100007, o.stat(p("d/" + name)).gid(), name);
            }
            // A caller outside the mapping (the host's root here) stores the overflow id, as fuse-overlayfs does.
            o.open(p("d/by-root"), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    new NewEntryAttributes(0644, 0, 0)).close();
            assertEquals(OVERFLOW, storedUid(t.upper().resolve("d/by-root")));
            assertEquals(OVERFLOW, storedGid(t.upper().resolve("d/by-root")));
        }
    }

    @Test
    void chownStoresTheIdsMappedBackAndMinusOneKeepsAnId() throws Exception {
        LayerTree t = layers().file(1, "f", "f").file(1, "g", "g");
        chown(t.layer(1).resolve("f"), 3, 4);
        try (Overlay o = shifted(t)) {
            o.setOwner(p("f"), 100010, -1);
            assertEquals(10, storedUid(t.upper().resolve("f")));
            assertEquals(4, storedGid(t.upper().resolve("f")), "gid -1 keeps the stored gid");
            assertEquals(100010, o.stat(p("f")).uid());
            o.setOwner(p("g"), 5, 5);
            assertEquals(OVERFLOW, storedUid(t.upper().resolve("g")), "an id outside the mapping stores the overflow id");
            assertEquals(OVERFLOW, storedGid(t.upper().resolve("g")));
        }
    }

    @Test
    void copyUpKeepsTheStoredIdsEvenThoseOutsideTheMapping() throws Exception {
        LayerTree t = layers().file(1, "d/inside", "i").file(1, "d/outside", "o");
        chown(t.layer(1).resolve("d"), 20, 21);
        chown(t.layer(1).resolve("d/inside"), 30, 31);
        chown(t.layer(1).resolve("d/outside"), 70000, 70001);
        try (Overlay o = shifted(t)) {
            LayerTree.write(o, "d/inside", "I");
            LayerTree.write(o, "d/outside", "O");
            assertEquals(20, storedUid(t.upper().resolve("d")));
            assertEquals(21, storedGid(t.upper().resolve("d")));
            assertEquals(30, storedUid(t.upper().resolve("d/inside")));
            assertEquals(70000, storedUid(t.upper().resolve("d/outside")));
            assertEquals(70001, storedGid(t.upper().resolve("d/outside")));
            assertEquals(OVERFLOW, o.stat(p("d/outside")).uid());
        }
    }

    /** A POSIX ACL xattr value: user entry {@code uid} rw-, group entry {@code gid} r--, and the required ones. */
    private static byte[] acl(int uid, int gid) {
        ByteBuffer b = ByteBuffer.allocate(4 + 6 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
        entry(b, 0x01, 6, -1);
        entry(b, 0x02, 6, uid);
        entry(b, 0x04, 4, -1);
        entry(b, 0x08, 4, gid);
        entry(b, 0x10, 6, -1);
        entry(b, 0x20, 4, -1);
        return b.array();
    }

    private static void entry(ByteBuffer b, int tag, int perm, int id) {
        b.putShort((short) tag).putShort((short) perm).putInt(id);
    }

    @Test
    void aclEntriesAreMappedBothWays() throws Exception {
        LayerTree t = layers().file(1, "lower", "l").file(1, "set", "s").dir(1, "dir");
        LayerTree.run("setfacl", "-m", "u:5:rw-,g:6:r--", t.layer(1).resolve("lower").toString());
        try (Overlay o = shifted(t)) {
            assertArrayEquals(acl(100005, 100006), o.readXattr(p("lower"), ShownAttributes.ACL_ACCESS));
            o.setXattr(p("set"), ShownAttributes.ACL_ACCESS, acl(100020, 100021), XattrMode.CREATE_OR_REPLACE);
            assertEquals("user:20:rw-", aclLine(t.upper().resolve("set"), "user:2"));
            assertEquals("group:21:r--", aclLine(t.upper().resolve("set"), "group:2"));
            o.setXattr(p("dir"), ShownAttributes.ACL_DEFAULT, acl(100030, 7), XattrMode.CREATE_OR_REPLACE);
            assertEquals("default:user:30:rw-", aclLine(t.upper().resolve("dir"), "default:user:3"));
            assertEquals("default:group:" + OVERFLOW + ":r--", aclLine(t.upper().resolve("dir"), "default:group:" + OVERFLOW),
                    "a group outside the mapping is stored as the overflow id");
            assertArrayEquals(acl(100030, SHIFT.shown(OVERFLOW, -1)), o.readXattr(p("dir"), ShownAttributes.ACL_DEFAULT),
                    "and then shown as what that stored id maps to");
        }
    }

    private static String aclLine(Path file, String prefix) throws IOException {
        Process p = new ProcessBuilder("getfacl", "-n", "--absolute-names", file.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("none in " + out);
    }

    @Test
    void squashShowsOneOwnerStoresWhatChownGivesAndCopyUpKeepsTheStoredIds() throws Exception {
        LayerTree t = layers().file(1, "f", "f").file(1, "g", "g");
        chown(t.layer(1).resolve("f"), 1000, 1000);
        chown(t.layer(1).resolve("g"), 1000, 1000);
        try (Overlay o = t.open(b -> b.squashUid(0).squashGid(0))) {
            assertEquals(0, o.stat(p("f")).uid());
            assertEquals(0, o.stat(p("f")).gid());
            LayerTree.write(o, "g", "G");
            assertEquals(1000, storedUid(t.upper().resolve("g")));
            o.setOwner(p("f"), 42, 43);
            assertEquals(42, storedUid(t.upper().resolve("f")));
            assertEquals(0, o.stat(p("f")).uid(), "still shown as the squash id");
        }
        try (Overlay o = t.open(b -> b.uidMapping(SHIFT).squashGid(9))) {
            assertEquals(101000, o.stat(p("g")).uid(), "no uid squash: the mapping shows");
            assertEquals(9, o.stat(p("g")).gid());
        }
    }

    @Test
    void staticNlinkShowsOneLinkForEveryDirectory() throws Exception {
        LayerTree t = layers().dir(1, "d/a").dir(1, "d/b").file(1, "d/f", "f");
        try (Overlay o = t.open(b -> b.staticNlink(true))) {
            assertEquals(1, o.stat(p("d")).nlink());
            assertEquals(1, o.stat(p("d/f")).nlink(), "files keep their link count");
        }
        try (Overlay o = t.open()) {
            assertEquals(4, o.stat(p("d")).nlink());
        }
    }

    @Test
    void noxattrsRefusesEveryXattrCall() throws Exception {
        LayerTree t = layers().file(1, "f", "f");
        try (Overlay o = t.open(b -> b.noXattrs(true))) {
            LayerTree.assertErrno(Errno.EOPNOTSUPP, () -> o.listXattrs(p("f")));
            LayerTree.assertErrno(Errno.EOPNOTSUPP, () -> o.readXattr(p("f"), "user.x"));
            LayerTree.assertErrno(Errno.EOPNOTSUPP, () -> o.setXattr(p("f"), "user.x", new byte[1], XattrMode.CREATE_OR_REPLACE));
            LayerTree.assertErrno(Errno.EOPNOTSUPP, () -> o.removeXattr(p("f"), "user.x"));
        }
    }
}
