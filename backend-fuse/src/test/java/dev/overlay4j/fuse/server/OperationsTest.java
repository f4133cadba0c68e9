package dev.overlay4j.fuse.server;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayFile;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import dev.overlay4j.fuse.protocol.Flags;
import dev.overlay4j.fuse.protocol.Opcode;
import dev.overlay4j.fuse.protocol.Reply;
import dev.overlay4j.fuse.protocol.Request;
import dev.overlay4j.fuse.protocol.Structs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How requests become overlay calls and how the answers look, byte for byte, without a kernel. */
class OperationsTest {

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment in = arena.allocate(1 << 16, 8);
    private final MemorySegment out = arena.allocate(1 << 16, 8);
    private final Overlay overlay = mock(Overlay.class);
    private final Operations operations = new Operations(overlay, 1_000_000_000L, 1_000_000_000L);

    @AfterEach
    void free() {
        arena.close();
    }

    /** Builds a request's argument bytes, little-endian as the kernel writes them. */
    private static final class Args {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Args u32(int value) {
            bytes.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
            return this;
        }

        Args u64(long value) {
            bytes.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
            return this;
        }

        Args string(String value) {
            bytes.writeBytes(value.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            return this;
        }
    }

    private static Args args() {
        return new Args();
    }

    /** Sends one request for {@code nodeid} as uid 1000/gid 100; returns the reply length or NO_REPLY. */
    private int send(int opcode, long nodeid, Args args) {
        return send(operations, opcode, nodeid, args);
    }

    private int send(Operations to, int opcode, long nodeid, Args args) {
        byte[] body = args.bytes.toByteArray();
        int length = (int) Structs.InHeader.SIZE + body.length;
        in.set(JAVA_INT_UNALIGNED, Structs.InHeader.LEN, length);
        in.set(JAVA_INT_UNALIGNED, Structs.InHeader.OPCODE, opcode);
        in.set(JAVA_LONG_UNALIGNED, Structs.InHeader.UNIQUE, 99);
        in.set(JAVA_LONG_UNALIGNED, Structs.InHeader.NODEID, nodeid);
        in.set(JAVA_INT_UNALIGNED, Structs.InHeader.UID, 1000);
        in.set(JAVA_INT_UNALIGNED, Structs.InHeader.GID, 100);
        MemorySegment.copy(body, 0, in, JAVA_BYTE, Structs.InHeader.SIZE, body.length);
        Request request = new Request(in);
        request.reset(length);
        return to.handle(request, new Reply(out));
    }

    private int error() {
        return out.get(JAVA_INT_UNALIGNED, Structs.OutHeader.ERROR);
    }

    private long bodyU64(long offset) {
        return out.get(JAVA_LONG_UNALIGNED, Structs.OutHeader.SIZE + offset);
    }

    private int bodyU32(long offset) {
        return out.get(JAVA_INT_UNALIGNED, Structs.OutHeader.SIZE + offset);
    }

    private static EntryAttributes attributes(EntryType type, int permissions, long inode) {
        return new EntryAttributes(type, permissions, 0, 0, 3, 0, 0, 0, 0, 1, inode, 0, false, null);
    }

    private long lookup(long parent, String name, EntryType type, long inode) throws IOException {
        EntryPath parentPath = operations.nodes().path(parent);
        when(overlay.stat(parentPath.resolve(name))).thenReturn(attributes(type, 0755, inode));
        assertEquals(16 + 128, send(Opcode.LOOKUP, parent, args().string(name)));
        assertEquals(0, error());
        return bodyU64(Structs.EntryOut.NODEID);
    }

    @Test
    void lookupAnswersWithANodeAndTheOverlayInode() throws IOException {
        long node = lookup(1, "dir", EntryType.DIRECTORY, 777);
        assertEquals(777, bodyU64(Structs.EntryOut.ATTR + Structs.Attr.INO));
        assertEquals(040755, bodyU32(Structs.EntryOut.ATTR + Structs.Attr.MODE));
        assertEquals(1, bodyU64(Structs.EntryOut.ENTRY_VALID));
        assertEquals(EntryPath.of("dir"), operations.nodes().path(node));
    }

    @Test
    void errorsGoBackAsNegativeErrno() throws IOException {
        when(overlay.stat(EntryPath.of("gone"))).thenThrow(Errno.ENOENT.exception("/gone"));
        assertEquals(16, send(Opcode.LOOKUP, 1, args().string("gone")));
        assertEquals(-2, error());
        assertEquals(99, out.get(JAVA_LONG_UNALIGNED, Structs.OutHeader.UNIQUE));
    }

    @Test
    void aRequestThatFailsWithAnErrorIsStillAnsweredWithEio() throws IOException {
        // A reader that let an Error escape would leave its caller waiting forever.
        when(overlay.stat(EntryPath.of("broken"))).thenThrow(new NoClassDefFoundError("dev/overlay4j/Gone"));
        assertEquals(16, send(Opcode.LOOKUP, 1, args().string("broken")));
        assertEquals(-Errno.EIO.code(), error());
    }

    @Test
    void openAsksTheOverlayForWhatTheFlagsSayAndKernelOpenedDirectoriesNeedNoOpendir() throws IOException {
        Operations withInit = new Operations(overlay, new CachePolicy(1_000_000_000L, 1_000_000_000L, 0), -1,
                false, false);
        send(withInit, Opcode.INIT, 0, args().u32(7).u32(45).u32(131072)
                .u32((int) (Flags.NO_OPEN_SUPPORT | Flags.NO_OPENDIR_SUPPORT)).u32(0));
        assertEquals(true, withInit.kernelOpensDirectories());
        assertEquals(16, send(withInit, Opcode.OPENDIR, 1, args().u32(0).u32(0)));
        assertEquals(-Errno.ENOSYS.code(), error());

        when(overlay.stat(EntryPath.of("f"))).thenReturn(attributes(EntryType.REGULAR_FILE, 0644, 5));
        send(withInit, Opcode.LOOKUP, 1, args().string("f"));
        long node = bodyU64(Structs.EntryOut.NODEID);
        OverlayFile file = mock(OverlayFile.class);
        when(file.stat()).thenReturn(attributes(EntryType.REGULAR_FILE, 0644, 5));
        when(file.isWritable()).thenReturn(true);
        when(overlay.open(eq(EntryPath.of("f")), any(), any())).thenReturn(file);
        // O_WRONLY | O_APPEND | O_TRUNC: opened (so copied up) for appending, truncated.
        assertEquals(16 + 16, send(withInit, Opcode.OPEN, node, args().u32(01 | 02000 | 01000).u32(0)));
        assertEquals(0, error());
        verify(overlay).open(eq(EntryPath.of("f")),
                eq(java.util.EnumSet.of(java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND,
                        java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)), any());
        assertEquals(1, withInit.openHandles());
        long fh = bodyU64(Structs.OpenOut.FH);
        assertEquals(16, send(withInit, Opcode.RELEASE, node, args().u64(fh).u32(0).u32(0).u64(0)));
        assertEquals(0, withInit.openHandles());
        verify(file).close();
    }

    @Test
    void fsyncdirSyncsThatDirectoryAloneAndSyncfsTheWholeUpperLayer() throws IOException {
        long dir = lookup(1, "dir", EntryType.DIRECTORY, 7);
        assertEquals(16, send(Opcode.FSYNCDIR, dir, args().u64(0).u32(Flags.FSYNC_FDATASYNC).u32(0)));
        assertEquals(0, error());
        verify(overlay).syncDirectory(EntryPath.of("dir"), false);
        assertEquals(16, send(Opcode.FSYNCDIR, 1, args().u64(0).u32(0).u32(0)));
        verify(overlay).syncDirectory(EntryPath.ROOT, true);
        verify(overlay, org.mockito.Mockito.never()).sync();
        assertEquals(16, send(Opcode.SYNCFS, 1, args().u64(0)));
        verify(overlay).sync();
    }

    @Test
    void listxattrShowsTrustedNamesToRootAloneAsTheKernelDoes() throws IOException {
        when(overlay.listXattrs(EntryPath.ROOT)).thenReturn(List.of("user.a", "trusted.b", "security.c"));
        send(Opcode.LISTXATTR, 1, args().u32(4096).u32(0)); // sent as uid 1000
        assertEquals(0, error());
        assertEquals("user.a\0security.c\0", new String(out.asSlice(Structs.OutHeader.SIZE,
                out.get(JAVA_INT_UNALIGNED, Structs.OutHeader.LEN) - Structs.OutHeader.SIZE).toArray(JAVA_BYTE),
                StandardCharsets.UTF_8));
    }

    @Test
    void namesLongerThanNameMaxAreRefused() {
        assertEquals(16, send(Opcode.LOOKUP, 1, args().string("n".repeat(256))));
        assertEquals(-Errno.ENAMETOOLONG.code(), error());
    }

    @Test
    void unknownOpcodesAreNotImplemented() {
        assertEquals(16, send(Opcode.GETLK, 1, args().u64(0)));
        assertEquals(-Errno.ENOSYS.code(), error());
    }

    /** fuse_ioctl_in: fh, flags, cmd, arg, in_size, out_size, then the input bytes. */
    private static Args ioctl(int cmd, int inSize, int outSize) {
        return args().u64(0).u32(0).u32(cmd).u64(0).u32(inSize).u32(outSize);
    }

    @Test
    void ioctlsOtherThanTheInodeFlagOnesAreAnsweredEnotty() throws IOException {
        lookup(1, "f", EntryType.REGULAR_FILE, 5);
        assertEquals(16, send(Opcode.IOCTL, 2, ioctl(0x541b /* FIONREAD */, 0, 4)));
        assertEquals(-Errno.ENOTTY.code(), error());
    }

    @Test
    void inodeFlagIoctlsReachTheOverlay() throws IOException {
        long node = lookup(1, "f", EntryType.REGULAR_FILE, 5);
        when(overlay.fileFlags(EntryPath.of("f"))).thenReturn(0x80 | 0x10);
        assertEquals(16 + 16 + 4, send(Opcode.IOCTL, node, ioctl(0x80086601, 0, 4)));
        assertEquals(0, error());
        assertEquals(0, bodyU32(Structs.IoctlOut.RESULT));
        assertEquals(0x90, bodyU32(Structs.IoctlOut.SIZE));
        assertEquals(16 + 16, send(Opcode.IOCTL, node, ioctl(0x40086602, 4, 0).u32(0x20).u32(0)));
        assertEquals(0, error());
        verify(overlay).setFileFlags(EntryPath.of("f"), 0x20);
        when(overlay.fsxAttributes(EntryPath.of("f"))).thenReturn(new dev.overlay4j.api.FsxAttributes(8, 1, 2, 3, 4));
        assertEquals(16 + 16 + 28, send(Opcode.IOCTL, node, ioctl(0x801c581f, 0, 28)));
        assertEquals(8, bodyU32(Structs.IoctlOut.SIZE));
        assertEquals(3, bodyU32(Structs.IoctlOut.SIZE + 12));
    }

    @Test
    void forgetAndInterruptGetNoAnswer() throws IOException {
        long node = lookup(1, "f", EntryType.REGULAR_FILE, 5);
        assertEquals(Operations.NO_REPLY, send(Opcode.FORGET, node, args().u64(1)));
        assertEquals(false, operations.nodes().contains(node));
        assertEquals(Operations.NO_REPLY, send(Opcode.INTERRUPT, 0, args().u64(12)));
    }

    @Test
    void batchForgetReleasesEveryNode() throws IOException {
        long a = lookup(1, "a", EntryType.REGULAR_FILE, 5);
        long b = lookup(1, "b", EntryType.REGULAR_FILE, 6);
        assertEquals(Operations.NO_REPLY, send(Opcode.BATCH_FORGET, 0, args().u32(2).u32(0).u64(a).u64(1).u64(b).u64(1)));
        assertEquals(1, operations.nodes().size());
    }

    @Test
    void setattrTranslatesModeOwnerAndTimes() throws IOException {
        long node = lookup(1, "f", EntryType.REGULAR_FILE, 5);
        int valid = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 8); // MODE, UID, ATIME, MTIME_NOW
        Args setattr = args().u32(valid).u32(0).u64(0).u64(0).u64(0)
                .u64(12).u64(0).u64(0).u32(34).u32(0).u32(0).u32(0100600).u32(0).u32(4000).u32(0).u32(0);
        assertEquals(16 + 104, send(Opcode.SETATTR, node, setattr));
        assertEquals(0, error());
        verify(overlay).setPermissions(EntryPath.of("f"), 0600);
        verify(overlay).setOwner(EntryPath.of("f"), 4000, -1);
        verify(overlay).setTimes(EntryPath.of("f"), 12_000_000_034L, WritableLayer.TIME_NOW);
    }

    @Test
    void mkdirUsesTheCallerAndTheKernelsMaskedMode() throws IOException {
        when(overlay.stat(EntryPath.ROOT)).thenReturn(attributes(EntryType.DIRECTORY, 0755, 1));
        when(overlay.stat(EntryPath.of("d"))).thenReturn(attributes(EntryType.DIRECTORY, 0750, 9));
        assertEquals(16 + 128, send(Opcode.MKDIR, 1, args().u32(040750).u32(022).string("d")));
        verify(overlay).createDirectory(EntryPath.of("d"), new NewEntryAttributes(0750, 1000, 100));
    }

    @Test
    void newEntriesGetTheCallersIdsAndModeAndTheEngineDecidesTheGroupOfASetgidParent() throws IOException {
        // The set-group-ID rule is the engine's (every frontend needs it): the server passes the caller's own.
        when(overlay.stat(EntryPath.of("d"))).thenReturn(attributes(EntryType.DIRECTORY, 02755, 9));
        send(Opcode.MKDIR, 1, args().u32(040755).u32(022).string("d"));
        assertEquals(0, error());
        verify(overlay).createDirectory(EntryPath.of("d"), new NewEntryAttributes(0755, 1000, 100));
        verify(overlay, org.mockito.Mockito.never()).stat(EntryPath.ROOT);
    }

    @Test
    void rename2MapsItsFlags() throws IOException {
        long dir = lookup(1, "dir", EntryType.DIRECTORY, 2);
        assertEquals(16, send(Opcode.RENAME2, 1, args().u64(dir).u32(2).u32(0).string("a").string("b")));
        assertEquals(0, error());
        verify(overlay).rename(EntryPath.of("a"), EntryPath.of("dir/b"), RenameMode.EXCHANGE);
        send(Opcode.RENAME2, 1, args().u64(dir).u32(1).u32(0).string("a").string("c"));
        verify(overlay).rename(EntryPath.of("a"), EntryPath.of("dir/c"), RenameMode.NOREPLACE);
        send(Opcode.RENAME2, 1, args().u64(dir).u32(4).u32(0).string("a").string("d")); // RENAME_WHITEOUT
        assertEquals(-Errno.EINVAL.code(), error());
    }

    @Test
    void xattrSizeProbesAndTooSmallBuffers() throws IOException {
        when(overlay.readXattr(EntryPath.ROOT, "user.k")).thenReturn("value".getBytes(StandardCharsets.UTF_8));
        assertEquals(16 + 8, send(Opcode.GETXATTR, 1, args().u32(0).u32(0).string("user.k")));
        assertEquals(5, bodyU32(0));
        assertEquals(16, send(Opcode.GETXATTR, 1, args().u32(4).u32(0).string("user.k")));
        assertEquals(-Errno.ERANGE.code(), error());
        assertEquals(16 + 5, send(Opcode.GETXATTR, 1, args().u32(64).u32(0).string("user.k")));

        when(overlay.listXattrs(EntryPath.ROOT)).thenReturn(List.of("user.a", "user.bc"));
        assertEquals(16 + 8, send(Opcode.LISTXATTR, 1, args().u32(0).u32(0)));
        assertEquals(15, bodyU32(0));
        assertEquals(16 + 15, send(Opcode.LISTXATTR, 1, args().u32(100).u32(0)));
    }

    @Test
    void setxattrPassesNameValueAndMode() throws IOException {
        send(Opcode.SETXATTR, 1, args().u32(3).u32(1).string("user.k").string("ab").u32(0));
        verify(overlay).setXattr(eq(EntryPath.ROOT), eq("user.k"), eq(new byte[] {'a', 'b', 0}), eq(XattrMode.CREATE));
    }

    @Test
    void readdirResumesAtTheOffsetOfTheSnapshot() throws IOException {
        when(overlay.stat(EntryPath.ROOT)).thenReturn(attributes(EntryType.DIRECTORY, 0755, 1));
        when(overlay.listDirectory(EntryPath.ROOT)).thenReturn(List.of(
                new DirectoryEntry("a", EntryType.REGULAR_FILE, 10),
                new DirectoryEntry("bb", EntryType.DIRECTORY, 11)));
        assertEquals(16 + 16, send(Opcode.OPENDIR, 1, args().u32(0).u32(0)));
        long fh = bodyU64(0);
        // Room for the two dots and "a" only: 3 records of 32 bytes.
        assertEquals(16 + 96, send(Opcode.READDIR, 1, args().u64(fh).u64(0).u32(100).u32(0).u64(0).u32(0).u32(0)));
        assertEquals(3, bodyU64(64 + Structs.Dirent.OFF));
        assertEquals(10, bodyU64(64 + Structs.Dirent.INO));
        assertEquals(16 + 32, send(Opcode.READDIR, 1, args().u64(fh).u64(3).u32(4096).u32(0).u64(0).u32(0).u32(0)));
        assertEquals(11, bodyU64(Structs.Dirent.INO));
        assertEquals(4, bodyU32(Structs.Dirent.TYPE));
        assertEquals(16, send(Opcode.READDIR, 1, args().u64(fh).u64(4).u32(4096).u32(0).u64(0).u32(0).u32(0)));
        assertEquals(16, send(Opcode.RELEASEDIR, 1, args().u64(fh).u32(0).u32(0).u64(0)));
        assertEquals(0, operations.openHandles());
    }

    @Test
    void readdirplusLooksUpEveryEntryButTheDots() throws IOException {
        when(overlay.stat(EntryPath.ROOT)).thenReturn(attributes(EntryType.DIRECTORY, 0755, 1));
        when(overlay.stat(EntryPath.of("a"))).thenReturn(attributes(EntryType.REGULAR_FILE, 0644, 10));
        when(overlay.listDirectory(EntryPath.ROOT)).thenReturn(List.of(
                new DirectoryEntry("a", EntryType.REGULAR_FILE, 10)));
        send(Opcode.OPENDIR, 1, args().u32(0).u32(0));
        long fh = bodyU64(0);
        assertEquals(16 + 3 * 160, send(Opcode.READDIRPLUS, 1,
                args().u64(fh).u64(0).u32(4096).u32(0).u64(0).u32(0).u32(0)));
        assertEquals(0, bodyU64(Structs.EntryOut.NODEID));          // "."
        assertEquals(0, bodyU64(160 + Structs.EntryOut.NODEID));    // ".."
        long node = bodyU64(320 + Structs.EntryOut.NODEID);
        assertEquals(EntryPath.of("a"), operations.nodes().path(node));
        assertEquals(10, bodyU64(320 + Structs.EntryOut.ATTR + Structs.Attr.INO));
    }

    @Test
    void aFileWithSeveralLinksIsNeverCachedByTheKernel() throws IOException {
        EntryAttributes linked = new EntryAttributes(EntryType.REGULAR_FILE, 0644, 0, 0, 3, 0, 0, 0, 0, 2, 6, 0, false,
                null);
        when(overlay.stat(EntryPath.of("linked"))).thenReturn(linked);
        assertEquals(16 + 128, send(Opcode.LOOKUP, 1, args().string("linked")));
        assertEquals(1, bodyU64(Structs.EntryOut.ENTRY_VALID));
        assertEquals(0, bodyU64(Structs.EntryOut.ATTR_VALID));
        assertEquals(0, bodyU32(Structs.EntryOut.ATTR_VALID_NSEC));
        long node = bodyU64(Structs.EntryOut.NODEID);

        var file = mock(dev.overlay4j.api.OverlayFile.class);
        when(file.stat()).thenReturn(linked);
        when(overlay.open(eq(EntryPath.of("linked")), any(), any())).thenReturn(file);
        assertEquals(16 + 16, send(Opcode.OPEN, node, args().u32(0).u32(0)));
        assertEquals(Flags.FOPEN_NOFLUSH, bodyU32(Structs.OpenOut.OPEN_FLAGS));
    }

    @Test
    void aMissingNameIsRememberedForTheNegativeTimeout() throws IOException {
        Operations negative = new Operations(overlay, new CachePolicy(5_000_000_000L, 5_000_000_000L, 2_500_000_000L),
                -1, false, false);
        when(overlay.stat(EntryPath.of("nothing"))).thenThrow(Errno.ENOENT.exception(EntryPath.of("nothing")));
        assertEquals(16 + 128, send(negative, Opcode.LOOKUP, 1, args().string("nothing")));
        assertEquals(0, error());
        assertEquals(0, bodyU64(Structs.EntryOut.NODEID));
        assertEquals(2, bodyU64(Structs.EntryOut.ENTRY_VALID));
        assertEquals(500_000_000, bodyU32(Structs.EntryOut.ENTRY_VALID_NSEC));

        // Without negative caching ENOENT is an error.
        assertEquals(16, send(Opcode.LOOKUP, 1, args().string("nothing")));
        assertEquals(-Errno.ENOENT.code(), error());
    }

    @Test
    void directoriesAreOpenedWithTheirListingCached() throws IOException {
        when(overlay.stat(EntryPath.ROOT)).thenReturn(attributes(EntryType.DIRECTORY, 0755, 1));
        when(overlay.listDirectory(EntryPath.ROOT)).thenReturn(List.of());
        assertEquals(16 + 16, send(Opcode.OPENDIR, 1, args().u32(0).u32(0)));
        assertEquals(Flags.FOPEN_KEEP_CACHE | Flags.FOPEN_CACHE_DIR, bodyU32(Structs.OpenOut.OPEN_FLAGS));
    }

    @Test
    void statfsReportsTheOverlaysStore() throws IOException {
        when(overlay.space()).thenReturn(new dev.overlay4j.api.StoreSpace(4096, 100, 50, 40, 30, 20, 255));
        assertEquals(16 + 80, send(Opcode.STATFS, 1, args()));
        assertEquals(100, bodyU64(Structs.Kstatfs.BLOCKS));
        assertEquals(40, bodyU64(Structs.Kstatfs.BAVAIL));
        assertEquals(4096, bodyU32(Structs.Kstatfs.BSIZE));
        assertEquals(255, bodyU32(Structs.Kstatfs.NAMELEN));
    }

    @Test
    void readsAndWritesThroughTheOpenFile() throws IOException {
        var file = mock(dev.overlay4j.api.OverlayFile.class);
        when(overlay.open(eq(EntryPath.ROOT.resolve("f")), any(), any())).thenReturn(file);
        when(file.isWritable()).thenReturn(true);
        when(file.stat()).thenReturn(attributes(EntryType.REGULAR_FILE, 0644, 5));
        long node = lookup(1, "f", EntryType.REGULAR_FILE, 5);
        assertEquals(16 + 16, send(Opcode.OPEN, node, args().u32(02).u32(0)));
        long fh = bodyU64(0);
        assertEquals(Flags.FOPEN_KEEP_CACHE | Flags.FOPEN_NOFLUSH, bodyU32(Structs.OpenOut.OPEN_FLAGS));
        assertEquals(0, bodyU32(Structs.OpenOut.BACKING_ID));
        when(file.read(any(), eq(8L))).thenAnswer(call -> {
            ByteBuffer dst = call.getArgument(0);
            dst.put("abc".getBytes(StandardCharsets.UTF_8));
            return 3;
        });
        when(file.read(any(), eq(11L))).thenReturn(-1);
        assertEquals(16 + 3, send(Opcode.READ, node, args().u64(fh).u64(8).u32(100).u32(0).u64(0).u32(0).u32(0)));
        when(file.write(any(), eq(4L))).thenAnswer(call -> {
            ByteBuffer src = call.getArgument(0);
            int n = src.remaining();
            src.position(src.limit());
            return n;
        });
        assertEquals(16 + 8, send(Opcode.WRITE, node,
                args().u64(fh).u64(4).u32(2).u32(0).u64(0).u32(0).u32(0).u32(0x4242)));
        assertEquals(2, bodyU32(0));
        assertEquals(16, send(Opcode.FALLOCATE, node, args().u64(fh).u64(0).u64(10).u32(1).u32(0)));
        assertEquals(0, error());
        verify(file).allocate(0, 10, 1); // KEEP_SIZE, passed on to the file
        when(file.nextHole(5)).thenReturn(4096L);
        assertEquals(16 + 8, send(Opcode.LSEEK, node, args().u64(fh).u64(5).u32(Flags.SEEK_HOLE).u32(0)));
        assertEquals(4096, bodyU64(0));
        assertEquals(16, send(Opcode.RELEASE, node, args().u64(fh).u32(0).u32(0).u64(0)));
        verify(file).close();
        assertEquals(16, send(Opcode.READ, node, args().u64(fh).u64(0).u32(1).u32(0).u64(0).u32(0).u32(0)));
        assertEquals(-Errno.EBADF.code(), error());
    }

    /** ACCESS for a node of {@code type} owned by 0:0 with {@code permissions}, as uid 1000/gid 100; the errno or 0. */
    private int access(EntryType type, int permissions, int mask) throws IOException {
        long node = lookup(1, "n", type, 5);
        when(overlay.stat(EntryPath.of("n"))).thenReturn(attributes(type, permissions, 5));
        assertEquals(16, send(Opcode.ACCESS, node, args().u32(mask).u32(0)));
        return -error();
    }

    @Test
    void accessAnswersWithTheCallersClassOfBits() throws IOException {
        assertEquals(0, access(EntryType.REGULAR_FILE, 0004, Flags.R_OK));
        assertEquals(Errno.EACCES.code(), access(EntryType.REGULAR_FILE, 0440, Flags.R_OK));
        assertEquals(Errno.EACCES.code(), access(EntryType.REGULAR_FILE, 0006, Flags.R_OK | Flags.X_OK));
    }

    @Test
    void accessOnAReadOnlyOverlayIsErofsForFilesDirectoriesAndSymlinksAlone() throws IOException {
        when(overlay.isReadOnly()).thenReturn(true);
        assertEquals(Errno.EROFS.code(), access(EntryType.REGULAR_FILE, 0666, Flags.W_OK));
        assertEquals(Errno.EROFS.code(), access(EntryType.DIRECTORY, 0, Flags.R_OK | Flags.W_OK), "before EACCES");
        assertEquals(Errno.EROFS.code(), access(EntryType.SYMLINK, 0777, Flags.W_OK));
        assertEquals(0, access(EntryType.CHARACTER_DEVICE, 0666, Flags.W_OK), "a device writes elsewhere");
        assertEquals(0, access(EntryType.FIFO, 0666, Flags.W_OK));
        assertEquals(Errno.EACCES.code(), access(EntryType.SOCKET, 0664, Flags.W_OK), "the bits still decide");
        assertEquals(0, access(EntryType.REGULAR_FILE, 0444, Flags.R_OK));
    }
}
