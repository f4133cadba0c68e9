package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The file format of a cached {@link LayerIndex}. All numbers are unsigned LEB128 varints
 * ({@code u}) or zigzag varints ({@code s}); strings and byte strings are a {@code u} length and
 * their bytes (UTF-8 for strings).
 * <pre>
 * magic      8 bytes "o4jtidx\n"
 * version    u (1)
 * key        string: IndexKey.text, which must match the key asked for
 * blobSize   u: which must match the blob's length
 * compression u: 0 none, 1 gzip, 2 zstd
 * count      u, then per member, in archive order:
 *   name     u bytes shared with the previous member's name, then the rest as a byte string
 *   type     1 byte: the tar typeflag
 *   linkName string
 *   mode uid gid   u s s
 *   size     u
 *   mtime    s nanoseconds; atime, ctime s: nanoseconds after mtime
 *   devMajor devMinor s s
 *   dataOffset s: after the previous member's
 *   xattrs   u count, then name string and value byte string each
 * crc        4 bytes, big-endian: CRC-32 of everything before it
 * </pre>
 * Reading checks everything it reads (lengths against what is left, the CRC before anything
 * else) and throws on the first problem: a cache file is never trusted.
 */
final class IndexFile {

    private static final byte[] MAGIC = "o4jtidx\n".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    /** Larger cache files are taken for garbage: 20,000 members take about 1 MiB. */
    private static final long MAX_SIZE = 1L << 30;

    private IndexFile() {
    }

    static void write(Path file, IndexKey key, LayerIndex index) throws IOException {
        Files.write(file, encode(key, index));
    }

    static byte[] encode(IndexKey key, LayerIndex index) {
        Writer w = new Writer();
        w.out.writeBytes(MAGIC);
        w.u(VERSION);
        w.string(key.text());
        w.u(index.blobSize());
        w.u(index.compression().ordinal());
        w.u(index.entries().size());
        byte[] previousName = new byte[0];
        long previousOffset = 0;
        for (TarEntry e : index.entries()) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int shared = 0;
            while (shared < name.length && shared < previousName.length && name[shared] == previousName[shared]) {
                shared++;
            }
            w.u(shared);
            w.bytes(Arrays.copyOfRange(name, shared, name.length));
            previousName = name;
            w.out.write(e.type());
            w.string(e.linkName());
            w.u(e.mode());
            w.s(e.uid());
            w.s(e.gid());
            w.u(e.size());
            w.s(e.mtimeNanos());
            w.s(e.atimeNanos() - e.mtimeNanos());
            w.s(e.ctimeNanos() - e.mtimeNanos());
            w.s(e.devMajor());
            w.s(e.devMinor());
            w.s(e.dataOffset() - previousOffset);
            previousOffset = e.dataOffset();
            w.u(e.xattrs().size());
            for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
                w.string(x.getKey());
                w.bytes(x.getValue());
            }
        }
        CRC32 crc = new CRC32();
        byte[] body = w.out.toByteArray();
        crc.update(body);
        ByteArrayOutputStream all = new ByteArrayOutputStream(body.length + 4);
        all.writeBytes(body);
        int value = (int) crc.getValue();
        all.write(value >>> 24);
        all.write(value >>> 16);
        all.write(value >>> 8);
        all.write(value);
        return all.toByteArray();
    }

    /** The index in {@code file}, if it is whole, of this version, of {@code key} and of a blob of {@code blobSize} bytes. */
    static LayerIndex read(Path file, IndexKey key, long blobSize) throws IOException {
        if (Files.size(file) > MAX_SIZE) {
            throw new IOException("larger than any index");
        }
        return decode(Files.readAllBytes(file), key, blobSize);
    }

    static LayerIndex decode(byte[] bytes, IndexKey key, long blobSize) throws IOException {
        if (bytes.length < MAGIC.length + 4 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IOException("not a layer index file");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = (bytes[bytes.length - 4] & 0xff) << 24 | (bytes[bytes.length - 3] & 0xff) << 16
                | (bytes[bytes.length - 2] & 0xff) << 8 | bytes[bytes.length - 1] & 0xff;
        if (stored != (int) crc.getValue()) {
            throw new IOException("its checksum does not match: truncated or corrupt");
        }
        Reader r = new Reader(bytes, MAGIC.length, bytes.length - 4);
        long version = r.u();
        if (version != VERSION) {
            throw new IOException("format version " + version + ", not " + VERSION);
        }
        String text = r.string();
        if (!text.equals(key.text())) {
            throw new IOException("it is the index of " + text + ", not of " + key.text());
        }
        long size = r.u();
        if (size != blobSize) {
            throw new IOException("it is of a blob of " + size + " bytes, this one has " + blobSize);
        }
        Compression[] kinds = Compression.values();
        int kind = r.count(kinds.length);
        if (kind >= kinds.length) {
            throw new IOException("unknown compression " + kind);
        }
        int count = r.count(Integer.MAX_VALUE);
        List<TarEntry> entries = new ArrayList<>(Math.min(count, 1 << 16));
        byte[] previousName = new byte[0];
        long previousOffset = 0;
        for (int i = 0; i < count; i++) {
            int shared = r.count(previousName.length);
            byte[] rest = r.bytes();
            byte[] name = Arrays.copyOf(previousName, shared + rest.length);
            System.arraycopy(rest, 0, name, shared, rest.length);
            previousName = name;
            byte type = r.oneByte();
            String link = r.string();
            int mode = r.count(07777);
            long uid = r.s();
            long gid = r.s();
            long entrySize = r.u();
            long mtime = r.s();
            long atime = mtime + r.s();
            long ctime = mtime + r.s();
            long major = r.s();
            long minor = r.s();
            long dataOffset = previousOffset + r.s();
            previousOffset = dataOffset;
            int xattrCount = r.count(Integer.MAX_VALUE);
            Map<String, byte[]> xattrs = xattrCount == 0 ? Map.of() : new LinkedHashMap<>();
            for (int x = 0; x < xattrCount; x++) {
                xattrs.put(r.string(), r.bytes());
            }
            entries.add(new TarEntry(new String(name, StandardCharsets.UTF_8), type, link, mode, uid, gid, entrySize,
                    mtime, atime, ctime, major, minor, dataOffset, xattrs));
        }
        if (r.pos != r.end) {
            throw new IOException("bytes after the last section");
        }
        return new LayerIndex(kinds[kind], size, entries);
    }

    private static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);

        void u(long value) {
            while ((value & ~0x7fL) != 0) {
                out.write((int) (value & 0x7f) | 0x80);
                value >>>= 7;
            }
            out.write((int) value);
        }

        void s(long value) {
            u((value << 1) ^ (value >> 63));
        }

        void bytes(byte[] value) {
            u(value.length);
            out.writeBytes(value);
        }

        void string(String value) {
            bytes(value.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static final class Reader {
        final byte[] bytes;
        final int end;
        int pos;

        Reader(byte[] bytes, int pos, int end) {
            this.bytes = bytes;
            this.pos = pos;
            this.end = end;
        }

        byte oneByte() throws IOException {
            if (pos >= end) {
                throw new IOException("it ends early");
            }
            return bytes[pos++];
        }

        long u() throws IOException {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = oneByte();
                value |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    return value;
                }
            }
            throw new IOException("a number of more than 64 bits");
        }

        long s() throws IOException {
            long zigzag = u();
            return (zigzag >>> 1) ^ -(zigzag & 1);
        }

        /** A non-negative number no larger than {@code max}. */
        int count(int max) throws IOException {
            long value = u();
            if (value < 0 || value > max) {
                throw new IOException("a count or length out of range: " + value);
            }
            return (int) value;
        }

        byte[] bytes() throws IOException {
            int length = count(end - pos);
            byte[] value = Arrays.copyOfRange(bytes, pos, pos + length);
            pos += length;
            return value;
        }

        String string() throws IOException {
            return new String(bytes(), StandardCharsets.UTF_8);
        }
    }
}
