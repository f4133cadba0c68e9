package example;

import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.util.Map;

/** README.md's in-process snippet as it stands there (examples/consumer/run checks that it does). */
public class Demo {
    public static void main(String[] args) throws Exception {
        try (FileSystem fs = FileSystems.newFileSystem(URI.create("overlay:/"), Map.of(
                "lowerdir", "layers/app:layers/base",   // top first; or a List<String> of paths/URIs
                "upperdir", "upper",                     // omit upperdir/workdir for a read-only view
                "workdir", "work"))) {                   // same filesystem as upperdir
            Files.writeString(fs.getPath("/etc/app.conf"), "port = 1\n"); // copies up, writes upper
            try (var names = Files.list(fs.getPath("/etc"))) { names.forEach(System.out::println); }
        }
    }
}
