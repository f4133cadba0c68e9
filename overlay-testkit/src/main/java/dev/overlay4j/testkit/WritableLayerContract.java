package dev.overlay4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableContent;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.XattrMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link WritableLayer} must do: each change, and the exact errno of each way it can
 * fail, as the Linux system call behind it reports it.
 */
public abstract class WritableLayerContract {

    @TempDir
    protected Path storage;

    /** The layer under test, opened on an empty {@link #storage} before each test. */
    protected WritableLayer layer;

    /** Opens (or reopens, with the same content) the writable layer kept under {@code storage}. */
    protected abstract WritableLayer openWritable(Path storage) throws IOException;

    /** Whether device nodes can be created (mknod needs privilege on most systems). */
    protected boolean supportsDeviceNodes() {
        return true;
    }

    /** Whether {@link WritableLayer#renameLeavingWhiteout} and {@link WritableLayer#linkIntoWorkArea} work (they are optional). */
    protected boolean supportsAtomicWhiteoutSteps() {
        return true;
    }

    /** Whether {@link WritableLayer#indexArea} and {@link WritableLayer#linkFromIndex} work (they are optional). */
    protected boolean supportsIndex() {
        return true;
    }

    /**
     * Whether redirects and overlay-private xattrs are kept. A layer on a store that cannot hold
     * them (no xattrs, or none this process may write) refuses {@link WritableLayer#setRedirect}
     * with EXDEV, as the kernel refuses such a rename, and drops overlay xattrs; opaque
     * directories it still keeps, in a form of its own.
     */
    protected boolean keepsOverlayXattrs() {
        return true;
    }

    /** Whether entries can be given to another owner (chown needs privilege on most systems). */
    protected boolean supportsChown() {
        return true;
    }

    /**
     * Whether entries can lie deeper below the root than PATH_MAX (4096 bytes), as they can below
     * a kernel mount, where only a name longer than 255 bytes is refused.
     */
    protected boolean supportsPathsLongerThanPathMax() {
        return true;
    }

    @BeforeEach
    public final void openLayer() throws IOException {
        layer = openWritable(storage);
    }

    @AfterEach
    public final void closeLayer() throws IOException {
        if (layer != null) {
            layer.close();
        }
    }

    private int uid;
    private int gid;

    /** New-entry attributes owned like the layer's root (the user running the test). */
    protected NewEntryAttributes owned(int permissions) throws IOException {
        EntryAttributes root = layer.stat(EntryPath.ROOT).orElseThrow();
        uid = root.uid();
        gid = root.gid();
        return new NewEntryAttributes(permissions, uid, gid);
    }

    protected static EntryPath p(String path) {
        return EntryPath.of(path);
    }

    protected static void assertErrno(Errno expected, Executable call) {
        Throwable thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
    }

    protected EntryAttributes stat(WritableLayer in, String path) throws IOException {
        return in.stat(p(path)).orElseThrow(() -> new AssertionError(path + " does not exist"));
    }

    protected void writeFile(WritableLayer in, String path, String content) throws IOException {
        try (WritableContent c = in.createFile(p(path), owned(0644))) {
            c.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    protected static String read(WritableLayer in, String path) throws IOException {
        try (ReadableContent c = in.openRead(p(path))) {
            ByteBuffer buffer = ByteBuffer.allocate((int) c.size());
            while (buffer.hasRemaining() && c.read(buffer, buffer.position()) > 0) {
                // read on
            }
            return new String(buffer.array(), StandardCharsets.UTF_8);
        }
    }

    protected static Set<String> names(WritableLayer in, String dir) throws IOException {
        try (Stream<DirectoryEntry> entries = in.list(p(dir))) {
            return entries.map(DirectoryEntry::name).collect(Collectors.toSet());
        }
    }

    @Test
    public void createFileMakesAnEmptyFileWithExactlyThePermissionsAndOwnerGiven() throws IOException {
        try (WritableContent c = layer.createFile(p("f"), owned(04751))) {
            assertEquals(0, c.size());
        }
        EntryAttributes a = stat(layer, "f");
        assertEquals(EntryType.REGULAR_FILE, a.type());
        assertEquals(04751, a.permissions());
        assertEquals(uid, a.uid());
        assertEquals(gid, a.gid());
        try (WritableContent c = layer.createFile(p("wide"), owned(0666))) {
            assertEquals(0, c.size());
        }
        assertEquals(0666, stat(layer, "wide").permissions(), "not masked by the umask");
    }

    @Test
    public void createFileFailsWithEexistEnoentAndEnotdir() throws IOException {
        writeFile(layer, "f", "x");
        assertErrno(Errno.EEXIST, () -> layer.createFile(p("f"), owned(0644)).close());
        assertErrno(Errno.ENOENT, () -> layer.createFile(p("missing/f"), owned(0644)).close());
        assertErrno(Errno.ENOTDIR, () -> layer.createFile(p("f/g"), owned(0644)).close());
    }

    @Test
    public void writesAtAnyPositionAndTruncateBothWays() throws IOException {
        try (WritableContent c = layer.createFile(p("f"), owned(0644))) {
            c.write(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)), 5);
            assertEquals(8, c.size());
            ByteBuffer all = ByteBuffer.allocate(8);
            assertEquals(8, c.read(all, 0));
            assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 'a', 'b', 'c'}, all.array());
            c.truncate(6);
            assertEquals(6, c.size());
            c.truncate(10);
            assertEquals(10, c.size());
            ByteBuffer tail = ByteBuffer.allocate(4);
            assertEquals(4, c.read(tail, 6));
            assertArrayEquals(new byte[4], tail.array());
        }
        try (WritableContent c = layer.openWrite(p("f"))) {
            c.write(ByteBuffer.wrap("Z".getBytes(StandardCharsets.UTF_8)), 0);
            c.force(true);
        }
        assertEquals('Z', read(layer, "f").charAt(0));
        assertEquals(10, stat(layer, "f").size());
    }

    @Test
    public void openWriteFailsWithEisdirForADirectoryAndEnoentForAMissingFile() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        assertErrno(Errno.EISDIR, () -> layer.openWrite(p("d")).close());
        assertErrno(Errno.ENOENT, () -> layer.openWrite(p("missing")).close());
    }

    @Test
    public void copyToCopiesTheExactBytesIntoAnotherFile() throws IOException {
        byte[] bytes = LayerContract.pattern(LayerContract.BIG_SIZE);
        try (WritableContent c = layer.createFile(p("src"), owned(0644))) {
            c.write(ByteBuffer.wrap(bytes), 0);
        }
        try (ReadableContent from = layer.openRead(p("src")); WritableContent to = layer.createFile(p("dst"), owned(0644))) {
            assertEquals(bytes.length - 10, from.copyTo(to, 10, bytes.length));
            assertEquals(bytes.length, to.size());
            ByteBuffer check = ByteBuffer.allocate(bytes.length);
            while (check.hasRemaining() && to.read(check, check.position()) > 0) {
                // read on
            }
            byte[] expected = bytes.clone();
            java.util.Arrays.fill(expected, 0, 10, (byte) 0);
            assertArrayEquals(expected, check.array());
        }
    }

    @Test
    public void createDirectoryKeepsExactPermissionsAndFailsWithEexist() throws IOException {
        layer.createDirectory(p("d"), owned(01777));
        EntryAttributes a = stat(layer, "d");
        assertEquals(EntryType.DIRECTORY, a.type());
        assertEquals(01777, a.permissions());
        assertErrno(Errno.EEXIST, () -> layer.createDirectory(p("d"), owned(0755)));
        assertErrno(Errno.ENOENT, () -> layer.createDirectory(p("x/y"), owned(0755)));
    }

    @Test
    public void createSymlinkStoresTheTargetAsGiven() throws IOException {
        layer.createSymlink(p("l"), "../not/there", owned(0644));
        EntryAttributes a = stat(layer, "l");
        assertEquals(EntryType.SYMLINK, a.type());
        assertEquals(0777, a.permissions());
        assertEquals("../not/there", layer.readLink(p("l")));
        assertErrno(Errno.EEXIST, () -> layer.createSymlink(p("l"), "x", owned(0777)));
    }

    @Test
    public void createSpecialMakesFifosAndDeviceNodes() throws IOException {
        layer.createSpecial(p("fifo"), EntryType.FIFO, owned(0620), 0);
        EntryAttributes fifo = stat(layer, "fifo");
        assertEquals(EntryType.FIFO, fifo.type());
        assertEquals(0620, fifo.permissions());
        assumeTrue(supportsDeviceNodes(), "SKIPPED: this layer cannot create device nodes here");
        long rdev = (1L << 8) | 3; // 1:3, /dev/null
        layer.createSpecial(p("null"), EntryType.CHARACTER_DEVICE, owned(0666), rdev);
        EntryAttributes dev = stat(layer, "null");
        assertEquals(EntryType.CHARACTER_DEVICE, dev.type());
        assertEquals(rdev, dev.rdev());
        assertErrno(Errno.EEXIST, () -> layer.createSpecial(p("fifo"), EntryType.FIFO, owned(0644), 0));
    }

    @Test
    public void whiteoutsAreCreatedListedAndDeleted() throws IOException {
        layer.createWhiteout(p("gone"));
        assertEquals(EntryType.WHITEOUT, stat(layer, "gone").type());
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.ROOT)) {
            assertEquals(List.of(EntryType.WHITEOUT), entries.filter(e -> e.name().equals("gone")).map(DirectoryEntry::type).toList());
        }
        assertErrno(Errno.EEXIST, () -> layer.createWhiteout(p("gone")));
        writeFile(layer, "taken", "x");
        assertErrno(Errno.EEXIST, () -> layer.createWhiteout(p("taken")));
        layer.delete(p("gone"));
        assertTrue(layer.stat(p("gone")).isEmpty());
    }

    @Test
    public void aWhiteoutTakesItsNameForEveryKindOfCreation() throws IOException {
        writeFile(layer, "f", "x");
        layer.createWhiteout(p("w"));
        assertErrno(Errno.EEXIST, () -> layer.createFile(p("w"), owned(0644)).close());
        assertErrno(Errno.EEXIST, () -> layer.createDirectory(p("w"), owned(0755)));
        assertErrno(Errno.EEXIST, () -> layer.createSymlink(p("w"), "f", owned(0777)));
        assertErrno(Errno.EEXIST, () -> layer.createSpecial(p("w"), EntryType.FIFO, owned(0644), 0));
        assertErrno(Errno.EEXIST, () -> layer.link(p("f"), p("w")));
        assertErrno(Errno.EEXIST, () -> layer.rename(p("f"), p("w"), RenameMode.NOREPLACE));
        writeFile(layer.workArea(), "staged", "y");
        assertErrno(Errno.EEXIST, () -> layer.publish(p("staged"), p("w"), RenameMode.NOREPLACE));
        assertEquals(EntryType.WHITEOUT, stat(layer, "w").type());
        assertEquals("x", read(layer, "f"));
        assertEquals("y", read(layer.workArea(), "staged"));
    }

    @Test
    public void renameAndPublishReplaceAWhiteoutWithTheEntry() throws IOException {
        writeFile(layer, "f", "moved");
        layer.createWhiteout(p("w"));
        layer.rename(p("f"), p("w"), RenameMode.REPLACE);
        assertEquals("moved", read(layer, "w"));
        assertTrue(layer.stat(p("f")).isEmpty());
        layer.createWhiteout(p("v"));
        writeFile(layer.workArea(), "staged", "published");
        layer.publish(p("staged"), p("v"), RenameMode.REPLACE);
        assertEquals("published", read(layer, "v"));
        layer.createWhiteout(p("u"));
        layer.workArea().createDirectory(p("dir"), owned(0755));
        assertErrno(Errno.ENOTDIR, () -> layer.publish(p("dir"), p("u"), RenameMode.REPLACE));
        assertEquals(EntryType.WHITEOUT, stat(layer, "u").type(), "a whiteout is not a directory to rename over");
        layer.delete(p("u"));
        assertEquals(Set.of("w", "v"), names(layer, ""));
        layer.delete(p("w"));
        assertTrue(layer.stat(p("w")).isEmpty(), "the name is free once its entry is gone, not whited out");
    }

    @Test
    public void aWhiteoutBuiltInTheWorkAreaIsPublishedOverAFileOrToAFreeName() throws IOException {
        writeFile(layer, "f", "x");
        WritableLayer work = layer.workArea();
        work.createWhiteout(p("s1"));
        assertEquals(EntryType.WHITEOUT, stat(work, "s1").type());
        layer.publish(p("s1"), p("f"), RenameMode.REPLACE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "f").type());
        work.createWhiteout(p("s2"));
        layer.publish(p("s2"), p("free"), RenameMode.NOREPLACE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "free").type());
        work.createWhiteout(p("s3"));
        assertErrno(Errno.EEXIST, () -> layer.publish(p("s3"), p("free"), RenameMode.NOREPLACE));
        layer.publish(p("s3"), p("free"), RenameMode.REPLACE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "free").type());
        assertEquals(Set.of(), names(work, ""));
        try (Stream<DirectoryEntry> entries = layer.list(EntryPath.ROOT)) {
            assertEquals(Set.of("f", "free"), entries.filter(e -> e.type() == EntryType.WHITEOUT)
                    .map(DirectoryEntry::name).collect(Collectors.toSet()));
        }
    }

    @Test
    public void exchangeSwapsAnEntryWithAWhiteout() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/f", "F");
        layer.createWhiteout(p("w"));
        layer.rename(p("d"), p("w"), RenameMode.EXCHANGE);
        assertEquals("F", read(layer, "w/f"));
        assertEquals(EntryType.WHITEOUT, stat(layer, "d").type());
        layer.rename(p("d"), p("w"), RenameMode.EXCHANGE);
        assertEquals("F", read(layer, "d/f"));
        assertEquals(EntryType.WHITEOUT, stat(layer, "w").type());
        layer.workArea().createWhiteout(p("staged"));
        layer.publish(p("staged"), p("d"), RenameMode.EXCHANGE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "d").type());
        assertEquals("F", read(layer.workArea(), "staged/f"));
    }

    @Test
    public void renameLeavingWhiteoutReplacesAWhiteoutAtTheTarget() throws IOException {
        assumeTrue(supportsAtomicWhiteoutSteps(), "SKIPPED: this layer cannot rename or link leaving a whiteout in one step");
        writeFile(layer, "a", "A");
        layer.createWhiteout(p("b"));
        assertErrno(Errno.EEXIST, () -> layer.renameLeavingWhiteout(p("a"), p("b"), RenameMode.NOREPLACE));
        layer.renameLeavingWhiteout(p("a"), p("b"), RenameMode.REPLACE);
        assertEquals("A", read(layer, "b"));
        assertEquals(EntryType.WHITEOUT, stat(layer, "a").type());
        layer.delete(p("a"));
        assertEquals(Set.of("b"), names(layer, ""));
    }

    @Test
    public void aDirectoryHoldingAWhiteoutIsNotEmptyAndAnOpaqueEmptyOneIs() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        layer.createWhiteout(p("d/w"));
        assertErrno(Errno.ENOTEMPTY, () -> layer.delete(p("d")));
        layer.delete(p("d/w"));
        layer.setOpaque(p("d"), true);
        assertEquals(Set.of(), names(layer, "d"));
        layer.delete(p("d"));
        assertTrue(layer.stat(p("d")).isEmpty());
    }

    @Test
    public void linkAddsANameToTheSameFile() throws IOException {
        writeFile(layer, "f", "content");
        layer.link(p("f"), p("g"));
        assertEquals(stat(layer, "f").inode(), stat(layer, "g").inode());
        assertEquals(2, stat(layer, "g").nlink());
        assertEquals("content", read(layer, "g"));
        assertErrno(Errno.EEXIST, () -> layer.link(p("f"), p("g")));
        assertErrno(Errno.ENOENT, () -> layer.link(p("missing"), p("h")));
        layer.createDirectory(p("d"), owned(0755));
        assertErrno(Errno.EPERM, () -> layer.link(p("d"), p("d2")));
    }

    @Test
    public void deleteRemovesFilesAndEmptyDirectoriesOnly() throws IOException {
        writeFile(layer, "f", "x");
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/f", "x");
        assertErrno(Errno.ENOTEMPTY, () -> layer.delete(p("d")));
        layer.delete(p("d/f"));
        layer.delete(p("d"));
        layer.delete(p("f"));
        assertTrue(layer.stat(p("d")).isEmpty());
        assertTrue(layer.stat(p("f")).isEmpty());
        assertErrno(Errno.ENOENT, () -> layer.delete(p("f")));
    }

    @Test
    public void renameReplaceMovesAndReplacesAFile() throws IOException {
        writeFile(layer, "a", "new");
        writeFile(layer, "b", "old");
        layer.rename(p("a"), p("b"), RenameMode.REPLACE);
        assertTrue(layer.stat(p("a")).isEmpty());
        assertEquals("new", read(layer, "b"));
        assertErrno(Errno.ENOENT, () -> layer.rename(p("a"), p("c"), RenameMode.REPLACE));
    }

    @Test
    public void renameNoreplaceFailsWithEexistAndLeavesBothAlone() throws IOException {
        writeFile(layer, "a", "A");
        writeFile(layer, "b", "B");
        assertErrno(Errno.EEXIST, () -> layer.rename(p("a"), p("b"), RenameMode.NOREPLACE));
        assertEquals("A", read(layer, "a"));
        assertEquals("B", read(layer, "b"));
        layer.rename(p("a"), p("c"), RenameMode.NOREPLACE);
        assertEquals("A", read(layer, "c"));
    }

    @Test
    public void renameExchangeSwapsTwoEntriesOfAnyType() throws IOException {
        writeFile(layer, "a", "A");
        layer.createDirectory(p("d"), owned(0755));
        layer.rename(p("a"), p("d"), RenameMode.EXCHANGE);
        assertEquals(EntryType.DIRECTORY, stat(layer, "a").type());
        assertEquals("A", read(layer, "d"));
        assertErrno(Errno.ENOENT, () -> layer.rename(p("a"), p("missing"), RenameMode.EXCHANGE));
    }

    @Test
    public void renameFailsWithTheErrnoOfRenameat2() throws IOException {
        layer.createDirectory(p("full"), owned(0755));
        writeFile(layer, "full/f", "x");
        layer.createDirectory(p("empty"), owned(0755));
        writeFile(layer, "file", "x");
        assertErrno(Errno.ENOTEMPTY, () -> layer.rename(p("empty"), p("full"), RenameMode.REPLACE));
        assertErrno(Errno.EISDIR, () -> layer.rename(p("file"), p("empty"), RenameMode.REPLACE));
        assertErrno(Errno.ENOTDIR, () -> layer.rename(p("empty"), p("file"), RenameMode.REPLACE));
        assertErrno(Errno.EINVAL, () -> layer.rename(p("full"), p("full/sub"), RenameMode.REPLACE));
        layer.rename(p("empty"), p("full/f2"), RenameMode.REPLACE);
        assertEquals(EntryType.DIRECTORY, stat(layer, "full/f2").type());
    }

    @Test
    public void lookupsBelowARenamedReplacedOrRemovedDirectorySeeWhatIsThereNow() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/f", "first");
        assertEquals("first", read(layer, "d/f"));
        layer.rename(p("d"), p("e"), RenameMode.NOREPLACE);
        layer.createDirectory(p("d"), owned(0755));
        assertTrue(layer.stat(p("d/f")).isEmpty(), "d is a new, empty directory");
        assertEquals("first", read(layer, "e/f"));

        layer.workArea().createDirectory(p("staged"), owned(0755));
        writeFile(layer.workArea(), "staged/g", "second");
        assertEquals("second", read(layer.workArea(), "staged/g"));
        layer.publish(p("staged"), p("e"), RenameMode.EXCHANGE);
        assertEquals("second", read(layer, "e/g"));
        assertTrue(layer.stat(p("e/f")).isEmpty());
        assertEquals("first", read(layer.workArea(), "staged/f"));

        layer.delete(p("e/g"));
        layer.delete(p("e"));
        layer.createDirectory(p("e"), owned(0700));
        assertEquals(Set.of(), names(layer, "e"));
        assertTrue(layer.stat(p("e/g")).isEmpty());
    }

    @Test
    public void renameLeavingWhiteoutMovesTheEntryAndLeavesAWhiteoutInOneStep() throws IOException {
        assumeTrue(supportsAtomicWhiteoutSteps(), "SKIPPED: this layer cannot rename or link leaving a whiteout in one step");
        writeFile(layer, "a", "A");
        writeFile(layer, "b", "B");
        layer.renameLeavingWhiteout(p("a"), p("b"), RenameMode.REPLACE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "a").type());
        assertEquals("A", read(layer, "b"));
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/f", "F");
        layer.renameLeavingWhiteout(p("d"), p("moved"), RenameMode.NOREPLACE);
        assertEquals(EntryType.WHITEOUT, stat(layer, "d").type());
        assertEquals("F", read(layer, "moved/f"));
    }

    @Test
    public void renameLeavingWhiteoutFailsLikeRenameat2AndChangesNothing() throws IOException {
        assumeTrue(supportsAtomicWhiteoutSteps(), "SKIPPED: this layer cannot rename or link leaving a whiteout in one step");
        writeFile(layer, "a", "A");
        writeFile(layer, "b", "B");
        assertErrno(Errno.EEXIST, () -> layer.renameLeavingWhiteout(p("a"), p("b"), RenameMode.NOREPLACE));
        assertErrno(Errno.EINVAL, () -> layer.renameLeavingWhiteout(p("a"), p("b"), RenameMode.EXCHANGE));
        assertErrno(Errno.ENOENT, () -> layer.renameLeavingWhiteout(p("missing"), p("c"), RenameMode.REPLACE));
        assertEquals("A", read(layer, "a"));
        assertEquals("B", read(layer, "b"));
        assertTrue(layer.stat(p("missing")).isEmpty());
    }

    @Test
    public void linkIntoWorkAreaThenPublishPutsALinkOverAWhiteoutInOneStep() throws IOException {
        assumeTrue(supportsAtomicWhiteoutSteps(), "SKIPPED: this layer cannot rename or link leaving a whiteout in one step");
        writeFile(layer, "f", "content");
        layer.createWhiteout(p("g"));
        layer.linkIntoWorkArea(p("f"), p("staged"));
        assertEquals(EntryType.WHITEOUT, stat(layer, "g").type(), "the tree is untouched until publish");
        layer.publish(p("staged"), p("g"), RenameMode.REPLACE);
        assertEquals(stat(layer, "f").inode(), stat(layer, "g").inode());
        assertEquals(2, stat(layer, "g").nlink());
        assertEquals("content", read(layer, "g"));
        assertTrue(layer.workArea().stat(p("staged")).isEmpty());
    }

    @Test
    public void linkIntoWorkAreaFailsWithTheErrnoOfLinkat() throws IOException {
        assumeTrue(supportsAtomicWhiteoutSteps(), "SKIPPED: this layer cannot rename or link leaving a whiteout in one step");
        writeFile(layer, "f", "x");
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer.workArea(), "taken", "y");
        assertErrno(Errno.EEXIST, () -> layer.linkIntoWorkArea(p("f"), p("taken")));
        assertErrno(Errno.ENOENT, () -> layer.linkIntoWorkArea(p("missing"), p("s")));
        assertErrno(Errno.EPERM, () -> layer.linkIntoWorkArea(p("d"), p("s")));
        assertEquals(Set.of("taken"), names(layer.workArea(), ""));
    }

    @Test
    public void setPermissionsOwnerAndTimesChangeExactlyWhatIsAsked() throws IOException {
        writeFile(layer, "f", "x");
        layer.setPermissions(p("f"), 02710);
        assertEquals(02710, stat(layer, "f").permissions());
        long atime = 1_500_000_000_987_654_321L;
        long mtime = 1_400_000_000_123_456_789L;
        layer.setTimes(p("f"), atime, mtime);
        assertEquals(atime, stat(layer, "f").atimeNanos());
        assertEquals(mtime, stat(layer, "f").mtimeNanos());
        layer.setTimes(p("f"), WritableLayer.TIME_OMIT, 1_000_000_000L);
        assertEquals(atime, stat(layer, "f").atimeNanos(), "TIME_OMIT keeps atime");
        assertEquals(1_000_000_000L, stat(layer, "f").mtimeNanos());
        layer.setTimes(p("f"), WritableLayer.TIME_OMIT, WritableLayer.TIME_NOW);
        assertTrue(stat(layer, "f").mtimeNanos() > mtime, "TIME_NOW sets the current time");
        layer.createSymlink(p("l"), "f", owned(0777));
        layer.setTimes(p("l"), WritableLayer.TIME_OMIT, 2_000_000_000L);
        assertEquals(2_000_000_000L, stat(layer, "l").mtimeNanos(), "the symlink itself");
        assertTrue(stat(layer, "f").mtimeNanos() > mtime, "not its target");
        assumeTrue(supportsChown(), "SKIPPED: this layer cannot give entries to another owner here");
        layer.setOwner(p("f"), 4242, -1);
        assertEquals(4242, stat(layer, "f").uid());
        assertEquals(gid, stat(layer, "f").gid());
        layer.setOwner(p("l"), -1, 4343);
        assertEquals(4343, stat(layer, "l").gid());
        assertEquals(gid, stat(layer, "f").gid(), "the symlink's target keeps its group");
    }

    @Test
    public void xattrModesFailWithEexistAndEnodataAsSetxattrDoes() throws IOException {
        writeFile(layer, "f", "x");
        assertErrno(Errno.ENODATA, () -> layer.setXattr(p("f"), "user.a", new byte[] {1}, XattrMode.REPLACE));
        layer.setXattr(p("f"), "user.a", new byte[] {1}, XattrMode.CREATE);
        assertErrno(Errno.EEXIST, () -> layer.setXattr(p("f"), "user.a", new byte[] {2}, XattrMode.CREATE));
        layer.setXattr(p("f"), "user.a", new byte[] {3}, XattrMode.REPLACE);
        assertArrayEquals(new byte[] {3}, layer.readXattr(p("f"), "user.a").orElseThrow());
        layer.setXattr(p("f"), "user.a", new byte[] {4}, XattrMode.CREATE_OR_REPLACE);
        assertArrayEquals(new byte[] {4}, layer.readXattr(p("f"), "user.a").orElseThrow());
        assertEquals(List.of("user.a"), layer.listXattrs(p("f")));
        layer.removeXattr(p("f"), "user.a");
        assertTrue(layer.readXattr(p("f"), "user.a").isEmpty());
        assertErrno(Errno.ENODATA, () -> layer.removeXattr(p("f"), "user.a"));
    }

    @Test
    public void opaqueRedirectAndOverlayXattrsRoundTripAndStayHidden() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        layer.setOpaque(p("d"), true);
        assertTrue(stat(layer, "d").opaque());
        layer.setOpaque(p("d"), false);
        assertFalse(stat(layer, "d").opaque());
        layer.setOpaque(p("d"), false);
        if (keepsOverlayXattrs()) {
            layer.setRedirect(p("d"), "/a/b");
            assertEquals("/a/b", stat(layer, "d").redirect());
            layer.setRedirect(p("d"), "sibling");
            assertEquals("sibling", stat(layer, "d").redirect());
            layer.setRedirect(p("d"), null);
            assertNull(stat(layer, "d").redirect());
            layer.writeOverlayXattr(p("d"), "origin", new byte[] {7, 8});
            assertArrayEquals(new byte[] {7, 8}, layer.readOverlayXattr(p("d"), "origin").orElseThrow());
        } else {
            assertErrno(Errno.EXDEV, () -> layer.setRedirect(p("d"), "/a/b"));
            layer.setRedirect(p("d"), null);
            assertNull(stat(layer, "d").redirect());
            layer.writeOverlayXattr(p("d"), "origin", new byte[] {7, 8});
            assertTrue(layer.readOverlayXattr(p("d"), "origin").isEmpty());
        }
        layer.setOpaque(p("d"), true);
        assertEquals(List.of(), layer.listXattrs(p("d")), "overlay marks are hidden");
        writeFile(layer, "f", "x");
        assertErrno(Errno.ENOTDIR, () -> layer.setOpaque(p("f"), true));
    }

    @Test
    public void noSymlinkIsFollowedOnTheWayOrAtTheEnd() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/target", "x");
        layer.setPermissions(p("d/target"), 0600);
        layer.createSymlink(p("l"), "d", owned(0777));
        layer.createSymlink(p("d/l2"), "target", owned(0777));
        assertErrno(Errno.ENOTDIR, () -> layer.createFile(p("l/f"), owned(0644)).close());
        assertErrno(Errno.ENOTDIR, () -> layer.createDirectory(p("l/sub"), owned(0755)));
        assertTrue(layer.stat(p("d/f")).isEmpty());
        assertErrno(Errno.EOPNOTSUPP, () -> layer.setPermissions(p("d/l2"), 0777));
        assertErrno(Errno.ELOOP, () -> layer.openWrite(p("d/l2")).close());
        assertEquals(0600, stat(layer, "d/target").permissions());
        layer.delete(p("l"));
        assertEquals(EntryType.DIRECTORY, stat(layer, "d").type(), "delete removes the link, not its target");
    }

    @Test
    public void operationsOnMissingEntriesFailWithEnoent() throws IOException {
        owned(0);
        assertErrno(Errno.ENOENT, () -> layer.setPermissions(p("missing"), 0644));
        assertErrno(Errno.ENOENT, () -> layer.setTimes(p("missing"), 0, 0));
        assertErrno(Errno.ENOENT, () -> layer.setXattr(p("missing"), "user.a", new byte[] {1}, XattrMode.CREATE_OR_REPLACE));
        assertErrno(Errno.ENOENT, () -> layer.removeXattr(p("missing"), "user.a"));
        assertErrno(Errno.ENOENT, () -> layer.setOpaque(p("missing"), true));
        assertErrno(Errno.ENOENT, () -> layer.rename(p("missing"), p("other"), RenameMode.NOREPLACE));
    }

    @Test
    public void createSpecialRefusesTypesThatAreNotSpecialWithEinval() throws IOException {
        assertErrno(Errno.EINVAL, () -> layer.createSpecial(p("x"), EntryType.DIRECTORY, owned(0755), 0));
        assertErrno(Errno.EINVAL, () -> layer.createSpecial(p("x"), EntryType.WHITEOUT, owned(0), 0));
        assertTrue(layer.stat(p("x")).isEmpty());
    }

    @Test
    public void theWorkAreaStartsEmptyEachTimeTheLayerIsOpened() throws IOException {
        WritableLayer work = layer.workArea();
        assertEquals(Set.of(), names(work, ""));
        work.createDirectory(p("leftover"), owned(0700));
        writeFile(work, "leftover/f", "x");
        work.createSymlink(p("leftover/l"), "/", owned(0777));
        writeFile(layer, "kept", "x");
        layer.close();
        layer = openWritable(storage);
        assertEquals(Set.of(), names(layer.workArea(), ""));
        assertEquals("x", read(layer, "kept"));
    }

    @Test
    public void publishMovesAFullyBuiltEntryIntoTheTreeAtOnce() throws IOException {
        writeFile(layer, "target", "old");
        WritableLayer work = layer.workArea();
        try (WritableContent staged = work.createFile(p("staged"), owned(0600))) {
            staged.write(ByteBuffer.wrap("half".getBytes(StandardCharsets.UTF_8)), 0);
            assertEquals("old", read(layer, "target"), "the target is untouched while the entry is built");
            staged.write(ByteBuffer.wrap("-and-the-rest".getBytes(StandardCharsets.UTF_8)), 4);
        }
        layer.publish(p("staged"), p("target"), RenameMode.REPLACE);
        assertEquals("half-and-the-rest", read(layer, "target"));
        assertEquals(0600, stat(layer, "target").permissions());
        assertTrue(work.stat(p("staged")).isEmpty());
    }

    @Test
    public void publishWithExchangeLeavesTheOldEntryAtTheStagedName() throws IOException {
        writeFile(layer, "target", "old");
        writeFile(layer.workArea(), "staged", "new");
        layer.publish(p("staged"), p("target"), RenameMode.EXCHANGE);
        assertEquals("new", read(layer, "target"));
        assertEquals("old", read(layer.workArea(), "staged"));
    }

    @Test
    public void publishWithNoreplaceFailsWithEexistAndKeepsTheStagedEntry() throws IOException {
        writeFile(layer, "target", "old");
        layer.workArea().createDirectory(p("staged"), owned(0755));
        assertErrno(Errno.EEXIST, () -> layer.publish(p("staged"), p("target"), RenameMode.NOREPLACE));
        assertEquals(EntryType.DIRECTORY, stat(layer.workArea(), "staged").type());
        assertEquals("old", read(layer, "target"));
        layer.publish(p("staged"), p("fresh"), RenameMode.NOREPLACE);
        assertEquals(EntryType.DIRECTORY, stat(layer, "fresh").type());
    }

    @Test
    public void anIndexEntryIsPublishedFromTheWorkAreaAndLinkedUnderNamesOfTheTree() throws IOException {
        assumeTrue(supportsIndex(), "SKIPPED: this layer keeps no index");
        WritableLayer index = layer.indexArea();
        layer.createDirectory(p("d"), owned(0755));
        writeFile(index.workArea(), "staged", "shared");
        index.publish(p("staged"), p("key"), RenameMode.NOREPLACE);
        assertTrue(layer.workArea().stat(p("staged")).isEmpty());
        layer.linkFromIndex(p("key"), p("a"));
        layer.linkFromIndex(p("key"), p("d/b"));
        assertEquals(stat(index, "key").inode(), stat(layer, "a").inode());
        assertEquals(stat(index, "key").inode(), stat(layer, "d/b").inode());
        assertEquals(3, stat(layer, "d/b").nlink());
        assertEquals("shared", read(layer, "d/b"));
        assertEquals(Set.of("key"), names(index, ""));
    }

    @Test
    public void theIndexKeepsItsEntriesWhenTheLayerIsReopened() throws IOException {
        assumeTrue(supportsIndex(), "SKIPPED: this layer keeps no index");
        writeFile(layer.workArea(), "staged", "kept");
        layer.indexArea().publish(p("staged"), p("key"), RenameMode.NOREPLACE);
        layer.linkFromIndex(p("key"), p("a"));
        layer.close();
        layer = openWritable(storage);
        assertEquals(Set.of("key"), names(layer.indexArea(), ""));
        assertEquals(stat(layer.indexArea(), "key").inode(), stat(layer, "a").inode());
        assertEquals("kept", read(layer.indexArea(), "key"));
    }

    @Test
    public void indexPublishAndLinkFailWithTheErrnoOfRenameat2AndLinkat() throws IOException {
        assumeTrue(supportsIndex(), "SKIPPED: this layer keeps no index");
        WritableLayer index = layer.indexArea();
        writeFile(layer.workArea(), "first", "1");
        writeFile(layer.workArea(), "second", "2");
        index.publish(p("first"), p("key"), RenameMode.NOREPLACE);
        assertErrno(Errno.EEXIST, () -> index.publish(p("second"), p("key"), RenameMode.NOREPLACE));
        assertEquals("1", read(index, "key"));
        writeFile(layer, "taken", "t");
        assertErrno(Errno.EEXIST, () -> layer.linkFromIndex(p("key"), p("taken")));
        assertErrno(Errno.ENOENT, () -> layer.linkFromIndex(p("missing"), p("n")));
        assertErrno(Errno.ENOENT, () -> layer.linkFromIndex(p("key"), p("no/such/dir")));
        assertEquals(1, stat(index, "key").nlink());
    }

    /** 20 names of 250 bytes: 5019 bytes below the root. */
    private static EntryPath deepPath() {
        EntryPath path = EntryPath.ROOT;
        for (int i = 1; i <= 20; i++) {
            path = path.resolve(String.format("%02d", i) + "x".repeat(248));
        }
        return path;
    }

    @Test
    public void entriesDeeperThanPathMaxWorkLikeAnyOther() throws IOException {
        assumeTrue(supportsPathsLongerThanPathMax(), "SKIPPED: the layer declares it holds no path longer than PATH_MAX");
        EntryPath deep = deepPath();
        for (int i = 1; i <= deep.nameCount(); i++) {
            layer.createDirectory(deep.subpath(i), owned(0755));
        }
        EntryPath file = deep.resolve("f");
        try (WritableContent c = layer.createFile(file, owned(0644))) {
            c.write(ByteBuffer.wrap("deep".getBytes(StandardCharsets.UTF_8)), 0);
        }
        assertEquals(4, layer.stat(file).orElseThrow().size());
        try (ReadableContent c = layer.openRead(file)) {
            ByteBuffer bytes = ByteBuffer.allocate(4);
            assertEquals(4, c.read(bytes, 0));
            assertEquals("deep", new String(bytes.array(), StandardCharsets.UTF_8));
        }
        try (WritableContent c = layer.openWrite(file)) {
            c.truncate(2);
        }
        layer.setPermissions(file, 0600);
        layer.setTimes(file, WritableLayer.TIME_OMIT, 1_000_000_000_000_000_000L);
        EntryAttributes changed = layer.stat(file).orElseThrow();
        assertEquals(2, changed.size());
        assertEquals(0600, changed.permissions());
        assertEquals(1_000_000_000_000_000_000L, changed.mtimeNanos());
        layer.link(file, deep.resolve("g"));
        assertEquals(2, layer.stat(file).orElseThrow().nlink());
        layer.rename(deep.resolve("g"), p("shallow"), RenameMode.NOREPLACE);
        layer.rename(p("shallow"), deep.resolve("h"), RenameMode.NOREPLACE);
        layer.createSymlink(deep.resolve("s"), "f", owned(0777));
        assertEquals("f", layer.readLink(deep.resolve("s")));
        layer.createWhiteout(deep.resolve("w"));
        assertEquals(EntryType.WHITEOUT, layer.stat(deep.resolve("w")).orElseThrow().type());
        Set<String> names;
        try (Stream<DirectoryEntry> entries = layer.list(deep)) {
            names = entries.map(DirectoryEntry::name).collect(Collectors.toSet());
        }
        assertEquals(Set.of("f", "h", "s", "w"), names);
        for (String name : names) {
            layer.delete(deep.resolve(name));
        }
        for (int i = deep.nameCount(); i >= 1; i--) {
            layer.delete(deep.subpath(i));
        }
        assertEquals(Set.of(), names(layer, ""));
    }

    @Test
    public void aNameLongerThan255BytesFailsWithEnametoolong() throws IOException {
        String longest = "n".repeat(255);
        EntryPath tooLong = p("n".repeat(256));
        layer.createDirectory(p(longest), owned(0755));
        assertErrno(Errno.ENAMETOOLONG, () -> layer.createFile(tooLong, owned(0644)).close());
        assertErrno(Errno.ENAMETOOLONG, () -> layer.createDirectory(tooLong, owned(0755)));
        assertErrno(Errno.ENAMETOOLONG, () -> layer.createSymlink(tooLong, "t", owned(0777)));
        assertErrno(Errno.ENAMETOOLONG, () -> layer.rename(p(longest), tooLong, RenameMode.NOREPLACE));
        assertErrno(Errno.ENAMETOOLONG, () -> layer.createFile(p(longest).resolve(tooLong), owned(0644)).close());
        assertEquals(Set.of(longest), names(layer, ""));
    }

    @Test
    public void syncSucceedsAndKeepsWhatWasWritten() throws IOException {
        writeFile(layer, "f", "durable");
        layer.sync();
        assertEquals("durable", read(layer, "f"));
    }

    @Test
    public void syncDirectorySucceedsForTheRootAndADirectory() throws IOException {
        layer.createDirectory(p("d"), owned(0755));
        writeFile(layer, "d/f", "durable");
        layer.syncDirectory(p("d"), true);
        layer.syncDirectory(EntryPath.ROOT, false);
        assertEquals("durable", read(layer, "d/f"));
    }
}
