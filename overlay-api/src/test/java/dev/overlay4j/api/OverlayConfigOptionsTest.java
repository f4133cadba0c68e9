package dev.overlay4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The mount options of fuse-overlayfs 1.10 that the overlay itself reads, and their id mappings. */
class OverlayConfigOptionsTest {

    private static OverlayConfig options(String options) {
        return OverlayConfig.fromMountOptions("lowerdir=/l,upperdir=/u,workdir=/w," + options);
    }

    private static String refused(String options) {
        return assertThrows(IllegalArgumentException.class, () -> options(options)).getMessage();
    }

    @Test
    void readsFuseOverlayfsMappingsAndContainersStorageLeadingColonAlike() {
        IdMapping plain = options("uidmapping=0:100000:65536").uidMapping().orElseThrow();
        assertEquals(List.of(new IdMapping.Range(0, 100000, 65536)), plain.ranges());
        assertEquals(plain, options("uidmapping=:0:100000:65536").uidMapping().orElseThrow());
        // fuse-overlayfs splits with strtok: empty fields anywhere are skipped.
        assertEquals(plain, options("uidmapping=0::100000:65536:").uidMapping().orElseThrow());
        OverlayConfig both = options("uidmapping=:0:1000:1:1:110000:65536,gidmapping=0:1000:1:1:110000:65536");
        assertEquals(List.of(new IdMapping.Range(0, 1000, 1), new IdMapping.Range(1, 110000, 65536)),
                both.uidMapping().orElseThrow().ranges());
        assertEquals(both.uidMapping(), both.gidMapping());
        assertEquals(Optional.empty(), options("ro").uidMapping());
    }

    @Test
    void userxattrTurnsRedirectsOffAsTheKernelDoesAndRefusesThemOn() {
        assertTrue(options("ro").redirectDir());
        assertFalse(options("userxattr").redirectDir(), "the kernel's userxattr means redirect_dir=nofollow");
        assertFalse(options("userxattr,redirect_dir=off").redirectDir());
        assertFalse(options("redirect_dir=nofollow,userxattr").redirectDir());
        assertTrue(refused("userxattr,redirect_dir=on").startsWith("conflicting options: userxattr,redirect_dir=on"));
        assertTrue(refused("redirect_dir=follow,userxattr").startsWith("conflicting options: userxattr,redirect_dir=on"));
        assertFalse(OverlayConfig.builder().lower("/l").userXattr(true).build().redirectDir());
    }

    @Test
    void aMappingShowsStoredIdsInItsRangesAndTheOverflowIdOutside() {
        IdMapping mapping = IdMapping.parse("0:1000:1:1:110000:65536");
        assertEquals(1000, mapping.shown(0, 65534));
        assertEquals(110000, mapping.shown(1, 65534));
        assertEquals(110000 + 65535, mapping.shown(65536, 65534));
        assertEquals(65534, mapping.shown(65537, 65534));
        assertEquals(0, mapping.stored(1000, 65534));
        assertEquals(65536, mapping.stored(110000 + 65535, 65534));
        assertEquals(65534, mapping.stored(999, 65534));
        assertEquals(65534, mapping.stored(0, 65534));
        // Ids are unsigned: the top of the 32-bit range maps like any other.
        IdMapping top = IdMapping.parse("4294967294:7:1");
        assertEquals(7, top.shown(-2, 65534));
        assertEquals(-2, top.stored(7, 65534));
        // Where ranges overlap, the later one wins, as in fuse-overlayfs (which reads them into a stack).
        assertEquals(500, IdMapping.parse("0:100:10:0:500:1").shown(0, 65534));
        assertEquals("0:100:10:0:500:1", IdMapping.parse(":0:100:10:0:500:1").toString());
    }

    @Test
    void badMappingsFailWithOneLineNamingTheOption() {
        assertEquals("option uidmapping: \"0:100000\" is not a list of STORED:SHOWN:COUNT ranges",
                refused("uidmapping=0:100000"));
        assertEquals("option gidmapping: \"x\" in \"0:x:1\" is not an id (0 to 4294967295)", refused("gidmapping=0:x:1"));
        assertEquals("option uidmapping: \"-1\" in \"-1:0:1\" is not an id (0 to 4294967295)", refused("uidmapping=-1:0:1"));
        assertEquals("option uidmapping: an id range needs at least one id, not 0", refused("uidmapping=0:0:0"));
        assertEquals("option uidmapping: the id range 4294967295:0:2 goes past the largest id 4294967295",
                refused("uidmapping=4294967295:0:2"));
        assertEquals("option uidmapping needs a value", refused("uidmapping="));
        assertEquals("option uidmapping: \":\" is not a list of STORED:SHOWN:COUNT ranges", refused("uidmapping=:"));
    }

    @Test
    void squashOptionsChooseTheShownOwnerAndSpecificIdsWinOverRoot() {
        OverlayConfig root = options("squash_to_root");
        assertEquals(OptionalInt.of(0), root.squashUid());
        assertEquals(OptionalInt.of(0), root.squashGid());
        OverlayConfig mixed = options("squash_to_gid=50,squash_to_root");
        assertEquals(OptionalInt.of(0), mixed.squashUid());
        assertEquals(OptionalInt.of(50), mixed.squashGid());
        OverlayConfig uidOnly = options("squash_to_uid=1000");
        assertEquals(OptionalInt.of(1000), uidOnly.squashUid());
        assertEquals(OptionalInt.empty(), uidOnly.squashGid());
        assertEquals(OptionalInt.empty(), options("ro").squashUid());
        assertEquals("option squash_to_uid must be an id from 0 to 4294967294, not \"-1\"", refused("squash_to_uid=-1"));
        assertEquals("option squash_to_gid must be an id from 0 to 4294967294, not \"4294967295\"",
                refused("squash_to_gid=4294967295"));
        assertEquals("option squash_to_root takes no value", refused("squash_to_root=1"));
    }

    @Test
    void fuseOverlayfsSwitchesMapToTheOverlaysOwn() {
        assertTrue(options("static_nlink").staticNlink());
        assertFalse(options("ro").staticNlink());
        assertTrue(options("noxattrs=1").noXattrs());
        assertFalse(options("noxattrs=0").noXattrs());
        assertTrue(options("fsync=0").volatileMount());
        assertFalse(options("fsync=1").volatileMount());
        assertTrue(options("volatile").volatileMount());
        assertFalse(options("xattr_permissions=0").readOnly());
        assertEquals("option fsync must be 0 or 1, not \"yes\"", refused("fsync=yes"));
        assertEquals("option noxattrs must be 0 or 1, not \"2\"", refused("noxattrs=2"));
        assertEquals("option static_nlink takes no value", refused("static_nlink=1"));
        assertEquals("option volatile takes no value", refused("volatile=1"));
        assertTrue(refused("xattr_permissions=2").startsWith("option xattr_permissions=2 is not supported: "));
    }

    @Test
    void theArgvOfContainersStorageReadsWithItsEmptyOptionAndRelativeLowers() {
        OverlayConfig config = OverlayConfig.fromMountOptions(
                "lowerdir=l/A:l/B,upperdir=/s/overlay/x/diff,workdir=/s/overlay/x/work,,volatile,"
                        + "uidmapping=:0:100000:65536,gidmapping=:0:100000:65536,context=\"system_u:object_r:c:s0:c1,c2\"");
        assertEquals(List.of(new OverlayConfig.LayerSource.Location("l/A"), new OverlayConfig.LayerSource.Location("l/B")),
                config.lowers());
        assertTrue(config.volatileMount());
        assertEquals(100000, config.uidMapping().orElseThrow().shown(0, 65534));
        assertEquals(Map.of("context", "\"system_u:object_r:c:s0:c1,c2\""), config.frontendOptions());
    }

    @Test
    void relativeLayerPathsAreTakenAgainstTheGivenWorkingDirectory() {
        OverlayConfig config = OverlayConfig.fromMountOptions(
                "lowerdir=l/A:../l/B:/abs,lowerdir+=jar:file:/t.jar!/,upperdir=diff,workdir=./work", java.nio.file.Path.of("/store/overlay"));
        assertEquals(List.of(new OverlayConfig.LayerSource.Location("/store/overlay/l/A"),
                new OverlayConfig.LayerSource.Location("/store/l/B"), new OverlayConfig.LayerSource.Location("/abs"),
                new OverlayConfig.LayerSource.Location("jar:file:/t.jar!/")), config.lowers());
        assertEquals(new OverlayConfig.LayerSource.Location("/store/overlay/diff"), config.upper());
        assertEquals("/store/overlay/work", config.work());
        assertEquals("the working directory must be absolute, not rel", assertThrows(IllegalArgumentException.class,
                () -> OverlayConfig.fromMountOptions("lowerdir=/l", java.nio.file.Path.of("rel"))).getMessage());
    }

    @Test
    void aUriInLowerdirsColonListIsNamedAndLowerdirPlusIsSuggested() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> OverlayConfig.fromMountOptions("lowerdir=/top:s3://bucket/prefix/:/bottom"));
        assertEquals("option lowerdir: \"s3://bucket/prefix/\" is a URI, which lowerdir's colons split; give it as"
                + " lowerdir+=s3://bucket/prefix/ (one lowerdir+= per layer, top first)", refused.getMessage());
        assertEquals(3, OverlayConfig.fromMountOptions("lowerdir+=/top,lowerdir+=s3://bucket/prefix/,lowerdir+=/bottom")
                .lowers().size());
    }

    @Test
    void aSchemeWordWithoutSlashesBeforeAnAbsolutePathIsTakenForAUriUnlessSuchALayerExists(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path cwd) throws Exception {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> OverlayConfig.fromMountOptions("lowerdir=oci:/images/app?ref=1.0", cwd));
        assertEquals("option lowerdir: there is no layer \"oci\"; if \"oci:/images/app?ref=1.0\" is a URI, which lowerdir's"
                + " colons split, give it as lowerdir+=oci:/images/app?ref=1.0 (one lowerdir+= per layer, top first)",
                refused.getMessage());
        java.nio.file.Files.createDirectory(cwd.resolve("oci"));
        assertEquals(java.util.List.of(new OverlayConfig.LayerSource.Location(cwd.resolve("oci").toString()),
                new OverlayConfig.LayerSource.Location("/images/app?ref=1.0")),
                OverlayConfig.fromMountOptions("lowerdir=oci:/images/app?ref=1.0", cwd).lowers());
    }
}
