package dev.overlay4j.oci.commit;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.oci.Platform;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongUnaryOperator;
import java.util.regex.Pattern;

/**
 * Writes an overlay's upper dir as a container image layer (OCI image spec, {@code layer.md}):
 * a tar of its changes, whiteouts as {@code .wh.NAME}, opaque directories with
 * {@code .wh..wh..opq}, hard links, symlinks, devices, FIFOs, modes, owners, times and xattrs;
 * and optionally adds it to an image of an OCI image layout as a new tagged image.
 *
 * <pre>{@code
 * CommittedLayer layer = LayerCommit.builder("/var/lib/c1/upper")
 *         .lowers(List.of("/var/lib/c1/lower"))      // top first; needed for renamed dirs and metacopy
 *         .mtime(Instant.ofEpochSecond(1700000000))  // the same tree gives the same bytes
 *         .output(Path.of("layer.tar.gz"))
 *         .build()
 *         .run();
 * }</pre>
 *
 * The upper dir is read through the {@link Layer} SPI ({@link Layers#openLower}), as a mount
 * reads it: the kernel's overlayfs format, or any other layer. A renamed directory (a redirect)
 * and a metadata-only copy-up (metacopy) have content in the lower layers, which an image layer
 * cannot point to: they are written in full from the lower layers, the directory as an opaque
 * one, and without lower layers such an upper dir is refused. The output is deterministic:
 * members in name order, no user or group names, gzip without a name or time.
 *
 * <p>Immutable once built; {@link #run} may be called again and writes the same layer for the
 * same tree.
 */
public final class LayerCommit {

    /** image-spec annotations.md: the grammar of {@code org.opencontainers.image.ref.name}. */
    private static final Pattern REF_NAME = Pattern.compile(
            "[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*");

    private final String upper;
    private final List<String> lowers;
    private final boolean userXattr;
    private final Instant mtime;
    private final boolean clampMtime;
    private final Path output;
    private final LayerCompression compression;
    private final Path layout;
    private final String from;
    private final String tag;
    private final Platform platform;

    private LayerCommit(Builder b) {
        this.upper = b.upper;
        this.lowers = List.copyOf(b.lowers);
        this.userXattr = b.userXattr;
        this.mtime = b.mtime;
        this.clampMtime = b.clampMtime;
        this.output = b.output;
        this.compression = b.output != null ? LayerCompression.of(b.output) : LayerCompression.GZIP;
        this.layout = b.layout;
        this.from = b.from;
        this.tag = b.tag;
        this.platform = b.platform;
    }

    /**
     * @param upper the upper dir (a path), or any location {@link Layers#openLower} opens
     */
    public static Builder builder(String upper) {
        return new Builder(Objects.requireNonNull(upper, "upper"));
    }

    /**
     * Writes the layer, and adds it to the image layout when one was given. The output file (and
     * every file of the layout) is written under a temporary name and renamed when complete: on
     * failure nothing is left behind and what was there before stays.
     *
     * @throws IOException when a layer cannot be read, the upper dir has a redirect or metacopy
     *                     and no lower layers were given, or the output cannot be written; the
     *                     message names the entry or file
     */
    public CommittedLayer run() throws IOException {
        LayoutUpdate update = layout == null ? null : new LayoutUpdate(layout, from, tag, platform);
        String mediaType = update == null ? compression.ociMediaType : update.mediaType(compression);
        LayerOptions options = new LayerOptions(userXattr, Map.of());
        try (Layer upperLayer = Layers.openLower(upper, options);
             MergedTree merged = lowers.isEmpty() ? null : new MergedTree(upper, lowers, userXattr, upperLayer)) {
            // Without an output file the layer is written into the layout directly, named once its digest is known.
            Path target = output != null ? output : update.blobDirectory().resolve("layer");
            Path directory = target.toAbsolutePath().getParent();
            if (output == null) {
                Files.createDirectories(directory);
            } else if (!Files.isDirectory(directory)) {
                throw new java.nio.file.NoSuchFileException(directory.toString(), null,
                        "the directory of the output file does not exist");
            }
            Written written;
            try (AtomicFile file = new AtomicFile(target)) {
                written = write(upperLayer, merged, file.stream());
                Path name = output != null ? output : update.blob(written.digest());
                file.commit(name);
                target = name;
            }
            CommittedLayer.Image image = null;
            if (update != null) {
                if (output != null) {
                    copyInto(update.blob(written.digest()), output);
                }
                image = update.add(mediaType, written.diffId(), written.digest(), written.size(), created());
            }
            return new CommittedLayer(target, mediaType, written.diffId(), written.digest(), written.size(),
                    written.members(), written.warnings(), image);
        }
    }

    private record Written(String diffId, String digest, long size, long members, List<String> warnings) {
    }

    private Written write(Layer upperLayer, MergedTree merged, OutputStream file) throws IOException {
        HashingOutputStream compressed = new HashingOutputStream(file);
        HashingOutputStream tarBytes;
        ChangesetWriter changes;
        try (OutputStream compressing = compression.compress(compressed)) {
            // An uncompressed layer's diff ID is its digest: its bytes are hashed once.
            tarBytes = compression == LayerCompression.NONE ? compressed : new HashingOutputStream(compressing);
            BufferedOutputStream buffered = new BufferedOutputStream(tarBytes, 1 << 16);
            TarOutput tar = new TarOutput(buffered);
            changes = new ChangesetWriter(upperLayer, merged, tar, mtimeRule());
            changes.write();
            tar.finish();
        }
        return new Written(tarBytes.digest(), compressed.digest(), compressed.count(), changes.members(), changes.warnings());
    }

    private LongUnaryOperator mtimeRule() {
        if (mtime == null) {
            return LongUnaryOperator.identity();
        }
        long fixed = mtime.getEpochSecond() * 1_000_000_000L + mtime.getNano();
        return clampMtime ? stored -> Math.min(stored, fixed) : stored -> fixed;
    }

    /** The new image's creation time: the time all mtimes were set to, so that it is reproducible, else now. */
    private Instant created() {
        return mtime != null ? mtime : Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    private static void copyInto(Path blob, Path from) throws IOException {
        if (Files.isRegularFile(blob) && Files.size(blob) == Files.size(from)) {
            return; // content-addressed: the same name holds the same bytes
        }
        Files.createDirectories(blob.getParent());
        try (AtomicFile file = new AtomicFile(blob); OutputStream out = file.stream()) {
            Files.copy(from, out);
            file.commit(blob);
        }
    }

    /** Collects a commit's settings; {@link #build} checks them. */
    public static final class Builder {
        private final String upper;
        private final List<String> lowers = new ArrayList<>();
        private boolean userXattr;
        private Instant mtime;
        private boolean clampMtime;
        private Path output;
        private Path layout;
        private String from;
        private String tag;
        private Platform platform = Platform.host();

        private Builder(String upper) {
            this.upper = upper;
        }

        /**
         * The lower layers the upper dir was mounted over, top first, each a path or URI as in
         * {@code lowerdir} (an {@code oci:} image counts for its layers). Needed only when the
         * upper dir has renamed directories or metacopy files.
         */
        public Builder lowers(List<String> specs) {
            lowers.clear();
            lowers.addAll(specs);
            return this;
        }

        /** The upper dir keeps its overlay marks in {@code user.overlay.*}, as a mount with {@code userxattr}. */
        public Builder userXattr(boolean on) {
            this.userXattr = on;
            return this;
        }

        /** Every member's modification time is {@code time} (or at most {@code time}, see {@link #clampMtime}). */
        public Builder mtime(Instant time) {
            this.mtime = time;
            return this;
        }

        /** Only later modification times become {@link #mtime}'s, as with GNU tar's {@code --clamp-mtime}. */
        public Builder clampMtime(boolean on) {
            this.clampMtime = on;
            return this;
        }

        /** The layer's file, compressed as its name says: {@code .tar}, {@code .tar.gz} or {@code .tgz}, {@code .tar.zst}. */
        public Builder output(Path file) {
            this.output = file;
            return this;
        }

        /**
         * Adds the layer to the image {@code fromRef} of the OCI image layout {@code dir} as the new
         * image {@code tag}. Without an {@link #output} the layer goes into the layout alone,
         * gzip-compressed.
         *
         * @param fromRef the {@code org.opencontainers.image.ref.name} of the image to build on, or
         *                null when the layout holds one image
         */
        public Builder layout(Path dir, String fromRef, String tag) {
            this.layout = dir;
            this.from = fromRef;
            this.tag = tag;
            return this;
        }

        /** The platform to choose where the image is an index of several (default: this machine's). */
        public Builder platform(String osArchVariant) {
            this.platform = Platform.parse(osArchVariant);
            return this;
        }

        /** @throws IllegalArgumentException naming what is wrong */
        public LayerCommit build() {
            if (output == null && layout == null) {
                throw new IllegalArgumentException("a commit needs an output file or an image layout");
            }
            if (output != null) {
                LayerCompression.of(output);
            }
            if (clampMtime && mtime == null) {
                throw new IllegalArgumentException("clampMtime needs an mtime");
            }
            if (layout != null && (tag == null || !REF_NAME.matcher(tag).matches())) {
                throw new IllegalArgumentException("the new image's tag must be a ref name as the image spec defines it"
                        + " (letters, digits and . _ - : @ + between them, / between parts), not \"" + tag + "\"");
            }
            for (String lower : lowers) {
                if (lower == null || lower.isBlank()) {
                    throw new IllegalArgumentException("a lower layer location must not be empty");
                }
            }
            return new LayerCommit(this);
        }
    }
}
