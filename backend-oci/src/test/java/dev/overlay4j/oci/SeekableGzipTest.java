package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a gzip layer at any position inflates one span from the checkpoint before it, never the whole blob. */
class SeekableGzipTest {

    /** Small, so that the 13 MiB layer has many checkpoints; the default is 2 MiB. */
    private static final int INTERVAL = 256 << 10;

    @TempDir
    Path tmp;

    /** The files of the layer, in archive order: big ones of text and of noise, and 300 small ones. */
    static final Map<String, byte[]> FILES = new LinkedHashMap<>();
    static byte[] tar;

    @BeforeAll
    static void files() {
        Random random = new Random(15);
        FILES.put("big/text-1", text(random, 4 << 20));
        FILES.put("big/noise", noise(random, 3 << 20));
        for (int i = 0; i < 300; i++) {
            FILES.put(String.format("small/f%03d", i), i % 2 == 0 ? text(random, 100 + i * 37) : noise(random, 50 + i * 11));
        }
        FILES.put("big/text-2", text(random, 5 << 20));
        FILES.put("last", "the last file\n".getBytes(StandardCharsets.UTF_8));
        TarWriter writer = new TarWriter();
        FILES.forEach((name, data) -> writer.add(TarWriter.file(name, data)));
        tar = writer.bytes();
    }

    /** Words drawn at random: deflate codes them with Huffman blocks and back-references that reach across checkpoints. */
    private static byte[] text(Random random, int length) {
        String[] words = {"layer ", "overlay ", "whiteout ", "opaque ", "inode ", "checkpoint ", "window ", "block\n", "tar ", "gzip "};
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 16);
        while (out.size() < length) {
            out.writeBytes(words[random.nextInt(words.length)].getBytes(StandardCharsets.US_ASCII));
            if (random.nextInt(50) == 0) {
                out.writeBytes(Integer.toString(random.nextInt()).getBytes(StandardCharsets.US_ASCII));
            }
        }
        return java.util.Arrays.copyOf(out.toByteArray(), length);
    }

    /** Bytes deflate cannot shrink: it stores them. */
    private static byte[] noise(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    static byte[] gzip(byte[] data, int from, int to) throws IOException {
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(compressed, 1 << 16)) {
            gz.write(data, from, to - from);
        }
        return compressed.toByteArray();
    }

    /** The archive as several gzip members one after another, cut at {@code cuts}. */
    static byte[] members(byte[] data, int... cuts) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            all.writeBytes(gzip(data, from, cut));
            from = cut;
        }
        all.writeBytes(gzip(data, from, data.length));
        return all.toByteArray();
    }

    private static Map<String, TarEntry> entries(LayerIndex index) {
        Map<String, TarEntry> entries = new LinkedHashMap<>();
        for (TarEntry e : index.entries()) {
            entries.put(e.name(), e);
        }
        return entries;
    }

    /** 400 reads at random files, offsets and lengths, each checked against the plain bytes. */
    private static void readsEqualThePlainBytes(ArchiveBytes archive, Map<String, TarEntry> entries) throws IOException {
        Random random = new Random(1);
        List<String> names = List.copyOf(FILES.keySet());
        for (int i = 0; i < 400; i++) {
            String name = names.get(random.nextInt(names.size()));
            byte[] expected = FILES.get(name);
            int offset = random.nextInt(expected.length);
            int length = 1 + random.nextInt(Math.min(expected.length - offset, i % 10 == 0 ? 1 << 20 : 9000));
            ByteBuffer got = ByteBuffer.allocate(length);
            assertEquals(length, archive.read(got, entries.get(name).dataOffset() + offset));
            assertArrayEquals(java.util.Arrays.copyOfRange(expected, offset, offset + length), got.array(),
                    () -> name + " at " + offset + " (" + length + " bytes)");
        }
    }

    @Test
    void randomReadsAtManyOffsetsEqualThePlainBytesFreshAndFromTheCache() throws IOException {
        Path file = Files.write(tmp.resolve("layer.tar.gz"), gzip(tar, 0, tar.length));
        LayerIndex built = LayerIndex.build(new FileBlob(file), INTERVAL);
        GzipIndex gzip = built.gzip();
        assertEquals(tar.length, gzip.size());
        for (int i = 0; i + 1 < gzip.checkpoints().size(); i++) {
            long span = gzip.spanEnd(i) - gzip.checkpoints().get(i).out();
            assertTrue(span >= INTERVAL && span < 2 * INTERVAL, "span " + i + ": the interval and part of a block, " + span);
        }
        assertTrue(gzip.checkpoints().size() > tar.length / (2 * INTERVAL), gzip.checkpoints().size() + " checkpoints");
        assertTrue(gzip.checkpoints().stream().anyMatch(c -> c.bits() != 0), "some checkpoints start inside a byte (inflatePrime)");
        assertTrue(gzip.checkpoints().stream().skip(1).allMatch(c -> c.windowLength() == GzipIndexer.WINDOW));
        try (ArchiveBytes archive = built.archive(new FileBlob(file))) {
            readsEqualThePlainBytes(archive, entries(built));
        }

        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        IndexKey key = IndexKey.ofDigest("sha256:layer");
        LayerIndex loaded = cache.store(key, built).orElseThrow();
        assertTrue(loaded.gzip().windows() instanceof GzipIndex.InFile, "a loaded index reads its windows from the file");
        assertEquals(built.gzip().checkpoints(), loaded.gzip().checkpoints());
        try (ArchiveBytes archive = loaded.archive(new FileBlob(file))) {
            readsEqualThePlainBytes(archive, entries(loaded));
        }
    }

    @Test
    void aReadNearTheEndInflatesOneSpanNotTheBlob() throws IOException {
        Path file = Files.write(tmp.resolve("layer.tar.gz"), gzip(tar, 0, tar.length));
        LayerIndex index = LayerIndex.build(new FileBlob(file), INTERVAL);
        long offset = entries(index).get("big/text-2").dataOffset() + (5 << 20) - 1000;
        try (SeekableGzip archive = (SeekableGzip) index.archive(new FileBlob(file))) {
            ByteBuffer got = ByteBuffer.allocate(100);
            assertEquals(100, archive.read(got, offset));
            int span = index.gzip().spanOf(offset);
            long spanLength = index.gzip().spanEnd(span) - index.gzip().checkpoints().get(span).out();
            assertEquals(spanLength, archive.inflated.get(), "one span inflated");
            assertTrue(spanLength < 2 * INTERVAL, "a span is the interval and part of one more block: " + spanLength);
            assertTrue(offset > 12 * INTERVAL * 4, "and the read was deep into the 13 MiB stream");

            assertEquals(100, archive.read(got.clear(), offset + 100));
            assertEquals(spanLength, archive.inflated.get(), "a read in the same span inflates nothing more");
        }
    }

    @Test
    void concatenatedGzipMembersAreOneStreamWithCheckpointsInEach() throws IOException {
        byte[] blob = members(tar, 1000, 3 << 20, 3 << 20, 7_000_000, 7_000_123, tar.length - 2000);
        Path file = Files.write(tmp.resolve("members.tar.gz"), blob);
        LayerIndex index = LayerIndex.build(new FileBlob(file), INTERVAL);
        assertEquals(tar.length, index.gzip().size());
        assertEquals(FILES.size(), index.entries().size());
        long firstMembers = gzip(tar, 0, 1000).length + gzip(tar, 1000, 3 << 20).length;
        assertTrue(index.gzip().checkpoints().stream().anyMatch(c -> c.in() > firstMembers + 100), "checkpoints in later members");
        try (ArchiveBytes archive = index.archive(new FileBlob(file))) {
            readsEqualThePlainBytes(archive, entries(index));
            ByteBuffer all = ByteBuffer.allocate(tar.length);
            assertEquals(tar.length, archive.read(all, 0), "one read across every member");
            assertArrayEquals(tar, all.array());
        }
    }

    private TarLayer openByDigest(Path file, IndexCache cache) throws IOException {
        return TarLayer.open(file, IndexKey.ofDigest("sha256:" + file.getFileName()), "digest layer", cache);
    }

    private static byte[] readAll(TarLayer layer, String name) throws IOException {
        try (ReadableContent content = layer.openRead(EntryPath.of(name))) {
            ByteBuffer buffer = ByteBuffer.allocate((int) content.size());
            while (buffer.hasRemaining()) {
                content.read(buffer, buffer.position());
            }
            return buffer.array();
        }
    }

    /** Damages one byte of a blob whose index is cached by digest (so the change goes unnoticed at open) inside {@code name}'s data. */
    private void damagedDataIsAnIoError(String name) throws IOException {
        byte[] blob = gzip(tar, 0, tar.length);
        Path file = Files.write(tmp.resolve("layer.tar.gz"), blob);
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        try (TarLayer layer = openByDigest(file, cache)) {
            assertArrayEquals(FILES.get(name), readAll(layer, name));
        }
        IndexKey key = IndexKey.ofDigest("sha256:layer.tar.gz");
        LayerIndex index = IndexFile.read(cache.fileOf(key), key, blob.length);
        TarEntry entry = entries(index).get(name);
        GzipIndex.Checkpoint at = index.gzip().checkpoints().get(index.gzip().spanOf(entry.dataOffset() + entry.size() / 2));
        index.discard();
        blob[(int) at.in() + 5000] ^= 0x01; // a byte of this span's compressed data
        Files.write(file, blob);
        try (TarLayer layer = openByDigest(file, cache)) {
            IOException thrown = assertThrows(IOException.class, () -> readAll(layer, name));
            assertEquals(Errno.EIO, Errno.of(thrown), thrown::toString);
            assertTrue(thrown.getMessage().contains(name), thrown.getMessage());
            assertArrayEquals(FILES.get("last"), readAll(layer, "last"), "the rest of the layer reads on");
        }
    }

    @Test
    void aDamagedStoredBlockIsAnIoErrorNotWrongBytes() throws IOException {
        damagedDataIsAnIoError("big/noise"); // stored blocks: zlib copies the damaged byte; the span's CRC-32 catches it
    }

    @Test
    void aDamagedHuffmanBlockIsAnIoErrorNotWrongBytes() throws IOException {
        damagedDataIsAnIoError("big/text-1");
    }

    @Test
    void aDamagedOrTruncatedBlobFailsToOpenWithEio() throws IOException {
        byte[] blob = gzip(tar, 0, tar.length);
        byte[] damaged = blob.clone();
        damaged[damaged.length / 2] ^= 0x01;
        Path file = Files.write(tmp.resolve("damaged.tar.gz"), damaged);
        IOException thrown = assertThrows(IOException.class, () -> TarLayer.open(file, "damaged", IndexCache.NONE).close());
        assertEquals(Errno.EIO, Errno.of(thrown), thrown::toString);

        Path truncated = Files.write(tmp.resolve("truncated.tar.gz"), java.util.Arrays.copyOf(blob, blob.length - 100));
        thrown = assertThrows(IOException.class, () -> TarLayer.open(truncated, "truncated", IndexCache.NONE).close());
        assertEquals(Errno.EIO, Errno.of(thrown), thrown::toString);
        assertTrue(thrown.getMessage().contains("ends early"), thrown.getMessage());
    }
}
