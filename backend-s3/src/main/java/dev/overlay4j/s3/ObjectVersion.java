package dev.overlay4j.s3;

/**
 * One version of one object, as an open file pins it: reads ask for exactly this ETag.
 *
 * @param key     the object key
 * @param etag    the ETag the file was opened with (as the server sent it, quotes included)
 * @param size    the object's size
 * @param display the layer and path, for messages
 */
record ObjectVersion(String key, String etag, long size, String display) {

    /** Whether {@code other} is this version's ETag (servers differ on quoting). */
    boolean sameEtag(String other) {
        return other == null || etag == null || strip(etag).equals(strip(other));
    }

    private static String strip(String tag) {
        String t = tag.startsWith("W/") ? tag.substring(2) : tag;
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }
}
