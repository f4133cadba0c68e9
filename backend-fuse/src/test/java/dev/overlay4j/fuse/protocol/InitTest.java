package dev.overlay4j.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InitTest {

    /** A kernel that offers every capability of flags and passthrough in flags2. */
    private static final long KERNEL_FLAGS = 0xffff_ffffL | Flags.PASSTHROUGH;

    @Test
    void agreesOnTheSmallerMinorVersion() {
        assertEquals(Init.MINOR, Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS)).minor());
        assertEquals(31, Init.negotiate(new Init.Offer(7, 31, 131072, KERNEL_FLAGS)).minor());
    }

    @Test
    void asksOnlyForWantedCapabilitiesTheKernelOffers() {
        Init.Answer answer = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS));
        assertEquals(Init.WANTED | Flags.INIT_EXT, answer.flags());
        assertEquals(0, answer.flags() & Flags.WRITEBACK_CACHE);
        assertEquals(0, answer.flags() & Flags.PASSTHROUGH);

        long offered = Flags.ASYNC_READ | Flags.WRITEBACK_CACHE;
        assertEquals(Flags.ASYNC_READ, Init.negotiate(new Init.Offer(7, 45, 0, offered)).flags());
    }

    @Test
    void letsTheKernelCheckAndCachePosixAclsWhenOffered() {
        assertEquals(Flags.POSIX_ACL, Init.negotiate(new Init.Offer(7, 45, 0, KERNEL_FLAGS)).flags() & Flags.POSIX_ACL);
        assertEquals(0, Init.negotiate(new Init.Offer(7, 45, 0, Flags.ASYNC_READ)).flags() & Flags.POSIX_ACL);
        assertEquals(0, Init.negotiate(new Init.Offer(7, 45, 0, KERNEL_FLAGS), false, false, false).flags() & Flags.POSIX_ACL,
                "option noacl: not asked for");
    }

    @Test
    void asksForPassthroughWithStackDepthOneOnlyWhenWantedAndOffered() {
        Init.Answer wanted = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS), true);
        assertTrue(wanted.passthrough());
        assertEquals(1, wanted.maxStackDepth());

        Init.Answer notOffered = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS & ~Flags.PASSTHROUGH), true);
        assertFalse(notOffered.passthrough());
        assertEquals(0, notOffered.maxStackDepth());

        Init.Answer notWanted = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS), false);
        assertFalse(notWanted.passthrough());
        assertEquals(0, notWanted.maxStackDepth());
    }

    @Test
    void onlyDirectoriesAreOpenedByTheKernelAloneAndTruncationStaysAtomic() {
        Init.Answer answer = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS), false, true);
        assertTrue(answer.kernelOpensDirectories());
        assertEquals(Flags.ATOMIC_O_TRUNC, answer.flags() & Flags.ATOMIC_O_TRUNC);
        assertEquals(0, answer.flags() & Flags.AUTO_INVAL_DATA);
        assertEquals(0, answer.flags() & (Flags.NO_OPEN_SUPPORT | Flags.NO_OPENDIR_SUPPORT));
        assertTrue(Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS), true, true).kernelOpensDirectories());
    }

    @Test
    void withoutZeroMessageOpendirOnOfferDirectoriesAreOpenedThroughTheServer() {
        Init.Answer answer = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS & ~Flags.NO_OPENDIR_SUPPORT),
                false, true);
        assertFalse(answer.kernelOpensDirectories());
        assertFalse(Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS), false, false).kernelOpensDirectories());
    }

    @Test
    void echoesReadaheadAndAnnouncesBufferLimits() {
        Init.Answer answer = Init.negotiate(new Init.Offer(7, 45, 131072, KERNEL_FLAGS));
        assertEquals(131072, answer.maxReadahead());
        assertEquals(1 << 20, answer.maxWrite());
        assertEquals(256, answer.maxPages());
    }

    @Test
    void answersANewerMajorWithItsOwnSoTheKernelRetries() {
        Init.Answer answer = Init.negotiate(new Init.Offer(8, 0, 0, 0));
        assertEquals(7, answer.major());
    }

    @Test
    void refusesAnOlderMajor() {
        assertThrows(IllegalArgumentException.class, () -> Init.negotiate(new Init.Offer(6, 0, 0, 0)));
    }
}
