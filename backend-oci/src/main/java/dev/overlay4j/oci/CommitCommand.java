package dev.overlay4j.oci;

import dev.overlay4j.api.Layers;
import dev.overlay4j.api.OverlayConfig;
import dev.overlay4j.cli.Command;
import dev.overlay4j.oci.commit.CommittedLayer;
import dev.overlay4j.oci.commit.LayerCommit;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code overlay4j commit UPPERDIR OUT.tar.gz}: writes an overlay upper dir as a container image
 * layer, and with {@code --layout} adds it to an image of an OCI image layout; the command line
 * of {@link LayerCommit}.
 */
public final class CommitCommand implements Command {

    private static final String USAGE = """
            usage: overlay4j commit [-o lowerdir=A:B] [--userxattr] [--mtime SECONDS [--clamp-mtime]] UPPERDIR OUT
                   overlay4j commit [options] --layout DIR [--from REF] --tag NEW [--platform OS/ARCH[/VARIANT]] UPPERDIR [OUT]
              UPPERDIR          an overlay upper dir (whiteouts, opaque dirs in the kernel's format), or any layer lowerdir takes
              OUT               the layer's file, compressed as its name says: .tar, .tar.gz or .tgz (gzip), .tar.zst (zstd)
              -o lowerdir=A:B   the lower layers UPPERDIR was mounted over, top first, as the mount takes them (also
                                lowerdir+=URI, userxattr): needed for renamed dirs (redirect) and metacopy files, which
                                are written with their content from the lowers
              --userxattr       UPPERDIR keeps its overlay marks in user.overlay.* (default: trusted.overlay.*)
              --mtime SECONDS   every modification time becomes SECONDS since the epoch, and so does the new image's
                                created time: the same tree then gives the same bytes (e.g. --mtime "$SOURCE_DATE_EPOCH")
              --clamp-mtime     with --mtime, only later times become SECONDS
              --layout DIR      add the layer to the OCI image layout DIR as a new image: REF's layers and config and
                                this layer (without OUT the layer goes into DIR alone, gzip-compressed)
              --from REF        the image to build on, by its org.opencontainers.image.ref.name (default: DIR's only image)
              --tag NEW         the new image's name in DIR's index.json; an image of that name is replaced
              --platform P      where REF is an index of several images, the platform to take (default: this machine's)
            Prints the layer's diff ID (sha256 of the tar), its digest (sha256 of the file) and its size.""";

    @Override
    public String name() {
        return "commit";
    }

    @Override
    public String summary() {
        return "commit UPPERDIR OUT.tar.gz  write an overlay upper dir as a container image layer (--layout DIR: add it to an OCI image)";
    }

    /** Runs the command; the exit status is 0 when the layer was written, 1 on failures, 2 on bad usage. */
    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        LayerCommit commit;
        String upper;
        try {
            List<String> positional = new ArrayList<>();
            List<String> mountOptions = new ArrayList<>();
            boolean userXattr = false;
            boolean clamp = false;
            Instant mtime = null;
            Path layout = null;
            String from = null;
            String tag = null;
            String platform = null;
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "-o" -> mountOptions.add(value(args, ++i, arg));
                    case "--userxattr" -> userXattr = true;
                    case "--mtime" -> mtime = Instant.ofEpochSecond(seconds(value(args, ++i, arg)));
                    case "--clamp-mtime" -> clamp = true;
                    case "--layout" -> layout = Path.of(value(args, ++i, arg));
                    case "--from" -> from = value(args, ++i, arg);
                    case "--tag" -> tag = value(args, ++i, arg);
                    case "--platform" -> platform = value(args, ++i, arg);
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> {
                        if (arg.startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + arg);
                        }
                        positional.add(arg);
                    }
                }
            }
            if (layout == null && (from != null || tag != null || platform != null)) {
                throw new IllegalArgumentException("--from, --tag and --platform go with --layout");
            }
            if (positional.size() != 2 && !(layout != null && positional.size() == 1)) {
                throw new IllegalArgumentException(layout == null ? "expected UPPERDIR and OUT" : "expected UPPERDIR and perhaps OUT");
            }
            upper = positional.getFirst();
            java.net.URI location = Layers.toUri(upper);
            if ("file".equals(location.getScheme()) && !Files.exists(Path.of(location), LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException("UPPERDIR " + upper + " does not exist");
            }
            LayerCommit.Builder builder = LayerCommit.builder(upper).userXattr(userXattr).mtime(mtime).clampMtime(clamp);
            if (!mountOptions.isEmpty()) {
                OverlayConfig lowers = lowers(String.join(",", mountOptions));
                builder.lowers(lowers.lowers().stream().map(s -> ((OverlayConfig.LayerSource.Location) s).spec()).toList());
                builder.userXattr(userXattr || lowers.userXattr());
            }
            if (positional.size() == 2) {
                builder.output(Path.of(positional.get(1)));
            }
            if (layout != null) {
                builder.layout(layout, from, tag);
            }
            if (platform != null) {
                builder.platform(platform);
            }
            commit = builder.build();
        } catch (IllegalArgumentException e) {
            err.println("commit: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        CommittedLayer layer;
        try {
            layer = commit.run();
        } catch (java.nio.file.ProviderNotFoundException | IllegalArgumentException e) {
            // A lower layer's location that no installed provider opens, or that is no URI at all.
            err.println("commit: " + e.getMessage());
            return 2;
        } catch (IOException | IllegalStateException e) {
            // IllegalStateException: no overlay engine installed to read the lower layers with.
            err.println("commit: " + e.getMessage());
            return 1;
        }
        for (String warning : layer.warnings()) {
            err.println("commit: warning: " + warning);
        }
        out.printf("wrote %s: %d members, %s%n", layer.file(), layer.members(), layer.mediaType());
        out.println("diffID " + layer.diffId());
        out.println("digest " + layer.digest());
        out.println("size " + layer.size());
        CommittedLayer.Image image = layer.image();
        if (image != null) {
            if (image.platform() != null) {
                out.printf("from an image index: took %s among %s%n", image.platform(), String.join(", ", image.platforms()));
            }
            out.printf("tagged %s: manifest %s, config %s%n", image.tag(), image.manifestDigest(), image.configDigest());
        }
        return 0;
    }

    /** {@code -o}: the lower layers in the mount's syntax, and userxattr; nothing else a mount takes means anything here. */
    private static OverlayConfig lowers(String options) {
        OverlayConfig config = OverlayConfig.fromMountOptions(options);
        if (config.upper() != null || !config.frontendOptions().isEmpty() || config.uidMapping().isPresent()
                || config.gidMapping().isPresent() || config.squashUid().isPresent() || config.squashGid().isPresent()) {
            throw new IllegalArgumentException("-o takes lowerdir=, lowerdir+= and userxattr only, not " + options);
        }
        return config;
    }

    private static long seconds(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--mtime takes whole seconds since the epoch, not " + text);
        }
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    public static void main(String[] args) {
        System.exit(new CommitCommand().run(List.of(args), System.out, System.err));
    }
}
