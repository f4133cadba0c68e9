package dev.overlay4j.fuse.server;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.fuse.protocol.Flags;

/** The POSIX permission check of {@code access(2)} for one user and its primary group. */
final class Permissions {

    private Permissions() {
    }

    /**
     * Whether {@code uid}/{@code gid} may do what {@code mask} asks ({@code R_OK|W_OK|X_OK}).
     * Root may do everything except execute a file with no execute bit at all.
     */
    static boolean allows(EntryAttributes attributes, int uid, int gid, int mask) {
        int wanted = mask & (Flags.R_OK | Flags.W_OK | Flags.X_OK);
        int permissions = attributes.permissions();
        if (uid == 0) {
            return (wanted & Flags.X_OK) == 0 || attributes.isDirectory() || (permissions & 0111) != 0;
        }
        int granted;
        if (uid == attributes.uid()) {
            granted = (permissions >> 6) & 7;
        } else if (gid == attributes.gid()) {
            granted = (permissions >> 3) & 7;
        } else {
            granted = permissions & 7;
        }
        return (granted & wanted) == wanted;
    }
}
