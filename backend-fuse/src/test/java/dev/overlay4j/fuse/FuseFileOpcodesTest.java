package dev.overlay4j.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * fstat of an open file whose name is gone, fallocate and SEEK_DATA/SEEK_HOLE through the FUSE
 * mount, each compared call for call (results and errnos) with the kernel's overlayfs over an
 * identical copy of the layers, on tmpfs and on the disk (ext4 here).
 */
class FuseFileOpcodesTest {

    private static final int KEEP_SIZE = 0x01;
    private static final int PUNCH_HOLE = 0x02;
    private static final int COLLAPSE_RANGE = 0x08;
    private static final int ZERO_RANGE = 0x10;
    private static final int INSERT_RANGE = 0x20;
    private static final int UNSHARE_RANGE = 0x40;

    @TempDir
    Path tmp;

    private TwinMounts twin;

    @AfterEach
    void unmount() throws IOException {
        if (twin != null) {
            twin.close();
        }
    }

    /** A file with data at 0..4 KiB and 1 MiB..1 MiB+4 KiB, holes elsewhere, 2 MiB + 100 bytes long. */
    private static void sparse(Path file) throws IOException {
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            byte[] block = new byte[4096];
            Arrays.fill(block, (byte) 'd');
            channel.write(java.nio.ByteBuffer.wrap(block), 0);
            channel.write(java.nio.ByteBuffer.wrap(block), 1 << 20);
        }
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength((2 << 20) + 100);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void fstatOfAnOpenFileWhoseNameIsGoneMatchesTheKernel(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, root -> {
            Files.writeString(root.resolve("upper/up"), "upper");
            Files.writeString(root.resolve("lower2/low"), "lower");
            Files.writeString(root.resolve("lower2/hl1"), "linked");
            Files.createLink(root.resolve("lower2/hl2"), root.resolve("lower2/hl1"));
            Files.writeString(root.resolve("upper/uh1"), "upper linked");
            Files.createLink(root.resolve("upper/uh2"), root.resolve("upper/uh1"));
        });
        List<List<Long>> seen = new ArrayList<>();
        for (Path mnt : new Path[] {twin.kernel, twin.overlay4j}) {
            List<Long> links = new ArrayList<>();
            links.add(nlinkAfterUnlink(mnt, "up", Libc.O_RDONLY, "up"));
            links.add(nlinkAfterUnlink(mnt, "low", Libc.O_RDONLY, "low"));
            links.add(nlinkAfterUnlink(mnt, "uh1", Libc.O_RDWR, "uh1"));
            links.add(nlinkAfterUnlink(mnt, "hl1", Libc.O_RDWR, "hl1", "hl2"));
            seen.add(links);
        }
        assertEquals(List.of(0L, 1L, 1L, 0L), seen.get(0), "the kernel's answers, as measured when this test was written");
        assertEquals(seen.get(0), seen.get(1), "kernel, then overlay4j");
    }

    /** Opens {@code path}, removes the names given, and returns fstat's st_nlink. */
    private static long nlinkAfterUnlink(Path mnt, String path, int flags, String... names) throws Throwable {
        int fd = Libc.open(mnt.resolve(path), flags, 0);
        assertTrue(fd >= 0, "open " + path + ": " + fd);
        try {
            for (String name : names) {
                Files.delete(mnt.resolve(name));
            }
            long[] st = Libc.fstat(fd);
            assertTrue(st.length > 1, "fstat: " + st[0]);
            return st[0];
        } finally {
            Libc.close(fd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void seekDataAndHoleMatchTheKernelOnLowerAndUpperFiles(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, root -> {
            sparse(root.resolve("lower2/lowsparse"));
            sparse(root.resolve("upper/upsparse"));
            Files.createFile(root.resolve("upper/empty"));
        });
        long[] offsets = {0, 1, 4095, 4096, 65536, (1 << 20) - 1, 1 << 20, (1 << 20) + 4096, 2 << 20,
                (2 << 20) + 99, (2 << 20) + 100, 3 << 20, -1};
        for (String file : new String[] {"lowsparse", "upsparse", "empty"}) {
            List<List<Long>> seen = new ArrayList<>();
            for (Path path : twin.both(file)) {
                int fd = Libc.open(path, Libc.O_RDONLY, 0);
                List<Long> answers = new ArrayList<>();
                for (long offset : offsets) {
                    answers.add(Libc.lseek(fd, offset, Libc.SEEK_DATA));
                    answers.add(Libc.lseek(fd, offset, Libc.SEEK_HOLE));
                }
                Libc.close(fd);
                seen.add(answers);
            }
            assertEquals(seen.get(0), seen.get(1), file + ": kernel, then overlay4j (negative: -errno)");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void fallocateModesMatchTheKernelOnUpperAndCopiedUpFiles(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, root -> {
            Files.write(root.resolve("upper/up"), new byte[65536]);
            Files.write(root.resolve("lower2/low"), new byte[65536]);
        });
        int[][] calls = {
            {0, 0, 65536 * 2}, {KEEP_SIZE, 65536 * 2, 65536}, {PUNCH_HOLE | KEEP_SIZE, 4096, 8192},
            {PUNCH_HOLE, 4096, 8192}, {ZERO_RANGE, 0, 4096}, {ZERO_RANGE | KEEP_SIZE, 60000, 200000},
            {0, -1, 4096}, {0, 0, 0}, {0x100, 0, 4096},
        };
        for (String file : new String[] {"up", "low"}) {
            List<List<Long>> seen = new ArrayList<>();
            for (Path path : twin.both(file)) {
                List<Long> answers = new ArrayList<>();
                int fd = Libc.open(path, Libc.O_RDWR, 0);
                for (int[] call : calls) {
                    answers.add((long) Libc.fallocate(fd, call[0], call[1], call[2]));
                    answers.add(Libc.fstat(fd)[1]);
                }
                Libc.close(fd);
                fd = Libc.open(path, Libc.O_RDONLY, 0);
                answers.add((long) Libc.fallocate(fd, 0, 0, 4096)); // EBADF: not open for writing
                Libc.close(fd);
                seen.add(answers);
            }
            assertEquals(seen.get(0), seen.get(1), file + ": kernel, then overlay4j (result, size after each call)");
        }
    }

    /**
     * COLLAPSE_RANGE, INSERT_RANGE and UNSHARE_RANGE: the kernel's FUSE module refuses them
     * with EOPNOTSUPP before they reach any FUSE server, where the kernel's overlayfs passes
     * them on to the upper file system (ext4 does them, tmpfs answers EOPNOTSUPP).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(TwinMounts.Store.class)
    void modesTheFuseModuleDoesNotPassOnFailWithEopnotsupp(TwinMounts.Store store) throws Throwable {
        twin = TwinMounts.mount(tmp, store, root -> Files.write(root.resolve("upper/up"), new byte[65536]));
        int fd = Libc.open(twin.overlay4j.resolve("up"), Libc.O_RDWR, 0);
        try {
            for (int mode : new int[] {COLLAPSE_RANGE, INSERT_RANGE, UNSHARE_RANGE}) {
                assertEquals(-95, Libc.fallocate(fd, mode, 4096, 4096), "mode " + mode);
            }
        } finally {
            Libc.close(fd);
        }
    }
}
