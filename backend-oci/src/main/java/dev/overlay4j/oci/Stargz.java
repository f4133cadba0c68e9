package dev.overlay4j.oci;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * The table of contents of an eStargz layer (the eStargz spec of stargz-snapshotter), and the
 * TOC format it shares with zstd:chunked ({@link ZstdChunked}), CRFS's: an eStargz layer is a gzip
 * blob whose last 51 bytes are an empty gzip member whose header's extra field {@code SG} holds
 * {@code %016xSTARGZ}, the blob position of the TOC (47 bytes and the bare payload in the legacy
 * stargz footer). The TOC is a gzip member holding a tar whose one member,
 * {@code stargz.index.json}, lists every entry with its attributes and, for regular files, the
 * gzip members their chunks lie in. Opening such a layer reads the footer and the TOC alone.
 */
final class Stargz {

    static final String TOC_NAME = "stargz.index.json";
    static final int FOOTER = 51;
    static final int LEGACY_FOOTER = 47;
    /** Entries the eStargz writer adds for prefetching, which are not files of the image. */
    private static final List<String> LANDMARKS = List.of(".prefetch.landmark", ".no.prefetch.landmark");
    /** A larger TOC is taken for a corrupt one. */
    private static final int MAX_TOC = 256 << 20;
    private static final System.Logger LOG = System.getLogger(Stargz.class.getName());

    /** The entries a TOC lists, as tar members whose data offsets point into the files' stream, and where that stream lies. */
    record Toc(List<TarEntry> entries, ChunkIndex index) {
    }

    private Stargz() {
    }

    /** The TOC of an eStargz blob; empty for any other gzip blob, or when its TOC cannot be read (with a warning). */
    static Optional<Toc> read(Blob blob) throws IOException {
        long tocOffset = tocOffset(blob);
        if (tocOffset < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(tocJson(blob, tocOffset), tocOffset));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, blob.describe() + " has an eStargz footer but its TOC cannot be used ("
                    + e.getMessage() + "); reading the whole layer instead");
            return Optional.empty();
        }
    }

    /** The TOC's position from the footer, or -1 when the blob has no eStargz footer. */
    static long tocOffset(Blob blob) throws IOException {
        for (int footer : new int[] {FOOTER, LEGACY_FOOTER}) {
            if (blob.size() < footer) {
                continue;
            }
            ByteBuffer bytes = ByteBuffer.allocate(footer);
            blob.read(bytes, blob.size() - footer);
            byte[] f = bytes.array();
            if ((f[0] & 0xff) != 0x1f || (f[1] & 0xff) != 0x8b || f[2] != 8 || (f[3] & 4) == 0) {
                continue;
            }
            int xlen = (f[10] & 0xff) | (f[11] & 0xff) << 8;
            int payload;
            if (footer == FOOTER) {
                // One subfield: 'S' 'G', its length (22), the payload.
                if (xlen != 26 || f[12] != 'S' || f[13] != 'G' || ((f[14] & 0xff) | (f[15] & 0xff) << 8) != 22) {
                    continue;
                }
                payload = 16;
            } else {
                if (xlen != 22) {
                    continue;
                }
                payload = 12;
            }
            String text = new String(f, payload, 22, StandardCharsets.US_ASCII);
            if (text.endsWith("STARGZ") && text.substring(0, 16).matches("[0-9a-f]{16}")) {
                long offset = Long.parseUnsignedLong(text.substring(0, 16), 16);
                if (offset >= 0 && offset < blob.size() - footer) {
                    return offset;
                }
            }
        }
        return -1;
    }

    /** The bytes of {@code stargz.index.json} in the tar of the gzip member at {@code tocOffset}. */
    private static byte[] tocJson(Blob blob, long tocOffset) throws IOException {
        byte[] tar;
        try (InputStream in = new GZIPInputStream(new java.io.BufferedInputStream(blob.stream(tocOffset), 1 << 16), 1 << 16)) {
            tar = in.readNBytes(MAX_TOC);
        }
        TarReader reader = new TarReader(new ByteArrayInputStream(tar));
        for (TarEntry entry; (entry = reader.next()) != null; ) {
            if (entry.name().equals(TOC_NAME) && entry.isRegular()) {
                if (entry.dataOffset() + entry.size() > tar.length) {
                    throw new IOException("the TOC is cut short");
                }
                return java.util.Arrays.copyOfRange(tar, (int) entry.dataOffset(), (int) (entry.dataOffset() + entry.size()));
            }
        }
        throw new IOException("no " + TOC_NAME + " at the TOC's offset");
    }

    /** A chunk of a file before the stream positions are known; member -1 for zeros. */
    private record Piece(long chunkOffset, long member, long innerOffset, byte[] sha256) {
    }

    /**
     * The entries of a TOC ({@code {"version": 1, "entries": [...]}}) whose files' data lies
     * before {@code tocOffset}.
     */
    @SuppressWarnings("unchecked")
    static Toc parse(byte[] json, long tocOffset) throws IOException {
        Object root = Json.parse(new String(json, StandardCharsets.UTF_8));
        if (!(root instanceof Map<?, ?> toc) || !(toc.get("entries") instanceof List<?> list)) {
            throw new IOException("the TOC has no entries list");
        }
        if (!(toc.get("version") instanceof Long version) || version != 1) {
            throw new IOException("TOC version " + toc.get("version") + " is not 1");
        }
        List<TarEntry> entries = new ArrayList<>();
        List<ChunkIndex.Chunk> chunks = new ArrayList<>();
        long stream = 0;
        // A regular file waits here until its chunk entries have been seen.
        Map<String, Object> file = null;
        List<Piece> pieces = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof Map<?, ?> raw)) {
                throw new IOException("a TOC entry is not an object");
            }
            Map<String, Object> e = (Map<String, Object>) raw;
            String type = text(e, "type");
            if (type.equals("chunk")) {
                if (file == null || !text(e, "name").equals(text(file, "name"))) {
                    throw new IOException("a chunk of " + text(e, "name") + " that follows no regular file of that name");
                }
                pieces.add(piece(e, tocOffset));
                continue;
            }
            if (file != null) {
                stream = addFile(file, pieces, stream, entries, chunks);
                file = null;
                pieces.clear();
            }
            if (type.equals("reg")) {
                file = e;
                pieces.add(piece(e, tocOffset));
            } else {
                entries.add(entry(e, type, 0, stream));
            }
        }
        if (file != null) {
            stream = addFile(file, pieces, stream, entries, chunks);
        }
        entries.removeIf(e -> LANDMARKS.contains(e.name().startsWith("./") ? e.name().substring(2) : e.name()));
        return new Toc(entries, new ChunkIndex(stream, chunks));
    }

    private static long addFile(Map<String, Object> file, List<Piece> pieces, long stream, List<TarEntry> entries,
                                List<ChunkIndex.Chunk> chunks) throws IOException {
        long size = number(file, "size");
        if (size < 0) {
            throw new IOException("a negative size for " + text(file, "name"));
        }
        entries.add(entry(file, "reg", size, stream));
        List<Piece> sorted = new ArrayList<>(pieces);
        sorted.sort((a, b) -> Long.compare(a.chunkOffset(), b.chunkOffset()));
        if (sorted.size() == 1 && sorted.getFirst().sha256().length == 0) {
            // One chunk, the whole file: the file's own digest checks it.
            Piece only = sorted.getFirst();
            sorted.set(0, new Piece(only.chunkOffset(), only.member(), only.innerOffset(), sha256(file, "digest")));
        }
        if (size > 0 && sorted.getFirst().chunkOffset() != 0) {
            throw new IOException("the chunks of " + text(file, "name") + " do not start at 0");
        }
        for (int i = 0; i < sorted.size() && size > 0; i++) {
            Piece p = sorted.get(i);
            long end = i + 1 < sorted.size() ? sorted.get(i + 1).chunkOffset() : size;
            if (end <= p.chunkOffset() || end > size) {
                throw new IOException("the chunks of " + text(file, "name") + " overlap or pass its end");
            }
            chunks.add(new ChunkIndex.Chunk(stream + p.chunkOffset(), end - p.chunkOffset(), p.member(), p.innerOffset(), p.sha256()));
        }
        return stream + size;
    }

    private static Piece piece(Map<String, Object> e, long tocOffset) throws IOException {
        if ("zeros".equals(e.get("chunkType"))) {
            return new Piece(number(e, "chunkOffset"), -1, 0, new byte[0]); // a hole: no data is stored
        }
        long member = number(e, "offset");
        long inner = number(e, "innerOffset");
        if (member < 0 || member >= tocOffset || inner < 0) {
            throw new IOException("a chunk of " + text(e, "name") + " lies outside the blob's data");
        }
        return new Piece(number(e, "chunkOffset"), member, inner, sha256(e, "chunkDigest"));
    }

    /** A {@code sha256:HEX} member as 32 bytes; none for a missing member or another algorithm. */
    private static byte[] sha256(Map<String, Object> e, String key) {
        String digest = e.get(key) instanceof String s ? s : "";
        if (digest.startsWith("sha256:") && digest.length() == 7 + 64) {
            try {
                return HexFormat.of().parseHex(digest.substring(7));
            } catch (IllegalArgumentException notHex) {
                return new byte[0];
            }
        }
        return new byte[0];
    }

    private static TarEntry entry(Map<String, Object> e, String type, long size, long dataOffset) throws IOException {
        byte flag = switch (type) {
            case "dir" -> TarEntry.DIRECTORY;
            case "reg" -> TarEntry.REGULAR;
            case "symlink" -> TarEntry.SYMLINK;
            case "hardlink" -> TarEntry.HARD_LINK;
            case "char" -> TarEntry.CHARACTER_DEVICE;
            case "block" -> TarEntry.BLOCK_DEVICE;
            case "fifo" -> TarEntry.FIFO;
            default -> throw new IOException("a TOC entry of unknown type " + type);
        };
        long mtime = 0;
        if (e.get("modtime") instanceof String time && !time.isEmpty()) {
            java.time.Instant instant;
            try {
                instant = OffsetDateTime.parse(time).toInstant();
            } catch (DateTimeParseException x) {
                throw new IOException("modtime \"" + time + "\" of " + text(e, "name") + " is not an RFC 3339 time");
            }
            try {
                mtime = Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
            } catch (ArithmeticException beyondNanos) {
                mtime = 0; // Go's zero time (year 1), which its encoder writes for a time not set
            }
        }
        Map<String, byte[]> xattrs = Map.of();
        if (e.get("xattrs") instanceof Map<?, ?> x && !x.isEmpty()) {
            xattrs = new LinkedHashMap<>();
            for (Map.Entry<?, ?> attr : x.entrySet()) {
                if (!(attr.getValue() instanceof String value)) {
                    throw new IOException("xattr " + attr.getKey() + " of " + text(e, "name") + " is not base64 text");
                }
                xattrs.put((String) attr.getKey(), Base64.getDecoder().decode(value));
            }
        }
        String link = e.get("linkName") instanceof String s ? s : "";
        return new TarEntry(text(e, "name"), flag, link, (int) (number(e, "mode") & 07777), number(e, "uid"), number(e, "gid"),
                size, mtime, mtime, mtime, number(e, "devMajor"), number(e, "devMinor"), dataOffset, xattrs);
    }

    private static String text(Map<String, Object> e, String key) throws IOException {
        if (!(e.get(key) instanceof String s)) {
            throw new IOException("a TOC entry without " + key);
        }
        return s;
    }

    /** A number member, 0 when absent (Go's encoder leaves out zero values). */
    private static long number(Map<String, Object> e, String key) throws IOException {
        Object value = e.get(key);
        if (value == null) {
            return 0;
        }
        if (!(value instanceof Long n)) {
            throw new IOException(key + " of a TOC entry is not an integer");
        }
        return n;
    }
}
