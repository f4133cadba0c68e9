package dev.overlay4j.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What an overlay is made of: lower layers (top first), an optional upper layer with its work
 * location, and the kernel's overlay options. Immutable; validated when built.
 *
 * <p>Layers are given as paths or URIs (opened through {@link Layers}) or as already opened
 * {@link Layer} objects. An overlay owns all its layers and closes them when it closes.
 */
public final class OverlayConfig {

    /** A lower or upper layer: a location to open, or a layer opened by the caller. */
    public sealed interface LayerSource {
        /** A path or URI, opened through the installed providers. */
        record Location(String spec) implements LayerSource {
            public Location {
                Objects.requireNonNull(spec, "spec");
            }
        }

        /** A layer opened by the caller; the overlay takes ownership. */
        record Opened(Layer layer) implements LayerSource {
            public Opened {
                Objects.requireNonNull(layer, "layer");
            }
        }
    }

    private final List<LayerSource> lowers;
    private final LayerSource upper;
    private final String work;
    private final boolean redirectDir;
    private final boolean userXattr;
    private final boolean readOnly;
    private final boolean volatileMount;
    private final IdMapping uidMapping;
    private final IdMapping gidMapping;
    private final int squashUid;
    private final int squashGid;
    private final boolean staticNlink;
    private final boolean noXattrs;
    private final Map<String, String> frontendOptions;

    private OverlayConfig(Builder b) {
        this.lowers = List.copyOf(b.lowers);
        this.upper = b.upper;
        this.work = b.work;
        // As the kernel: userxattr turns the default to redirect_dir=nofollow, so that a mount without privilege
        // never writes a redirect (which that mount would refuse to follow: EPERM).
        this.redirectDir = b.redirectDir == null ? !b.userXattr : b.redirectDir;
        this.userXattr = b.userXattr;
        this.readOnly = b.readOnly || b.upper == null;
        this.volatileMount = b.volatileMount;
        this.uidMapping = b.uidMapping;
        this.gidMapping = b.gidMapping;
        this.squashUid = b.squashUid;
        this.squashGid = b.squashGid;
        this.staticNlink = b.staticNlink;
        this.noXattrs = b.noXattrs;
        this.frontendOptions = Collections.unmodifiableMap(new LinkedHashMap<>(b.frontendOptions));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The lower layers, topmost first. */
    public List<LayerSource> lowers() {
        return lowers;
    }

    /** The upper layer, or {@code null} for a read-only overlay. */
    public LayerSource upper() {
        return upper;
    }

    /** The work location (path or URI) of a {@link LayerSource.Location} upper, else {@code null}. */
    public String work() {
        return work;
    }

    /**
     * {@code redirect_dir=on} (the default): renaming a directory that has lower content works
     * and is recorded with the kernel's redirect xattr. Off: such a rename fails with EXDEV, the
     * default with {@code userxattr}, which (as in the kernel) cannot be combined with on.
     */
    public boolean redirectDir() {
        return redirectDir;
    }

    /** {@code userxattr}: overlay marks live in {@code user.overlay.*}. */
    public boolean userXattr() {
        return userXattr;
    }

    /** Whether the overlay refuses every change with EROFS: it has no upper, or {@code ro} was asked for. */
    public boolean readOnly() {
        return readOnly;
    }

    /**
     * {@code volatile}: nothing is forced to stable storage. A copy-up publishes its copy without
     * syncing it first, and fsync, fdatasync, syncfs and fsync of a directory succeed at once
     * without syncing (the kernel's "Volatile mount"). After a crash the upper and work
     * directories may hold anything and must be thrown away; data written is safe only once the
     * overlay is closed and the upper filesystem synced.
     */
    public boolean volatileMount() {
        return volatileMount;
    }

    /**
     * {@code uidmapping=}: how owner ids stored in the layers relate to those seen through the
     * overlay. What the overlay shows (stat, the user entries of POSIX ACLs) is mapped from the
     * stored ids; what it is given (the owner of a new entry, chown, ACL entries written) is
     * mapped back before it is stored; a copy-up copies the stored ids as they are. An id that
     * no range holds shows, or is stored, as the overflow id ({@code /proc/sys/kernel/overflowuid},
     * 65534). Empty: ids are shown as stored.
     */
    public Optional<IdMapping> uidMapping() {
        return Optional.ofNullable(uidMapping);
    }

    /** {@code gidmapping=}: as {@link #uidMapping()}, for group ids. */
    public Optional<IdMapping> gidMapping() {
        return Optional.ofNullable(gidMapping);
    }

    /**
     * {@code squash_to_uid=} (or {@code squash_to_root}): every entry shows this owner, whatever
     * is stored; chown still stores what it is given (mapped), and a chown that the upper layer
     * refuses succeeds without effect, as in fuse-overlayfs.
     */
    public OptionalInt squashUid() {
        return squashUid < 0 ? OptionalInt.empty() : OptionalInt.of(squashUid);
    }

    /** {@code squash_to_gid=} (or {@code squash_to_root}): as {@link #squashUid()}, for the group. */
    public OptionalInt squashGid() {
        return squashGid < 0 ? OptionalInt.empty() : OptionalInt.of(squashGid);
    }

    /** {@code static_nlink}: every directory shows a link count of 1 instead of 2 plus its subdirectories. */
    public boolean staticNlink() {
        return staticNlink;
    }

    /** {@code noxattrs=1}: the overlay offers no extended attributes; every xattr call fails with EOPNOTSUPP. */
    public boolean noXattrs() {
        return noXattrs;
    }

    /** Options this class does not interpret, for the frontend to check and apply, in the order given. */
    public Map<String, String> frontendOptions() {
        return frontendOptions;
    }

    /** The options every layer of this overlay is opened with. */
    public LayerOptions layerOptions() {
        return new LayerOptions(userXattr, Map.of());
    }

    /**
     * Reads mount options in the syntax of the kernel's overlayfs and fuse-overlayfs:
     * {@code lowerdir=A:B,upperdir=U,workdir=W,redirect_dir=off,userxattr,volatile,ro}, and
     * fuse-overlayfs's {@code uidmapping=}, {@code gidmapping=}, {@code squash_to_root},
     * {@code squash_to_uid=}, {@code squash_to_gid=}, {@code static_nlink}, {@code noxattrs=0|1},
     * {@code fsync=0|1} (0: volatile) and {@code xattr_permissions=0}. In
     * {@code lowerdir}, {@code \:} and {@code \,} stand for a literal colon and comma;
     * {@code lowerdir+=URI} (repeatable) adds one layer below those given so far, which is the
     * way to name URIs that contain colons. Options other than the overlay's own are kept in
     * {@link #frontendOptions()}.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     */
    public static OverlayConfig fromMountOptions(String options) {
        return fromMountOptions(options, null);
    }

    /**
     * {@link #fromMountOptions(String)}, with relative local paths in {@code lowerdir},
     * {@code lowerdir+}, {@code upperdir} and {@code workdir} taken relative to
     * {@code workingDirectory} instead of this process's: for a server that mounts on behalf
     * of commands run elsewhere (containers/storage gives its lower layers as paths relative
     * to the directory it runs its mount program in).
     *
     * @param workingDirectory an absolute directory, or null for this process's
     * @throws IllegalArgumentException naming the option that is wrong
     */
    public static OverlayConfig fromMountOptions(String options, Path workingDirectory) {
        if (workingDirectory != null && !workingDirectory.isAbsolute()) {
            throw new IllegalArgumentException("the working directory must be absolute, not " + workingDirectory);
        }
        Builder builder = builder();
        String upper = null;
        String work = null;
        boolean squashToRoot = false;
        long squashUid = -1;
        long squashGid = -1;
        for (String option : splitOptions(options)) {
            if (option.isEmpty()) {
                continue;
            }
            int eq = option.indexOf('=');
            String key = eq < 0 ? option : option.substring(0, eq);
            String value = eq < 0 ? null : option.substring(eq + 1);
            switch (key) {
                case "lowerdir" -> {
                    List<String> layers = splitUnescaped(required(key, value), ':');
                    for (int i = 0; i + 1 < layers.size(); i++) {
                        if (Layers.SCHEME.matcher(layers.get(i)).matches() && layers.get(i + 1).startsWith("//")) {
                            throw new IllegalArgumentException("option lowerdir: \"" + layers.get(i) + ":" + layers.get(i + 1)
                                    + "\" is a URI, which lowerdir's colons split; give it as lowerdir+=" + layers.get(i) + ":"
                                    + layers.get(i + 1) + " (one lowerdir+= per layer, top first)");
                        }
                        // oci:/images/app splits into "oci" and "/images/app"; a real directory named
                        // like a scheme is still a layer, anything else is most likely that URI.
                        if (Layers.SCHEME.matcher(layers.get(i)).matches() && layers.get(i + 1).startsWith("/")
                                && !java.nio.file.Files.exists(Path.of(against(workingDirectory, layers.get(i))))) {
                            throw new IllegalArgumentException("option lowerdir: there is no layer \"" + layers.get(i)
                                    + "\"; if \"" + layers.get(i) + ":" + layers.get(i + 1) + "\" is a URI, which lowerdir's colons split,"
                                    + " give it as lowerdir+=" + layers.get(i) + ":" + layers.get(i + 1) + " (one lowerdir+= per layer, top first)");
                        }
                    }
                    for (String layer : layers) {
                        if (layer.isEmpty()) {
                            throw new IllegalArgumentException("option lowerdir has an empty layer in \"" + value + "\"");
                        }
                        builder.lower(against(workingDirectory, unescape(layer)));
                    }
                }
                case "lowerdir+" -> builder.lower(against(workingDirectory, required(key, value)));
                case "upperdir" -> upper = against(workingDirectory, unescape(required(key, value)));
                case "workdir" -> work = against(workingDirectory, unescape(required(key, value)));
                case "redirect_dir" -> builder.redirectDir(switch (required(key, value)) {
                    case "on", "follow" -> true;
                    case "off", "nofollow" -> false;
                    default -> throw new IllegalArgumentException(
                            "option redirect_dir must be on, follow, off or nofollow, not \"" + value + "\"");
                });
                case "userxattr" -> builder.userXattr(true);
                case "volatile" -> builder.volatileMount(flag(key, value));
                // fuse-overlayfs's fsync=0 skips every fsync: the kernel's volatile.
                case "fsync" -> builder.volatileMount(!booleanNumber(key, value));
                case "ro" -> builder.readOnly(flag(key, value));
                case "rw" -> builder.readOnly(!flag(key, value));
                case "uidmapping" -> builder.uidMapping(mapping(key, value));
                case "gidmapping" -> builder.gidMapping(mapping(key, value));
                case "squash_to_root" -> squashToRoot = flag(key, value);
                case "squash_to_uid" -> squashUid = id(key, value);
                case "squash_to_gid" -> squashGid = id(key, value);
                case "static_nlink" -> builder.staticNlink(flag(key, value));
                case "noxattrs" -> builder.noXattrs(booleanNumber(key, value));
                case "xattr_permissions" -> {
                    if (!required(key, value).equals("0")) {
                        throw new IllegalArgumentException("option xattr_permissions=" + value
                                + " is not supported: overlay4j stores owners and modes with chown and chmod only"
                                + " (xattr_permissions=0)");
                    }
                }
                default -> builder.frontendOption(key, value);
            }
        }
        // As in fuse-overlayfs, squash_to_uid and squash_to_gid win over squash_to_root, in any order.
        if (squashUid >= 0 || squashToRoot) {
            builder.squashUid((int) (squashUid >= 0 ? squashUid : 0));
        }
        if (squashGid >= 0 || squashToRoot) {
            builder.squashGid((int) (squashGid >= 0 ? squashGid : 0));
        }
        if (upper != null || work != null) {
            if (upper == null || work == null) {
                throw new IllegalArgumentException("options upperdir and workdir must be given together");
            }
            builder.upper(upper, work);
        }
        return builder.build();
    }

    private static String required(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("option " + key + " needs a value");
        }
        return value;
    }

    private static boolean flag(String key, String value) {
        if (value != null) {
            throw new IllegalArgumentException("option " + key + " takes no value");
        }
        return true;
    }

    /** fuse-overlayfs's numeric switches: 0 is off, 1 is on. */
    private static boolean booleanNumber(String key, String value) {
        return switch (required(key, value)) {
            case "0" -> false;
            case "1" -> true;
            default -> throw new IllegalArgumentException("option " + key + " must be 0 or 1, not \"" + value + "\"");
        };
    }

    private static IdMapping mapping(String key, String value) {
        String spec = required(key, value);
        try {
            return IdMapping.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option " + key + ": " + e.getMessage(), e);
        }
    }

    /** A user or group id: 0 to 4294967294 (4294967295 is -1, "no id"). */
    private static long id(String key, String value) {
        String text = required(key, value);
        long id = text.length() <= 10 && text.chars().allMatch(c -> c >= '0' && c <= '9') ? Long.parseLong(text) : -1;
        if (id < 0 || id > 0xFFFF_FFFEL) {
            throw new IllegalArgumentException("option " + key + " must be an id from 0 to 4294967294, not \"" + value + "\"");
        }
        return id;
    }

    /** A relative local path resolved against {@code directory}; absolute paths and URIs as they are. */
    private static String against(Path directory, String spec) {
        if (directory == null || Layers.hasScheme(spec)) {
            return spec;
        }
        Path path = Path.of(spec);
        return path.isAbsolute() ? spec : directory.resolve(path).normalize().toString();
    }

    private static List<String> splitUnescaped(String text, char separator) {
        return split(text, separator, false);
    }

    /**
     * The options between commas. As in the kernel's mount option parser, a comma inside double
     * quotes does not split: SELinux labels such as {@code context="system_u:object_r:t:s0:c1,c2"}.
     */
    private static List<String> splitOptions(String text) {
        return split(text, ',', true);
    }

    private static List<String> split(String text, char separator, boolean quotes) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                current.append(c).append(text.charAt(++i));
            } else if (c == separator && !quoted) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                quoted ^= quotes && c == '"';
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }

    private static String unescape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                c = text.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("OverlayConfig[lowers=").append(lowers.stream().map(OverlayConfig::describe).toList());
        if (upper != null) {
            s.append(", upper=").append(describe(upper)).append(", work=").append(work);
        }
        return s.append(", redirectDir=").append(redirectDir).append(", userXattr=").append(userXattr)
                .append(", readOnly=").append(readOnly).append(volatileMount ? ", volatile" : "")
                .append(uidMapping != null ? ", uidmapping=" + uidMapping : "")
                .append(gidMapping != null ? ", gidmapping=" + gidMapping : "")
                .append(squashUid >= 0 ? ", squashUid=" + Integer.toUnsignedString(squashUid) : "")
                .append(squashGid >= 0 ? ", squashGid=" + Integer.toUnsignedString(squashGid) : "")
                .append(staticNlink ? ", static_nlink" : "").append(noXattrs ? ", noxattrs" : "").append(']').toString();
    }

    private static String describe(LayerSource source) {
        return switch (source) {
            case LayerSource.Location location -> location.spec().contains("://")
                    ? Layers.redacted(java.net.URI.create(location.spec())) : location.spec();
            case LayerSource.Opened opened -> opened.layer().description();
        };
    }

    /** Collects the parts of an {@link OverlayConfig}. */
    public static final class Builder {
        private final List<LayerSource> lowers = new ArrayList<>();
        private LayerSource upper;
        private String work;
        /** Null until set: then on, or off with userxattr. */
        private Boolean redirectDir;
        private boolean userXattr;
        private boolean readOnly;
        private boolean volatileMount;
        private IdMapping uidMapping;
        private IdMapping gidMapping;
        private int squashUid = -1;
        private int squashGid = -1;
        private boolean staticNlink;
        private boolean noXattrs;
        private final Map<String, String> frontendOptions = new LinkedHashMap<>();

        private Builder() {
        }

        /** Adds a lower layer below those added so far (the first one added is the topmost). */
        public Builder lower(String spec) {
            lowers.add(new LayerSource.Location(spec));
            return this;
        }

        /** Adds an opened lower layer below those added so far. */
        public Builder lower(Layer layer) {
            lowers.add(new LayerSource.Opened(layer));
            return this;
        }

        /** The upper layer and its work location, each a path or URI. */
        public Builder upper(String upperSpec, String workSpec) {
            this.upper = new LayerSource.Location(Objects.requireNonNull(upperSpec, "upper"));
            this.work = Objects.requireNonNull(workSpec, "work");
            return this;
        }

        /** An opened upper layer (it brings its own work area). */
        public Builder upper(WritableLayer layer) {
            this.upper = new LayerSource.Opened(layer);
            this.work = null;
            return this;
        }

        public Builder redirectDir(boolean on) {
            this.redirectDir = on;
            return this;
        }

        public Builder userXattr(boolean on) {
            this.userXattr = on;
            return this;
        }

        public Builder readOnly(boolean on) {
            this.readOnly = on;
            return this;
        }

        /** See {@link OverlayConfig#volatileMount()}. */
        public Builder volatileMount(boolean on) {
            this.volatileMount = on;
            return this;
        }

        /** See {@link OverlayConfig#uidMapping()}; null for none. */
        public Builder uidMapping(IdMapping mapping) {
            this.uidMapping = mapping;
            return this;
        }

        /** See {@link OverlayConfig#gidMapping()}; null for none. */
        public Builder gidMapping(IdMapping mapping) {
            this.gidMapping = mapping;
            return this;
        }

        /** See {@link OverlayConfig#squashUid()}; -1 for none. */
        public Builder squashUid(int uid) {
            this.squashUid = uid;
            return this;
        }

        /** See {@link OverlayConfig#squashGid()}; -1 for none. */
        public Builder squashGid(int gid) {
            this.squashGid = gid;
            return this;
        }

        /** See {@link OverlayConfig#staticNlink()}. */
        public Builder staticNlink(boolean on) {
            this.staticNlink = on;
            return this;
        }

        /** See {@link OverlayConfig#noXattrs()}. */
        public Builder noXattrs(boolean on) {
            this.noXattrs = on;
            return this;
        }

        /** An option for the frontend (FUSE mount options and the like); {@code value} may be null. */
        public Builder frontendOption(String key, String value) {
            frontendOptions.put(key, value);
            return this;
        }

        /**
         * @throws IllegalArgumentException when there is no lower layer, or an opened upper layer
         *                                  is not writable
         */
        public OverlayConfig build() {
            if (lowers.isEmpty()) {
                throw new IllegalArgumentException("an overlay needs at least one lower layer (option lowerdir)");
            }
            if (upper instanceof LayerSource.Opened(Layer layer) && !(layer instanceof WritableLayer)) {
                throw new IllegalArgumentException("the upper layer " + layer.description() + " is not writable");
            }
            if (userXattr && Boolean.TRUE.equals(redirectDir)) {
                throw new IllegalArgumentException("conflicting options: userxattr,redirect_dir=on (the kernel refuses"
                        + " them together: a redirect in user.overlay.* is not followed); leave redirect_dir out or set it off");
            }
            return new OverlayConfig(this);
        }
    }
}
