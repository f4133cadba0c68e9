package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.RenameMode;
import dev.overlay4j.api.WritableLayer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps the names of a lower hard link one file after copy-up, as the kernel's overlayfs does
 * with {@code index=on} (the "Inode index" section of Documentation/filesystems/overlayfs.rst),
 * for non-directories only.
 *
 * <p>The first copy-up of any name of a lower inode with more than one link puts the copy into
 * the upper layer's persistent {@link WritableLayer#indexArea() index}, under the overlay inode
 * number (which already names the lower inode: its layer and real inode), and links the name to
 * it. Lookup shows every other name of that inode that has no upper entry of its own through the
 * index copy, and copying such a name up only links it there. The copy is built whole in the work
 * area and published into the index with one rename, and each name is added with one link, so no
 * crash leaves a partial index entry or a name linked to one.
 *
 * <p>Index entries are never removed: one whose link count has fallen to 1 can still be the data
 * of lower names that were never copied up, and knowing which lower names remain would take a
 * scan of the lower layers. (The kernel keeps a link-count xattr for this; we do not.)
 *
 * <p>Each index entry records its lower origin (real inode number and change time), and lookup
 * ignores an entry whose origin differs: an overlay reopened on other lower layers with the same
 * work dir never shows another file's data.
 */
final class HardLinkIndex {

    /** Overlay xattr key on an index entry: the origin's real inode and ctime, two 8-byte big-endian numbers. */
    static final String ORIGIN_KEY = "overlay4j.index-origin";

    /** Builds a whole copy of an entry in the work area, with these overlay xattrs too, and returns its name there. */
    @FunctionalInterface
    interface Stage {
        EntryPath build(Map<String, byte[]> overlayXattrs) throws IOException;
    }

    private final WritableLayer upper;
    private final WritableLayer index;

    HardLinkIndex(WritableLayer upper, WritableLayer index) {
        this.upper = upper;
        this.index = index;
    }

    /**
     * Whether a lower entry is a hard link in its layer: a non-directory with more than one link.
     * Decided from what lookup already has, so the common single-link file costs nothing more.
     */
    static boolean isLowerHardLink(LayerEntry lower) {
        return lower.layer() > LayerStack.UPPER && !lower.isDirectory() && lower.attributes().nlink() > 1;
    }

    /** The index name of an overlay inode: its number in 16 hex digits. */
    static EntryPath key(long inode) {
        return EntryPath.ROOT.resolve(String.format("%016x", inode));
    }

    /** {@code entry}, seen through the index copy of its inode when it is a lower hard link that has one. */
    MergedEntry seenThrough(MergedEntry entry) throws IOException {
        if (entry.hasUpper() || !isLowerHardLink(entry.lowers().getFirst())) {
            return entry;
        }
        Optional<EntryAttributes> copy = copyOf(entry);
        return copy.isEmpty() ? entry : new MergedEntry(entry.path(), null, entry.lowers(), entry.inode(),
                new LayerEntry(LayerStack.INDEX, key(entry.inode()), copy.get()));
    }

    /** The index copy of {@code entry}'s lower inode, when there is one made from that inode. */
    private Optional<EntryAttributes> copyOf(MergedEntry entry) throws IOException {
        EntryPath key = key(entry.inode());
        Optional<EntryAttributes> found = index.stat(key);
        if (found.isEmpty() || !fromOrigin(key, found.get(), entry.lowers().getFirst())) {
            return Optional.empty();
        }
        return found;
    }

    private boolean fromOrigin(EntryPath key, EntryAttributes copy, LayerEntry lower) throws IOException {
        return copy.type() == lower.attributes().type() && index.readOverlayXattr(key, ORIGIN_KEY)
                .map(recorded -> Arrays.equals(recorded, origin(lower))).orElse(false);
    }

    private static byte[] origin(LayerEntry lower) {
        return ByteBuffer.allocate(2 * Long.BYTES).putLong(lower.attributes().inode())
                .putLong(lower.attributes().ctimeNanos()).array();
    }

    /**
     * Copies up the lower hard link {@code entry} (no upper entry yet, parent already upper):
     * links its name to the index copy of its inode, first building that copy with {@code stage}
     * when there is none.
     *
     * @return false, having changed nothing, when the index holds another file under the inode's
     *         name (made from other lower layers): the caller then copies without the index
     */
    boolean copyUp(MergedEntry entry, Stage stage, Staging staging) throws IOException {
        LayerEntry lower = entry.lowers().getFirst();
        EntryPath key = key(entry.inode());
        Optional<EntryAttributes> present = index.stat(key);
        if (present.isPresent() && !fromOrigin(key, present.get(), lower)) {
            return false;
        }
        if (present.isEmpty()) {
            EntryPath staged = stage.build(Map.of(ORIGIN_KEY, origin(lower))); // built whole: synced with its origin
            try {
                index.publish(staged, key, RenameMode.NOREPLACE);
            } catch (IOException e) {
                staging.discard(staged);
                if (Errno.of(e) != Errno.EEXIST) {
                    throw e;
                }
                // Another name of this inode was copied up at the same moment: share its copy.
                if (copyOf(entry).isEmpty()) {
                    return false;
                }
            } catch (RuntimeException e) {
                staging.discard(staged);
                throw e;
            }
        }
        upper.linkFromIndex(key, entry.path());
        return true;
    }
}
