package dev.overlay4j.oci.commit;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.Overlay;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.api.OverlayFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What an upper dir means together with its lower layers, for the parts of it that an image
 * layer cannot say by difference: the merged content of a renamed directory (a redirect) and the
 * data of a metadata-only copy-up (metacopy), both of which live in the lower layers. Read
 * through read-only overlays opened by the installed engine: the upper dir as the top layer
 * over the lowers, and, for metacopy data, the lowers alone. Each is opened when first needed.
 */
final class MergedTree implements Closeable {

    private final String upperSpec;
    private final List<String> lowers;
    private final boolean userXattr;
    /** The commit's own view of the upper dir, for the redirects on a metacopy file's way. */
    private final Layer upper;
    private Overlay merged;
    private Overlay lowersOnly;

    /**
     * @param upperSpec the upper dir's location, as the commit opened it
     * @param lowers    the lower layers' locations, top first
     */
    MergedTree(String upperSpec, List<String> lowers, boolean userXattr, Layer upper) {
        this.upperSpec = upperSpec;
        this.lowers = List.copyOf(lowers);
        this.userXattr = userXattr;
        this.upper = upper;
    }

    private Overlay merged() throws IOException {
        if (merged == null) {
            merged = open(true);
        }
        return merged;
    }

    private Overlay lowersOnly() throws IOException {
        if (lowersOnly == null) {
            lowersOnly = open(false);
        }
        return lowersOnly;
    }

    private Overlay open(boolean withUpper) throws IOException {
        OverlayConfig.Builder config = OverlayConfig.builder().userXattr(userXattr);
        if (withUpper) {
            config.lower(upperSpec);
        }
        lowers.forEach(config::lower);
        return Overlay.open(config.build());
    }

    /** The merged directory's names. */
    List<String> list(EntryPath directory) throws IOException {
        List<String> names = new ArrayList<>();
        for (DirectoryEntry entry : merged().listDirectory(directory)) {
            names.add(entry.name());
        }
        return names;
    }

    EntryAttributes stat(EntryPath path) throws IOException {
        return merged().stat(path);
    }

    String readLink(EntryPath path) throws IOException {
        return merged().readLink(path);
    }

    List<String> listXattrs(EntryPath path) throws IOException {
        return merged().listXattrs(path);
    }

    /** An xattr's value, empty when the entry has none of that name. */
    Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        try {
            return Optional.of(merged().readXattr(path, name));
        } catch (IOException e) {
            if (Errno.of(e) == Errno.ENODATA) {
                return Optional.empty();
            }
            throw e;
        }
    }

    OverlayFile open(EntryPath file) throws IOException {
        return merged().open(file, Set.of(StandardOpenOption.READ), null);
    }

    /**
     * The data of the metacopy file {@code path} of the upper dir: the lower layers' file where
     * the kernel's lookup finds it, at the path the redirects of the file and its directories lead to.
     */
    OverlayFile metacopyData(EntryPath path) throws IOException {
        EntryPath lower = lowerPath(path);
        EntryAttributes found;
        try {
            found = lowersOnly().stat(lower);
        } catch (IOException e) {
            if (Errno.of(e) != Errno.ENOENT && Errno.of(e) != Errno.ENOTDIR) {
                throw e;
            }
            found = null;
        }
        if (found == null || !found.isRegularFile()) {
            throw new IOException(path + " is a metadata-only copy-up (metacopy) whose data should lie in the lower layers at "
                    + lower + ", but they hold " + (found == null ? "nothing" : "no regular file") + " there");
        }
        return lowersOnly().open(lower, Set.of(StandardOpenOption.READ), null);
    }

    /**
     * Where the lower layers hold what the upper dir has at {@code path}: each name where the
     * upper's entry has no redirect, the redirect's path where it has one (absolute from the root,
     * or a new name in the same parent), as the kernel's {@code ovl_lookup} follows them.
     */
    private EntryPath lowerPath(EntryPath path) throws IOException {
        EntryPath lower = EntryPath.ROOT;
        for (int i = 0; i < path.nameCount(); i++) {
            EntryPath at = path.subpath(i + 1);
            String redirect = redirect(at);
            if (redirect == null) {
                lower = lower.resolve(path.name(i));
            } else {
                try {
                    lower = redirect.startsWith("/") ? EntryPath.of(redirect) : lower.resolve(redirect);
                } catch (IllegalArgumentException e) {
                    throw Errno.EIO.exception(at, "invalid overlay redirect \"" + redirect + "\"");
                }
            }
        }
        return lower;
    }

    /** The redirect of the upper's entry at {@code path}: a directory's, or a metacopy file's own. */
    private String redirect(EntryPath path) throws IOException {
        Optional<EntryAttributes> found;
        try {
            found = upper.stat(path);
        } catch (IOException e) {
            if (Errno.of(e) != Errno.ENOTDIR) {
                throw e;
            }
            return null;
        }
        if (found.isEmpty() || found.get().opaque()) {
            return null;
        }
        if (found.get().isDirectory()) {
            return found.get().redirect();
        }
        return upper.readOverlayXattr(path, "redirect").map(v -> new String(v, StandardCharsets.UTF_8)).orElse(null);
    }

    @Override
    public void close() throws IOException {
        try (Overlay a = merged; Overlay b = lowersOnly) {
            // both closed, the first failure reported
        }
    }
}
