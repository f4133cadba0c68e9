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
                 uidmapping=STORED:SHOWN:COUNT[:...], gidmapping=... (ids in the layers and the ids
                   shown for them; an id in no range shows as 65534), squash_to_root,
                   squash_to_uid=UID, squash_to_gid=GID (every entry shows that owner),
                   static_nlink (directories show 1 link), noacl (the kernel handles no POSIX ACLs),
                   noxattrs=0|1, fsync=0|1 (0: volatile), timeout=S (all cache timeouts),
                 allow_other, default_permissions (always on), fsname=NAME, threads=N (default 2),
                 passthrough=off|on|all (default off: data goes through the server and the page cache;
                   on: the kernel reads and writes local files itself when allowed, except lower
                   files read in a writable overlay; all: those too, but writing such a file while
                   it is open for reading then fails with EBUSY),
                 entry_timeout=S, attr_timeout=S, negative_timeout=S (kernel cache seconds, default 86400),
                 suid, nosuid, dev, nodev, exec, noexec, atime, noatime, relatime, strictatime,
                 diratime, nodiratime, lazytime, sync, async, dirsync,
                 ignored: defaults, auto, noauto, user, users, nofail, _netdev, x-*, comment=, context=,
                   fscontext=, defcontext=, rootcontext=, threaded=, fast_ino=, writeback=, plugins=,
                   and an empty option,
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
     * Options of mount(8) and fstab that say nothing to a FUSE file system's server: mount(8)
     * and mount.fuse3 act on them (or systemd, for {@code x-*}) and may pass them on.
     */
    private static final java.util.Set<String> MOUNT_COMMAND_OPTIONS = java.util.Set.of(
            "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group", "nofail", "_netdev");

    /**
     * SELinux labels (mount(8)'s {@code context=} and friends; containers/storage adds
     * {@code context=} on SELinux hosts). fuse-overlayfs takes {@code context=} and ignores it,
     * and ignores the others as unknown; here the same: a FUSE mount's labels are the policy's.
     */
    private static final java.util.Set<String> SELINUX_LABELS = java.util.Set.of(
            "context", "fscontext", "defcontext", "rootcontext");

    /**
     * The FUSE settings from the options the overlay does not interpret.
     *
     * @throws UsageException for an unknown option or a bad value
     */
    static FuseOptions fuseOptions(OverlayConfig config) {
        return fuseOptions(config.frontendOptions());
    }

    /** The FUSE options among mount options (name to value, null for a flag), as the command reads them. */
    static FuseOptions fuseOptions(Map<String, String> frontendOptions) {
        FuseOptions fuse = FuseOptions.defaults();
        Set<FuseOptions.MountFlag> flags = EnumSet.noneOf(FuseOptions.MountFlag.class);
        java.time.Duration all = null;
        java.time.Duration entry = null;
        java.time.Duration attr = null;
        java.time.Duration negative = null;
        for (Map.Entry<String, String> option : frontendOptions.entrySet()) {
            String key = option.getKey();
            String value = option.getValue();
            if (SELINUX_LABELS.contains(key)) {
                value(key, value);
                continue;
            }
            if (MOUNT_COMMAND_OPTIONS.contains(key) || key.startsWith("x-") || key.equals("comment")) {
                continue;
            }
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
                // fuse-overlayfs's one cache timeout: for names, attributes and missing names alike.
                case "timeout" -> all = seconds(key, value);
                case "allow_other" -> {
                    flag(key, value);
                    fuse = fuse.withAllowOther(true);
                }
                case "allow_root" -> throw new UsageException("option allow_root is not supported: without "
                        + "allow_other only the mounting user gets in, with it everyone");
                // The server does no permission checks of its own: the kernel always does them.
                case "default_permissions" -> flag(key, value);
                case "noacl" -> {
                    flag(key, value);
                    fuse = fuse.withPosixAcl(false);
                }
                // fuse-overlayfs's server loop, inode check and cache mode: overlay4j has threads=,
                // its own inode numbers, and never asks for the kernel's writeback cache.
                case "threaded", "fast_ino", "writeback" -> number(key, value);
                case "plugins" -> {
                    if (value != null && !value.isEmpty()) {
                        throw new UsageException("option plugins=" + value + " names fuse-overlayfs's C data-source "
                                + "plugins, which overlay4j cannot load: name such layers by URI through a LayerProvider module");
                    }
                }
                case "nosuid" -> flags.add(flag(key, value, FuseOptions.MountFlag.NOSUID));
                case "nodev" -> flags.add(flag(key, value, FuseOptions.MountFlag.NODEV));
                case "noexec" -> flags.add(flag(key, value, FuseOptions.MountFlag.NOEXEC));
                case "suid" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOSUID));
                case "dev" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NODEV));
                case "exec" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOEXEC));
                // noatime, relatime and strictatime choose one access-time rule: the last one given wins.
                case "noatime", "relatime", "strictatime" -> {
                    flag(key, value);
                    flags.removeAll(ATIME_RULES);
                    flags.add(switch (key) {
                        case "noatime" -> FuseOptions.MountFlag.NOATIME;
                        case "relatime" -> FuseOptions.MountFlag.RELATIME;
                        default -> FuseOptions.MountFlag.STRICTATIME;
                    });
                }
                case "atime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NOATIME));
                case "norelatime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.RELATIME));
                case "nostrictatime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.STRICTATIME));
                case "nodiratime" -> flags.add(flag(key, value, FuseOptions.MountFlag.NODIRATIME));
                case "diratime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.NODIRATIME));
                case "lazytime" -> flags.add(flag(key, value, FuseOptions.MountFlag.LAZYTIME));
                case "nolazytime" -> flags.remove(flag(key, value, FuseOptions.MountFlag.LAZYTIME));
                case "sync" -> flags.add(flag(key, value, FuseOptions.MountFlag.SYNCHRONOUS));
                case "async" -> flags.remove(flag(key, value, FuseOptions.MountFlag.SYNCHRONOUS));
                case "dirsync" -> flags.add(flag(key, value, FuseOptions.MountFlag.DIRSYNC));
                default -> throw new UsageException("unknown option " + key);
            }
        }
        if (all != null) {
            fuse = fuse.withTimeouts(all, all);
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

    private static final Set<FuseOptions.MountFlag> ATIME_RULES = EnumSet.of(FuseOptions.MountFlag.NOATIME,
            FuseOptions.MountFlag.RELATIME, FuseOptions.MountFlag.STRICTATIME);

    /** fuse-overlayfs's numeric options ({@code %d}): a decimal integer. */
    private static void number(String key, String value) {
        if (!value(key, value).matches("-?[0-9]{1,9}")) {
            throw new UsageException("option " + key + " must be a number, not \"" + value + "\"");
        }
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
