package dev.overlay4j.s3;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocks of object versions kept on local disk, bounded in size, least recently used evicted
 * first, shared by every layer and process that names the same directory. A block file is
 * written under a temporary name and renamed into place, so readers in any process see a whole
 * block or none; a block's name holds the object version (endpoint, bucket, key, ETag) and the
 * block size, so a changed object never reads old bytes. Recency is the file's mtime, touched on
 * each hit.
 */
final class DiskBlockCache {

    private static final System.Logger LOG = System.getLogger(DiskBlockCache.class.getName());
    private static final String SUFFIX = ".blk";
    private static final String TEMP_SUFFIX = ".part";

    private final Path root;
    private final long capacity;
    /** An estimate (other processes write too); eviction recounts from the directory. */
    private final AtomicLong size = new AtomicLong();
    private final Object evictionLock = new Object();

    DiskBlockCache(Path root, long capacity) throws IOException {
        this.root = root;
        this.capacity = capacity;
        Files.createDirectories(root);
        size.set(scan().stream().mapToLong(CachedFile::size).sum());
    }

    /**
     * Reads the block's {@code expectedLength} bytes into the start of {@code into}; false when
     * it is not cached (or was evicted meanwhile, or is damaged).
     */
    boolean read(String version, long index, int expectedLength, byte[] into) {
        FileChannel channel = open(version, index, expectedLength);
        if (channel == null) {
            return false;
        }
        try (channel) {
            return readFully(channel, 0, ByteBuffer.wrap(into, 0, expectedLength));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot read cached block " + file(version, index) + ": " + e);
            return false;
        }
    }

    /**
     * Fills {@code dst} from {@code channel}'s bytes at {@code position} on; false if the file
     * ends first.
     */
    static boolean readFully(FileChannel channel, long position, ByteBuffer dst) throws IOException {
        for (long at = position; dst.hasRemaining(); ) {
            int n = channel.read(dst, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        return true;
    }

    /** Whether the block is cached whole. */
    boolean contains(String version, long index, int expectedLength) {
        try {
            return Files.size(file(version, index)) == expectedLength;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The cached block's file, open for reading and marked as just used; null when it is not
     * cached (or is damaged). Its bytes stay readable if the block is evicted meanwhile: blocks
     * are never rewritten in place.
     */
    FileChannel open(String version, long index, int expectedLength) {
        Path file = file(version, index);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            if (channel.size() != expectedLength) {
                channel.close();
                Files.deleteIfExists(file);
                return null;
            }
            try {
                Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
            } catch (NoSuchFileException ignored) {
                // Evicted by someone else since we opened it: the open file still reads right.
            }
            return channel;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot read cached block " + file + ": " + e);
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // Nothing more to undo.
                }
            }
            return null;
        }
    }

    /** Caches the first {@code length} bytes of {@code bytes} as the block. */
    void put(String version, long index, byte[] bytes, int length) {
        Path file = file(version, index);
        Path temp = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + TEMP_SUFFIX);
        try {
            Files.createDirectories(file.getParent());
            try (java.io.OutputStream out = Files.newOutputStream(temp)) {
                out.write(bytes, 0, length);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.deleteIfExists(temp);
                return;
            }
            if (size.addAndGet(length) > capacity) {
                evict();
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot write cached block " + file + ": " + e);
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // Left for the next eviction scan, which removes stale temporary files.
            }
        }
    }

    private Path file(String version, long index) {
        String hash = sha256(version);
        return root.resolve(hash.substring(0, 2)).resolve(hash.substring(2) + "-" + index + SUFFIX);
    }

    private record CachedFile(Path path, long size, long modifiedMillis) {
    }

    /** Drops the least recently used blocks until the cache is at 90% of its bound. */
    private void evict() {
        synchronized (evictionLock) {
            try {
                List<CachedFile> files = scan();
                long total = files.stream().mapToLong(CachedFile::size).sum();
                files.sort(java.util.Comparator.comparingLong(CachedFile::modifiedMillis));
                long target = capacity / 10 * 9;
                for (CachedFile f : files) {
                    if (total <= target) {
                        break;
                    }
                    if (Files.deleteIfExists(f.path())) {
                        total -= f.size();
                    }
                }
                size.set(total);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot evict from block cache " + root + ": " + e);
            }
        }
    }

    private List<CachedFile> scan() throws IOException {
        List<CachedFile> files = new ArrayList<>();
        long staleTemp = System.currentTimeMillis() - 3_600_000;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (DirectoryStream<Path> blocks = Files.newDirectoryStream(dir)) {
                    for (Path block : blocks) {
                        String name = block.getFileName().toString();
                        try {
                            BasicFileAttributes a = Files.readAttributes(block, BasicFileAttributes.class);
                            if (name.endsWith(SUFFIX)) {
                                files.add(new CachedFile(block, a.size(), a.lastModifiedTime().toMillis()));
                            } else if (name.endsWith(TEMP_SUFFIX) && a.lastModifiedTime().toMillis() < staleTemp) {
                                // A writer died between write and rename.
                                Files.deleteIfExists(block);
                            }
                        } catch (NoSuchFileException ignored) {
                            // Evicted or renamed by another process while we looked.
                        }
                    }
                } catch (NoSuchFileException ignored) {
                    // Removed meanwhile.
                }
            }
        }
        return files;
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
