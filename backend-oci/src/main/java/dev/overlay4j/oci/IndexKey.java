package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a cached layer index belongs to: a blob's digest when the blob is named by one (an OCI
 * layout's {@code blobs/ALG/HEX}), else a local file as it is now (its path, device, inode, size,
 * modification and change times), so that a file changed in place gets a new index.
 *
 * @param text     the identity in full; the cache file repeats it, and a file whose text differs
 *                 (another blob whose name collided, a hand-copied file) is not used
 * @param fileName the name of the cache file, made of {@code [A-Za-z0-9._=-]} only
 */
record IndexKey(String text, String fileName) {

    /** A blob named by its digest ({@code sha256:HEX}), checked by OciLayout's digest pattern. */
    static IndexKey ofDigest(String digest) {
        String name = digest.replace(':', '-');
        if (!name.matches("[A-Za-z0-9._=+-]+")) {
            throw new IllegalArgumentException("not a digest: " + digest);
        }
        return new IndexKey("digest " + digest, name + ".idx");
    }

    /** A loose local file, as it is now. */
    static IndexKey ofFile(Path file) throws IOException {
        Path real = file.toRealPath();
        Map<String, Object> unix = Files.readAttributes(real, "unix:dev,ino,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
        String text = "file " + real + " dev " + unix.get("dev") + " ino " + unix.get("ino") + " size " + unix.get("size")
                + " mtime " + nanos((FileTime) unix.get("lastModifiedTime")) + " ctime " + nanos((FileTime) unix.get("ctime"));
        return new IndexKey(text, "file-" + sha256(text) + ".idx");
    }

    private static long nanos(FileTime time) {
        return time.to(TimeUnit.NANOSECONDS);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
