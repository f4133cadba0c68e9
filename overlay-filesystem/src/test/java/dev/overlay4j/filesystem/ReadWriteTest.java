package dev.overlay4j.filesystem;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadWriteTest extends WritableOverlayFixture {

    @Test
    void readsTheTopmostLayersFile() throws IOException {
        assertEquals("top", Files.readString(layers.path("/shadowed")));
        assertEquals("base", Files.readString(layers.path("/base.txt")));
        assertEquals("a-top", Files.readString(layers.path("/dir/a")));
        assertEquals("b", Files.readString(layers.path("dir/b")));
    }

    @Test
    void aDirectoryOpensForReadingAndEachReadFailsWithEisdirAsInTheJdk() throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(layers.path("/dir"))) {
            IOException read = assertThrows(IOException.class, () -> channel.read(ByteBuffer.allocate(8)));
            assertEquals(Errno.EISDIR, Errno.of(read));
            assertEquals("Is a directory", read.getMessage());
            assertEquals(Files.size(layers.path("/dir")), channel.size());
        }
        IOException readAll = assertThrows(IOException.class, () -> Files.readAllBytes(layers.path("/")));
        assertEquals(Errno.EISDIR, Errno.of(readAll));
        FileSystemException write = assertThrows(FileSystemException.class,
                () -> Files.newByteChannel(layers.path("/dir"), StandardOpenOption.WRITE));
        assertEquals(Errno.EISDIR, Errno.of(write));
    }

    @Test
    void writtenFilesReadBackAndLandInTheUpperLayer() throws IOException {
        Files.writeString(layers.path("/new.txt"), "hello");
        assertEquals("hello", Files.readString(layers.path("/new.txt")));
        assertArrayEquals("hello".getBytes(UTF_8), Files.readAllBytes(layers.path("/new.txt")));
        assertEquals("hello", Files.readString(layers.upper.resolve("new.txt")));
    }

    @Test
    void overwritingALowerFileCopiesItUpAndLeavesTheLowerAlone() throws IOException {
        Files.writeString(layers.path("/base.txt"), "changed");
        assertEquals("changed", Files.readString(layers.path("/base.txt")));
        assertEquals("base", Files.readString(layers.bottom.resolve("base.txt")));
    }

    @Test
    void appendAddsToTheEndOfALowerFile() throws IOException {
        Files.writeString(layers.path("/base.txt"), "+more", StandardOpenOption.APPEND);
        Files.writeString(layers.path("/base.txt"), "!", StandardOpenOption.APPEND);
        assertEquals("base+more!", Files.readString(layers.path("/base.txt")));
    }

    @Test
    void truncateExistingEmptiesTheFile() throws IOException {
        Files.writeString(layers.path("/top.txt"), "x", StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals("x", Files.readString(layers.path("/top.txt")));
        try (SeekableByteChannel channel = Files.newByteChannel(layers.path("/shadowed"), StandardOpenOption.WRITE)) {
            channel.truncate(1);
            assertEquals(1, channel.size());
        }
        assertEquals("t", Files.readString(layers.path("/shadowed")));
    }

    @Test
    void writingPastTheEndLeavesAZeroGap() throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(layers.path("/sparse"),
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
            channel.position(1 << 20);
            channel.write(ByteBuffer.wrap("end".getBytes(UTF_8)));
            assertEquals((1 << 20) + 3, channel.position());
        }
        byte[] content = Files.readAllBytes(layers.path("/sparse"));
        assertEquals((1 << 20) + 3, content.length);
        assertEquals(0, content[0]);
        assertEquals(0, content[(1 << 20) - 1]);
        assertEquals("end", new String(content, 1 << 20, 3, UTF_8));
    }

    @Test
    void positionalReadsAndWritesThroughAFileChannel() throws IOException {
        try (FileChannel channel = FileChannel.open(layers.path("/dir/a"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap("A".getBytes(UTF_8)), 0);
            ByteBuffer read = ByteBuffer.allocate(4);
            assertEquals(4, channel.read(read, 1));
            assertEquals("-top", new String(read.array(), UTF_8));
            assertEquals(0, channel.position());
            assertEquals(-1, channel.read(ByteBuffer.allocate(1), 5));
        }
        assertEquals("A-top", Files.readString(layers.path("/dir/a")));
    }

    @Test
    void createNewOnAnExistingFileFails() {
        assertThrows(FileAlreadyExistsException.class, () -> Files.createFile(layers.path("/top.txt")));
        assertThrows(FileAlreadyExistsException.class,
                () -> Files.newByteChannel(layers.path("/base.txt"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    @Test
    void openingAMissingFileWithoutCreateFails() {
        assertThrows(NoSuchFileException.class, () -> Files.readString(layers.path("/missing")));
        assertThrows(NoSuchFileException.class,
                () -> Files.newByteChannel(layers.path("/missing"), StandardOpenOption.WRITE));
        assertThrows(NoSuchFileException.class, () -> Files.writeString(layers.path("/nodir/file"), "x"));
    }

    @Test
    void readAndAppendTogetherAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Files.newByteChannel(layers.path("/top.txt"),
                StandardOpenOption.READ, StandardOpenOption.APPEND));
    }

    @Test
    void createFileUsesTheUmaskedDefaultPermissions() throws IOException {
        Path file = Files.createFile(layers.path("/fresh"));
        int umask = ProcessIdentity.current().umask();
        assertEquals(PermissionBits.fromBits(0666 & ~umask), Files.getPosixFilePermissions(file));
        assertEquals(0L, Files.size(file));
    }

    @Test
    void aClosedChannelRefusesWork() throws IOException {
        SeekableByteChannel channel = Files.newByteChannel(layers.path("/top.txt"));
        channel.close();
        channel.close();
        assertFalse(channel.isOpen());
        assertThrows(ClosedChannelException.class, () -> channel.read(ByteBuffer.allocate(1)));
    }

    @Test
    void noFollowLinksOnASymlinkIsEloop() throws IOException {
        Files.createSymbolicLink(layers.path("/link"), layers.path("top.txt"));
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> Files.newByteChannel(layers.path("/link"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(Errno.ELOOP, Errno.of(e));
    }

    @Test
    void deleteOnCloseRemovesTheFile() throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(layers.path("/temp"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE)) {
            channel.write(ByteBuffer.wrap(new byte[] {1}));
            assertTrue(Files.exists(layers.path("/temp")));
        }
        assertFalse(Files.exists(layers.path("/temp")));
    }

    @Test
    void oneChannelServesManyThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (SeekableByteChannel channel = Files.newByteChannel(layers.path("/shared"), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                writes.add(pool.submit(() -> {
                    for (int j = 0; j < 100; j++) {
                        channel.write(ByteBuffer.wrap("0123456789".getBytes(UTF_8)));
                    }
                    return null;
                }));
            }
            for (Future<?> write : writes) {
                write.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals("0123456789".repeat(400), Files.readString(layers.path("/shared")));
    }
}
