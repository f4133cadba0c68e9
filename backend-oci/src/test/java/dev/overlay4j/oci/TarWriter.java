package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes tar archives for tests, byte for byte as the fixtures need them: ustar headers, PAX
 * records for long names, nanosecond times and xattrs, or GNU long-name members instead, and
 * any name at all (hostile ones included), which no archiver lets one write on purpose.
 */
final class TarWriter {

    /** How a name longer than the 100 bytes of a ustar header is written. */
    enum LongNames { PAX, GNU }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final LongNames longNames;

    TarWriter() {
        this(LongNames.PAX);
    }

    TarWriter(LongNames longNames) {
        this.longNames = longNames;
    }

    /** Everything about one member; build with the helpers below. */
    static final class Member {
        String name;
        byte type = '0';
        String link = "";
        int mode = 0644;
        long uid;
        long gid;
        long mtimeNanos = 1_500_000_000_000_000_000L;
        long atimeNanos = -1;
        long major;
        long minor;
        byte[] data = new byte[0];
        final Map<String, byte[]> xattrs = new LinkedHashMap<>();

        Member(String name, byte type) {
            this.name = name;
            this.type = type;
        }

        Member mode(int bits) {
            mode = bits;
            return this;
        }

        Member owner(long u, long g) {
            uid = u;
            gid = g;
            return this;
        }

        Member mtime(long nanos) {
            mtimeNanos = nanos;
            return this;
        }

        Member atime(long nanos) {
            atimeNanos = nanos;
            return this;
        }

        Member xattr(String key, byte[] value) {
            xattrs.put(key, value);
            return this;
        }
    }

    TarWriter add(Member m) {
        byte[] name = utf8(m.name);
        byte[] link = utf8(m.link);
        Map<String, byte[]> pax = new LinkedHashMap<>();
        if (name.length > 100) {
            if (longNames == LongNames.GNU) {
                gnuLong('L', name);
            } else {
                pax.put("path", name);
            }
        }
        if (link.length > 100) {
            if (longNames == LongNames.GNU) {
                gnuLong('K', link);
            } else {
                pax.put("linkpath", link);
            }
        }
        if (m.mtimeNanos % 1_000_000_000L != 0 || m.mtimeNanos < 0) {
            pax.put("mtime", utf8(time(m.mtimeNanos)));
        }
        if (m.atimeNanos >= 0) {
            pax.put("atime", utf8(time(m.atimeNanos)));
        }
        if (m.uid > 07777777 || m.gid > 07777777) {
            pax.put("uid", utf8(Long.toString(m.uid)));
            pax.put("gid", utf8(Long.toString(m.gid)));
        }
        m.xattrs.forEach((k, v) -> pax.put("SCHILY.xattr." + k, v));
        if (!pax.isEmpty()) {
            header("PaxHeaders/" + truncated(m.name, 80), (byte) 'x', "", 0644, 0, 0, 0, 0, 0, paxLength(pax));
            writeData(paxBytes(pax));
        }
        header(m.name, m.type, m.link, m.mode, m.uid, m.gid, Math.floorDiv(m.mtimeNanos, 1_000_000_000L),
                m.major, m.minor, m.data.length);
        writeData(m.data);
        return this;
    }

    static Member file(String name, byte[] data) {
        Member m = new Member(name, (byte) '0');
        m.data = data;
        return m;
    }

    static Member file(String name, String text) {
        return file(name, utf8(text));
    }

    static Member dir(String name) {
        return new Member(name, (byte) '5').mode(0755);
    }

    static Member symlink(String name, String target) {
        Member m = new Member(name, (byte) '2').mode(0777);
        m.link = target;
        return m;
    }

    static Member hardLink(String name, String target) {
        Member m = new Member(name, (byte) '1');
        m.link = target;
        return m;
    }

    static Member device(String name, char type, long major, long minor) {
        Member m = new Member(name, (byte) type).mode(0600);
        m.major = major;
        m.minor = minor;
        return m;
    }

    /** The archive with its two end-of-archive blocks. */
    byte[] bytes() {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        copy.writeBytes(out.toByteArray());
        copy.writeBytes(new byte[1024]);
        return copy.toByteArray();
    }

    Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    Path writeGzip(Path file) throws IOException {
        return Files.write(file, gzipBytes());
    }

    byte[] gzipBytes() throws IOException {
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(compressed)) {
            gz.write(bytes());
        }
        return compressed.toByteArray();
    }

    private static String truncated(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String time(long nanos) {
        return java.math.BigDecimal.valueOf(nanos, 9).toPlainString();
    }

    private void gnuLong(char type, byte[] name) {
        byte[] data = java.util.Arrays.copyOf(name, name.length + 1);
        header("././@LongLink", (byte) type, "", 0644, 0, 0, 0, 0, 0, data.length);
        writeData(data);
    }

    private static long paxLength(Map<String, byte[]> pax) {
        return paxBytes(pax).length;
    }

    private static byte[] paxBytes(Map<String, byte[]> pax) {
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        pax.forEach((key, value) -> {
            int base = 1 + utf8(key).length + 1 + value.length + 1; // ' ', '=', '\n'
            int length = base + 1;
            while (length != base + Integer.toString(length).length()) {
                length = base + Integer.toString(length).length();
            }
            records.writeBytes(utf8(length + " " + key + "="));
            records.writeBytes(value);
            records.write('\n');
        });
        return records.toByteArray();
    }

    private void header(String name, byte type, String link, int mode, long uid, long gid, long mtime,
                        long major, long minor, long size) {
        byte[] h = new byte[512];
        put(h, 0, 100, utf8(name));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, Math.min(uid, 07777777));
        octal(h, 116, 8, Math.min(gid, 07777777));
        octal(h, 124, 12, size);
        octal(h, 136, 12, Math.max(mtime, 0));
        h[156] = type;
        put(h, 157, 100, utf8(link));
        put(h, 257, 6, new byte[] {'u', 's', 't', 'a', 'r', 0});
        h[263] = '0';
        h[264] = '0';
        octal(h, 329, 8, major);
        octal(h, 337, 8, minor);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] checksum = utf8(String.format("%06o", sum));
        System.arraycopy(checksum, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        out.writeBytes(h);
    }

    private void writeData(byte[] data) {
        out.writeBytes(data);
        int pad = (int) ((512 - data.length % 512) % 512);
        out.writeBytes(new byte[pad]);
    }

    private static void put(byte[] h, int at, int length, byte[] value) {
        System.arraycopy(value, 0, h, at, Math.min(length, value.length));
    }

    private static void octal(byte[] h, int at, int length, long value) {
        String digits = String.format("%0" + (length - 1) + "o", value);
        put(h, at, length - 1, utf8(digits));
    }
}
