package dev.overlay4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Set;
import org.junit.jupiter.api.Test;

class SharedNameSetsTest {

    @Test
    void anEqualSetIsAnsweredWithTheFirstCopy() {
        Set<String> first = Set.copyOf(Set.of("shared-a", "shared-b", "shared-c"));
        Set<String> second = Set.copyOf(Set.of("shared-c", "shared-b", "shared-a"));
        assertNotSame(first, second);
        assertSame(first, SharedNameSets.canonical(first));
        assertSame(first, SharedNameSets.canonical(second));
    }

    @Test
    void aDifferentSetIsNeverAnsweredWithAnother() {
        Set<String> kept = Set.copyOf(Set.of("other-a", "other-b"));
        SharedNameSets.canonical(kept);
        Set<String> larger = Set.copyOf(Set.of("other-a", "other-b", "other-c"));
        assertSame(larger, SharedNameSets.canonical(larger));
        assertEquals(Set.of("other-a", "other-b"), SharedNameSets.canonical(Set.copyOf(Set.of("other-b", "other-a"))));
    }
}
