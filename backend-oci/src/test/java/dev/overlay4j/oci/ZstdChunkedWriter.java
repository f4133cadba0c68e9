package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes zstd:chunked blobs for tests, as containers/storage lays them out: tar headers (and the
 * padding before them) in zstd frames, each chunk of a regular file's data in a zstd frame of its
 * own without padding (a chunk of zeros marked {@code chunkType: zeros}), then the manifest and the tar-split
 * in skippable frames and the 72-byte footer. Decompressed whole (skippable frames skipped), the
 * blob is a valid tar of the same members.
 */
final class ZstdChunkedWriter {

    private final ByteArrayOutputStream blob = new ByteArrayOutputStream();
    private final List<String> toc = new ArrayList<>();
    private final int chunkSize;
    private byte[] padding = new byte[0];

    ZstdChunkedWriter(int chunkSize) {
        this.chunkSize = chunkSize;
    }

    /** Adds a member; chunks of a file (but its first) that are all zeros are marked as such. */
    ZstdChunkedWriter add(TarWriter.Member m) throws IOException {
        byte[] tar = new TarWriter().add(m).bytes();
        int padded = (m.data.length + 511) / 512 * 512;
        int headerLength = tar.length - 1024 - padded;
        frame(concat(padding, Arrays.copyOf(tar, headerLength)));
        padding = new byte[padded - m.data.length];
        String type = switch (m.type) {
            case '0' -> "reg";
            case '1' -> "hardlink";
            case '2' -> "symlink";
            case '5' -> "dir";
            default -> throw new IllegalArgumentException("not in these tests: " + (char) m.type);
        };
        String common = "\"name\":\"" + m.name + "\",\"mode\":" + m.mode + ",\"uid\":" + m.uid + ",\"gid\":" + m.gid
                + ",\"modtime\":\"" + Instant.ofEpochSecond(m.mtimeNanos / 1_000_000_000L) + "\""
                + ",\"accesstime\":\"0001-01-01T00:00:00Z\"" + (m.link.isEmpty() ? "" : ",\"linkName\":\"" + m.link + "\"");
        if (!type.equals("reg") || m.data.length == 0) {
            toc.add("{\"type\":\"" + type + "\"," + common + (type.equals("reg") ? ",\"size\":0" : "") + "}");
            return this;
        }
        for (int off = 0; off < m.data.length; off += chunkSize) {
            int length = Math.min(chunkSize, m.data.length - off);
            byte[] chunk = Arrays.copyOfRange(m.data, off, off + length);
            long offset = blob.size();
            frame(chunk); // zeros too: decompressed whole, the blob is the tar
            String where = ",\"offset\":" + offset + ",\"endOffset\":" + blob.size() + ",\"chunkOffset\":" + off
                    + ",\"chunkSize\":" + length + ",\"chunkDigest\":\"sha256:" + sha256(chunk) + "\""
                    + (off > 0 && Arrays.equals(chunk, new byte[length]) ? ",\"chunkType\":\"zeros\"" : "");
            toc.add(off == 0
                    ? "{\"type\":\"reg\"," + common + ",\"size\":" + m.data.length + ",\"digest\":\"sha256:" + sha256(m.data) + "\"" + where + "}"
                    : "{\"type\":\"chunk\",\"name\":\"" + m.name + "\"" + where + "}");
        }
        return this;
    }

    /** The blob: what was added, the end of the archive, the manifest, the tar-split, the footer. */
    byte[] bytes() throws IOException {
        frame(concat(padding, new byte[1024]));
        byte[] manifest = ("{\"version\":1,\"entries\":[" + String.join(",", toc) + "]}").getBytes(StandardCharsets.UTF_8);
        byte[] manifestFrame = zstd(manifest);
        long manifestOffset = skippable(manifestFrame);
        byte[] tarSplit = "{\"type\":2,\"payload\":\"\",\"position\":0}\n".getBytes(StandardCharsets.UTF_8);
        byte[] tarSplitFrame = zstd(tarSplit);
        long tarSplitOffset = skippable(tarSplitFrame);
        ByteBuffer footer = ByteBuffer.allocate(ZstdChunked.FOOTER).order(ByteOrder.LITTLE_ENDIAN);
        footer.putInt(ZstdChunked.SKIPPABLE_MAGIC).putInt(64)
                .putLong(manifestOffset).putLong(manifestFrame.length).putLong(manifest.length).putLong(1)
                .putLong(tarSplitOffset).putLong(tarSplitFrame.length).putLong(tarSplit.length)
                .putLong(ZstdChunked.FOOTER_MAGIC);
        blob.writeBytes(footer.array());
        return blob.toByteArray();
    }

    /** Writes a skippable frame holding {@code content}; where the content starts. */
    private long skippable(byte[] content) {
        ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0x184D2A50).putInt(content.length);
        blob.writeBytes(header.array());
        long at = blob.size();
        blob.writeBytes(content);
        return at;
    }

    private void frame(byte[] data) throws IOException {
        blob.writeBytes(zstd(data));
    }

    static byte[] zstd(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = new io.airlift.compress.zstd.ZstdOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
