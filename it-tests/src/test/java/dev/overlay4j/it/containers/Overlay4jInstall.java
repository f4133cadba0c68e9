package dev.overlay4j.it.containers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolutionException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * An overlay4j installation in the {@code OVERLAY4J_HOME} layout ({@code bin/overlay4j},
 * {@code bin/java25}, {@code lib/} with the modules) that containers mount read-only. The
 * overlay4j modules are the ones on the test class path, where Maven puts what this build
 * produced: the reactor's jars in a full build, the local repository's when it-tests is built
 * alone. The third-party jars backend-s3 needs (the AWS SDK, SLF4J) come from the directory the
 * pom copies them to, named by the system property {@value #RUNTIME_JARS_PROPERTY}.
 *
 * @param home the installation directory on the host
 */
record Overlay4jInstall(Path home) {
    /**
     * What the overlay4j command resolves: the FUSE frontend, the contract, the command line's SPI,
     * the engine, the directory, zip, S3 and image layers.
     */
    static final Set<String> MODULES = Set.of("dev.overlay4j.api", "dev.overlay4j.cli", "dev.overlay4j.core",
            "dev.overlay4j.nio", "dev.overlay4j.fuse", "dev.overlay4j.s3", "dev.overlay4j.oci");
    static final String RUNTIME_JARS_PROPERTY = "overlay4j.runtimeJars";
    private static final String MAIN_MODULE = "dev.overlay4j.fuse";

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
        for (Path jar : runtimeJars()) {
            Files.copy(jar, lib.resolve(jar.getFileName()));
        }
        checkResolves(lib);
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path repoBin = Path.of(System.getProperty("overlay4j.bin", "../bin"));
        for (String script : new String[] {"overlay4j", "java25", "overlay4j-aot-cache"}) {
            Path target = bin.resolve(script);
            Files.copy(repoBin.resolve(script), target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return new Overlay4jInstall(home);
    }

    private static List<Path> runtimeJars() throws IOException {
        String property = System.getProperty(RUNTIME_JARS_PROPERTY);
        Path dir = property == null ? null : Path.of(property);
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalStateException("no directory of backend-s3's runtime jars (system property " + RUNTIME_JARS_PROPERTY
                    + "=" + property + "); the it-tests pom copies them to target/overlay4j-runtime-jars before the tests:"
                    + " run the tests through Maven");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }

    /**
     * Fails here, naming what is missing, rather than in every container: the overlay4j command
     * resolves its module and, through {@code uses}, every layer provider and subcommand in lib/.
     */
    private static void checkResolves(Path lib) {
        ModuleFinder finder = ModuleFinder.of(lib);
        try {
            Configuration configuration = ModuleLayer.boot().configuration()
                    .resolveAndBind(finder, ModuleFinder.of(), Set.of(MAIN_MODULE));
            Set<String> resolved = new TreeSet<>();
            configuration.modules().forEach(m -> resolved.add(m.name()));
            if (!resolved.containsAll(MODULES)) {
                throw new IllegalStateException("the overlay4j command in " + lib + " resolves " + resolved + ", not all of "
                        + MODULES);
            }
        } catch (FindException | ResolutionException e) {
            throw new IllegalStateException("the overlay4j command cannot start from the modules in " + lib + ": "
                    + e.getMessage(), e);
        }
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
