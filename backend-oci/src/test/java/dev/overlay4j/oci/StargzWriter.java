package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Writes eStargz blobs for tests, as the eStargz spec lays them out: each member's tar header in
 * a gzip member, each chunk of a file's data in a gzip member of its own, then the TOC (a gzip
 * member holding a tar of {@code stargz.index.json}) and the 51-byte footer that points to it.
 * Decompressed whole, the blob is a valid tar of the same members plus the TOC.
 */
final class StargzWriter {

    private final ByteArrayOutputStream blob = new ByteArrayOutputStream();
    private final List<String> toc = new ArrayList<>();
    private final int chunkSize;
    StargzWriter(int chunkSize) {
        this.chunkSize = chunkSize;
    }

    StargzWriter add(TarWriter.Member m) throws IOException {
        byte[] tar = new TarWriter().add(m).bytes();
        int padded = (m.data.length + 511) / 512 * 512;
        int headerLength = tar.length - 1024 - padded;
        member(Arrays.copyOf(tar, headerLength));
        String type = switch (m.type) {
            case '0' -> "reg";
            case '1' -> "hardlink";
            case '2' -> "symlink";
            case '3' -> "char";
            case '4' -> "block";
            case '5' -> "dir";
            case '6' -> "fifo";
            default -> throw new IllegalArgumentException("no TOC type for " + (char) m.type);
        };
        String name = m.name.endsWith("/") ? m.name.substring(0, m.name.length() - 1) : m.name;
        StringBuilder common = new StringBuilder();
        common.append("\"modtime\":\"").append(Instant.ofEpochSecond(m.mtimeNanos / 1_000_000_000L)).append('"')
                .append(",\"mode\":").append(m.mode).append(",\"uid\":").append(m.uid).append(",\"gid\":").append(m.gid);
        if (!m.link.isEmpty()) {
            common.append(",\"linkName\":").append(quote(m.link));
        }
        if (m.major != 0 || m.minor != 0) {
            common.append(",\"devMajor\":").append(m.major).append(",\"devMinor\":").append(m.minor);
        }
        if (!m.xattrs.isEmpty()) {
            List<String> xattrs = new ArrayList<>();
            for (Map.Entry<String, byte[]> x : m.xattrs.entrySet()) {
                xattrs.add(quote(x.getKey()) + ":" + quote(Base64.getEncoder().encodeToString(x.getValue())));
            }
            common.append(",\"xattrs\":{").append(String.join(",", xattrs)).append('}');
        }
        if (!type.equals("reg") || m.data.length == 0) {
            toc.add("{\"name\":" + quote(name) + ",\"type\":\"" + type + "\"" + (type.equals("reg") ? ",\"size\":0" : "") + "," + common + "}");
            return this;
        }
        for (int off = 0; off < m.data.length; off += chunkSize) {
            int length = Math.min(chunkSize, m.data.length - off);
            long offset = blob.size();
            byte[] chunk = Arrays.copyOfRange(m.data, off, off + length);
            // The tar padding after the data ends the last chunk's member, as the eStargz writer leaves it.
            member(off + length < m.data.length ? chunk : concat(chunk, new byte[padded - m.data.length]));
            String where = ",\"offset\":" + offset + ",\"chunkOffset\":" + off + ",\"chunkSize\":" + length
                    + ",\"chunkDigest\":\"sha256:" + sha256(chunk) + "\"";
            toc.add(off == 0
                    ? "{\"name\":" + quote(name) + ",\"type\":\"reg\",\"size\":" + m.data.length + "," + common + where + "}"
                    : "{\"name\":" + quote(name) + ",\"type\":\"chunk\"" + where + "}");
        }
        return this;
    }

    /** The blob: what was added, the TOC, the footer. */
    byte[] bytes() throws IOException {
        long tocOffset = blob.size();
        String json = "{\"version\":1,\"entries\":[" + String.join(",", toc) + "]}";
        member(new TarWriter().add(TarWriter.file(Stargz.TOC_NAME, json)).bytes());
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(blob.toByteArray());
        all.writeBytes(footer(tocOffset));
        return all.toByteArray();
    }

    /** The spec's footer: an empty gzip member whose extra field SG holds the TOC's offset. */
    static byte[] footer(long tocOffset) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 4, 0, 0, 0, 0, 0, (byte) 0xff, 26, 0, 'S', 'G', 22, 0});
        f.writeBytes(String.format("%016xSTARGZ", tocOffset).getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(new byte[] {1, 0, 0, (byte) 0xff, (byte) 0xff}); // a final stored block of no bytes
        f.writeBytes(new byte[8]); // CRC-32 and length of nothing
        return f.toByteArray();
    }

    private void member(byte[] data) throws IOException {
        blob.writeBytes(SeekableGzipTest.gzip(data, 0, data.length));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
