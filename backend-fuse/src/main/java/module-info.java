/** A pure-Java FUSE server over the FFM API and the {@code overlay4j} command. */
module dev.overlay4j.fuse {
    requires dev.overlay4j.api;

    uses dev.overlay4j.api.spi.Command;

    exports dev.overlay4j.fuse;
}
