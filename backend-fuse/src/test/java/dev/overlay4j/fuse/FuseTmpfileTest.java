package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * open(2) with O_TMPFILE and linkat(2) of the unnamed file through the FUSE mount, compared step
 * for step (results, errnos, what the upper and work directories hold) with the kernel's
 * overlayfs over an identical copy of the layers, on tmpfs and on the disk.
 */
class FuseTmpfileTest {

    private static final byte[] DATA = "unnamed bytes".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private TwinMounts twin;

    @AfterEach
    void unmount() throws IOException {
        if (twin != null) {
            twin.close();
        }
    }

    private static void layers(Path root) throws IOException {
        Files.createDirectories(root.resolve("upper/updir"));
        Files.createDirectories(root.resolve("lower2/lowdir/sub"));
        Files.writeString(root.resolve("lower2/lowdir/gone"), "lower file, to be whited out");
        Files.writeString(root.resolve("upper/updir/taken"), "taken");
        Files.writeString(root.resolve("upper/file"), "a file");
    }

    /** What one side answers to a script of calls, as text lines. */
    private interface Script {
        void run(Path mnt, List<String> out) throws Throwable;
    }

    private List<List<String>> onBoth(Script script) throws Throwable {
        List<List<String>> seen = new ArrayList<>();
        for (Path mnt : new Path[] {twin.kernel, twin.overlay4j}) {
            List<String> out = new ArrayList<>();
            script.run(mnt, out);
            seen.add(out);
        }
        return seen;
    }

    private void assertSame(Script script) throws Throwable {
        List<List<String>> seen = onBoth(script);
        assertEquals(seen.get(0), seen.get(1), "kernel, then overlay4j");
    }

    /** Opens an unnamed file in {@code dir}, writes {@link #DATA}, and reports fstat and a read back. */
    private static int tmpfile(Path dir, int access, List<String> out) throws Throwable {
        int fd = Libc.open(dir, Libc.O_TMPFILE | access, 0640);
        out.add("open " + (fd < 0 ? fd : "ok"));
        if (fd >= 0) {
            long[] st = Libc.fstat(fd);
            out.add("fstat mode=" + Long.toOctalString(st[3]) + " nlink=" + st[0] + " size=" + st[1]);
            out.add("write " + Libc.pwrite(fd, DATA, 0));
            int[] errno = new int[1];
            byte[] back = Libc.pread(fd, 64, 0, errno);
            out.add("read " + (back == null ? "-" + errno[0] : new String(back, StandardCharsets.UTF_8)));
        }
        return fd;
    }

    /** Every name under a directory, except overlay4j's own bookkeeping in its work dir. */
    private static TreeSet<String> tree(Path dir) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> all = Files.walk(dir)) {
            all.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString())
                    .filter(name -> !name.startsWith("overlay4j-index")).forEach(names::add);
        }
        return names;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void anUnnamedFileIsReadableAndWritableAndLeavesNothingBehindWhenClosed(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseTmpfileTest::layers);
        TreeSet<String> upperBefore = tree(twin.upper(false));
        TreeSet<String> workBefore = tree(twin.work(false));
        assertSame((mnt, out) -> {
            for (int access : new int[] {Libc.O_RDWR, Libc.O_WRONLY, Libc.O_RDONLY, Libc.O_RDWR | Libc.O_EXCL}) {
                int fd = tmpfile(mnt, access, out);
                if (fd >= 0) {
                    Libc.close(fd);
                }
            }
            out.add("not a directory " + Libc.open(mnt.resolve("file"), Libc.O_TMPFILE | Libc.O_RDWR, 0600));
            out.add("missing " + Libc.open(mnt.resolve("missing"), Libc.O_TMPFILE | Libc.O_RDWR, 0600));
        });
        assertEquals(upperBefore, tree(twin.upper(false)), "nothing left in the upper directory");
        assertEquals(workBefore, tree(twin.work(false)), "nothing left in the work directory");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void linkatNamesAnUnnamedFileOnceOrTwiceButNotOverAnExistingName(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseTmpfileTest::layers);
        assertSame((mnt, out) -> {
            int fd = tmpfile(mnt.resolve("updir"), Libc.O_RDWR, out);
            out.add("link taken " + Libc.linkat(fd, "", Libc.AT_FDCWD, mnt.resolve("updir/taken"), Libc.AT_EMPTY_PATH));
            out.add("link " + Libc.linkat(fd, "", Libc.AT_FDCWD, mnt.resolve("updir/named"), Libc.AT_EMPTY_PATH));
            out.add("fstat nlink=" + Libc.fstat(fd)[0]);
            out.add("second link " + Libc.linkat(Libc.AT_FDCWD, "/proc/self/fd/" + fd, Libc.AT_FDCWD,
                    mnt.resolve("updir/again"), Libc.AT_SYMLINK_FOLLOW));
            Libc.pwrite(fd, "!".getBytes(StandardCharsets.UTF_8), DATA.length);
            Libc.close(fd);
            out.add("named " + Files.readString(mnt.resolve("updir/named")) + " again "
                    + Files.readString(mnt.resolve("updir/again")));
            out.add("nlink " + Files.getAttribute(mnt.resolve("updir/named"), "unix:nlink", LinkOption.NOFOLLOW_LINKS));
            out.add("same inode " + Files.getAttribute(mnt.resolve("updir/named"), "unix:ino", LinkOption.NOFOLLOW_LINKS)
                    .equals(Files.getAttribute(mnt.resolve("updir/again"), "unix:ino", LinkOption.NOFOLLOW_LINKS)));
            fd = tmpfile(mnt, Libc.O_RDWR | Libc.O_EXCL, out);
            out.add("link excl " + Libc.linkat(fd, "", Libc.AT_FDCWD, mnt.resolve("excl"), Libc.AT_EMPTY_PATH));
            Libc.close(fd);
        });
        for (boolean kernel : new boolean[] {true, false}) {
            assertEquals("unnamed bytes!", Files.readString(twin.upper(kernel).resolve("updir/named")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void anUnnamedFileInALowerDirectoryCopiesItUpAndLinksOverAWhiteout(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseTmpfileTest::layers);
        assertSame((mnt, out) -> {
            Files.delete(mnt.resolve("lowdir/gone"));
            int fd = tmpfile(mnt.resolve("lowdir/sub"), Libc.O_RDWR, out);
            out.add("upper has lowdir/sub " + Files.isDirectory(mnt.getParent().resolve("upper/lowdir/sub")));
            out.add("link over whiteout " + Libc.linkat(fd, "", Libc.AT_FDCWD, mnt.resolve("lowdir/gone"),
                    Libc.AT_EMPTY_PATH));
            Libc.close(fd);
            out.add("gone now " + Files.readString(mnt.resolve("lowdir/gone")));
            try (Stream<Path> names = Files.list(mnt.resolve("lowdir"))) {
                out.add("lowdir " + new TreeSet<>(names.map(p -> p.getFileName().toString()).toList()));
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void aReadOnlyOverlayRefusesUnnamedFilesWithErofs(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, FuseTmpfileTest::layers, ",ro", FuseOptions.defaults(),
                OverlayConfig.builder().readOnly(true));
        assertSame((mnt, out) -> {
            out.add("root " + Libc.open(mnt, Libc.O_TMPFILE | Libc.O_RDWR, 0600));
            out.add("missing " + Libc.open(mnt.resolve("missing"), Libc.O_TMPFILE | Libc.O_RDWR, 0600));
        });
        assertTrue(twin.overlay4j.toFile().isDirectory());
    }
}
