package dev.overlay4j.it.differential;

import java.io.IOException;
import java.nio.file.Path;

/** One overlay being exercised: the kernel's mount or overlay4j's FileSystem, seen through a root Path. */
interface OverlayUnderTest extends AutoCloseable {
    /** The merged root; operations resolve relative names against it. */
    Path root();

    /** Unmounts or closes; afterwards the upper dir holds everything that was written. */
    @Override
    void close() throws IOException;

    /**
     * What an overlay can be asked beyond java.nio.
     *
     * @param realPaths  its root is a path of the machine's file system, so the l*xattr calls
     *                   (trusted.* xattrs, xattrs of symlinks) reach it
     * @param identities it serves each caller as who that caller is (a mount: the kernel's
     *                   overlayfs and FUSE see the calling thread's uid and groups), so
     *                   operations can run as other users; an in-process FileSystem acts as the
     *                   process itself whichever thread calls
     */
    record Features(boolean realPaths, boolean identities) {
        static final Features MOUNT = new Features(true, true);
        static final Features IN_PROCESS = new Features(false, false);
        /** A mount made by a user without privileges: only that user may enter it. */
        static final Features USER_MOUNT = new Features(true, false);

        /** What both can be asked. */
        Features and(Features other) {
            return new Features(realPaths && other.realPaths, identities && other.identities);
        }
    }

    /** Opens overlays of one kind. */
    interface Kind {
        String name();

        Features features();

        /** @param scratch an empty directory the overlay may use (e.g. for its mount point) */
        OverlayUnderTest open(Layout layout, Path scratch) throws IOException;

        /** A kind named {@code name} whose overlays {@code opener} opens. */
        static Kind of(String name, Features features, Opener opener) {
            return new Kind() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public Features features() {
                    return features;
                }

                @Override
                public OverlayUnderTest open(Layout layout, Path scratch) throws IOException {
                    return opener.open(layout, scratch);
                }

                @Override
                public String toString() {
                    return name;
                }
            };
        }
    }

    /** How a {@link Kind} opens its overlays. */
    @FunctionalInterface
    interface Opener {
        OverlayUnderTest open(Layout layout, Path scratch) throws IOException;
    }
}
