package dev.overlay4j.oci.commit;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Passes bytes on, counting them and taking their SHA-256: a blob's digest and size as it is written. */
final class HashingOutputStream extends FilterOutputStream {

    private final MessageDigest sha256;
    private long count;
    private String digest;

    HashingOutputStream(OutputStream out) {
        super(out);
        this.sha256 = newSha256();
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** {@code sha256:HEX} of {@code bytes}: an OCI digest. */
    static String digest(byte[] bytes) {
        return "sha256:" + HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    @Override
    public void write(int b) throws IOException {
        checkOpen();
        out.write(b);
        sha256.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        checkOpen();
        out.write(b, off, len);
        sha256.update(b, off, len);
        count += len;
    }

    private void checkOpen() {
        if (digest != null) {
            throw new IllegalStateException("written after its digest was taken");
        }
    }

    long count() {
        return count;
    }

    /** {@code sha256:HEX} of everything written, once the last byte is: later writes are refused. */
    String digest() {
        if (digest == null) {
            digest = "sha256:" + HexFormat.of().formatHex(sha256.digest());
        }
        return digest;
    }
}
