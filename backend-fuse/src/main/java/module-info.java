/**
 * A pure-Java FUSE server over the FFM API, the {@code fuse} mount frontend of
 * {@link dev.overlay4j.api.Overlay#mount}, and the {@code overlay4j} command.
 */
module dev.overlay4j.fuse {
    requires dev.overlay4j.api;
    requires dev.overlay4j.cli;

    uses dev.overlay4j.cli.Command;

    exports dev.overlay4j.fuse;

    provides dev.overlay4j.api.spi.MountFrontend with dev.overlay4j.fuse.FuseFrontend;
}
