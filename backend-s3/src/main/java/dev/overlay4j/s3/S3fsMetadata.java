package dev.overlay4j.s3;

import dev.overlay4j.api.EntryType;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The file metadata s3fs-fuse keeps in user metadata ({@code x-amz-meta-NAME}; the SDK hands the
 * map over without that prefix): {@code mode} is the whole {@code st_mode} in decimal, type bits
 * included; {@code uid}, {@code gid} decimal; {@code mtime}, {@code atime}, {@code ctime} seconds
 * since the epoch, possibly with a fraction; {@code rdev} for device nodes. A symlink is an
 * object whose mode has {@code S_IFLNK} and whose body is the target. The one place that reads
 * and writes this format.
 *
 * @param mode  st_mode, or -1 when absent or unreadable
 * @param uid   owner, or -1
 * @param gid   group, or -1
 * @param mtimeNanos modification time, or {@link Long#MIN_VALUE}
 * @param atimeNanos access time, or {@link Long#MIN_VALUE}
 * @param ctimeNanos status change time, or {@link Long#MIN_VALUE}
 * @param rdev  device number, 0 when absent
 * @param xattrs extended attributes, from {@code xattr}: the percent-encoded JSON object
 *              {@code {"NAME":"BASE64(VALUE)",...}}
 */
record S3fsMetadata(int mode, int uid, int gid, long mtimeNanos, long atimeNanos, long ctimeNanos, long rdev,
                    Map<String, byte[]> xattrs) {

    static final long NO_TIME = Long.MIN_VALUE;
    static final S3fsMetadata NONE = new S3fsMetadata(-1, -1, -1, NO_TIME, NO_TIME, NO_TIME, 0, Map.of());

    S3fsMetadata {
        xattrs = Map.copyOf(xattrs);
    }

    static S3fsMetadata parse(Map<String, String> userMetadata) {
        if (userMetadata == null || userMetadata.isEmpty()) {
            return NONE;
        }
        Map<String, String> meta = new LinkedHashMap<>();
        userMetadata.forEach((k, v) -> meta.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return new S3fsMetadata(
                (int) integer(meta.get("mode")),
                (int) integer(meta.get("uid")),
                (int) integer(meta.get("gid")),
                seconds(meta.get("mtime")),
                seconds(meta.get("atime")),
                seconds(meta.get("ctime")),
                Math.max(0, integer(meta.get("rdev"))),
                meta.containsKey("xattr") ? xattrs(meta.get("xattr")) : Map.of());
    }

    /** Parses s3fs's xattr header; a malformed one gives no attributes rather than a failure. */
    static Map<String, byte[]> xattrs(String header) {
        String json = percentDecode(header).trim();
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (!json.startsWith("{") || !json.endsWith("}")) {
            return out;
        }
        int[] at = {1};
        try {
            skipSpace(json, at);
            while (at[0] < json.length() - 1) {
                String name = string(json, at);
                skipSpace(json, at);
                expect(json, at, ':');
                String value = string(json, at);
                out.put(name, Base64.getDecoder().decode(value));
                skipSpace(json, at);
                if (json.charAt(at[0]) == ',') {
                    at[0]++;
                    skipSpace(json, at);
                }
            }
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return Map.of();
        }
        return out;
    }

    /** The xattr header for these attributes, as s3fs writes it. */
    static String xattrHeader(Map<String, byte[]> xattrs) {
        StringBuilder json = new StringBuilder("{");
        xattrs.forEach((name, value) -> {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append('"').append(name.replace("\\", "\\\\").replace("\"", "\\\"")).append("\":\"")
                    .append(Base64.getEncoder().encodeToString(value)).append('"');
        });
        return percentEncode(json.append('}').toString());
    }

    private static void skipSpace(String s, int[] at) {
        while (at[0] < s.length() && Character.isWhitespace(s.charAt(at[0]))) {
            at[0]++;
        }
    }

    private static void expect(String s, int[] at, char c) {
        if (s.charAt(at[0]) != c) {
            throw new IllegalArgumentException("expected " + c);
        }
        at[0]++;
        skipSpace(s, at);
    }

    private static String string(String s, int[] at) {
        expect(s, at, '"');
        StringBuilder out = new StringBuilder();
        while (s.charAt(at[0]) != '"') {
            char c = s.charAt(at[0]++);
            out.append(c == '\\' ? s.charAt(at[0]++) : c);
        }
        at[0]++;
        return out.toString();
    }

    /** Percent-decoding that leaves '+' alone (base64 uses it). */
    private static String percentDecode(String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%' && i + 2 < text.length()) {
                out.write(Integer.parseInt(text.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String percentEncode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-_.~".indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(String.format("%02X", c));
            }
        }
        return out.toString();
    }

    /**
     * The type the mode names, or {@code fallback} when the mode has no type bits. A character
     * device 0/0 is a whiteout, as in the kernel's on-disk format.
     */
    EntryType type(EntryType fallback) {
        if (mode < 0 || (mode & 0170000) == 0) {
            return fallback;
        }
        try {
            EntryType type = EntryType.ofFormatBits(mode);
            return type == EntryType.CHARACTER_DEVICE && rdev == 0 ? EntryType.WHITEOUT : type;
        } catch (IllegalArgumentException e) {
            return fallback;
        }
    }

    int permissions(int fallback) {
        return mode < 0 ? fallback : mode & 07777;
    }

    /** The user metadata that records these values, for uploads. */
    static Map<String, String> write(int mode, int uid, int gid, long mtimeNanos, long atimeNanos, long rdev) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("mode", Integer.toString(mode));
        meta.put("uid", Integer.toString(uid));
        meta.put("gid", Integer.toString(gid));
        meta.put("mtime", seconds(mtimeNanos));
        meta.put("atime", seconds(atimeNanos));
        if (rdev != 0) {
            meta.put("rdev", Long.toString(rdev));
        }
        return meta;
    }

    /** Whole seconds when exact (as s3fs writes them), else seconds with nine decimals. */
    static String seconds(long nanos) {
        long secs = Math.floorDiv(nanos, 1_000_000_000L);
        long frac = Math.floorMod(nanos, 1_000_000_000L);
        return frac == 0 ? Long.toString(secs) : secs + "." + String.format("%09d", frac);
    }

    private static long integer(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long seconds(String text) {
        if (text == null) {
            return NO_TIME;
        }
        try {
            return new BigDecimal(text.trim()).movePointRight(9).longValue();
        } catch (NumberFormatException | ArithmeticException e) {
            return NO_TIME;
        }
    }
}
