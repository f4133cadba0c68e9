package dev.overlay4j.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The platform an image is chosen for, as container runtimes choose it from an image index: the
 * operating system and architecture must be this machine's (in Go's names: {@code linux},
 * {@code amd64}, {@code arm64}), and a variant must be one the machine runs, the highest such
 * preferred: {@code amd64} {@code v1} to the machine's x86-64 level, {@code arm64} {@code v8}, and
 * {@code arm} {@code v5} to the machine's. No variant means the lowest.
 *
 * <p>Public for the commit package of this module, which is not exported.
 *
 * @param variant the machine's variant ({@code v3}), or empty when its architecture has none
 */
public record Platform(String os, String architecture, String variant) {

    /**
     * {@code OS/ARCH[/VARIANT]}, as {@code oci:DIR?platform=} and {@code --platform} give it.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Platform parse(String text) {
        String[] parts = text.split("/", -1);
        if (parts.length < 2 || parts.length > 3 || java.util.Arrays.stream(parts).anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("a platform is OS/ARCH[/VARIANT], not " + text);
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
    }

    /** This machine. */
    public static Platform host() {
        String arch = switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "arm", "armv7l" -> "arm";
            case "x86", "i386", "i686" -> "386";
            case String other -> other; // ppc64le, s390x, riscv64 are the same in both
        };
        String variant = switch (arch) {
            case "amd64" -> "v" + x86Level();
            case "arm64" -> "v8";
            case "arm" -> "v7";
            default -> "";
        };
        return new Platform("linux", arch, variant);
    }

    /** The x86-64 microarchitecture level (psABI) that {@code /proc/cpuinfo}'s flags allow, 1 when unknown. */
    private static int x86Level() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    Set<String> flags = Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                    if (!flags.containsAll(List.of("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"))) {
                        return 1;
                    }
                    if (!flags.containsAll(List.of("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"))) {
                        return 2;
                    }
                    if (!flags.containsAll(List.of("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"))) {
                        return 3;
                    }
                    return 4;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: the baseline
        }
        return 1;
    }

    /** Whether an index entry's {@code platform} object is one this machine runs. */
    boolean matches(Map<?, ?> platform) {
        return os.equals(platform.get("os")) && architecture.equals(platform.get("architecture"))
                && rank(platform.get("variant")) > 0;
    }

    /**
     * How well a variant fits, 0 when it does not: higher is preferred. No variant ranks as the
     * lowest variant of the architecture.
     */
    private int rank(Object variant) {
        String v = variant instanceof String s && !s.isEmpty() ? s : null;
        int mine = number(this.variant);
        return switch (architecture) {
            case "amd64", "arm" -> {
                int lowest = architecture.equals("arm") ? 5 : 1;
                int n = v == null ? lowest : number(v);
                yield n >= lowest && n <= mine ? n : 0;
            }
            case "arm64" -> v == null || v.equals("v8") ? 8 : 0;
            default -> v == null || v.equals(this.variant) ? 1 : 0;
        };
    }

    private static int number(String variant) {
        if (variant.length() >= 2 && variant.charAt(0) == 'v' && variant.substring(1).chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(variant.substring(1));
        }
        return -1;
    }

    /**
     * The one best entry among entries that match (or carry no platform), or null when several
     * tie: entries with a platform beat those without, and a higher variant a lower one.
     */
    Map<String, Object> best(List<Map<String, Object>> entries) {
        Map<String, Object> best = null;
        int bestScore = -1;
        boolean tie = false;
        for (Map<String, Object> entry : entries) {
            int score = entry.get("platform") instanceof Map<?, ?> p ? 1 + rank(p.get("variant")) : 0;
            if (score > bestScore) {
                best = entry;
                bestScore = score;
                tie = false;
            } else if (score == bestScore) {
                tie = true;
            }
        }
        return tie ? null : best;
    }

    static String describe(Map<?, ?> platform) {
        Object variant = platform.get("variant");
        return platform.get("os") + "/" + platform.get("architecture") + (variant == null ? "" : "/" + variant);
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
