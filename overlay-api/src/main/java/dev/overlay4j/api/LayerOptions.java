package dev.overlay4j.api;

import java.util.Map;

/**
 * Options that change how every layer of one overlay reads and writes its overlay marks.
 *
 * @param userXattr  keep overlay marks in {@code user.overlay.*} instead of {@code trusted.overlay.*}
 *                   (the kernel's {@code userxattr} option, for unprivileged use)
 * @param parameters further provider-specific settings, by name
 */
public record LayerOptions(boolean userXattr, Map<String, String> parameters) {

    public static final LayerOptions DEFAULTS = new LayerOptions(false, Map.of());

    public LayerOptions {
        parameters = Map.copyOf(parameters);
    }

    /** The xattr name prefix under which this overlay keeps its marks: {@code trusted.overlay.} or {@code user.overlay.}. */
    public String overlayXattrPrefix() {
        return userXattr ? "user.overlay." : "trusted.overlay.";
    }
}
