package dev.overlay4j.it.containers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Enumeration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * An overlay4j installation in the {@code OVERLAY4J_HOME} layout ({@code bin/overlay4j},
 * {@code bin/java25}, {@code lib/} with the modules) that containers mount read-only. The
 * modules are the ones on the test class path, where Maven puts what this build produced: the
 * reactor's jars in a full build, the local repository's when it-tests is built alone.
 *
 * @param home the installation directory on the host
 */
record Overlay4jInstall(Path home) {
    /** What the overlay4j command resolves: the FUSE frontend, the contract, the engine, the directory and zip layers. */
    static final Set<String> MODULES = Set.of("dev.overlay4j.api", "dev.overlay4j.core", "dev.overlay4j.nio",
            "dev.overlay4j.fuse");

    static Overlay4jInstall assemble(Path home) throws IOException {
        Map<String, Path> modules = modulesOnClassPath();
        Set<String> missing = new TreeSet<>(MODULES);
        missing.removeAll(modules.keySet());
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the modules " + missing + " are not on the test class path; it-tests depends on"
                    + " them, so install them first (bin/mvn -B install -DskipTests)");
        }
        Path lib = Files.createDirectories(home.resolve("lib"));
        for (Map.Entry<String, Path> module : modules.entrySet()) {
            Path source = module.getValue();
            if (Files.isDirectory(source)) {
                copyTree(source, lib.resolve(module.getKey())); // an exploded module, as in `mvn test`
            } else {
                Files.copy(source, lib.resolve(source.getFileName()));
            }
        }
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path repoBin = Path.of(System.getProperty("overlay4j.bin", "../bin"));
        for (String script : new String[] {"overlay4j", "java25"}) {
            Path target = bin.resolve(script);
            Files.copy(repoBin.resolve(script), target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return new Overlay4jInstall(home);
    }

    /** Module name to its class path entry (jar or classes directory), for the overlay4j modules. */
    private static Map<String, Path> modulesOnClassPath() throws IOException {
        Map<String, Path> modules = new TreeMap<>();
        Enumeration<URL> descriptors = ClassLoader.getSystemClassLoader().getResources("module-info.class");
        while (descriptors.hasMoreElements()) {
            URL descriptor = descriptors.nextElement();
            String name;
            try (InputStream in = descriptor.openStream()) {
                name = ModuleDescriptor.read(in).name();
            }
            if (MODULES.contains(name)) {
                modules.putIfAbsent(name, classPathEntry(descriptor));
            }
        }
        return modules;
    }

    private static Path classPathEntry(URL descriptor) {
        String url = descriptor.toString();
        try {
            if (url.startsWith("jar:")) {
                return Path.of(new URI(url.substring("jar:".length(), url.indexOf("!/"))));
            }
            return Path.of(descriptor.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the class path entry of " + url, e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            paths.forEach(path -> {
                try {
                    Files.copy(path, to.resolve(from.relativize(path).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
