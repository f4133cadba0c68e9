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

    /** Opens overlays of one kind. */
    interface Kind {
        String name();

        /** @param scratch an empty directory the overlay may use (e.g. for its mount point) */
        OverlayUnderTest open(Layout layout, Path scratch) throws IOException;

        /** A kind named {@code name} whose overlays {@code opener} opens. */
        static Kind of(String name, Opener opener) {
            return new Kind() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public OverlayUnderTest open(Layout layout, Path scratch) throws IOException {
                    return opener.open(layout, scratch);
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
