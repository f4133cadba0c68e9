package dev.overlay4j.oci;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the member headers of an uncompressed tar stream in order: ustar and old v7 headers, GNU
 * long names ({@code L}, {@code K}) and base-256 numbers, PAX extended ({@code x}) and global
 * ({@code g}) records (POSIX.1-2001 pax format). Data is skipped, never read: callers keep
 * {@link TarEntry#dataOffset()} and read it later. Sparse members come back with their own
 * typeflag ({@code S}) for the caller to refuse.
 */
final class TarReader {

    static final int BLOCK = 512;
    /** Larger PAX or long-name records than this are taken for a corrupt archive, not buffered. */
    private static final int MAX_META = 16 << 20;
    private static final String XATTR_PREFIX = "SCHILY.xattr.";

    private final InputStream in;
    private final byte[] block = new byte[BLOCK];
    private final Map<String, byte[]> global = new HashMap<>();
    private long offset;

    /** @param in the uncompressed archive; its {@code skip} should be cheap where it can be */
    TarReader(InputStream in) {
        this.in = in;
    }

    /** The next member, or null at the end of the archive. */
    TarEntry next() throws IOException {
        Map<String, byte[]> pax = new LinkedHashMap<>();
        String longName = null;
        String longLink = null;
        while (true) {
            long headerOffset = offset;
            if (!readBlock()) {
                return null; // no end-of-archive blocks: tolerated, as GNU tar does
            }
            if (isZero(block)) {
                return null; // the first of the two zero blocks that end an archive
            }
            checkChecksum(headerOffset);
            byte type = block[156];
            long size = number(124, 12);
            String name = string(0, 100);
            String linkName = string(157, 100);
            boolean ustar = block[257] == 'u' && block[258] == 's' && block[259] == 't' && block[260] == 'a'
                    && block[261] == 'r' && block[262] == 0;
            if (ustar && block[345] != 0) {
                name = string(345, 155) + "/" + name;
            }
            switch (type) {
                case 'x', 'g' -> {
                    Map<String, byte[]> records = paxRecords(readData(size, headerOffset), headerOffset);
                    (type == 'x' ? pax : global).putAll(records);
                    continue;
                }
                case 'L' -> {
                    longName = cString(readData(size, headerOffset));
                    continue;
                }
                case 'K' -> {
                    longLink = cString(readData(size, headerOffset));
                    continue;
                }
                default -> {
                }
            }
            Map<String, byte[]> records = new LinkedHashMap<>(global);
            records.putAll(pax);
            // An empty value cancels the key (the header field counts again); an xattr's may be empty.
            records.entrySet().removeIf(r -> r.getValue().length == 0 && !r.getKey().startsWith(XATTR_PREFIX));
            if (records.containsKey("path")) {
                name = utf8(records.get("path"));
            } else if (longName != null) {
                name = longName;
            }
            if (records.containsKey("linkpath")) {
                linkName = utf8(records.get("linkpath"));
            } else if (longLink != null) {
                linkName = longLink;
            }
            long stored = records.containsKey("size") ? decimal(records, "size", headerOffset) : size;
            if (isHeaderOnly(type)) {
                stored = 0;
            }
            long mtime = records.containsKey("mtime") ? nanos(records, "mtime", headerOffset) : number(136, 12) * 1_000_000_000L;
            long atime = records.containsKey("atime") ? nanos(records, "atime", headerOffset) : mtime;
            long ctime = records.containsKey("ctime") ? nanos(records, "ctime", headerOffset) : mtime;
            long uid = records.containsKey("uid") ? decimal(records, "uid", headerOffset) : number(108, 8);
            long gid = records.containsKey("gid") ? decimal(records, "gid", headerOffset) : number(116, 8);
            Map<String, byte[]> xattrs = new LinkedHashMap<>();
            for (Map.Entry<String, byte[]> record : records.entrySet()) {
                if (record.getKey().startsWith(XATTR_PREFIX) && record.getKey().length() > XATTR_PREFIX.length()) {
                    xattrs.put(record.getKey().substring(XATTR_PREFIX.length()), record.getValue());
                }
                if (record.getKey().startsWith("GNU.sparse.")) {
                    type = 'S';
                }
            }
            if (type == 0 && name.endsWith("/")) {
                type = TarEntry.DIRECTORY; // a v7 archive's directory
            }
            TarEntry entry = new TarEntry(name, type, linkName, (int) number(100, 8) & 07777, uid, gid, stored,
                    mtime, atime, ctime, number(329, 8), number(337, 8), offset, xattrs);
            skip(padded(stored), headerOffset);
            return entry;
        }
    }

    /** Types whose size field describes no data (ustar: links, devices, directories, FIFOs). */
    private static boolean isHeaderOnly(byte type) {
        return type >= TarEntry.HARD_LINK && type <= TarEntry.FIFO;
    }

    static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private boolean readBlock() throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        if (n == 0) {
            return false;
        }
        if (n < BLOCK) {
            throw new EOFException("the archive ends inside a header at offset " + offset);
        }
        offset += BLOCK;
        return true;
    }

    private byte[] readData(long size, long headerOffset) throws IOException {
        if (size < 0 || size > MAX_META) {
            throw new IOException("a metadata record of " + size + " bytes at offset " + headerOffset + ": corrupt archive");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new EOFException("the archive ends inside the member at offset " + headerOffset);
        }
        offset += size;
        skip(padded(size) - size, headerOffset);
        return data;
    }

    private void skip(long count, long headerOffset) throws IOException {
        try {
            in.skipNBytes(count);
        } catch (EOFException e) {
            throw new EOFException("the archive ends inside the member at offset " + headerOffset);
        }
        offset += count;
    }

    private static boolean isZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void checkChecksum(long headerOffset) throws IOException {
        long stored = number(148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = i >= 148 && i < 156 ? (byte) ' ' : block[i];
            unsigned += b & 0xff;
            signed += b; // some old tars summed signed bytes
        }
        if (stored != unsigned && stored != signed) {
            throw new IOException("bad header checksum at offset " + headerOffset + ": not a tar archive, or a corrupt one");
        }
    }

    /** An octal field, or a base-256 one (GNU, for values too large for octal) when its high bit is set. */
    private long number(int start, int length) {
        if ((block[start] & 0x80) != 0) {
            long value = (block[start] & 0x40) != 0 ? -1 : 0; // sign of a two's-complement value
            value = (value << 6) | (block[start] & 0x3f);
            for (int i = start + 1; i < start + length; i++) {
                value = (value << 8) | (block[i] & 0xff);
            }
            return value;
        }
        long value = 0;
        int i = start;
        while (i < start + length && (block[i] == ' ' || block[i] == 0)) {
            i++;
        }
        for (; i < start + length && block[i] >= '0' && block[i] <= '7'; i++) {
            value = (value << 3) + (block[i] - '0');
        }
        return value;
    }

    private String string(int start, int length) {
        int end = start;
        while (end < start + length && block[end] != 0) {
            end++;
        }
        return new String(block, start, end - start, StandardCharsets.UTF_8);
    }

    private static String cString(byte[] data) {
        int end = 0;
        while (end < data.length && data[end] != 0) {
            end++;
        }
        return new String(data, 0, end, StandardCharsets.UTF_8);
    }

    private static String utf8(byte[] value) {
        return new String(value, StandardCharsets.UTF_8);
    }

    /** {@code "LEN KEY=VALUE\n"} records, in order; values are raw bytes (UTF-8 for all but xattrs). */
    static Map<String, byte[]> paxRecords(byte[] data, long headerOffset) throws IOException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        int pos = 0;
        while (pos < data.length) {
            if (data[pos] == 0) {
                break; // padding some writers leave
            }
            int space = pos;
            long length = 0;
            while (space < data.length && data[space] >= '0' && data[space] <= '9' && length < Integer.MAX_VALUE) {
                length = length * 10 + (data[space] - '0');
                space++;
            }
            int end = (int) Math.min(pos + length, Integer.MAX_VALUE);
            if (space == pos || space >= data.length || data[space] != ' ' || end > data.length || data[end - 1] != '\n') {
                throw new IOException("a malformed PAX record at offset " + headerOffset);
            }
            int equals = space + 1;
            while (equals < end && data[equals] != '=') {
                equals++;
            }
            if (equals >= end) {
                throw new IOException("a malformed PAX record at offset " + headerOffset);
            }
            String key = new String(data, space + 1, equals - space - 1, StandardCharsets.UTF_8);
            byte[] value = java.util.Arrays.copyOfRange(data, equals + 1, end - 1);
            records.put(key, value);
            pos = end;
        }
        return records;
    }

    private static long decimal(Map<String, byte[]> records, String key, long headerOffset) throws IOException {
        try {
            return Long.parseLong(utf8(records.get(key)));
        } catch (NumberFormatException e) {
            throw new IOException("PAX record " + key + " is not a number at offset " + headerOffset);
        }
    }

    /** A PAX time, decimal seconds with an optional fraction, in nanoseconds. */
    private static long nanos(Map<String, byte[]> records, String key, long headerOffset) throws IOException {
        try {
            return new BigDecimal(utf8(records.get(key))).movePointRight(9).setScale(0, RoundingMode.FLOOR).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IOException("PAX record " + key + " is not a time at offset " + headerOffset);
        }
    }
}
