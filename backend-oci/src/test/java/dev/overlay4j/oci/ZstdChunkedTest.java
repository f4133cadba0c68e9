package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A zstd:chunked layer opens from its manifest and reads each file from its own zstd frames. */
class ZstdChunkedTest {

    private static final int CHUNK = 64 << 10;
    /** 10 chunks: noise, then 3 chunks of zeros (a hole the TOC marks), then noise again. */
    private static final byte[] BIG = new byte[10 * CHUNK - 123];

    static {
        Random random = new Random(9);
        random.nextBytes(BIG);
        Arrays.fill(BIG, 4 * CHUNK, 7 * CHUNK, (byte) 0);
    }

    @TempDir
    Path tmp;

    private static List<TarWriter.Member> members() {
        return List.of(
                TarWriter.dir("etc/"),
                TarWriter.file("etc/hostname", "box\n").owner(5, 6),
                TarWriter.hardLink("etc/hard", "etc/hostname"),
                TarWriter.symlink("etc/link", "hostname"),
                TarWriter.file("etc/empty", ""),
                TarWriter.file("big", BIG).mode(0755),
                TarWriter.file("last", "the last file\n"));
    }

    private byte[] blob() throws IOException {
        ZstdChunkedWriter writer = new ZstdChunkedWriter(CHUNK);
        for (TarWriter.Member m : members()) {
            writer.add(m);
        }
        return writer.bytes();
    }

    private Map<String, String> plain() throws IOException {
        TarWriter tar = new TarWriter();
        members().forEach(tar::add);
        try (TarLayer layer = TarLayer.open(tar.write(tmp.resolve("plain.tar")), "plain", IndexCache.NONE)) {
            return LayerSnapshot.of(layer, true);
        }
    }

    @Test
    void aZstdChunkedLayerOpensFromItsManifestAloneAndShowsWhatItsTarHolds() throws IOException {
        byte[] bytes = blob();
        Path file = Files.write(tmp.resolve("layer.tar.zst"), bytes);
        long manifestLength = ByteBuffer.wrap(bytes, bytes.length - ZstdChunked.FOOTER, ZstdChunked.FOOTER)
                .order(ByteOrder.LITTLE_ENDIAN).getLong(bytes.length - ZstdChunked.FOOTER + 16);
        CountingBlob blob = new CountingBlob(file);
        try (TarLayer layer = TarLayer.open(blob, IndexKey.ofFile(file), "zstd:chunked", IndexCache.NONE)) {
            assertEquals(4 + ZstdChunked.FOOTER + manifestLength, blob.bytesRead.get(),
                    "the magic number, the footer and the manifest: no byte of the files");
            assertEquals(plain(), LayerSnapshot.of(layer, true));
        }
    }

    @Test
    void decompressedWholeTheBlobIsTheSameTar() throws IOException {
        Path file = Files.write(tmp.resolve("layer.tar.zst"), blob());
        try (InputStream in = Compression.ZSTD.decompress(Files.newInputStream(file))) {
            TarReader reader = new TarReader(in);
            List<String> names = new java.util.ArrayList<>();
            for (TarEntry e; (e = reader.next()) != null; ) {
                names.add(e.name());
            }
            assertEquals(members().stream().map(m -> m.name).toList(), names);
        }
    }

    @Test
    void skippableFramesAnywhereAreSkippedAsRfc8878Says() throws IOException {
        byte[] a = "first frame\n".repeat(1000).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] b = new byte[70_000]; // noise: raw blocks
        new Random(1).nextBytes(b);
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        blob.writeBytes(new byte[] {0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9}); // magic 0x184D2A5E, 3 bytes
        blob.writeBytes(ZstdChunkedWriter.zstd(a));
        blob.writeBytes(new byte[] {0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}); // an empty one
        blob.writeBytes(ZstdChunkedWriter.zstd(b));
        try (InputStream in = Compression.ZSTD.decompress(new java.io.ByteArrayInputStream(blob.toByteArray()))) {
            byte[] both = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            assertArrayEquals(both, in.readAllBytes());
        }
    }

    @Test
    void readsDecompressOnlyTheFramesThatHoldThemAndAHoleReadsAsZeros() throws IOException {
        Path file = Files.write(tmp.resolve("layer.tar.zst"), blob());
        LayerIndex index = LayerIndex.build(new FileBlob(file), GzipIndexer.DEFAULT_INTERVAL);
        assertEquals(1 + 10 + 1, index.chunks().chunks().size(), "etc/hostname's, 10 of big, last's");
        assertEquals(3, index.chunks().chunks().stream().filter(c -> c.member() < 0).count(), "three chunks of zeros");
        TarEntry big = index.entries().stream().filter(e -> e.name().equals("big")).findFirst().orElseThrow();
        try (ChunkedArchive archive = (ChunkedArchive) index.archive(new FileBlob(file))) {
            ByteBuffer got = ByteBuffer.allocate(10);
            assertEquals(10, archive.read(got, big.dataOffset() + BIG.length - 10));
            assertArrayEquals(Arrays.copyOfRange(BIG, BIG.length - 10, BIG.length), got.array());
            assertEquals(CHUNK - 123, archive.inflated.get(), "the last chunk alone");
            ByteBuffer hole = ByteBuffer.allocate(CHUNK);
            assertEquals(CHUNK, archive.read(hole, big.dataOffset() + 5 * CHUNK));
            assertArrayEquals(new byte[CHUNK], hole.array());
            assertEquals(CHUNK - 123, archive.inflated.get(), "a hole decompresses nothing");

            Random random = new Random(3);
            for (int i = 0; i < 200; i++) {
                int offset = random.nextInt(BIG.length);
                int length = 1 + random.nextInt(Math.min(BIG.length - offset, 200_000));
                ByteBuffer buffer = ByteBuffer.allocate(length);
                assertEquals(length, archive.read(buffer, big.dataOffset() + offset));
                assertArrayEquals(Arrays.copyOfRange(BIG, offset, offset + length), buffer.array(), "at " + offset);
            }
        }
    }

    @Test
    void theSecondOpenTakesTheManifestFromTheCacheAndReadsNothing() throws IOException {
        Path file = Files.write(tmp.resolve("layer.tar.zst"), blob());
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        TarLayer.open(new CountingBlob(file), IndexKey.ofFile(file), "zstd:chunked", cache).close();
        CountingBlob blob = new CountingBlob(file);
        try (TarLayer layer = TarLayer.open(blob, IndexKey.ofFile(file), "zstd:chunked", cache)) {
            LayerSnapshot.of(layer, false);
            assertEquals(0, blob.reads.get());
            assertEquals(plain(), LayerSnapshot.of(layer, true));
        }
    }

    @Test
    void aDamagedFrameIsAnIoErrorNotWrongBytes() throws IOException {
        byte[] bytes = blob();
        Path file = Files.write(tmp.resolve("layer.tar.zst"), bytes);
        LayerIndex index = LayerIndex.build(new FileBlob(file), GzipIndexer.DEFAULT_INTERVAL);
        ChunkIndex.Chunk second = index.chunks().chunks().get(2); // big's second chunk
        bytes[(int) second.member() + 5000] ^= 0x40;
        Files.write(file, bytes);
        try (TarLayer layer = TarLayer.open(file, "zstd:chunked", new IndexCache(tmp.resolve("cache")));
             ReadableContent big = layer.openRead(EntryPath.of("big"))) {
            assertEquals(10, big.read(ByteBuffer.allocate(10), 0), "the first chunk is whole");
            IOException thrown = assertThrows(IOException.class, () -> big.read(ByteBuffer.allocate(10), CHUNK + 5));
            assertEquals(Errno.EIO, Errno.of(thrown), thrown::toString);
            assertTrue(thrown.getMessage().contains("big"), thrown.getMessage());
        }
    }
}
