package dev.overlay4j.it.containers;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Expected checksums for the {@code manifest} lines of the container scripts. */
final class Digests {
    private Digests() {
    }

    /** The hex SHA-256 of {@code text} in UTF-8, as sha256sum prints it. */
    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
