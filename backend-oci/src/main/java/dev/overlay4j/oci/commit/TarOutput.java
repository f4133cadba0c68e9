package dev.overlay4j.oci.commit;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the members of a tar archive in the POSIX.1-2001 pax format, as a stream: a ustar
 * header for each member, preceded by a pax extended header ({@code x}) only where ustar cannot
 * hold a value: a name or link target too long for it or not ASCII ({@code path},
 * {@code linkpath}), an owner, size or time beyond its octal fields or a time with a fraction of
 * a second ({@code uid}, {@code gid}, {@code size}, {@code mtime}), and extended attributes
 * ({@code SCHILY.xattr.NAME}, the form GNU tar, Go's archive/tar and containers/storage use).
 * Nothing depends on the machine or the clock: no user or group names, no atime or ctime, and
 * the same members always make the same bytes.
 */
final class TarOutput {

    static final int BLOCK = 512;

    static final byte REGULAR = '0';
    static final byte HARD_LINK = '1';
    static final byte SYMLINK = '2';
    static final byte CHARACTER_DEVICE = '3';
    static final byte BLOCK_DEVICE = '4';
    static final byte DIRECTORY = '5';
    static final byte FIFO = '6';
    private static final byte PAX = 'x';

    /** The largest values of ustar's octal fields: 7 digits for ids, 11 for size and mtime. */
    private static final long MAX_ID = 07777777L;
    private static final long MAX_SIZE = 077777777777L;
    private static final byte[] ZEROS = new byte[BLOCK];

    /**
     * One member's header.
     *
     * @param name       the path in the archive, a directory's ending in {@code /}
     * @param linkName   a symlink's target or a hard link's first name, else empty
     * @param mode       the permission bits ({@code 07777})
     * @param size       the bytes of data that follow (0 but for regular files)
     * @param mtimeNanos the modification time, nanoseconds since the epoch
     * @param xattrs     extended attributes, written in this map's order
     */
    record Header(String name, byte type, String linkName, int mode, long uid, long gid, long size, long mtimeNanos,
                  long devMajor, long devMinor, Map<String, byte[]> xattrs) {
    }

    private final OutputStream out;
    private final byte[] block = new byte[BLOCK];
    /** Data still owed by the member last written. */
    private long owed;
    private long padding;

    TarOutput(OutputStream out) {
        this.out = out;
    }

    /** Writes a member's header; a regular file's {@code size} bytes must follow through {@link #data}. */
    void header(Header h) throws IOException {
        if (owed != 0) {
            throw new IllegalStateException(owed + " bytes of the previous member were not written");
        }
        byte[] name = utf8(h.name());
        byte[] link = utf8(h.linkName());
        Map<String, byte[]> pax = new LinkedHashMap<>();
        byte[][] split = ustarName(name);
        if (split == null || !isAscii(name)) {
            pax.put("path", name);
        }
        if (link.length > 100 || !isAscii(link)) {
            pax.put("linkpath", link);
        }
        long seconds = Math.floorDiv(h.mtimeNanos(), 1_000_000_000L);
        if (h.mtimeNanos() % 1_000_000_000L != 0 || seconds < 0 || seconds > MAX_SIZE) {
            pax.put("mtime", utf8(BigDecimal.valueOf(h.mtimeNanos(), 9).stripTrailingZeros().toPlainString()));
        }
        if (h.uid() < 0 || h.uid() > MAX_ID) {
            pax.put("uid", utf8(Long.toString(h.uid())));
        }
        if (h.gid() < 0 || h.gid() > MAX_ID) {
            pax.put("gid", utf8(Long.toString(h.gid())));
        }
        if (h.size() > MAX_SIZE) {
            pax.put("size", utf8(Long.toString(h.size())));
        }
        if (h.devMajor() > MAX_ID || h.devMinor() > MAX_ID) {
            // pax defines no record for device numbers; Linux's (12 and 20 bits) always fit.
            throw new IOException(h.name() + ": device number " + h.devMajor() + ":" + h.devMinor() + " does not fit a tar header");
        }
        h.xattrs().forEach((key, value) -> pax.put("SCHILY.xattr." + key, value));
        if (!pax.isEmpty()) {
            byte[] records = paxRecords(pax);
            ustar(paxName(h.name()), null, PAX, new byte[0], 0644, 0, 0, records.length, 0, 0, 0);
            out.write(records);
            pad(records.length);
        }
        if (split == null) {
            split = new byte[][] {new byte[0], Arrays.copyOf(name, Math.min(name.length, 100))};
        }
        ustar(split[1], split[0], h.type(), Arrays.copyOf(link, Math.min(link.length, 100)), h.mode() & 07777,
                fit(h.uid(), MAX_ID), fit(h.gid(), MAX_ID), fit(h.size(), MAX_SIZE), fit(seconds, MAX_SIZE),
                h.devMajor(), h.devMinor());
        owed = h.type() == REGULAR ? h.size() : 0;
        padding = owed;
    }

    /** Writes the next bytes of the current member's data. */
    void data(ByteBuffer bytes) throws IOException {
        int n = bytes.remaining();
        if (n > owed) {
            throw new IllegalStateException("more data than the member's size");
        }
        if (bytes.hasArray()) {
            out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), n);
            bytes.position(bytes.limit());
        } else {
            byte[] copy = new byte[n];
            bytes.get(copy);
            out.write(copy);
        }
        owed -= n;
        if (owed == 0) {
            pad(padding);
        }
    }

    /** How much of the current member's data is still to be written. */
    long owed() {
        return owed;
    }

    /** Ends the archive with its two zero blocks; the stream stays open. */
    void finish() throws IOException {
        if (owed != 0) {
            throw new IllegalStateException(owed + " bytes of the last member were not written");
        }
        out.write(ZEROS);
        out.write(ZEROS);
        out.flush();
    }

    private void pad(long size) throws IOException {
        int rest = (int) (Math.floorMod(-size, (long) BLOCK));
        out.write(ZEROS, 0, rest);
    }

    /**
     * A name as ustar's {@code prefix} (155 bytes) and {@code name} (100) fields, split at a
     * slash where it is longer than 100 bytes; null when it fits neither way.
     */
    private static byte[][] ustarName(byte[] name) {
        if (name.length <= 100) {
            return new byte[][] {new byte[0], name};
        }
        // A directory's trailing slash belongs to the name part, so search from before it.
        for (int i = Math.min(name.length - 2, 155); i > 0; i--) {
            if (name[i] == '/' && name.length - i - 1 <= 100) {
                return new byte[][] {Arrays.copyOf(name, i), Arrays.copyOfRange(name, i + 1, name.length)};
            }
        }
        return null;
    }

    /** The name of a pax header member: readers that know pax never use it, others extract it as a file. */
    private static byte[] paxName(String name) {
        String base = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        base = base.substring(base.lastIndexOf('/') + 1);
        StringBuilder ascii = new StringBuilder("PaxHeaders/");
        for (int i = 0; i < base.length() && ascii.length() < 100; i++) {
            char c = base.charAt(i);
            ascii.append(c >= 0x20 && c < 0x7f ? c : '_');
        }
        return utf8(ascii.toString());
    }

    private static long fit(long value, long max) {
        return value < 0 || value > max ? 0 : value;
    }

    private void ustar(byte[] name, byte[] prefix, byte type, byte[] link, int mode, long uid, long gid, long size,
                       long mtime, long major, long minor) throws IOException {
        Arrays.fill(block, (byte) 0);
        System.arraycopy(name, 0, block, 0, name.length);
        octal(100, 8, mode);
        octal(108, 8, uid);
        octal(116, 8, gid);
        octal(124, 12, size);
        octal(136, 12, mtime);
        block[156] = type;
        System.arraycopy(link, 0, block, 157, link.length);
        System.arraycopy(new byte[] {'u', 's', 't', 'a', 'r', 0, '0', '0'}, 0, block, 257, 8);
        if (type == CHARACTER_DEVICE || type == BLOCK_DEVICE) {
            octal(329, 8, major);
            octal(337, 8, minor);
        }
        if (prefix != null) {
            System.arraycopy(prefix, 0, block, 345, prefix.length);
        }
        Arrays.fill(block, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : block) {
            sum += b & 0xff;
        }
        octal(148, 7, sum); // six digits, a NUL, and the space already there
        out.write(block);
    }

    /** {@code length - 1} octal digits and a NUL. */
    private void octal(int at, int length, long value) {
        for (int i = at + length - 2; i >= at; i--) {
            block[i] = (byte) ('0' + (value & 7));
            value >>>= 3;
        }
        block[at + length - 1] = 0;
    }

    /** {@code "LEN KEY=VALUE\n"} records, LEN counting the whole record, its own digits included. */
    private static byte[] paxRecords(Map<String, byte[]> pax) {
        java.io.ByteArrayOutputStream records = new java.io.ByteArrayOutputStream();
        pax.forEach((key, value) -> {
            int base = 1 + utf8(key).length + 1 + value.length + 1; // ' ', '=', '\n'
            int length = base + Integer.toString(base).length();
            if (Integer.toString(length).length() != Integer.toString(base).length()) {
                length = base + Integer.toString(length).length();
            }
            records.writeBytes(utf8(length + " " + key + "="));
            records.writeBytes(value);
            records.write('\n');
        });
        return records.toByteArray();
    }

    /** Whether every byte is printable ASCII, the only kind ustar's name fields are meant to hold. */
    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0x20 || b == 0x7f) { // bytes are signed: every non-ASCII one is negative
                return false;
            }
        }
        return true;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
