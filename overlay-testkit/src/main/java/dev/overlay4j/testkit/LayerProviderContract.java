package dev.overlay4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.WritableLayer;
import dev.overlay4j.api.spi.LayerProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What every {@link LayerProvider} must do: name its schemes, be found, and fail at once on a bad location. */
public abstract class LayerProviderContract {

    @TempDir
    protected Path scratch;

    protected abstract LayerProvider provider();

    /** Creates a location (under {@code scratch}) that the provider opens as a lower layer. */
    protected abstract URI existingLowerLocation(Path scratch) throws IOException;

    /** A location of one of the provider's schemes where nothing exists. */
    protected abstract URI missingLocation(Path scratch);

    /** Whether the provider opens writable upper layers. */
    protected boolean supportsUpper() {
        return false;
    }

    /** Creates an upper location and its work location (under {@code scratch}), when {@link #supportsUpper()}. */
    protected URI[] upperAndWorkLocations(Path scratch) throws IOException {
        throw new UnsupportedOperationException("override upperAndWorkLocations when supportsUpper() is true");
    }

    @Test
    public void anUpperOpensWithAnEmptyWorkAreaOrIsRefusedWithEopnotsupp() throws IOException {
        if (!supportsUpper()) {
            URI lower = existingLowerLocation(scratch);
            IOException thrown = assertThrows(IOException.class,
                    () -> provider().openUpper(lower, lower, LayerOptions.DEFAULTS).close());
            assertEquals(Errno.EOPNOTSUPP, Errno.of(thrown), () -> "errno of " + thrown);
            return;
        }
        URI[] locations = upperAndWorkLocations(scratch);
        try (WritableLayer upper = provider().openUpper(locations[0], locations[1], LayerOptions.DEFAULTS);
             Stream<DirectoryEntry> work = upper.workArea().list(EntryPath.ROOT)) {
            assertTrue(upper.stat(EntryPath.ROOT).orElseThrow().isDirectory());
            assertEquals(0, work.count());
        }
    }

    @Test
    public void schemesAreLowerCaseAndIncludeTheSchemeOfItsLocations() throws IOException {
        LayerProvider provider = provider();
        assertFalse(provider.schemes().isEmpty());
        for (String scheme : provider.schemes()) {
            assertEquals(scheme.toLowerCase(Locale.ROOT), scheme);
        }
        assertTrue(provider.schemes().contains(existingLowerLocation(scratch).getScheme().toLowerCase(Locale.ROOT)));
    }

    @Test
    public void theServiceLoaderFindsTheProvider() {
        Class<?> type = provider().getClass();
        assertTrue(ServiceLoader.load(LayerProvider.class).stream().anyMatch(p -> p.type().equals(type)),
                type + " is not listed in META-INF/services/" + LayerProvider.class.getName());
    }

    @Test
    public void anExistingLocationOpensAsALayerWithARootDirectory() throws IOException {
        try (Layer layer = provider().openLower(existingLowerLocation(scratch), LayerOptions.DEFAULTS)) {
            assertTrue(layer.stat(EntryPath.ROOT).orElseThrow().isDirectory());
            assertFalse(layer.description().isEmpty());
        }
    }

    @Test
    public void aMissingLocationFailsAtOnceWithEnoentNamingIt() {
        URI missing = missingLocation(scratch);
        IOException thrown = assertThrows(IOException.class, () -> provider().openLower(missing, LayerOptions.DEFAULTS).close());
        assertEquals(Errno.ENOENT, Errno.of(thrown), () -> "errno of " + thrown);
        String text = missing.toString().replaceAll("[!/]+$", "");
        String last = text.substring(text.lastIndexOf('/') + 1);
        assertTrue(thrown.getMessage().contains(last), () -> "the message names the location: " + thrown.getMessage());
    }
}
