package dev.overlay4j.api;

/**
 * Who owns a new entry and its permission bits (after the caller's umask).
 *
 * @param permissions permission bits, {@code 07777}
 * @param uid         owner user id
 * @param gid         owner group id
 */
public record NewEntryAttributes(int permissions, int uid, int gid) {

    public NewEntryAttributes {
        permissions &= 07777;
    }
}
