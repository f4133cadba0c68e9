package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.oci.commit.CommittedLayer;
import dev.overlay4j.oci.commit.LayerCommit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --layout}: a committed layer added to an image of an OCI image layout as a new tagged image. */
class CommitToLayoutTest {

    private static final Instant WHEN = Instant.ofEpochSecond(1_700_000_000L);

    @TempDir
    Path tmp;
    Path baseTar;
    ImageLayoutWriter layout;
    UpperDir upper;

    /** A small distribution, as one gzip layer. */
    private static TarWriter base(String hostname) {
        return new TarWriter()
                .add(TarWriter.dir("etc/"))
                .add(TarWriter.file("etc/hostname", hostname))
                .add(TarWriter.file("etc/os-release", "ID=base\n"))
                .add(TarWriter.dir("usr/"))
                .add(TarWriter.dir("usr/bin/"))
                .add(TarWriter.file("usr/bin/tool", "#!tool").mode(0755))
                .add(TarWriter.symlink("bin", "usr/bin"))
                .add(TarWriter.dir("usr/share/"))
                .add(TarWriter.dir("usr/share/doc/"))
                .add(TarWriter.dir("usr/share/doc/base/"))
                .add(TarWriter.file("usr/share/doc/base/README", "base doc"))
                .add(TarWriter.dir("opt/"))
                .add(TarWriter.dir("opt/old/"))
                .add(TarWriter.file("opt/old/file", "old"));
    }

    /** A manifest descriptor of an image of {@code layer} alone, with a config that lists its diff ID. */
    private String image(TarWriter layer, String os, String arch, String extra) throws IOException {
        return layout.manifest(List.of(layout.blob(ImageLayoutWriter.TAR_GZIP, layer.gzipBytes(), "")),
                ImageLayoutWriter.config(os, arch, List.of(ImageLayoutWriter.sha256(layer.bytes()))), extra);
    }

    @BeforeEach
    void baseImageAndUpperDir() throws Exception {
        baseTar = base("base\n").writeGzip(tmp.resolve("base.tar.gz"));
        layout = new ImageLayoutWriter(tmp.resolve("layout"));
        layout.topIndex(List.of(image(base("base\n"), "linux", "amd64", ImageLayoutWriter.ref("base"))));
        // What a container changed: an edit, a new file, a deletion, a directory emptied and refilled,
        // in the whiteout forms any user can make.
        upper = new UpperDir(tmp.resolve("upper"))
                .file("etc/hostname", "committed\n").file("etc/new", "new\n").file(".wh.opt", "")
                .file("usr/share/doc/.wh..wh..opq", "").file("usr/share/doc/mine/README", "mine")
                .mtimes(WHEN.getEpochSecond() * 1_000_000_000L); // so that --mtime changes nothing the trees show
    }

    private CommittedLayer commit(String from, String tag) throws IOException {
        return LayerCommit.builder(upper.root.toString()).mtime(WHEN).layout(layout.dir, from, tag).build().run();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> json(Path file) throws IOException {
        return (Map<String, Object>) Json.parse(Files.readString(file));
    }

    private Map<String, Object> blob(String digest) throws IOException {
        return json(layout.dir.resolve("blobs/sha256/" + digest.substring("sha256:".length())));
    }

    private List<String> tags() throws IOException {
        return ((List<?>) json(layout.dir.resolve("index.json")).get("manifests")).stream()
                .map(d -> OciLayout.annotation(cast(d), OciLayout.REF_NAME)).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void theLayerBecomesANewTaggedImageWithTheOldLayersAndConfig() throws IOException {
        CommittedLayer layer = commit("base", "next");

        Path blob = layout.dir.resolve("blobs/sha256/" + layer.digest().substring(7));
        assertEquals(blob, layer.file());
        assertEquals(layer.digest(), ImageLayoutWriter.sha256(Files.readAllBytes(blob)));
        assertEquals("application/vnd.oci.image.layer.v1.tar+gzip", layer.mediaType());
        assertEquals(List.of("base", "next"), tags());

        Map<String, Object> manifest = blob(layer.image().manifestDigest());
        List<?> layers = (List<?>) manifest.get("layers");
        assertEquals(2, layers.size());
        assertEquals(Map.of("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip", "digest", layer.digest(),
                "size", layer.size()), layers.get(1));
        assertEquals(layer.image().configDigest(), cast(manifest.get("config")).get("digest"));

        Map<String, Object> config = blob(layer.image().configDigest());
        assertEquals(List.of(ImageLayoutWriter.sha256(base("base\n").bytes()), layer.diffId()),
                cast(config.get("rootfs")).get("diff_ids"));
        assertEquals("2023-11-14T22:13:20Z", config.get("created"));
        List<?> history = (List<?>) config.get("history");
        assertEquals(Map.of("created", "2023-11-14T22:13:20Z", "created_by", "overlay4j commit"), history.get(1));
        assertEquals(Map.of("Env", List.of("PATH=/usr/bin:/bin"), "Cmd", List.of("/bin/sh")), config.get("config"),
                "the rest of the config is the old one's");
        assertEquals("amd64", config.get("architecture"));
        assertEquals(null, layer.image().platform());

        // The new image is the base image with the upper dir on top; the old one is still there.
        assertEquals(OverlayTrees.belowRoot(List.of(upper.root.toString(), baseTar.toString())),
                OverlayTrees.belowRoot(List.of("oci:" + layout.dir + "?ref=next")));
        assertEquals(OverlayTrees.belowRoot(List.of(baseTar.toString())),
                OverlayTrees.belowRoot(List.of("oci:" + layout.dir + "?ref=base")));
    }

    @Test
    void aLayerFileAsksForItsCompressionAndIsCopiedIntoTheLayout() throws IOException {
        Path out = tmp.resolve("layer.tar.zst");
        CommittedLayer layer = LayerCommit.builder(upper.root.toString()).mtime(WHEN).output(out)
                .layout(layout.dir, "base", "zstd").build().run();
        assertEquals(out, layer.file());
        assertEquals("application/vnd.oci.image.layer.v1.tar+zstd", layer.mediaType());
        assertEquals(layer.digest(), ImageLayoutWriter.sha256(
                Files.readAllBytes(layout.dir.resolve("blobs/sha256/" + layer.digest().substring(7)))));
        assertEquals(OverlayTrees.belowRoot(List.of(upper.root.toString(), baseTar.toString())),
                OverlayTrees.belowRoot(List.of("oci:" + layout.dir + "?ref=zstd")));
    }

    @Test
    void committingAgainToATagReplacesItsImageAndOntoItselfStacksLayers() throws IOException {
        CommittedLayer first = commit("base", "next");
        upper.file("etc/second", "2\n");
        CommittedLayer second = commit("base", "next");
        assertEquals(List.of("base", "next"), tags());
        try (Layer top = Layers.openLowers("oci:" + layout.dir + "?ref=next", LayerOptions.DEFAULTS).getFirst()) {
            assertTrue(top.stat(dev.overlay4j.api.EntryPath.of("etc/second")).isPresent());
        }
        assertFalse(first.digest().equals(second.digest()));

        CommittedLayer third = commit("next", "next");
        assertEquals(3, ((List<?>) blob(third.image().manifestDigest()).get("layers")).size());
        assertEquals(3, ((List<?>) cast(blob(third.image().configDigest()).get("rootfs")).get("diff_ids")).size());
        assertEquals(3, ((List<?>) blob(third.image().configDigest()).get("history")).size());
    }

    @Test
    void fromAnImageIndexThePlatformIsChosenAndKeptInTheNewImage() throws IOException {
        String amd64 = image(base("amd64\n"), "linux", "amd64", ImageLayoutWriter.platform("linux", "amd64", null));
        String arm64 = image(base("arm64\n"), "linux", "arm64", ImageLayoutWriter.platform("linux", "arm64", "v8"));
        layout.topIndex(List.of(layout.index(List.of(amd64, arm64), ImageLayoutWriter.ref("multi"))));
        CommittedLayer layer = LayerCommit.builder(upper.root.toString()).mtime(WHEN).layout(layout.dir, "multi", "mine")
                .platform("linux/arm64").build().run();
        assertEquals("linux/arm64/v8", layer.image().platform());
        assertEquals(List.of("linux/amd64", "linux/arm64/v8"), layer.image().platforms());

        Map<String, Object> entry = cast(((List<?>) json(layout.dir.resolve("index.json")).get("manifests")).get(1));
        assertEquals(Map.of("os", "linux", "architecture", "arm64", "variant", "v8"), entry.get("platform"));
        assertEquals("arm64", blob(layer.image().configDigest()).get("architecture"));
        List<Layer> layers = Layers.openLowers("oci:" + layout.dir + "?ref=mine&platform=linux/arm64", LayerOptions.DEFAULTS);
        try (Layer base = layers.get(1)) {
            layers.getFirst().close();
            try (var content = base.openRead(dev.overlay4j.api.EntryPath.of("etc/hostname"))) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(16);
                content.read(buffer, 0);
                assertEquals("arm64\n", new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void aDockerManifestGetsDockerLayerTypesAndCannotTakeZstd() throws IOException {
        String dockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
        TarWriter baseLayer = base("docker\n");
        String config = layout.blob("application/vnd.docker.container.image.v1+json",
                ImageLayoutWriter.config("linux", "amd64", List.of(ImageLayoutWriter.sha256(baseLayer.bytes())))
                        .getBytes(StandardCharsets.UTF_8), "");
        String layerDescriptor = layout.blob("application/vnd.docker.image.rootfs.diff.tar.gzip", baseLayer.gzipBytes(), "");
        String json = "{\"schemaVersion\": 2, \"mediaType\": \"" + dockerManifest + "\", \"config\": " + config
                + ", \"layers\": [" + layerDescriptor + "]}";
        layout.topIndex(List.of(layout.blob(dockerManifest, json.getBytes(StandardCharsets.UTF_8), ImageLayoutWriter.ref("d"))));
        String index = Files.readString(layout.dir.resolve("index.json"));

        Path zstd = tmp.resolve("layer.tar.zst");
        IOException refused = assertThrows(IOException.class, () -> LayerCommit.builder(upper.root.toString())
                .output(zstd).layout(layout.dir, "d", "next").build().run());
        assertTrue(refused.getMessage().endsWith("has a Docker manifest, which has no media type for a ZSTD layer: write .tar.gz or .tar"),
                refused.getMessage());
        assertFalse(Files.exists(zstd));
        assertEquals(index, Files.readString(layout.dir.resolve("index.json")));

        CommittedLayer layer = commit("d", "next");
        assertEquals("application/vnd.docker.image.rootfs.diff.tar.gzip", layer.mediaType());
        assertEquals(dockerManifest, blob(layer.image().manifestDigest()).get("mediaType"));
    }

    @Test
    void aRefTheLayoutLacksIsNamedWithTheOnesItHas() {
        IOException missing = assertThrows(IOException.class, () -> commit("nope", "next"));
        assertTrue(missing.getMessage().contains("no image named \"nope\" in index.json; its names: [base]"), missing.getMessage());
        IOException notLayout = assertThrows(IOException.class, () -> LayerCommit.builder(upper.root.toString())
                .layout(tmp.resolve("upper"), null, "x").build().run());
        assertTrue(notLayout.getMessage().contains("is not an OCI image layout"), notLayout.getMessage());
    }

    @Test
    void umociUnpacksTheNewImage() throws Exception {
        assumeTrue(onPath("umoci"), "SKIPPED: umoci is not installed");
        assumeTrue(UpperDir.isRoot(), "SKIPPED: umoci unpack without --rootless needs root");
        CommittedLayer layer = commit("base", "next");
        Path bundle = tmp.resolve("bundle");
        UpperDir.run("umoci", "unpack", "--image", layout.dir + ":next", bundle.toString());
        Path rootfs = bundle.resolve("rootfs");
        assertEquals("committed\n", Files.readString(rootfs.resolve("etc/hostname")));
        assertEquals("new\n", Files.readString(rootfs.resolve("etc/new")));
        assertEquals("ID=base\n", Files.readString(rootfs.resolve("etc/os-release")));
        assertFalse(Files.exists(rootfs.resolve("opt")), "the whiteout removed opt");
        try (var doc = Files.list(rootfs.resolve("usr/share/doc"))) {
            assertEquals(List.of("mine"), doc.map(p -> p.getFileName().toString()).toList(), "the opaque dir hides base's");
        }
        assertEquals("usr/bin", Files.readSymbolicLink(rootfs.resolve("bin")).toString());
        if (onPath("skopeo")) {
            String inspected = UpperDir.output("skopeo", "inspect", "oci:" + layout.dir + ":next");
            assertTrue(inspected.contains(layer.digest()), inspected);
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
