package dev.overlay4j.oci;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * version    1 byte (2)
 * tableLength 4 bytes, big-endian: the length of the table that follows
 * table:
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
 * gzip       u 0: no checkpoints; 1: a GzipIndex follows
 *   size interval count  u u u, then per checkpoint, in stream order:
 *   out in   u u: after the previous checkpoint's
 *   bits     1 byte
 *   crc      u: the span's CRC-32, unsigned
 *   windowLength u: its window lies after the previous checkpoint's
 * chunks     u 0: no chunk table; 1: a ChunkIndex (eStargz, zstd:chunked) follows
 *   size count u u, then per chunk, in stream order:
 *   length member+1 innerOffset  u u u (each chunk starts where the one before ends; member+1 = 0: zeros)
 *   sha256   byte string: 32 bytes, or none
 * (end of table)
 * windows    the checkpoints' windows, one after another
 * crc        4 bytes, big-endian: CRC-32 of everything before it
 * </pre>
 * Reading checks everything it reads (the CRC of the whole file first, then lengths against
 * what is left) and throws on the first problem: a cache file is never trusted. The windows are
 * not kept in memory: a loaded index reads each from the open file when its span is inflated.
 */
final class IndexFile {

    private static final byte[] MAGIC = "o4jtidx\n".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    /** Larger cache files are taken for garbage: 20,000 members take about 1 MiB, a GiB of gzip 16 MiB of windows. */
    private static final long MAX_SIZE = 1L << 30;
    /** The magic, the version byte and the table's length. */
    private static final int HEADER = 13;

    private IndexFile() {
    }

    static void write(Path file, IndexKey key, LayerIndex index) throws IOException {
        Files.write(file, encode(key, index));
    }

    static byte[] encode(IndexKey key, LayerIndex index) throws IOException {
        Writer w = new Writer();
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
        GzipIndex gzip = index.gzip();
        w.u(gzip == null ? 0 : 1);
        byte[] windows = new byte[0];
        if (gzip != null) {
            w.u(gzip.size());
            w.u(gzip.interval());
            w.u(gzip.checkpoints().size());
            long out = 0;
            long in = 0;
            ByteArrayOutputStream allWindows = new ByteArrayOutputStream();
            for (GzipIndex.Checkpoint c : gzip.checkpoints()) {
                w.u(c.out() - out);
                w.u(c.in() - in);
                out = c.out();
                in = c.in();
                w.out.write(c.bits());
                w.u(Integer.toUnsignedLong(c.crc()));
                w.u(c.windowLength());
                allWindows.writeBytes(gzip.window(c));
            }
            windows = allWindows.toByteArray();
        }
        ChunkIndex chunks = index.chunks();
        w.u(chunks == null ? 0 : 1);
        if (chunks != null) {
            w.u(chunks.size());
            w.u(chunks.chunks().size());
            for (ChunkIndex.Chunk c : chunks.chunks()) {
                w.u(c.length());
                w.u(c.member() + 1); // 0: a chunk of zeros
                w.u(c.innerOffset());
                w.bytes(c.sha256());
            }
        }
        byte[] table = w.out.toByteArray();
        ByteArrayOutputStream all = new ByteArrayOutputStream(HEADER + table.length + windows.length + 4);
        all.writeBytes(MAGIC);
        all.write(VERSION);
        writeInt(all, table.length);
        all.writeBytes(table);
        all.writeBytes(windows);
        CRC32 crc = new CRC32();
        crc.update(all.toByteArray());
        writeInt(all, (int) crc.getValue());
        return all.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream all, int value) {
        all.write(value >>> 24);
        all.write(value >>> 16);
        all.write(value >>> 8);
        all.write(value);
    }

    /**
     * The index in {@code file}, if it is whole, of this version, of {@code key} and of a blob of
     * {@code blobSize} bytes. A gzip index keeps the file open for its windows: close it.
     */
    static LayerIndex read(Path file, IndexKey key, long blobSize) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        boolean keepOpen = false;
        try {
            long size = channel.size();
            if (size > MAX_SIZE || size < HEADER + 4) {
                throw new IOException("not a layer index file (" + size + " bytes)");
            }
            ByteBuffer header = readFully(channel, 0, HEADER);
            if (!Arrays.equals(header.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                throw new IOException("not a layer index file");
            }
            int version = header.get(MAGIC.length);
            if (version != VERSION) {
                throw new IOException("format version " + version + ", not " + VERSION);
            }
            long tableLength = Integer.toUnsignedLong(header.getInt(MAGIC.length + 1));
            if (HEADER + tableLength > size - 4) {
                throw new IOException("its table is longer than the file: truncated");
            }
            CRC32 crc = new CRC32();
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < size - 4; ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - 4 - at));
                at += channel.read(chunk, at);
                crc.update(chunk.flip());
            }
            if (readFully(channel, size - 4, 4).getInt(0) != (int) crc.getValue()) {
                throw new IOException("its checksum does not match: truncated or corrupt");
            }
            byte[] table = readFully(channel, HEADER, (int) tableLength).array();
            long windowsStart = HEADER + tableLength;
            LayerIndex index = decode(table, key, blobSize, channel, windowsStart, size - 4 - windowsStart);
            keepOpen = index.gzip() != null;
            return index;
        } finally {
            if (!keepOpen) {
                channel.close();
            }
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("it ends early");
            }
        }
        return buffer;
    }

    private static LayerIndex decode(byte[] table, IndexKey key, long blobSize, FileChannel channel, long windowsStart,
                                     long windowsLength) throws IOException {
        Reader r = new Reader(table, 0, table.length);
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
        GzipIndex gzip = null;
        if (r.count(1) == 1) {
            long streamSize = r.u();
            int interval = r.count(Integer.MAX_VALUE);
            int points = r.count(r.end - r.pos);
            List<GzipIndex.Checkpoint> checkpoints = new ArrayList<>(points);
            long out = 0;
            long in = 0;
            long windowOffset = 0;
            for (int i = 0; i < points; i++) {
                out += r.u();
                in += r.u();
                int bits = r.oneByte();
                long crc = r.u();
                int windowLength = r.count(GzipIndexer.WINDOW);
                if (bits < 0 || bits > 7 || crc > 0xffffffffL || out > streamSize || in > blobSize || (i == 0) != (out == 0)) {
                    throw new IOException("checkpoint " + i + " is out of range");
                }
                checkpoints.add(new GzipIndex.Checkpoint(out, in, bits, (int) crc, windowOffset, windowLength));
                windowOffset += windowLength;
            }
            if (points == 0 || windowOffset != windowsLength) {
                throw new IOException("its windows do not add up");
            }
            gzip = new GzipIndex(streamSize, interval, checkpoints, new GzipIndex.InFile(channel, windowsStart, windowsLength));
        } else if (windowsLength != 0) {
            throw new IOException("bytes after the table");
        }
        ChunkIndex chunkIndex = null;
        if (r.count(1) == 1) {
            long streamSize = r.u();
            int chunkCount = r.count(r.end - r.pos);
            List<ChunkIndex.Chunk> chunks = new ArrayList<>(chunkCount);
            long out = 0;
            for (int i = 0; i < chunkCount; i++) {
                long length = r.u();
                long member = r.u() - 1;
                long inner = r.u();
                byte[] sha256 = r.bytes();
                if (length <= 0 || member < -1 || member >= blobSize || inner < 0 || (sha256.length != 0 && sha256.length != 32)) {
                    throw new IOException("chunk " + i + " is out of range");
                }
                chunks.add(new ChunkIndex.Chunk(out, length, member, inner, sha256));
                out += length;
            }
            if (out != streamSize) {
                throw new IOException("its chunks do not add up");
            }
            chunkIndex = new ChunkIndex(streamSize, chunks);
        }
        if (r.pos != r.end) {
            throw new IOException("bytes after the last section");
        }
        if (chunkIndex != null && kinds[kind] == Compression.NONE) {
            throw new IOException("a chunk table of a blob that is not compressed");
        }
        return new LayerIndex(kinds[kind], size, entries, gzip, chunkIndex);
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
