package dev.overlay4j.filesystem;

import static org.mockito.Mockito.mock;

import dev.overlay4j.api.Overlay;
import java.nio.file.Path;
import java.util.Set;

/** File systems over a Mockito {@link Overlay}, for tests of the translation alone. */
final class MockedFileSystems {

    static final ProcessIdentity ROOT = new ProcessIdentity(0, 0, Set.of(), 022);

    private MockedFileSystems() {
    }

    static OverlayFileSystem over(Overlay overlay, ProcessIdentity identity) {
        return new OverlayFileSystem(new OverlayFileSystemProvider(), "mocked", overlay, identity,
                new Principals(Path.of("/etc/passwd"), Path.of("/etc/group")), fs -> {
                });
    }

    static OverlayFileSystem unconnected() {
        return over(mock(Overlay.class), ROOT);
    }
}
