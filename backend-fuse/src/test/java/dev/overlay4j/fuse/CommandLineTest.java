package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.OverlayConfig;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommandLineTest {

    @Test
    void readsTheFuseOverlayfsForm() {
        CommandLine line = CommandLine.parse(new String[] {"-f", "-o", "lowerdir=/l1:/l2,upperdir=/u,workdir=/w", "/mnt"});
        assertTrue(line.foreground());
        assertEquals("lowerdir=/l1:/l2,upperdir=/u,workdir=/w", line.options());
        assertEquals("/mnt", line.mountpoint());
    }

    @Test
    void readsTheMountFuse3Form() {
        CommandLine line = CommandLine.parse(new String[] {"overlay4j", "/mnt", "-o", "rw,lowerdir=/l,dev,suid"});
        assertFalse(line.foreground());
        assertEquals("rw,lowerdir=/l,dev,suid", line.options());
        assertEquals("/mnt", line.mountpoint());
    }

    @Test
    void joinsRepeatedAndAttachedOptions() {
        CommandLine line = CommandLine.parse(new String[] {"-olowerdir=/l", "-o", "ro", "/mnt"});
        assertEquals("lowerdir=/l,ro", line.options());
    }

    @Test
    void volatileIsAnOverlayOptionNotAFuseOne() {
        CommandLine line = CommandLine.parse(new String[] {"-o", "lowerdir=/l,upperdir=/u,workdir=/w,volatile", "/mnt"});
        OverlayConfig config = OverlayConfig.fromMountOptions(line.options());
        assertTrue(config.volatileMount());
        OverlayConfig durable = OverlayConfig.fromMountOptions("lowerdir=/l,upperdir=/u,workdir=/w");
        assertFalse(durable.volatileMount());
        assertEquals(CommandLine.fuseOptions(durable), CommandLine.fuseOptions(config));
    }

    @Test
    void helpAndVersionNeedNoMountpoint() {
        assertTrue(CommandLine.parse(new String[] {"--help"}).help());
        assertTrue(CommandLine.parse(new String[] {"-V"}).version());
    }

    @Test
    void refusesBadCommandLines() {
        assertEquals("unknown option -x", assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"-x", "/mnt"})).getMessage());
        assertEquals("missing mountpoint (try overlay4j --help)", assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"-o", "lowerdir=/l"})).getMessage());
        assertEquals("option -o needs a value", assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"/mnt", "-o"})).getMessage());
        assertEquals("unexpected argument c", assertThrows(CommandLine.UsageException.class,
                () -> CommandLine.parse(new String[] {"a", "b", "c"})).getMessage());
    }

    private static FuseOptions fuse(String options) {
        return CommandLine.fuseOptions(OverlayConfig.fromMountOptions("lowerdir=/l," + options));
    }

    @Test
    void mapsFrontendOptionsToFuseSettings() {
        FuseOptions options = fuse("allow_other,default_permissions,nosuid,nodev,noexec,noatime,fsname=mine,threads=4");
        assertEquals(4, options.threads());
        assertEquals("mine", options.fsName());
        assertEquals(Set.of(FuseOptions.MountFlag.NOSUID, FuseOptions.MountFlag.NODEV, FuseOptions.MountFlag.NOEXEC,
                FuseOptions.MountFlag.NOATIME), options.flags());
        assertEquals(FuseOptions.DEFAULT_THREADS, fuse("dev,suid,exec").threads());
        assertEquals(Set.of(), fuse("dev,suid,exec").flags());
        assertEquals(Set.of(), fuse("nosuid,suid").flags());
    }

    @Test
    void mapsCacheTimeoutsPassthroughAndAllowOther() {
        FuseOptions defaults = fuse("rw");
        assertEquals(java.time.Duration.ofDays(1), defaults.entryTimeout());
        assertEquals(java.time.Duration.ofDays(1), defaults.negativeTimeout());
        assertFalse(defaults.passthrough());
        assertTrue(fuse("passthrough=on").passthrough());
        assertFalse(defaults.passthroughLowerFiles());
        assertFalse(defaults.allowOther());
        FuseOptions all = fuse("passthrough=all");
        assertTrue(all.passthrough());
        assertTrue(all.passthroughLowerFiles());
        assertFalse(fuse("passthrough=all,passthrough=off").passthroughLowerFiles());

        FuseOptions options = fuse("entry_timeout=0.5,attr_timeout=2,passthrough=off,allow_other");
        assertEquals(java.time.Duration.ofMillis(500), options.entryTimeout());
        assertEquals(java.time.Duration.ofSeconds(2), options.attrTimeout());
        assertEquals(java.time.Duration.ofMillis(500), options.negativeTimeout());
        assertFalse(options.passthrough());
        assertTrue(options.allowOther());
        assertEquals(java.time.Duration.ZERO, fuse("negative_timeout=0,entry_timeout=5").negativeTimeout());
    }

    @Test
    void refusesUnknownOrMalformedFrontendOptions() {
        assertEquals("unknown option bogus",
                assertThrows(CommandLine.UsageException.class, () -> fuse("bogus")).getMessage());
        assertEquals("option threads must be a number, not \"many\"",
                assertThrows(CommandLine.UsageException.class, () -> fuse("threads=many")).getMessage());
        assertEquals("option threads must be between 1 and 64, not 0",
                assertThrows(CommandLine.UsageException.class, () -> fuse("threads=0")).getMessage());
        assertEquals("option nosuid takes no value",
                assertThrows(CommandLine.UsageException.class, () -> fuse("nosuid=1")).getMessage());
        assertEquals("option passthrough must be on, all or off, not \"yes\"",
                assertThrows(CommandLine.UsageException.class, () -> fuse("passthrough=yes")).getMessage());
        assertEquals("option attr_timeout must be a number of seconds, not \"-1\"",
                assertThrows(CommandLine.UsageException.class, () -> fuse("attr_timeout=-1")).getMessage());
        assertEquals("option fsname needs a value",
                assertThrows(CommandLine.UsageException.class, () -> fuse("fsname=")).getMessage());
        assertEquals("option log needs a value",
                assertThrows(CommandLine.UsageException.class, () -> fuse("log=")).getMessage());
    }

    @Test
    void theLogFileIsTakenAsAnAbsolutePath() {
        OverlayConfig config = OverlayConfig.fromMountOptions("lowerdir=/l,log=logs/../server.log");
        assertEquals(java.nio.file.Path.of("server.log").toAbsolutePath(), CommandLine.logFile(config));
        assertEquals(null, CommandLine.logFile(OverlayConfig.fromMountOptions("lowerdir=/l")));
    }

    @Test
    void takesTheArgvContainersStoragePassesItsMountProgram() {
        CommandLine line = CommandLine.parse(new String[] {"-o",
                "lowerdir=l/A:l/B,upperdir=/s/overlay/x/diff,workdir=/s/overlay/x/work,,volatile,"
                        + "uidmapping=:0:100000:65536,gidmapping=:0:100000:65536,"
                        + "context=\"system_u:object_r:container_file_t:s0:c1,c2\"", "/s/overlay/x/merged"});
        OverlayConfig config = OverlayConfig.fromMountOptions(line.options());
        assertEquals(FuseOptions.defaults(), CommandLine.fuseOptions(config));
        assertTrue(config.volatileMount());
        assertEquals(100000, config.uidMapping().orElseThrow().shown(0, 65534));
        assertEquals("/s/overlay/x/merged", line.mountpoint());
    }

    @Test
    void optionsOfMountAndFstabAndFuseOverlayfsTuningAreAcceptedAndIgnored() {
        assertEquals(FuseOptions.defaults(), fuse("defaults,auto,noauto,user,nouser,users,owner,group,nofail,_netdev,"
                + "x-systemd.automount,x-mount.mkdir=0755,comment=x,context=system_u:object_r:t:s0,fscontext=a,"
                + "defcontext=b,rootcontext=c,threaded=1,fast_ino=1,writeback=0,plugins=,,"));
        assertEquals("option threaded must be a number, not \"yes\"",
                assertThrows(CommandLine.UsageException.class, () -> fuse("threaded=yes")).getMessage());
        assertEquals("option context needs a value",
                assertThrows(CommandLine.UsageException.class, () -> fuse("context=")).getMessage());
    }

    @Test
    void optionsThatCannotApplyAreRefusedWithTheReason() {
        assertTrue(assertThrows(CommandLine.UsageException.class, () -> fuse("plugins=/usr/lib/x.so")).getMessage()
                .startsWith("option plugins=/usr/lib/x.so names fuse-overlayfs's C data-source plugins"));
        assertTrue(assertThrows(CommandLine.UsageException.class, () -> fuse("allow_root")).getMessage()
                .startsWith("option allow_root is not supported"));
        assertEquals("unknown option kernel_cache",
                assertThrows(CommandLine.UsageException.class, () -> fuse("kernel_cache")).getMessage());
    }

    @Test
    void timeoutSetsEveryCacheTimeoutAndTheSpecificOnesWin() {
        FuseOptions all = fuse("timeout=3");
        assertEquals(java.time.Duration.ofSeconds(3), all.entryTimeout());
        assertEquals(java.time.Duration.ofSeconds(3), all.attrTimeout());
        assertEquals(java.time.Duration.ofSeconds(3), all.negativeTimeout());
        FuseOptions mixed = fuse("attr_timeout=1,timeout=3");
        assertEquals(java.time.Duration.ofSeconds(3), mixed.entryTimeout());
        assertEquals(java.time.Duration.ofSeconds(1), mixed.attrTimeout());
    }

    @Test
    void noaclTurnsOffTheKernelsAclHandling() {
        assertTrue(fuse("rw").posixAcl());
        assertFalse(fuse("noacl").posixAcl());
    }

    @Test
    void accessTimeRulesAndSyncFlagsBecomeMountFlags() {
        assertEquals(Set.of(FuseOptions.MountFlag.RELATIME), fuse("noatime,relatime").flags());
        assertEquals(Set.of(FuseOptions.MountFlag.NOATIME), fuse("strictatime,noatime").flags());
        assertEquals(Set.of(), fuse("relatime,norelatime").flags());
        assertEquals(Set.of(FuseOptions.MountFlag.SYNCHRONOUS, FuseOptions.MountFlag.DIRSYNC, FuseOptions.MountFlag.LAZYTIME),
                fuse("sync,dirsync,lazytime").flags());
        assertEquals(Set.of(), fuse("sync,async,lazytime,nolazytime").flags());
    }
}
