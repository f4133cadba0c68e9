package dev.overlay4j.it.containers;

import static dev.overlay4j.it.containers.Digests.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A jar as the top lower layer over a directory layer, with a local upper, mounted with the real
 * overlay4j command in a container: java runs classes and reads resources straight out of the
 * jar through the mount, writes copy jar entries up, a delete leaves the kernel's whiteout, and
 * a second mount of the same upper shows the same tree.
 */
class ArchiveLayerTest extends ContainerScenario {

    private static final String LAYERS = """
            mkdir -p /scratch/src/hello /scratch/classes/resources /scratch/layers/base/resources /scratch/layers/base/config
            cat > /scratch/src/hello/Main.java <<'JAVA'
            package hello;

            public class Main {
                public static void main(String[] args) throws Exception {
                    try (var in = Main.class.getResourceAsStream("/resources/greeting.txt")) {
                        System.out.print(new String(in.readAllBytes()));
                    }
                }
            }
            JAVA
            javac -d /scratch/classes /scratch/src/hello/Main.java
            echo 'from the jar' > /scratch/classes/resources/greeting.txt
            jar --create --file /scratch/layers/app.jar -C /scratch/classes .
            echo 'from the base dir' > /scratch/layers/base/resources/greeting.txt
            echo 'port=1' > /scratch/layers/base/config/app.properties
            """;

    @Test
    void programsRunFromAJarLayerAndWritesLandInTheUpperDirInTheKernelsFormat() throws Exception {
        String output;
        try (FuseContainer container = FuseContainer.start(install)) {
            output = container.run(LAYERS + """
                    overlay4j_mount /scratch/layers/app.jar:/scratch/layers/base /scratch/upper /scratch/work /mnt/app
                    echo '== tree'; (cd /mnt/app && find . -printf '%p %y %m\\n' | LC_ALL=C sort)
                    echo '== run'; java -cp /mnt/app hello.Main
                    echo 'and from the upper' >> /mnt/app/resources/greeting.txt
                    echo 'port=2' > /mnt/app/config/app.properties
                    rm /mnt/app/META-INF/MANIFEST.MF
                    mkdir /mnt/app/logs
                    echo started > /mnt/app/logs/app.log
                    echo '== run after writes'; java -cp /mnt/app hello.Main
                    umount /mnt/app
                    echo '== upper'; manifest /scratch/upper
                    overlay4j_mount /scratch/layers/app.jar:/scratch/layers/base /scratch/upper /scratch/work /mnt/app
                    echo '== remounted'; (cd /mnt/app && find . -printf '%p %y %m\\n' | LC_ALL=C sort)
                    cat /mnt/app/resources/greeting.txt /mnt/app/config/app.properties
                    umount /mnt/app
                    """);
        }
        assertEquals("""
                == tree
                . d 755
                ./META-INF d 755
                ./META-INF/MANIFEST.MF f 644
                ./config d 755
                ./config/app.properties f 644
                ./hello d 755
                ./hello/Main.class f 644
                ./resources d 755
                ./resources/greeting.txt f 644
                == run
                from the jar
                == run after writes
                from the jar
                and from the upper
                == upper
                ./META-INF d 755
                ./META-INF/MANIFEST.MF c 0 0:0
                ./config d 755
                ./config/app.properties f 644 1 7
                ./logs d 755
                ./logs/app.log f 644 1 8
                ./resources d 755
                ./resources/greeting.txt f 644 1 32
                %s  ./config/app.properties
                %s  ./logs/app.log
                %s  ./resources/greeting.txt
                == remounted
                . d 755
                ./META-INF d 755
                ./config d 755
                ./config/app.properties f 644
                ./hello d 755
                ./hello/Main.class f 644
                ./logs d 755
                ./logs/app.log f 644
                ./resources d 755
                ./resources/greeting.txt f 644
                from the jar
                and from the upper
                port=2
                """.formatted(sha256("port=2\n"), sha256("started\n"), sha256("from the jar\nand from the upper\n")),
                output);
    }
}
