package dev.overlay4j.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Keys no well-behaved tool writes, which the test server cannot even store. */
class ListingBuilderTest {

    private final List<String> refused = new ArrayList<>();
    private final ListingBuilder builder = new ListingBuilder("p/", (key, why) -> refused.add(key));

    private void objects(String... keys) {
        for (String key : keys) {
            builder.object(key, 1, "\"e\"", 0);
        }
    }

    @Test
    void hostileKeysAreRefusedAndReported() {
        objects("p/ok", "p/.", "p/..", "p/a\0b", "p/" + "x".repeat(256), "p/.wh..", "p/.wh..wh.plnk");
        builder.commonPrefix("p//");
        builder.commonPrefix("p/../");
        builder.commonPrefix("p/./");
        Listing listing = builder.build(0);
        assertEquals(Set.of("ok"), listing.entries().keySet());
        assertEquals(Set.of("p/.", "p/..", "p/a\0b", "p/" + "x".repeat(256), "p/.wh..", "p/.wh..wh.plnk", "p//",
                "p/../", "p/./"), Set.copyOf(refused));
    }

    @Test
    void aDirectoryWinsOverAnObjectOfTheSameNameWhicheverPageCameFirst() {
        builder.commonPrefix("p/clash/");
        objects("p/clash", "p/other");
        Listing listing = builder.build(0);
        assertInstanceOf(Listing.DirectoryNode.class, listing.entries().get("clash"));
        assertEquals(List.of("p/clash"), refused);
    }

    @Test
    void anEntryOfTheSameLayerWinsOverItsWhiteout() {
        objects("p/.wh.both", "p/both", "p/.wh.gone");
        Listing listing = builder.build(0);
        assertInstanceOf(Listing.ObjectNode.class, listing.entries().get("both"));
        assertInstanceOf(Listing.WhiteoutNode.class, listing.entries().get("gone"));
    }

    @Test
    void markersMarkTheDirectoryAndAreNoEntries() {
        objects("p/", "p/.wh..wh..opq");
        Listing listing = builder.build(0);
        assertTrue(listing.marker());
        assertTrue(listing.opaque());
        assertTrue(listing.entries().isEmpty());
        assertTrue(refused.isEmpty());
    }

    @Test
    void olderToolsFolderMarkersAreDirectories() {
        objects("p/old_$folder$");
        assertEquals(new Listing.DirectoryNode("p/old/"), builder.build(0).entries().get("old"));
    }

    @Test
    void keysOutsideThePrefixAreIgnored() {
        objects("q/x", "px");
        builder.commonPrefix("q/");
        Listing listing = builder.build(0);
        assertTrue(listing.entries().isEmpty());
        assertFalse(listing.marker());
    }

    private static Set<String> names(List<java.util.Map.Entry<String, Listing.Node>> entries) {
        return entries.stream().map(java.util.Map.Entry::getKey).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void anObjectIsHandedOutOnlyOnceNoDirectoryOfItsNameCanFollow() {
        objects("p/a", "p/b");
        // "p/a-1" sorts between "p/a" and "p/a/": a page ending there cannot settle "a" yet.
        objects("p/a-1");
        assertEquals(Set.of(), names(builder.drainSettled("p/a-1")));
        builder.commonPrefix("p/a/");
        assertEquals(Set.of("a", "a-1"), names(builder.drainSettled("p/a/")));
        assertInstanceOf(Listing.DirectoryNode.class, builder.build(0).entries().get("a"));
        assertEquals(Set.of("b"), names(builder.drainSettled("p/c")));
        objects("p/.wh.gone");
        assertEquals(Set.of("gone"), names(builder.drainRest()));
    }

    @Test
    void keysCompareInUtf8ByteOrderAsS3ListsThem() {
        // U+FF5E sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 units.
        assertTrue(ListingBuilder.compareKeys("\uff5e", "\ud83d\ude00") < 0);
        assertTrue("\uff5e".compareTo("\ud83d\ude00") > 0);
        assertTrue(ListingBuilder.compareKeys("a", "a/") < 0);
        assertTrue(ListingBuilder.compareKeys("a-1", "a/") < 0);
    }
}
