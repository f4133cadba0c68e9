package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * lsattr/chattr and the file-attribute ioctls through the FUSE mount, compared (output, exit
 * codes, errnos, and what the upper directory holds) with the kernel's overlayfs over an
 * identical copy of the layers, on tmpfs and on the disk.
 */
class FuseInodeFlagsTest {

    private static final long FS_IOC_GETFLAGS = 0x80086601L;
    private static final long FS_IOC_GETVERSION = 0x80087601L;
    private static final long FS_IOC_FSGETXATTR = 0x801c581fL;
    private static final long FS_IOC_FSSETXATTR = 0x401c5820L;
    private static final int XFLAG_APPEND = 0x10;
    private static final int XFLAG_NOATIME = 0x40;

    @TempDir
    Path tmp;

    private TwinMounts twin;

    @AfterEach
    void unmount() throws IOException {
        if (twin != null) {
            twin.close();
        }
        for (String side : new String[] {"k", "o"}) { // an immutable file on the disk would outlive the test
            Path immutable = tmp.resolve(side).resolve("lower2/lowi");
            if (Files.exists(immutable)) {
                TwinMounts.Shell.run("chattr", "-i", immutable.toString());
            }
        }
    }

    private static void layers(Path root) throws IOException {
        Files.writeString(root.resolve("lower2/lowf"), "lower");
        Files.createDirectories(root.resolve("lower2/lowd"));
        Files.writeString(root.resolve("upper/upf"), "upper");
        Files.createDirectories(root.resolve("upper/upd"));
        Files.writeString(root.resolve("upper/plain"), "plain");
        TwinMounts.Shell.Result r = TwinMounts.Shell.run("chattr", "+d", root.resolve("lower2/lowf").toString());
        assumeTrue(r.ok(), "SKIPPED: chattr cannot set flags here: " + r.output());
        TwinMounts.Shell.run("mkfifo", root.resolve("upper/fifo").toString());
        Files.writeString(root.resolve("lower2/lowi"), "immutable in its layer");
        Files.writeString(root.resolve("lower2/lows"), "sync, noatime in its layer");
        TwinMounts.Shell.run("chattr", "+S", "+A", root.resolve("lower2/lows").toString());
        TwinMounts.Shell.run("chattr", "+i", root.resolve("lower2/lowi").toString());
    }

    /**
     * Flags of the lower file count as the kernel copies them to the overlay's inode: immutable
     * in its layer refuses changes, and a copy-up carries sync and noatime over to the upper file
     * and immutable and append-only into protattr.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void flagsOfALowerFileCountAndCopyUpCarriesThemOver(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseInodeFlagsTest::layers);
        assertSame((mnt, upper, out) -> {
            out.add(sh(mnt, "lsattr lowi lows"));
            out.add(sh(mnt, "echo more >> lowi; touch lowi; rm lowi; ls " + upper));
            out.add(sh(mnt, "echo more >> lows && lsattr " + upper.resolve("lows") + " | cut -c1-22"));
            out.add(sh(mnt, "chattr -i lowi && echo more >> lowi && cat lowi && lsattr lowi"));
            out.add("protattr " + protattr(upper.resolve("lowi")));
        });
    }

    /** Runs a command in {@code dir}: its exit code and output, errors included. */
    private static String sh(Path dir, String command) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            return p.waitFor() + ": " + out.strip();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The overlay mark on an upper entry ({@code trusted.overlay.protattr}), or "none". */
    private static String protattr(Path upperEntry) throws IOException {
        TwinMounts.Shell.Result r = TwinMounts.Shell.run("getfattr", "--absolute-names", "--only-values", "-n",
                "trusted.overlay.protattr", upperEntry.toString());
        return r.ok() ? r.output() : "none";
    }

    private static String ioctl(Path file, long request, byte[] argument) throws Throwable {
        int fd = Libc.open(file, Libc.O_RDONLY | 04000 /* O_NONBLOCK */, 0);
        if (fd < 0) {
            return "open " + fd;
        }
        try {
            int r = Libc.ioctl(fd, request, argument);
            return r < 0 ? "ioctl " + r : "ok " + ByteBuffer.wrap(argument).order(ByteOrder.nativeOrder()).getInt();
        } finally {
            Libc.close(fd);
        }
    }

    private interface Script {
        void run(Path mnt, Path upper, List<String> out) throws Throwable;
    }

    private void assertSame(Script script) throws Throwable {
        List<List<String>> seen = new ArrayList<>();
        for (boolean kernel : new boolean[] {true, false}) {
            List<String> out = new ArrayList<>();
            script.run(kernel ? twin.kernel : twin.overlay4j, twin.upper(kernel), out);
            seen.add(out);
        }
        assertEquals(seen.get(0), seen.get(1), "kernel, then overlay4j");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void chattrCopiesUpAndKeepsImmutableAndAppendOnlyInProtattr(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseInodeFlagsTest::layers);
        assertSame((mnt, upper, out) -> {
            out.add(sh(mnt, "lsattr -d lowf lowd upf upd"));
            out.add(sh(mnt, "chattr +A lowf"));
            out.add(sh(mnt, "lsattr lowf; lsattr " + upper.resolve("lowf") + " | cut -c1-22"));
            out.add(sh(mnt, "chattr +i upf && lsattr upf && lsattr " + upper.resolve("upf") + " | cut -c1-22"));
            out.add("protattr " + protattr(upper.resolve("upf")));
            out.add(sh(mnt, "chattr +a upf && lsattr upf"));
            out.add("protattr " + protattr(upper.resolve("upf")));
            out.add(sh(mnt, "chattr -i -a upf && lsattr upf"));
            out.add("protattr " + protattr(upper.resolve("upf")));
            out.add(sh(mnt, "chattr +a lowd && lsattr -d lowd"));
            out.add("protattr " + protattr(upper.resolve("lowd")));
            out.add(sh(mnt, "chattr +c plain; chattr +s plain; lsattr plain"));
            out.add(sh(mnt, "chattr -a lowd"));
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void fsxattrIoctlsAndOtherCommandsMatchTheKernel(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseInodeFlagsTest::layers);
        assertSame((mnt, upper, out) -> {
            out.add("getflags lowf " + ioctl(mnt.resolve("lowf"), FS_IOC_GETFLAGS, new byte[8]));
            out.add("getflags fifo " + ioctl(mnt.resolve("fifo"), FS_IOC_GETFLAGS, new byte[8]));
            out.add("getversion " + ioctl(mnt.resolve("upf"), FS_IOC_GETVERSION, new byte[8]));
            out.add("fsgetxattr upd " + ioctl(mnt.resolve("upd"), FS_IOC_FSGETXATTR, new byte[28]));
            byte[] fsx = new byte[28];
            ByteBuffer.wrap(fsx).order(ByteOrder.nativeOrder()).putInt(XFLAG_APPEND | XFLAG_NOATIME);
            out.add("fssetxattr lowf " + ioctl(mnt.resolve("lowf"), FS_IOC_FSSETXATTR, fsx));
            out.add("fsgetxattr lowf " + ioctl(mnt.resolve("lowf"), FS_IOC_FSGETXATTR, new byte[28]));
            out.add("protattr " + protattr(upper.resolve("lowf")));
            out.add(sh(mnt, "lsattr lowf"));
            out.add(sh(mnt, "chattr -a lowf && lsattr lowf"));
            out.add(sh(mnt, "su nobody -s /bin/sh -c 'chattr +A upf'"));
        });
    }

    /**
     * The kernel's VFS refuses every change of an immutable inode and every change but
     * appending of an append-only one (EPERM), on the overlay as anywhere; through FUSE the
     * kernel does not know the flags, so the engine refuses the same.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void immutableAndAppendOnlyEntriesRefuseChangesAsOnTheKernel(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseInodeFlagsTest::layers);
        assertSame((mnt, upper, out) -> {
            out.add(sh(mnt, "chattr +i upf lowf && lsattr upf lowf"));
            for (String file : new String[] {"upf", "lowf"}) {
                out.add(sh(mnt, "echo more >> " + file));
                out.add(sh(mnt, "echo new > " + file));
                out.add(sh(mnt, "truncate -s 0 " + file));
                out.add(sh(mnt, "chmod 600 " + file));
                out.add(sh(mnt, "chown 1:1 " + file));
                out.add(sh(mnt, "touch " + file));
                out.add(sh(mnt, "touch -d @1000 " + file));
                out.add(sh(mnt, "setfattr -n user.x -v 1 " + file));
                out.add(sh(mnt, "ln " + file + " " + file + ".link"));
                out.add(sh(mnt, "mv " + file + " " + file + ".moved"));
                out.add(sh(mnt, "mv plain " + file));
                out.add(sh(mnt, "rm " + file));
                out.add(sh(mnt, "cat " + file));
            }
            out.add(sh(mnt, "chattr -i upf lowf && chattr +a upf && echo more >> upf && cat upf"));
            out.add(sh(mnt, "echo new > upf; truncate -s 0 upf; touch upf; touch -d @1000 upf; rm upf; cat upf"));
            out.add(sh(mnt, "chattr +a upd && touch upd/new && mkdir upd/sub && echo x > upd/new && ls upd"));
            out.add(sh(mnt, "rm upd/new; rmdir upd/sub; mv upd/new upd/other; mv plain upd/new; ls upd"));
            out.add(sh(mnt, "chattr -a upd && chattr +i upd lowd && touch upd/new2; mkdir lowd/sub; touch lowd/f; ls upd lowd"));
            out.add(sh(mnt, "rm upd/new; ln plain upd/plain; mv upd lowd/moved"));
            out.add(sh(mnt, "chattr -i -a upd lowd upf && rm upd/new && ls upd"));
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void aReadOnlyOverlayRefusesChattrWithErofs(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseInodeFlagsTest::layers, ",ro", FuseOptions.defaults(),
                OverlayConfig.builder().readOnly(true));
        assertSame((mnt, upper, out) -> {
            out.add(sh(mnt, "chattr +A upf; chattr +A lowf; lsattr upf lowf"));
        });
    }
}
