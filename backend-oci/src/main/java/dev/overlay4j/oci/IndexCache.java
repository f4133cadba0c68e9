package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * The directory of cached layer indexes ({@link IndexFile}), one file per blob, named by its
 * {@link IndexKey}. A file that cannot be used (corrupt, truncated, of another version, of
 * another blob) is ignored and written anew; files are written whole to a temporary name and
 * renamed into place, so a reader sees an old file or a new one, never half of one. Nothing is
 * ever evicted: delete the directory, or any file in it, at any time.
 *
 * <p>Chosen by the layer option {@code indexCache=DIR} ({@code off}: no cache); by default
 * {@code $XDG_CACHE_HOME/overlay4j/oci-index}, else {@code /var/cache/overlay4j/oci-index} for
 * root and {@code ~/.cache/overlay4j/oci-index} for anyone else.
 */
final class IndexCache {

    private static final System.Logger LOG = System.getLogger(IndexCache.class.getName());
    static final String OPTION = "indexCache";
    /** No cache: every open reads its whole archive. */
    static final IndexCache NONE = new IndexCache(null);

    private final Path dir;

    IndexCache(Path dir) {
        this.dir = dir;
    }

    /** The cache an {@code indexCache=} value names, or the default one when the value is null. */
    static IndexCache of(String option) {
        if (option == null) {
            Path dir = defaultDirectory(System.getenv(), isRoot());
            return dir == null ? NONE : new IndexCache(dir);
        }
        if (option.equalsIgnoreCase("off") || option.equalsIgnoreCase("none") || option.equalsIgnoreCase("false")) {
            return NONE;
        }
        if (option.isEmpty()) {
            throw new IllegalArgumentException(OPTION + "= needs a directory, or off");
        }
        return new IndexCache(Path.of(option).toAbsolutePath().normalize());
    }

    /** Where the indexes go when no option says: the XDG cache directory, or the system's for root. */
    static Path defaultDirectory(Map<String, String> env, boolean root) {
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && xdg.startsWith("/")) { // a relative value is to be ignored (XDG base directory spec)
            return Path.of(xdg, "overlay4j", "oci-index");
        }
        if (root) {
            return Path.of("/var/cache/overlay4j/oci-index");
        }
        String home = env.get("HOME");
        return home != null && home.startsWith("/") ? Path.of(home, ".cache", "overlay4j", "oci-index") : null;
    }

    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The directory, or null for no cache. */
    Path directory() {
        return dir;
    }

    Path fileOf(IndexKey key) {
        return dir.resolve(key.fileName());
    }

    /** The cached index of {@code key}, checked against the blob's size; empty when there is none that can be trusted. */
    Optional<LayerIndex> load(IndexKey key, long blobSize) {
        if (dir == null) {
            return Optional.empty();
        }
        Path file = fileOf(key);
        try {
            return Optional.of(IndexFile.read(file, key, blobSize));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.INFO, "ignoring the cached layer index " + file + " (" + e.getMessage()
                    + "); reading the layer again and rewriting it");
            return Optional.empty();
        }
    }

    /**
     * Keeps {@code index} for the next open, and reads it back; a cache that cannot be written is
     * warned of (empty), and the layer works on with the index it has.
     */
    Optional<LayerIndex> store(IndexKey key, LayerIndex index) {
        if (dir == null) {
            return Optional.empty();
        }
        Path file = fileOf(key);
        Path temporary = null;
        try {
            Files.createDirectories(dir);
            temporary = Files.createTempFile(dir, "." + key.fileName() + ".", ".tmp");
            IndexFile.write(temporary, key, index);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
            return Optional.of(IndexFile.read(file, key, index.blobSize()));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot keep the layer index in " + dir + " (" + e + "); the next open"
                    + " reads the whole layer again. Make the directory writable, or name another with indexCache=DIR");
            return Optional.empty();
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // a stray temporary file is harmless: it is never read
                }
            }
        }
    }

    @Override
    public String toString() {
        return dir == null ? "no index cache" : "index cache " + dir;
    }
}
