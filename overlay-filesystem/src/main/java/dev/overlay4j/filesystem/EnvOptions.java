package dev.overlay4j.filesystem;

import dev.overlay4j.api.OverlayConfig;
import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the {@code env} map of {@code FileSystems.newFileSystem} into an {@link OverlayConfig}.
 * The map is written out as kernel mount options and read by
 * {@link OverlayConfig#fromMountOptions}, so both ways of configuring an overlay mean the same.
 *
 * <p>Keys: {@code lowerdir} (a String of layers separated by ':', where {@code \:} is a literal
 * colon, or a List of String, Path or URI, topmost first), {@code upperdir} and {@code workdir}
 * (String or Path), {@code redirect_dir} ("on", "off", "follow", "nofollow" or a Boolean),
 * {@code userxattr}, {@code volatile}, {@code ro}, {@code static_nlink} and {@code squash_to_root} (Boolean
 * or "true"/"false"), {@code uidmapping} and {@code gidmapping} (a String in fuse-overlayfs's syntax
 * or an {@link dev.overlay4j.api.IdMapping}), {@code squash_to_uid} and {@code squash_to_gid} (an
 * Integer or a String of digits). Instead of all those, key
 * {@code config} may give a ready {@link OverlayConfig}, for instance one with layers the caller
 * opened itself ({@link OverlayConfig.Builder#lower(dev.overlay4j.api.Layer)}).
 */
final class EnvOptions {

    static final Set<String> KEYS = Set.of("lowerdir", "upperdir", "workdir", "redirect_dir", "userxattr", "volatile",
            "ro", "static_nlink", "squash_to_root", "uidmapping", "gidmapping", "squash_to_uid", "squash_to_gid");
    /** The key whose value is a whole {@link OverlayConfig}; it stands alone. */
    static final String CONFIG = "config";

    private EnvOptions() {
    }

    /** @throws IllegalArgumentException naming the key whose value is missing or wrong */
    static OverlayConfig toConfig(Map<String, ?> env) {
        if (env.containsKey(CONFIG)) {
            if (env.size() > 1) {
                throw new IllegalArgumentException("option " + CONFIG + " gives the whole configuration and stands alone; "
                        + "put the other options into the OverlayConfig, not " + env.keySet().stream().sorted().toList());
            }
            if (!(env.get(CONFIG) instanceof OverlayConfig config)) {
                throw wrongType(CONFIG, env.get(CONFIG), "an OverlayConfig");
            }
            return config;
        }
        for (String key : env.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown overlay file system option " + key + "; known: "
                        + java.util.stream.Stream.concat(KEYS.stream(), java.util.stream.Stream.of(CONFIG)).sorted().toList());
            }
        }
        StringBuilder options = new StringBuilder();
        Object lower = env.get("lowerdir");
        switch (lower) {
            case null -> throw new IllegalArgumentException("option lowerdir is required: the lower layers, topmost first");
            case String layers -> {
                if (layers.isEmpty()) {
                    throw new IllegalArgumentException("option lowerdir needs at least one layer");
                }
                option(options, "lowerdir", escapeCommas(layers));
            }
            case List<?> layers -> {
                if (layers.isEmpty()) {
                    throw new IllegalArgumentException("option lowerdir needs at least one layer");
                }
                StringBuilder joined = new StringBuilder();
                for (Object layer : layers) {
                    if (!joined.isEmpty()) {
                        joined.append(':');
                    }
                    joined.append(escape(location("lowerdir", layer)));
                }
                option(options, "lowerdir", joined.toString());
            }
            default -> throw wrongType("lowerdir", lower, "a String or a List of String, Path or URI");
        }
        if (env.containsKey("upperdir")) {
            option(options, "upperdir", escape(location("upperdir", env.get("upperdir"))));
        }
        if (env.containsKey("workdir")) {
            option(options, "workdir", escape(location("workdir", env.get("workdir"))));
        }
        Object redirect = env.get("redirect_dir");
        switch (redirect) {
            case null -> {
            }
            case Boolean on -> option(options, "redirect_dir", on ? "on" : "off");
            case String mode -> option(options, "redirect_dir", escape(mode));
            default -> throw wrongType("redirect_dir", redirect, "\"on\", \"off\" or a Boolean");
        }
        if (flag(env, "userxattr")) {
            option(options, "userxattr", null);
        }
        if (flag(env, "volatile")) {
            option(options, "volatile", null);
        }
        for (String key : List.of("ro", "static_nlink", "squash_to_root")) {
            if (flag(env, key)) {
                option(options, key, null);
            }
        }
        for (String key : List.of("uidmapping", "gidmapping", "squash_to_uid", "squash_to_gid")) {
            switch (env.get(key)) {
                case null -> {
                }
                // Digits and colons: only a comma would split the options (and then fails as a bad id).
                case String text -> option(options, key, text.replace(",", "\\,"));
                case dev.overlay4j.api.IdMapping mapping when key.endsWith("mapping") -> option(options, key, mapping.toString());
                case Integer id when key.startsWith("squash") -> option(options, key, Integer.toUnsignedString(id));
                case Object other -> throw wrongType(key, other, key.endsWith("mapping")
                        ? "a String or an IdMapping" : "an Integer or a String");
            }
        }
        return OverlayConfig.fromMountOptions(options.toString());
    }

    private static void option(StringBuilder options, String key, String value) {
        if (!options.isEmpty()) {
            options.append(',');
        }
        options.append(key);
        if (value != null) {
            options.append('=').append(value);
        }
    }

    private static String location(String key, Object value) {
        return switch (value) {
            case String text when !text.isEmpty() -> text;
            case Path path when path.getFileSystem() == FileSystems.getDefault() -> path.toAbsolutePath().toString();
            case Path path -> path.toUri().toString();
            case URI uri -> uri.toString();
            case null, default -> throw wrongType(key, value, "a non-empty String, a Path or a URI");
        };
    }

    private static boolean flag(Map<String, ?> env, String key) {
        return switch (env.get(key)) {
            case null -> false;
            case Boolean on -> on;
            case String text when text.equalsIgnoreCase("true") -> true;
            case String text when text.equalsIgnoreCase("false") -> false;
            case Object other -> throw wrongType(key, other, "a Boolean or \"true\"/\"false\"");
        };
    }

    private static IllegalArgumentException wrongType(String key, Object value, String expected) {
        String actual = value == null ? "null" : value.getClass().getSimpleName() + " " + value;
        return new IllegalArgumentException("option " + key + " must be " + expected + ", not " + actual);
    }

    /** Escapes the characters mount options give a meaning to, so the value reads back literally. */
    private static String escape(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == ',' || c == ':') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /** A lowerdir string keeps its own ':' separators and escapes; only its bare commas would split the options. */
    private static String escapeCommas(String layers) {
        StringBuilder out = new StringBuilder(layers.length());
        for (int i = 0; i < layers.length(); i++) {
            char c = layers.charAt(i);
            if (c == '\\' && i + 1 < layers.length()) {
                out.append(c).append(layers.charAt(++i));
            } else {
                if (c == ',') {
                    out.append('\\');
                }
                out.append(c);
            }
        }
        return out.toString();
    }
}
