package dev.overlay4j.core;

import static dev.overlay4j.core.LayerTree.listing;
import static dev.overlay4j.core.LayerTree.p;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.Overlay;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DirectoryMergeTest {

    @Test
    void listingMergesAllLayersWithoutDuplicatesTopmostTypeWins() throws Exception {
        MemoryLayers t = new MemoryLayers(2)
                .file(2, "d/a", "2").file(2, "d/b", "2").dir(2, "d/c")
                .file(1, "d/b", "1").file(1, "d/c", "file over dir")
                .file(0, "d/a", "0").file(0, "d/u", "0");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("a", "f", "b", "f", "c", "f", "u", "f"), listing(o, "d"));
        }
    }

    @Test
    void listingHidesWhiteoutsAndWhatTheyCover() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/gone", "x").file(2, "d/kept", "x").whiteout(1, "d/gone")
                .whiteout(0, "d/kept2").file(2, "d/kept2", "x");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("kept", "f"), listing(o, "d"));
        }
    }

    @Test
    void listingStopsAtOpaqueDirectory() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/below", "x").opaque(1, "d").file(1, "d/own", "x")
                .file(0, "d/up", "x");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("own", "f", "up", "f"), listing(o, "d"));
        }
    }

    @Test
    void listingOfRedirectedDirectoryShowsTheRedirectTargetsContent() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "old/f", "x").redirect(0, "new", "/old").whiteout(0, "old");
        try (Overlay o = t.open()) {
            assertEquals(Map.of("f", "f"), listing(o, "new"));
            assertEquals(Map.of("new", "d"), listing(o, ""));
        }
    }

    @Test
    void everyEntrysInodeEqualsWhatStatReports() throws Exception {
        MemoryLayers t = new MemoryLayers(2).file(2, "d/low", "x").dir(2, "d/sub").file(1, "d/mid", "x")
                .dir(1, "d/sub").file(0, "d/up", "x").symlink(2, "d/link", "low");
        try (Overlay o = t.open()) {
            List<DirectoryEntry> entries = o.listDirectory(p("d"));
            assertEquals(5, entries.size());
            for (DirectoryEntry e : entries) {
                assertEquals(o.stat(p("d/" + e.name())).inode(), e.inode(), e.name());
                assertEquals(o.stat(p("d/" + e.name())).type(), e.type(), e.name());
            }
        }
    }

    @Test
    void listingIsASnapshotUnaffectedByLaterChanges() throws Exception {
        MemoryLayers t = new MemoryLayers(1).file(1, "d/a", "x");
        try (Overlay o = t.open()) {
            List<DirectoryEntry> before = o.listDirectory(p("d"));
            LayerTree.write(o, "d/b", "y");
            o.unlink(p("d/a"));
            assertEquals(List.of("a"), before.stream().map(DirectoryEntry::name).toList());
            assertEquals(Map.of("b", "f"), listing(o, "d"));
        }
    }
}
