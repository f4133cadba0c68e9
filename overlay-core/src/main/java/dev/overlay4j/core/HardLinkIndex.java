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
 * <p>The overlay's link count of such a file is the number of its names in the overlay, as the
 * kernel counts it: the lower link count until a name goes away or is added, then one more or one
 * less per name linked or removed. Each index entry records it relative to its own link count
 * (which counts the index name and every upper name), like the kernel's {@code
 * trusted.overlay.nlink} "U&#177;n": linking, unlinking or renaming over an upper name changes both
 * counts together, so only copying up one more name rewrites the record. Removing or renaming over
 * a name that is still lower first copies it up ({@link CopyUp#beforeCovering}, the kernel's
 * {@code ovl_nlink_start}), so the index entry exists to count the loss.
 *
 * <p>Index entries are never removed: one whose link count has fallen to 1 can still be the data
 * of lower names that were never copied up, and knowing which lower names remain would take a
 * scan of the lower layers.
 *
 * <p>Each index entry records its lower origin (real inode number and change time), and lookup
 * ignores an entry whose origin differs: an overlay reopened on other lower layers with the same
 * work dir never shows another file's data.
 */
final class HardLinkIndex {

    /** Overlay xattr key on an index entry: the origin's real inode and ctime, two 8-byte big-endian numbers. */
    static final String ORIGIN_KEY = "overlay4j.index-origin";
    /** Overlay xattr key on an index entry: the overlay's link count minus the entry's own, 4 bytes big-endian. */
    static final String NLINK_KEY = "overlay4j.index-nlink";

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
        EntryPath key = key(entry.inode());
        return copy.isEmpty() ? entry : new MergedEntry(entry.path(), null, entry.lowers(), entry.inode(),
                new LayerEntry(LayerStack.INDEX, key, withOverlayNlink(key, copy.get())));
    }

    /**
     * {@code entry}, an upper non-directory, with the overlay's link count when it is a name
     * linked to an index entry (the index entry of its inode number is the same real file).
     */
    MergedEntry withIndexedNlink(MergedEntry entry) throws IOException {
        EntryAttributes upperAttributes = entry.upper().attributes();
        if (upperAttributes.isDirectory() || upperAttributes.nlink() < 2) {
            return entry;
        }
        EntryPath key = key(entry.inode());
        Optional<EntryAttributes> indexed = index.stat(key);
        if (indexed.isEmpty() || indexed.get().inode() != upperAttributes.inode()) {
            return entry;
        }
        LayerEntry upperEntry = new LayerEntry(LayerStack.UPPER, entry.upper().path(),
                withOverlayNlink(key, upperAttributes));
        return new MergedEntry(entry.path(), upperEntry, entry.lowers(), entry.inode(), entry.indexed());
    }

    /** {@code real} (the index entry's, or an upper name's of it) with the link count the overlay shows. */
    private EntryAttributes withOverlayNlink(EntryPath key, EntryAttributes real) throws IOException {
        Optional<byte[]> recorded = index.readOverlayXattr(key, NLINK_KEY);
        if (recorded.isEmpty() || recorded.get().length != Integer.BYTES) {
            return real; // made before the count was recorded: the real count
        }
        int overlayNlink = real.nlink() + ByteBuffer.wrap(recorded.get()).getInt();
        return overlayNlink > 0 ? real.withNlink(overlayNlink) : real;
    }

    private static byte[] nlinkRecord(int overlayMinusReal) {
        return ByteBuffer.allocate(Integer.BYTES).putInt(overlayMinusReal).array();
    }

    /** One more upper name is about to be linked to the index entry without adding a name to the overlay. */
    private void countOneMoreUpperName(EntryPath key) throws IOException {
        Optional<byte[]> recorded = index.readOverlayXattr(key, NLINK_KEY);
        if (recorded.isPresent() && recorded.get().length == Integer.BYTES) {
            index.writeOverlayXattr(key, NLINK_KEY, nlinkRecord(ByteBuffer.wrap(recorded.get()).getInt() - 1));
        }
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
        boolean created = false;
        if (present.isEmpty()) {
            // Built whole, synced with its marks: once published and linked to this name it has two
            // links, and the overlay every lower name.
            EntryPath staged = stage.build(Map.of(ORIGIN_KEY, origin(lower),
                    NLINK_KEY, nlinkRecord(lower.attributes().nlink() - 2)));
            try {
                index.publish(staged, key, RenameMode.NOREPLACE);
                created = true;
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
        if (!created) {
            countOneMoreUpperName(key);
        }
        upper.linkFromIndex(key, entry.path());
        return true;
    }
}
