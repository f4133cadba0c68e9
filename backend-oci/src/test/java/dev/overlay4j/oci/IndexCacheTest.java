package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A layer's index is read once: later opens take it from the cache and read none of the archive. */
class IndexCacheTest {

    @TempDir
    Path tmp;

    /** 20,200 members: 200 directories of 98 files, a symlink and a hard link each, some files with an xattr. */
    static TarWriter twentyThousandMembers() {
        TarWriter tar = new TarWriter();
        for (int d = 0; d < 200; d++) {
            String dir = String.format("usr/share/d%03d/", d);
            tar.add(TarWriter.dir(dir));
            for (int f = 0; f < 98; f++) {
                TarWriter.Member file = TarWriter.file(dir + String.format("file-%02d", f), dir + f + "\n").mode(0600 + f % 8).owner(d, f);
                if (f % 10 == 0) {
                    file.xattr("user.n", Integer.toString(f).getBytes(StandardCharsets.UTF_8));
                }
                tar.add(file);
            }
            tar.add(TarWriter.hardLink(dir + "hard", dir + "file-01"));
            tar.add(TarWriter.symlink(dir + "link", "file-00"));
        }
        return tar;
    }

    private TarLayer open(CountingBlob blob, IndexKey key, IndexCache cache) throws IOException {
        return TarLayer.open(blob, key, "test layer", cache);
    }

    private void secondOpenReadsNoByte(Path archive) throws IOException {
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        IndexKey key = IndexKey.ofFile(archive);
        Map<String, String> first;
        CountingBlob firstBlob = new CountingBlob(archive);
        try (TarLayer layer = open(firstBlob, key, cache)) {
            assertTrue(firstBlob.bytesRead.get() > 0);
            first = LayerSnapshot.of(layer, true);
        }
        assertEquals(20_203, first.size()); // the root, usr, usr/share, and 200 x (the directory and its 100 names)
        assertTrue(Files.isRegularFile(cache.fileOf(key)));

        CountingBlob secondBlob = new CountingBlob(archive);
        try (TarLayer layer = open(secondBlob, key, cache)) {
            Map<String, String> metadata = LayerSnapshot.of(layer, false);
            assertEquals(0, secondBlob.reads.get(), "opening, stats, listings, links and xattrs read nothing of the archive");
            assertEquals(20_203, metadata.size());
            assertEquals(first, LayerSnapshot.of(layer, true));
        }
    }

    @Test
    void theSecondOpenOfA20000MemberGzipLayerReadsNoByteOfIt() throws IOException {
        secondOpenReadsNoByte(twentyThousandMembers().writeGzip(tmp.resolve("layer.tar.gz")));
    }

    @Test
    void theSecondOpenOfA20000MemberPlainLayerReadsNoByteOfIt() throws IOException {
        secondOpenReadsNoByte(twentyThousandMembers().write(tmp.resolve("layer.tar")));
    }

    private static TarWriter small() {
        return new TarWriter().add(TarWriter.dir("etc/"))
                .add(TarWriter.file("etc/hostname", "box\n").xattr("user.a", new byte[] {1, 2}))
                .add(TarWriter.symlink("etc/link", "hostname"))
                .add(TarWriter.file(".wh.gone", ""));
    }

    /** Opens {@code archive} twice with a damaged cache file between: the second open must read the archive and rewrite the file. */
    private void damagedCacheIsRebuilt(java.util.function.UnaryOperator<byte[]> damage) throws IOException {
        Path archive = small().writeGzip(tmp.resolve("layer.tar.gz"));
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        IndexKey key = IndexKey.ofFile(archive);
        Map<String, String> first;
        try (TarLayer layer = open(new CountingBlob(archive), key, cache)) {
            first = LayerSnapshot.of(layer, true);
        }
        byte[] good = Files.readAllBytes(cache.fileOf(key));
        Files.write(cache.fileOf(key), damage.apply(good.clone()));

        CountingBlob blob = new CountingBlob(archive);
        try (TarLayer layer = open(blob, key, cache)) {
            assertEquals(4 + Stargz.FOOTER + Stargz.LEGACY_FOOTER + blob.size(), blob.bytesRead.get(),
                    "the damaged index was not used: the magic number, the two footers eStargz may end with and the whole archive were read");
            assertEquals(first, LayerSnapshot.of(layer, true));
        }
        assertArrayEquals(good, Files.readAllBytes(cache.fileOf(key)), "the cache file was written anew");
        try (Stream<Path> files = Files.list(cache.directory())) {
            assertEquals(List.of(cache.fileOf(key)), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void aCorruptCacheFileIsIgnoredAndWrittenAnew() throws IOException {
        damagedCacheIsRebuilt(bytes -> {
            bytes[bytes.length / 2] ^= 0x20;
            return bytes;
        });
    }

    @Test
    void aTruncatedCacheFileIsIgnoredAndWrittenAnew() throws IOException {
        damagedCacheIsRebuilt(bytes -> java.util.Arrays.copyOf(bytes, bytes.length - 7));
    }

    @Test
    void aCacheFileOfAnotherVersionIsIgnoredAndWrittenAnew() throws IOException {
        damagedCacheIsRebuilt(bytes -> {
            bytes[8] = IndexFile.VERSION + 1; // the version follows the 8-byte magic; the CRC is fixed up below
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(bytes, 0, bytes.length - 4);
            int v = (int) crc.getValue();
            bytes[bytes.length - 4] = (byte) (v >>> 24);
            bytes[bytes.length - 3] = (byte) (v >>> 16);
            bytes[bytes.length - 2] = (byte) (v >>> 8);
            bytes[bytes.length - 1] = (byte) v;
            return bytes;
        });
    }

    @Test
    void theIndexOfAnotherBlobIsNotUsedEvenUnderThisBlobsName() throws IOException {
        Path a = small().write(tmp.resolve("a.tar"));
        Path b = new TarWriter().add(TarWriter.file("only-in-b", "b")).write(tmp.resolve("b.tar"));
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        IndexKey keyA = IndexKey.ofDigest("sha256:aaaa");
        IndexKey keyB = IndexKey.ofDigest("sha256:bbbb");
        open(new CountingBlob(a), keyA, cache).close();
        Files.copy(cache.fileOf(keyA), cache.fileOf(keyB));

        CountingBlob blob = new CountingBlob(b);
        try (TarLayer layer = open(blob, keyB, cache)) {
            assertTrue(blob.bytesRead.get() > 0);
            assertEquals(List.of("only-in-b"), layer.list(EntryPath.ROOT).map(e -> e.name()).toList());
        }
    }

    @Test
    void aLooseArchiveRewrittenInPlaceGetsANewIndex() throws IOException {
        Path archive = tmp.resolve("layer.tar");
        Files.write(archive, new TarWriter().add(TarWriter.file("old", "1")).bytes());
        Files.setLastModifiedTime(archive, FileTime.fromMillis(1_000_000));
        IndexCache cache = new IndexCache(tmp.resolve("cache"));
        TarLayer.open(archive, "layer", cache).close();
        IndexKey before = IndexKey.ofFile(archive);

        Files.write(archive, new TarWriter().add(TarWriter.file("new", "2")).bytes()); // same size, same inode
        Files.setLastModifiedTime(archive, FileTime.fromMillis(1_000_000));
        assertNotEquals(before, IndexKey.ofFile(archive), "the change time tells the rewritten file apart");
        try (TarLayer layer = TarLayer.open(archive, "layer", cache)) {
            assertEquals(List.of("new"), layer.list(EntryPath.ROOT).map(e -> e.name()).toList());
        }
    }

    @Test
    void aCacheThatCannotBeWrittenLeavesTheLayerWorking() throws IOException {
        Path archive = small().write(tmp.resolve("layer.tar"));
        Path notADirectory = Files.writeString(tmp.resolve("cache"), "a file");
        Map<String, String> uncached;
        try (TarLayer layer = TarLayer.open(archive, "layer", IndexCache.NONE)) {
            uncached = LayerSnapshot.of(layer, true);
        }
        try (TarLayer layer = TarLayer.open(archive, "layer", new IndexCache(notADirectory))) {
            assertEquals(uncached, LayerSnapshot.of(layer, true));
        }
        assertEquals("a file", Files.readString(notADirectory));
    }

    @Test
    void theDefaultDirectoryFollowsXdgThenRootThenHome() {
        assertEquals(Path.of("/x/cache/overlay4j/oci-index"),
                IndexCache.defaultDirectory(Map.of("XDG_CACHE_HOME", "/x/cache", "HOME", "/home/u"), true));
        assertEquals(Path.of("/var/cache/overlay4j/oci-index"),
                IndexCache.defaultDirectory(Map.of("XDG_CACHE_HOME", "relative", "HOME", "/root"), true));
        assertEquals(Path.of("/home/u/.cache/overlay4j/oci-index"), IndexCache.defaultDirectory(Map.of("HOME", "/home/u"), false));
        assertNull(IndexCache.defaultDirectory(Map.of(), false));
    }

    @Test
    void theOptionNamesTheDirectoryOrTurnsTheCacheOff() {
        assertEquals(Path.of("/some/dir"), IndexCache.of("/some/dir").directory());
        assertNull(IndexCache.of("off").directory());
        assertThrows(IllegalArgumentException.class, () -> IndexCache.of(""));
    }

    @Test
    void anOciLayoutKeepsItsLayersIndexesByDigestInTheDirectoryItsOptionNames() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("img"));
        byte[] layer = small().gzipBytes();
        String descriptor = image.blob(ImageLayoutWriter.TAR_GZIP, layer, "");
        image.topIndex(List.of(image.manifest(List.of(descriptor), ImageLayoutWriter.ref("latest"))));
        String digest = descriptor.replaceAll(".*\"digest\": \"(sha256:[0-9a-f]+)\".*", "$1");
        Path cache = tmp.resolve("oci-cache");

        try (Layer opened = Layers.openLower("oci:" + image.dir + "?ref=latest&indexCache=" + cache, LayerOptions.DEFAULTS)) {
            assertTrue(opened.stat(EntryPath.of("etc/hostname")).isPresent());
        }
        assertEquals(List.of(cache.resolve(digest.replace(':', '-') + ".idx")), list(cache));

        Path other = tmp.resolve("param-cache");
        try (Layer opened = Layers.openLower("oci:" + image.dir, new LayerOptions(false, Map.of("indexCache", other.toString())))) {
            assertTrue(opened.stat(EntryPath.of("etc/hostname")).isPresent());
        }
        assertEquals(1, list(other).size());

        Path archive = small().write(tmp.resolve("loose.tar"));
        Path looseCache = tmp.resolve("loose-cache");
        try (Layer opened = Layers.openLower(archive.toUri() + "?indexCache=" + looseCache, LayerOptions.DEFAULTS)) {
            assertTrue(opened.stat(EntryPath.of("etc/hostname")).isPresent());
        }
        assertEquals(List.of(looseCache.resolve(IndexKey.ofFile(archive).fileName())), list(looseCache));
        try (Layer opened = Layers.openLower(archive.toUri() + "?indexCache=off", LayerOptions.DEFAULTS)) {
            assertTrue(opened.stat(EntryPath.of("etc/hostname")).isPresent());
        }
        assertFalse(Files.exists(tmp.resolve("off")));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }
}
