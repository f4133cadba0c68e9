package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.IdMapping;
import dev.overlay4j.api.NewEntryAttributes;
import dev.overlay4j.api.OverlayConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where what the overlay shows differs from what its layers store: fuse-overlayfs's
 * {@code uidmapping=}/{@code gidmapping=}, {@code squash_to_*} and {@code static_nlink}, with its
 * rules (main.c's {@code find_mapping}, {@code rpl_stat}, {@code get_uid}):
 * <ul>
 * <li>stat shows the squash id when there is one, else the stored id mapped, else the overflow id;
 * <li>the owner of a new entry (the caller's ids) and the ids of a chown are mapped back before
 *     they are stored, an id no range holds as the overflow id; squash plays no part there;
 * <li>a copy-up copies the stored ids as they are (it never passes through here);
 * <li>the user and group entries of POSIX ACL xattr values are mapped both ways, like owners
 *     (fuse-overlayfs passes them through unmapped, so an ACL set through its mount names the
 *     wrong users on disk; the kernel's idmapped mounts map them);
 * <li>with {@code static_nlink} every directory shows one link.
 * </ul>
 */
final class ShownAttributes {

    static final String ACL_ACCESS = "system.posix_acl_access";
    static final String ACL_DEFAULT = "system.posix_acl_default";
    /** The id the kernel shows for one it cannot map, where /proc does not say another. */
    static final int DEFAULT_OVERFLOW_ID = 65534;
    /** ACL xattr values (include/uapi/linux/posix_acl_xattr.h): a version header, then 8-byte entries. */
    private static final int ACL_VERSION = 2;
    private static final int ACL_HEADER = 4;
    private static final int ACL_ENTRY = 8;
    private static final int ACL_USER = 0x02;
    private static final int ACL_GROUP = 0x08;
    private static final int NO_ID = -1;

    private final IdMapping uids;
    private final IdMapping gids;
    private final int squashUid;
    private final int squashGid;
    private final boolean staticNlink;
    private final int overflowUid;
    private final int overflowGid;
    /** Nothing to change: stat and every change pass through as they are. */
    private final boolean identity;

    ShownAttributes(OverlayConfig config, int overflowUid, int overflowGid) {
        this.uids = config.uidMapping().orElse(null);
        this.gids = config.gidMapping().orElse(null);
        this.squashUid = config.squashUid().orElse(NO_ID);
        this.squashGid = config.squashGid().orElse(NO_ID);
        this.staticNlink = config.staticNlink();
        this.overflowUid = overflowUid;
        this.overflowGid = overflowGid;
        this.identity = uids == null && gids == null && squashUid == NO_ID && squashGid == NO_ID && !staticNlink;
    }

    /** With the overflow ids this machine's kernel uses (/proc/sys/kernel/overflowuid, overflowgid). */
    static ShownAttributes of(OverlayConfig config) {
        return new ShownAttributes(config, overflowId("overflowuid"), overflowId("overflowgid"));
    }

    /** {@code /proc/sys/kernel/NAME} (overflowuid, overflowgid), or 65534 where it cannot be read. */
    static int overflowId(String name) {
        // Read as a stream: a sysctl file reports size 0, and Files.readString of it gave "6" for
        // "65534\n" (JDK 25, Linux 6.18).
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/kernel", name))) {
            return Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        } catch (IOException | NumberFormatException e) {
            return DEFAULT_OVERFLOW_ID;
        }
    }

    /** Whether a chown that the upper layer refuses is to succeed anyway (fuse-overlayfs's do_fchown with squash). */
    boolean squashes() {
        return squashUid != NO_ID || squashGid != NO_ID;
    }

    /** What stat shows of an entry with the stored {@code attributes}. */
    EntryAttributes shown(EntryAttributes attributes) {
        if (identity) {
            return attributes;
        }
        int uid = squashUid != NO_ID ? squashUid : shownUid(attributes.uid());
        int gid = squashGid != NO_ID ? squashGid : shownGid(attributes.gid());
        int nlink = staticNlink && attributes.isDirectory() ? 1 : attributes.nlink();
        if (uid == attributes.uid() && gid == attributes.gid() && nlink == attributes.nlink()) {
            return attributes;
        }
        return new EntryAttributes(attributes.type(), attributes.permissions(), uid, gid, attributes.size(),
                attributes.blocks(), attributes.atimeNanos(), attributes.mtimeNanos(), attributes.ctimeNanos(), nlink,
                attributes.inode(), attributes.rdev(), attributes.opaque(), attributes.redirect());
    }

    /** The owner to store for a new entry given (by the caller) in shown ids. */
    NewEntryAttributes stored(NewEntryAttributes given) {
        if (uids == null && gids == null) {
            return given;
        }
        return new NewEntryAttributes(given.permissions(), storedUid(given.uid()), storedGid(given.gid()));
    }

    /** The stored uid for a shown one; -1 (chown's "leave it") stays -1. */
    int storedUid(int uid) {
        return uids == null || uid == NO_ID ? uid : uids.stored(uid, overflowUid);
    }

    /** The stored gid for a shown one; -1 stays -1. */
    int storedGid(int gid) {
        return gids == null || gid == NO_ID ? gid : gids.stored(gid, overflowGid);
    }

    private int shownUid(int uid) {
        return uids == null ? uid : uids.shown(uid, overflowUid);
    }

    private int shownGid(int gid) {
        return gids == null ? gid : gids.shown(gid, overflowGid);
    }

    /** An xattr value as read through the overlay: ACL entries name shown ids. */
    byte[] shownXattr(String name, byte[] value) {
        return mapsAcl(name) ? mapAcl(value, true) : value;
    }

    /** An xattr value as it is to be stored: ACL entries name stored ids. */
    byte[] storedXattr(String name, byte[] value) {
        return mapsAcl(name) ? mapAcl(value, false) : value;
    }

    private boolean mapsAcl(String name) {
        return (uids != null || gids != null) && (name.equals(ACL_ACCESS) || name.equals(ACL_DEFAULT));
    }

    /**
     * A copy of an ACL value with its user and group entries mapped; a value not in the format
     * goes through unchanged, for the layer to refuse as it would without a mapping.
     */
    private byte[] mapAcl(byte[] value, boolean toShown) {
        ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (value.length < ACL_HEADER || (value.length - ACL_HEADER) % ACL_ENTRY != 0 || in.getInt(0) != ACL_VERSION) {
            return value;
        }
        byte[] mapped = value.clone();
        ByteBuffer out = ByteBuffer.wrap(mapped).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = ACL_HEADER; at < value.length; at += ACL_ENTRY) {
            int tag = Short.toUnsignedInt(in.getShort(at));
            int id = in.getInt(at + 4);
            if (tag == ACL_USER) {
                out.putInt(at + 4, toShown ? shownUid(id) : storedUid(id));
            } else if (tag == ACL_GROUP) {
                out.putInt(at + 4, toShown ? shownGid(id) : storedGid(id));
            }
        }
        return mapped;
    }
}
