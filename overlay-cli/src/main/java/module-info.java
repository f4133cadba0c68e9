/**
 * The extension point of the {@code overlay4j} command line, which backend-fuse's {@code Main}
 * hosts: a module that {@code provides dev.overlay4j.cli.Command} adds a subcommand (backend-s3
 * adds {@code push}). It belongs to the command, not to the stable contract of overlay-api that
 * layers and embedders compile against, and may change with the command.
 */
module dev.overlay4j.cli {
    exports dev.overlay4j.cli;
}
