package dev.overlay4j.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code oci:DIR}: the layers of an image in an OCI image layout, chosen by name and platform. */
class OciImageTest {

    @TempDir
    Path tmp;

    /** A layer holding one file {@code name} whose content is {@code name} too. */
    private static byte[] layer(String name) {
        return new TarWriter().add(TarWriter.file(name, name)).bytes();
    }

    private static List<String> names(List<Layer> layers) throws IOException {
        List<String> names = new java.util.ArrayList<>();
        for (Layer layer : layers) {
            try (var list = layer.list(EntryPath.ROOT)) {
                names.add(list.map(e -> e.name()).sorted().reduce((a, b) -> a + "," + b).orElse(""));
            }
        }
        return names;
    }

    private static void close(List<Layer> layers) throws IOException {
        for (Layer layer : layers) {
            layer.close();
        }
    }

    private static void assertErrno(Errno expected, String messagePart, org.junit.jupiter.api.function.Executable call) {
        IOException thrown = assertThrows(IOException.class, call);
        assertEquals(expected, Errno.of(thrown), () -> "errno of " + thrown);
        assertTrue(thrown.getMessage().contains(messagePart), thrown.getMessage());
    }

    @Test
    void theLayersOfTheManifestOpenTopFirstPlainAndGzipAlike() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("img"));
        image.topIndex(List.of(image.manifest(List.of(
                image.blob(ImageLayoutWriter.TAR, layer("base"), ""),
                image.blob(ImageLayoutWriter.TAR_GZIP, new TarWriter().add(TarWriter.file("middle", "m")).gzipBytes(), ""),
                image.blob(ImageLayoutWriter.TAR, layer("top"), "")), ImageLayoutWriter.ref("latest"))));
        List<Layer> layers = Layers.openLowers("oci:" + image.dir, LayerOptions.DEFAULTS);
        try {
            assertEquals(List.of("top", "middle", "base"), names(layers));
            assertTrue(layers.get(0).description().startsWith("oci:" + image.dir + " layer 3/3 (sha256:"), layers.get(0).description());
            assertTrue(layers.get(2).description().contains("layer 1/3"), layers.get(2).description());
        } finally {
            close(layers);
        }
        List<Layer> byRef = Layers.openLowers("oci:" + image.dir + "?ref=latest", LayerOptions.DEFAULTS);
        assertEquals(3, byRef.size());
        close(byRef);
        assertErrno(Errno.EINVAL, "3 layers", () -> Layers.openLower("oci:" + image.dir, LayerOptions.DEFAULTS).close());
    }

    @Test
    void aRefPicksOneOfSeveralTaggedImages() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("img"));
        image.topIndex(List.of(
                image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("one"), "")), ImageLayoutWriter.ref("v1")),
                image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("two"), "")), ImageLayoutWriter.ref("v2"))));
        try (Layer v2 = Layers.openLower("oci:" + image.dir + "?ref=v2", LayerOptions.DEFAULTS)) {
            assertEquals(List.of("two"), names(List.of(v2)));
        }
        assertErrno(Errno.ENOENT, "[v1, v2]", () -> Layers.openLower("oci:" + image.dir + "?ref=v3", LayerOptions.DEFAULTS).close());
        assertErrno(Errno.EINVAL, "?ref=", () -> Layers.openLower("oci:" + image.dir, LayerOptions.DEFAULTS).close());
    }

    @Test
    void anImageIndexIsResolvedForThePlatformAndItsHighestVariantThatRuns() throws IOException {
        ImageLayoutWriter image = new ImageLayoutWriter(tmp.resolve("img"));
        String amd64 = image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("amd64"), "")),
                ImageLayoutWriter.platform("linux", "amd64", null));
        String amd64v3 = image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("amd64v3"), "")),
                ImageLayoutWriter.platform("linux", "amd64", "v3"));
        String arm64 = image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("arm64"), "")),
                ImageLayoutWriter.platform("linux", "arm64", "v8"));
        String attestation = image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("attestation"), "")),
                ImageLayoutWriter.platform("unknown", "unknown", null));
        String windows = image.manifest(List.of(image.blob(ImageLayoutWriter.TAR, layer("windows"), "")),
                ImageLayoutWriter.platform("windows", "amd64", null));
        image.topIndex(List.of(image.index(List.of(attestation, windows, amd64v3, amd64, arm64), ImageLayoutWriter.ref("multi"))));
        String location = "oci:" + image.dir + "?ref=multi&platform=";
        for (String[] pick : new String[][] {{"linux/amd64/v1", "amd64"}, {"linux/amd64/v2", "amd64"},
                {"linux/amd64/v3", "amd64v3"}, {"linux/amd64/v4", "amd64v3"}, {"linux/arm64", "arm64"},
                {"linux/arm64/v8", "arm64"}}) {
            try (Layer layer = Layers.openLower(location + pick[0], LayerOptions.DEFAULTS)) {
                assertEquals(List.of(pick[1]), names(List.of(layer)), pick[0]);
            }
        }
        assertErrno(Errno.ENOENT, "linux/amd64/v3", () -> Layers.openLower(location + "linux/s390x", LayerOptions.DEFAULTS).close());
        Platform host = Platform.host();
        if (host.architecture().equals("amd64") || host.architecture().equals("arm64")) {
            try (Layer layer = Layers.openLower("oci:" + image.dir + "?ref=multi", LayerOptions.DEFAULTS)) {
                String expected = host.architecture().equals("arm64") ? "arm64" : host.variant().compareTo("v3") >= 0 ? "amd64v3" : "amd64";
                assertEquals(List.of(expected), names(List.of(layer)), "on this machine, " + host);
            }
        }
    }

    @Test
    void aLayoutThatIsNotOneOrHasBadBlobsIsRefused() throws IOException {
        assertErrno(Errno.ENOENT, "nothing-here", () -> Layers.openLowers("oci:" + tmp.resolve("nothing-here"), LayerOptions.DEFAULTS));
        Files.createDirectories(tmp.resolve("plain"));
        assertErrno(Errno.EINVAL, "not an OCI image layout", () -> Layers.openLowers("oci:" + tmp.resolve("plain"), LayerOptions.DEFAULTS));

        ImageLayoutWriter escape = new ImageLayoutWriter(tmp.resolve("escape"));
        escape.topIndex(List.of("{\"mediaType\": \"" + ImageLayoutWriter.MANIFEST + "\", \"digest\": \"sha256:../../../etc/passwd\", \"size\": 1}"));
        assertErrno(Errno.EINVAL, "is not a digest", () -> Layers.openLowers("oci:" + escape.dir, LayerOptions.DEFAULTS));

        ImageLayoutWriter tampered = new ImageLayoutWriter(tmp.resolve("tampered"));
        String manifest = tampered.manifest(List.of(tampered.blob(ImageLayoutWriter.TAR, layer("x"), "")), "");
        tampered.topIndex(List.of(manifest));
        String hex = manifest.replaceAll(".*sha256:([0-9a-f]+).*", "$1");
        Files.writeString(tampered.dir.resolve("blobs/sha256/" + hex), "{\"layers\": []}");
        assertErrno(Errno.EIO, "does not match its digest", () -> Layers.openLowers("oci:" + tampered.dir, LayerOptions.DEFAULTS));

        ImageLayoutWriter encrypted = new ImageLayoutWriter(tmp.resolve("encrypted"));
        encrypted.topIndex(List.of(encrypted.manifest(List.of(encrypted.blob(
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", layer("x"), "")), "")));
        assertErrno(Errno.EOPNOTSUPP, "+encrypted", () -> Layers.openLowers("oci:" + encrypted.dir, LayerOptions.DEFAULTS));
        assertErrno(Errno.EINVAL, "unknown parameter", () -> Layers.openLowers("oci:" + encrypted.dir + "?tag=x", LayerOptions.DEFAULTS));
    }
}
