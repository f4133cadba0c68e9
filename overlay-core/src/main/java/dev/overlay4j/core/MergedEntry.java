package dev.overlay4j.core;

import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import java.util.List;

/**
 * A name of the overlay as lookup found it.
 *
 * @param path   the overlay path
 * @param upper  the upper layer's entry, or null
 * @param lowers for a directory: the lower directories merged under it, top first, ending at an
 *               opaque one (empty when the upper directory is opaque); for a non-directory
 *               without upper entry: the one lower entry that shows; else empty
 * @param inode  the overlay's st_ino (see {@link InodeNumbers})
 * @param indexed for a lower hard link without upper entry whose inode another name copied up:
 *               that copy in the index (layer {@link LayerStack#INDEX}, see {@link HardLinkIndex}); else null
 */
record MergedEntry(EntryPath path, LayerEntry upper, List<LayerEntry> lowers, long inode, LayerEntry indexed) {

    MergedEntry {
        lowers = List.copyOf(lowers);
    }

    MergedEntry(EntryPath path, LayerEntry upper, List<LayerEntry> lowers, long inode) {
        this(path, upper, lowers, inode, null);
    }

    /** The entry whose metadata the overlay shows: the upper one, else the index copy, else the topmost lower one. */
    LayerEntry top() {
        return upper != null ? upper : indexed != null ? indexed : lowers.getFirst();
    }

    boolean hasUpper() {
        return upper != null;
    }

    /** Whether lower layers contribute (kernel: "merge or lower"). */
    boolean hasLower() {
        return !lowers.isEmpty();
    }

    boolean isDirectory() {
        return top().isDirectory();
    }

    /** The layers whose directories make up this directory's listing, top first. */
    List<LayerEntry> directoryLayers() {
        if (upper == null) {
            return lowers;
        }
        var all = new java.util.ArrayList<LayerEntry>(lowers.size() + 1);
        all.add(upper);
        all.addAll(lowers);
        return all;
    }

    /**
     * The merged metadata as stat reports it: the top entry's, with the overlay inode number
     * and without overlay marks; a directory merged from several layers reports one link, as
     * the kernel does (its real link count is unknowable without reading every layer).
     */
    EntryAttributes attributes() {
        EntryAttributes shown = top().attributes().withoutOverlayMarks().withInode(inode);
        if (isDirectory() && directoryLayers().size() > 1) {
            shown = shown.withNlink(1);
        }
        return shown;
    }
}
