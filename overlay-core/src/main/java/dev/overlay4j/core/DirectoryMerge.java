package dev.overlay4j.core;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The merged listing of a directory (the kernel's fs/overlayfs/readdir.c): the upper directory
 * is read first, then each merged lower directory; a name already seen is not added again, so
 * the topmost layer gives its type, and a name whose topmost occurrence is a whiteout is hidden.
 */
final class DirectoryMerge {

    private final LayerStack layers;
    private final Lookup lookup;

    DirectoryMerge(LayerStack layers, Lookup lookup) {
        this.layers = layers;
        this.lookup = lookup;
    }

    /** What the topmost layer holding a name says about it. */
    private record Seen(EntryType type, int layer, long layerInode) {
    }

    /** The listing with each entry's st_ino, as stat reports it. */
    List<DirectoryEntry> list(MergedEntry directory) throws IOException {
        List<DirectoryEntry> entries = new ArrayList<>();
        for (Map.Entry<String, Seen> e : visibleNames(directory).entrySet()) {
            String name = e.getKey();
            Seen seen = e.getValue();
            long inode;
            if (seen.layer() != LayerStack.UPPER && seen.type() != EntryType.DIRECTORY && seen.layerInode() != 0) {
                // A lower non-directory that shows is its own origin: no further lookup needed.
                inode = InodeNumbers.compose(seen.layer(), seen.layerInode());
            } else {
                Optional<MergedEntry> child = lookup.cachedChild(directory, name);
                if (child.isEmpty()) {
                    continue;
                }
                inode = child.get().inode();
            }
            entries.add(new DirectoryEntry(name, seen.type(), inode));
        }
        return List.copyOf(entries);
    }

    /** Whether the merged directory has no entry at all (rmdir, rename over a directory). */
    boolean isEmpty(MergedEntry directory) throws IOException {
        return visibleNames(directory).isEmpty();
    }

    /** The names that show, in listing order: upper first, then the lower directories top to bottom. */
    private Map<String, Seen> visibleNames(MergedEntry directory) throws IOException {
        Map<String, Seen> seen = new LinkedHashMap<>();
        boolean keepNames = lookup.keepsNamesOf(directory);
        int lowerIndex = 0;
        for (LayerEntry dir : directory.directoryLayers()) {
            boolean lower = dir.layer() != LayerStack.UPPER;
            Set<String> listed = keepNames && lower ? new HashSet<>() : null;
            try (Stream<DirectoryEntry> names = layers.layer(dir.layer()).list(dir.path())) {
                for (DirectoryEntry entry : (Iterable<DirectoryEntry>) names::iterator) {
                    seen.putIfAbsent(entry.name(), new Seen(entry.type(), dir.layer(), entry.inode()));
                    if (listed != null) {
                        listed.add(entry.name());
                    }
                }
            }
            if (listed != null) {
                lookup.listedLower(directory, lowerIndex, listed);
            }
            if (lower) {
                lowerIndex++;
            }
        }
        seen.values().removeIf(s -> s.type() == EntryType.WHITEOUT);
        return seen;
    }

    /** The whiteouts in an upper directory: what removing or replacing it must clear first. */
    List<EntryPath> upperWhiteouts(EntryPath directory) throws IOException {
        List<EntryPath> whiteouts = new ArrayList<>();
        try (Stream<DirectoryEntry> names = layers.upper().list(directory)) {
            for (DirectoryEntry entry : (Iterable<DirectoryEntry>) names::iterator) {
                if (entry.type() == EntryType.WHITEOUT) {
                    whiteouts.add(directory.resolve(entry.name()));
                }
            }
        }
        return whiteouts;
    }
}
