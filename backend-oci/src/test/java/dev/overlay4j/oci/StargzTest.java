package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.ReadableContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An eStargz layer opens from its TOC, without a pass over the blob, and reads each file from its own gzip members. */
class StargzTest {

    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    private static final byte[] BIG = new byte[1_000_003];
    private static final byte[] LAST = "the last file\n".getBytes(StandardCharsets.UTF_8);

    static {
        new Random(7).nextBytes(BIG);
    }

    /** Every kind of entry the TOC lists, a file of 16 chunks, and a whiteout. */
    private static List<TarWriter.Member> members() {
        return List.of(
                TarWriter.dir("etc/"),
                TarWriter.file("etc/hostname", "box\n").owner(5, 6).xattr("user.a", new byte[] {0, 1, 2}),
                TarWriter.hardLink("etc/hard", "etc/hostname"),
                TarWriter.symlink("etc/link", "hostname"),
                TarWriter.file("etc/empty", ""),
                TarWriter.device("dev-null", '3', 1, 3),
                TarWriter.file(".wh.gone", ""),
                TarWriter.file("big", BIG).mode(0755),
                TarWriter.file("last", LAST));
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path stargz(String name) throws IOException {
        StargzWriter writer = new StargzWriter(CHUNK);
        writer.add(TarWriter.file(".prefetch.landmark", "\f"));
        for (TarWriter.Member m : members()) {
            writer.add(m);
        }
        return Files.write(tmp.resolve(name), writer.bytes());
    }

    private Path plainTar() throws IOException {
        TarWriter tar = new TarWriter();
        members().forEach(tar::add);
        return tar.write(tmp.resolve("plain.tar"));
    }

    @Test
    void anEStargzLayerOpensFromItsTocAloneAndShowsWhatItsTarHolds() throws IOException {
        Path file = stargz("layer.tar.gz");
        CountingBlob blob = new CountingBlob(file);
        long tocOffset = Stargz.tocOffset(blob);
        long before = blob.bytesRead.get();
        Map<String, String> plain;
        try (TarLayer layer = TarLayer.open(plainTar(), "plain", IndexCache.NONE)) {
            plain = LayerSnapshot.of(layer, true);
        }
        blob.bytesRead.addAndGet(-before);
        try (TarLayer layer = TarLayer.open(blob, IndexKey.ofFile(file), "stargz", IndexCache.NONE)) {
            assertEquals(4 + Stargz.FOOTER + (blob.size() - tocOffset), blob.bytesRead.get(),
                    "the magic number, the footer and the TOC to the end: no byte of the files");
            assertEquals(plain, LayerSnapshot.of(layer, true), "the same tree as the plain tar, without the landmark");
        }
    }

    @Test
    void randomReadsOfAChunkedFileInflateOnlyTheChunksThatHoldThem() throws IOException {
        Path file = stargz("layer.tar.gz");
        LayerIndex index = LayerIndex.build(new FileBlob(file), GzipIndexer.DEFAULT_INTERVAL);
        assertNull(index.gzip());
        assertNotNull(index.chunks());
        assertEquals(1 + 1 + 16 + 1, index.chunks().chunks().size(), "the landmark's, etc/hostname's, 16 of big, last's");
        TarEntry big = index.entries().stream().filter(e -> e.name().equals("big")).findFirst().orElseThrow();
        try (ChunkedArchive archive = (ChunkedArchive) index.archive(new FileBlob(file))) {
            ByteBuffer got = ByteBuffer.allocate(10);
            assertEquals(10, archive.read(got, big.dataOffset() + BIG.length - 10));
            assertArrayEquals(java.util.Arrays.copyOfRange(BIG, BIG.length - 10, BIG.length), got.array());
            assertEquals(BIG.length % CHUNK, archive.inflated.get(), "the last chunk alone");

            Random random = new Random(3);
            for (int i = 0; i < 200; i++) {
                int offset = random.nextInt(BIG.length);
                int length = 1 + random.nextInt(Math.min(BIG.length - offset, 200_000));
                ByteBuffer buffer = ByteBuffer.allocate(length);
                assertEquals(length, archive.read(buffer, big.dataOffset() + offset));
                assertArrayEquals(java.util.Arrays.copyOfRange(BIG, offset, offset + length), buffer.array(), "at " + offset);
            }
        }
    }

    @Test
    void theSecondOpenTakesTheTocFromTheCacheAndReadsNothing() throws IOException {
        Path file = stargz("layer.tar.gz");
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        Map<String, String> first;
        try (TarLayer layer = TarLayer.open(new CountingBlob(file), IndexKey.ofFile(file), "stargz", cache)) {
            first = LayerSnapshot.of(layer, true);
        }
        CountingBlob blob = new CountingBlob(file);
        try (TarLayer layer = TarLayer.open(blob, IndexKey.ofFile(file), "stargz", cache)) {
            assertEquals(first, LayerSnapshot.of(layer, false).keySet().stream().collect(
                    java.util.stream.Collectors.toMap(k -> k, first::get, (a, b) -> a, java.util.TreeMap::new)));
            assertEquals(0, blob.reads.get());
            assertEquals(first, LayerSnapshot.of(layer, true));
        }
    }

    @Test
    void aDamagedChunkIsAnIoErrorNotWrongBytes() throws IOException {
        Path file = stargz("layer.tar.gz");
        LayerIndex index = LayerIndex.build(new FileBlob(file), GzipIndexer.DEFAULT_INTERVAL);
        ChunkIndex.Chunk third = index.chunks().chunks().stream().filter(c -> c.length() == CHUNK).skip(2).findFirst().orElseThrow();
        byte[] blob = Files.readAllBytes(file);
        blob[(int) third.member() + 1000] ^= 0x40; // inside a stored block of the chunk's member
        Files.write(file, blob);
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        try (TarLayer layer = TarLayer.open(file, "stargz", cache); ReadableContent big = layer.openRead(EntryPath.of("big"))) {
            assertEquals(10, big.read(ByteBuffer.allocate(10), 0), "the first chunk is whole");
            IOException thrown = assertThrows(IOException.class, () -> big.read(ByteBuffer.allocate(10), 2L * CHUNK + 5));
            assertEquals(Errno.EIO, Errno.of(thrown), thrown::toString);
        }
    }

    @Test
    void aChunkTooLargeToHoldIsReadForwardAndStillRight() throws IOException {
        byte[] huge = new byte[(int) ChunkedArchive.LARGEST_KEPT + 1000];
        new Random(11).nextBytes(huge);
        StargzWriter writer = new StargzWriter(huge.length); // the whole file one chunk
        writer.add(TarWriter.file("huge", huge)).add(TarWriter.file("after", LAST));
        Path file = Files.write(tmp.resolve("huge.tar.gz"), writer.bytes());
        try (TarLayer layer = TarLayer.open(file, "huge", IndexCache.NONE); ReadableContent content = layer.openRead(EntryPath.of("huge"))) {
            Random random = new Random(5);
            long[] offsets = random.longs(40, 0, huge.length - 70_000).sorted().toArray();
            offsets[20] = 10; // and one read back near the start
            for (long offset : offsets) {
                ByteBuffer got = ByteBuffer.allocate(65_536);
                assertEquals(65_536, content.read(got, offset));
                assertArrayEquals(java.util.Arrays.copyOfRange(huge, (int) offset, (int) offset + 65_536), got.array(), "at " + offset);
            }
            assertEquals(sha256(LAST), LayerSnapshot.sha256(layer, EntryPath.of("after")));
        }
    }

    @Test
    void theLegacyStargzFooterIsFoundToo() throws IOException {
        byte[] legacy = new byte[Stargz.LEGACY_FOOTER];
        byte[] head = {0x1f, (byte) 0x8b, 8, 4, 0, 0, 0, 0, 0, (byte) 0xff, 22, 0};
        System.arraycopy(head, 0, legacy, 0, head.length);
        byte[] payload = String.format("%016xSTARGZ", 1234).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(payload, 0, legacy, 12, 22);
        byte[] blob = new byte[5000 + legacy.length];
        System.arraycopy(legacy, 0, blob, 5000, legacy.length);
        try (FileBlob b = new FileBlob(Files.write(tmp.resolve("legacy"), blob))) {
            assertEquals(1234, Stargz.tocOffset(b));
        }
        try (FileBlob b = new FileBlob(Files.write(tmp.resolve("plain.gz"), SeekableGzipTest.gzip(blob, 0, 100)))) {
            assertEquals(-1, Stargz.tocOffset(b));
        }
    }

    @Test
    void aFooterWhoseTocCannotBeReadFallsBackToTheFullPass() throws IOException {
        byte[] tar = new TarWriter().add(TarWriter.file("a", "a\n")).bytes();
        byte[] gz = SeekableGzipTest.gzip(tar, 0, tar.length);
        byte[] blob = java.util.Arrays.copyOf(gz, gz.length + Stargz.FOOTER);
        System.arraycopy(StargzWriter.footer(3), 0, blob, gz.length, Stargz.FOOTER); // offset 3 is inside the first member's header
        Path file = Files.write(tmp.resolve("bad-toc.tar.gz"), blob);
        try (TarLayer layer = TarLayer.open(file, "bad toc", IndexCache.NONE)) {
            assertEquals(List.of("a"), layer.list(EntryPath.ROOT).map(e -> e.name()).toList());
            assertEquals(sha256("a\n".getBytes(StandardCharsets.UTF_8)), LayerSnapshot.sha256(layer, EntryPath.of("a")));
        }
    }
}
