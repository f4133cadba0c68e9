package dev.overlay4j.fuse;

import dev.overlay4j.api.OverlayConfig;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of the {@code overlay4j} command, in the syntax of fuse-overlayfs and of
 * {@code mount.fuse3}: {@code overlay4j [-f] [-o OPTIONS]... [SOURCE] MOUNTPOINT}.
 *
 * @param help       {@code -h}/{@code --help}
 * @param version    {@code -V}/{@code --version}
 * @param foreground {@code -f}: serve in this process instead of in the background
 * @param options    all {@code -o} options joined with commas
 * @param mountpoint the last positional argument (null only with help or version)
 */
record CommandLine(boolean help, boolean version, boolean foreground, String options, String mountpoint) {

    static final String USAGE = """
            usage: overlay4j [-f] -o lowerdir=L1:L2[,upperdir=U,workdir=W][,OPTIONS] [SOURCE] MOUNTPOINT
                   overlay4j --help | --version

            Mounts the overlay of the lower directories L1 (top) .. Ln (bottom) and the optional upper
            directory U on MOUNTPOINT through FUSE, with the semantics of the kernel's overlayfs.

              -f              stay in the foreground (otherwise detach once the mount is live)
              -o OPTIONS      comma-separated mount options:
                 lowerdir=, upperdir=, workdir=, lowerdir+=, redirect_dir=on|off, userxattr, ro, rw,
                 volatile (never sync: copy-up skips its fsync, fsync and syncfs return at once;
                   after a crash throw the upper and work directories away)
                 allow_other, default_permissions (always on), fsname=NAME, threads=N (default 2),
                 passthrough=off|on|all (default off: data goes through the server and the page cache;
                   on: the kernel reads and writes local files itself when allowed, except lower
                   files read in a writable overlay; all: those too, but writing such a file while
                   it is open for reading then fails with EBUSY),
                 entry_timeout=S, attr_timeout=S, negative_timeout=S (kernel cache seconds, default 86400),
                 suid, nosuid, dev, nodev, exec, noexec, atime, noatime, diratime, nodiratime,
                 log=FILE (append the server's messages to FILE; a server in the background
                   otherwise has nowhere to write them)
              -h, --help      show this help
              -V, --version   show the version
            """;

    /** A command line that cannot be run; the message says what is wrong. */
    static final class UsageException extends IllegalArgumentException {
        UsageException(String message) {
            super(message);
        }
    }

    static CommandLine parse(String[] args) {
        boolean help = false;
        boolean version = false;
        boolean foreground = false;
        List<String> options = new ArrayList<>();
        List<String> positional = new ArrayList<>();
        boolean onlyPositional = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (onlyPositional || !arg.startsWith("-") || arg.equals("-")) {
                positional.add(arg);
                continue;
            }
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-V", "--version" -> version = true;
                case "-f" -> foreground = true;
                case "--" -> onlyPositional = true;
                case "-o" -> {
                    if (i + 1 >= args.length) {
                        throw new UsageException("option -o needs a value");
                    }
                    options.add(args[++i]);
                }
                default -> {
                    if (arg.startsWith("-o")) {
                        options.add(arg.substring(2));
                    } else {
                        throw new UsageException("unknown option " + arg);
                    }
                }
            }
        }
        if (help || version) {
            return new CommandLine(help, version, foreground, String.join(",", options), null);
        }
        if (positional.isEmpty()) {
            throw new UsageException("missing mountpoint (try overlay4j --help)");
        }
        if (positional.size() > 2) {
            throw new UsageException("unexpected argument " + positional.get(2));
        }
        return new CommandLine(false, false, foreground, String.join(",", options), positional.getLast());
    }

    /** The file named by option {@code log=}, or null. */
    static java.nio.file.Path logFile(OverlayConfig config) {
        String value = config.frontendOptions().get("log");
        return value == null ? null : java.nio.file.Path.of(value("log", value)).toAbsolutePath().normalize();
    }

    /**
     * The FUSE settings from the options the overlay does not interpret.
     *
     * @throws UsageException for an unknown option or a bad value
     */
    static FuseOptions fuseOptions(OverlayConfig config) {
        FuseOptions fuse = FuseOptions.defaults();
        Set<FuseOptions.MountFlag> flags = EnumSet.noneOf(FuseOptions.MountFlag.class);
        java.time.Duration entry = null;
        java.time.Duration attr = null;
        java.time.Duration negative = null;
        for (Map.Entry<String, String> option : config.frontendOptions().entrySet()) {
            String key = option.getKey();
            String value = option.getValue();
            switch (key) {
                case "fsname" -> fuse = fuse.withFsName(value(key, value).replace(",", "_"));
                case "log" -> value(key, value); // for the launcher: see logFile
                case "threads" -> {
                    int threads;
                    try {
                        threads = Integer.parseInt(value(key, value));
                    } catch (NumberFormatException e) {
                        throw new UsageException("option threads must be a number, not \"" + value + "\"");
                    }
                    if (threads < 1 || threads > 64) {
                        throw new UsageException("option threads must be between 1 and 64, not " + threads);
                    }
                    fuse = fuse.withThreads(threads);
                }
                case "passthrough" -> fuse = switch (value(key, value)) {
                    case "on" -> fuse.withPassthrough(true).withPassthroughOfLowerFiles(false);
                    case "all" -> fuse.withPassthroughOfLowerFiles(true);
                    case "off" -> fuse.withPassthrough(false);
                    default -> throw new UsageException("option passthrough must be on, all or off, not \"" + value + "\"");
                };
                case "entry_timeout" -> entry = seconds(key, value);
                case "attr_timeout" -> attr = seconds(key, value);
                case "negative_timeout" -> negative = seconds(key, value);
                case "allow_other" -> {
                    flag(key, value);
                    fuse = fuse.withAllowOther(true);
                }
                // The server does no permission checks of its own: the kernel always does them.
                case "default_permissions" -> flag(key, value);
                case "nosuid" -> flags.add(flag(key, value, FuseOptions.MountFlag.NOSUID));
                case "nodev" -> flags.add(flag(key, value, FuseOptions.MountFlag.NODEV));
                case "noexec" -> flags.add(flag(key, value, FuseOptions.MountFlag.NOEXEC));
                case "noatime" -> flags.add(flag(key, value, FuseOptions.MountFlag.NOATIME));
                case "nodiratime" -> flags.add(flag(key, value, FuseOptions.MountFlag.NODIRATIME));
                case "suid" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOSUID));
                case "dev" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NODEV));
                case "exec" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOEXEC));
                case "atime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOATIME));
                case "diratime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NODIRATIME));
                default -> throw new UsageException("unknown option " + key);
            }
        }
        if (entry != null || attr != null) {
            // Names that do not exist are remembered as long as names that do, unless told otherwise.
            fuse = fuse.withTimeouts(entry != null ? entry : fuse.entryTimeout(), attr != null ? attr : fuse.attrTimeout());
        }
        if (negative != null) {
            fuse = fuse.withNegativeTimeout(negative);
        }
        return fuse.withFlags(flags);
    }

    private static String value(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new UsageException("option " + key + " needs a value");
        }
        return value;
    }

    private static java.time.Duration seconds(String key, String value) {
        double seconds;
        try {
            seconds = Double.parseDouble(value(key, value));
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (!(seconds >= 0) || seconds > 1e9) {
            throw new UsageException("option " + key + " must be a number of seconds, not \"" + value + "\"");
        }
        return java.time.Duration.ofNanos(Math.round(seconds * 1e9));
    }

    private static void flag(String key, String value) {
        if (value != null) {
            throw new UsageException("option " + key + " takes no value");
        }
    }

    private static FuseOptions.MountFlag flag(String key, String value, FuseOptions.MountFlag flag) {
        flag(key, value);
        return flag;
    }
}
