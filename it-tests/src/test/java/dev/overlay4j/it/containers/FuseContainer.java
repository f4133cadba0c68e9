package dev.overlay4j.it.containers;

import static org.junit.jupiter.api.Assertions.fail;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A running container of the local base image that can mount FUSE and the kernel's overlayfs:
 * it gets /dev/fuse and CAP_SYS_ADMIN (privileged mode is refused on this kind of machine). The
 * test JVM's JDK is mounted read-only at {@value #JDK}, the overlay4j install at
 * {@value #OVERLAY4J_HOME} (both on the PATH), and {@value #SCRATCH} is a tmpfs: the kernel's
 * overlayfs cannot use the container's own overlay root as its upper layer.
 */
final class FuseContainer implements AutoCloseable {
    static final String JDK = "/opt/jdk";
    static final String OVERLAY4J_HOME = "/opt/overlay4j";
    static final String SCRATCH = "/scratch";
    /** A hung mount must fail the test, not stall the build. */
    private static final int SCRIPT_TIMEOUT_SECONDS = 120;

    /** Shell functions every script can call. */
    static final String FUNCTIONS = """
            # overlay4j_mount LOWERDIRS UPPER WORK MOUNTPOINT: the real command, which detaches once the mount is live.
            overlay4j_mount() {
              overlay4j_mount_layers "lowerdir=$1" "$2" "$3" "$4"
            }
            # overlay4j_mount_layers LOWER_OPTIONS UPPER WORK MOUNTPOINT: the lowers as options, such as
            # lowerdir+=URI,lowerdir+=DIR for URIs with colons.
            overlay4j_mount_layers() {
              mkdir -p "$2" "$3" "$4"
              local log="/scratch/overlay4j$(echo "$4" | tr / _).log"
              if ! overlay4j -o "$1,upperdir=$2,workdir=$3" "$4" >"$log" 2>&1 </dev/null; then
                echo "overlay4j could not mount $4:" >&2; cat "$log" >&2; return 1
              fi
            }
            # kernel_mount LOWERDIRS UPPER WORK MOUNTPOINT: the reference, the kernel's overlayfs.
            kernel_mount() {
              mkdir -p "$2" "$3" "$4"
              mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"
            }
            # manifest DIR: every entry below DIR, sorted: path, type, mode and for files links and size, for
            # symlinks the target, for devices the numbers (whiteouts are 0:0; the kernel hard-links them to one
            # inode, so their link count says nothing). Then the sha256 of every regular file except git's index
            # (it caches inode numbers and change times).
            manifest() (
              cd "$1"
              find . -mindepth 1 \\( -type f -printf '%p f %m %n %s\\n' \\) -o \\( -type l -printf '%p l -> %l\\n' \\) \\
                  -o \\( \\( -type c -o -type b \\) -printf '%p %y %m ' -exec stat -c '%t:%T' {} \\; \\) \\
                  -o -printf '%p %y %m\\n' | LC_ALL=C sort
              find . -type f ! -path '*/.git/index' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
            )
            """;

    private final GenericContainer<?> container;

    private FuseContainer(GenericContainer<?> container) {
        this.container = container;
    }

    /** A host directory mounted read-write into the container. */
    record Bind(Path host, String container) {
    }

    static FuseContainer start(Overlay4jInstall install, Bind... binds) {
        return start(install, Map.of(), binds);
    }

    /** A container whose processes get {@code env} as well, such as the credentials of an S3 server. */
    static FuseContainer start(Overlay4jInstall install, Map<String, String> env, Bind... binds) {
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(ContainerSupport.BASE_IMAGE))
                .withImagePullPolicy(image -> false)
                .withCreateContainerCmdModifier(create -> create.getHostConfig()
                        .withDevices(Device.parse("/dev/fuse"))
                        .withCapAdd(Capability.SYS_ADMIN))
                .withFileSystemBind(System.getProperty("java.home"), JDK, BindMode.READ_ONLY)
                .withFileSystemBind(install.home().toString(), OVERLAY4J_HOME, BindMode.READ_ONLY)
                .withTmpFs(Map.of(SCRATCH, "rw,exec,dev,size=1g"))
                .withEnv("JAVA_HOME", JDK)
                .withEnv("PATH", JDK + "/bin:" + OVERLAY4J_HOME + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                .withEnv("LANG", "C.UTF-8")
                .withEnv(env)
                .withCommand("sleep", "infinity");
        for (Bind bind : binds) {
            container.withFileSystemBind(bind.host().toString(), bind.container(), BindMode.READ_WRITE);
        }
        container.start();
        return new FuseContainer(container);
    }

    /** Runs a bash script (errexit, pipefail) and returns its standard output; fails the test unless it exits 0. */
    String run(String script) throws IOException, InterruptedException {
        ExecResult result = runAllowingFailure(script);
        if (result.getExitCode() != 0) {
            fail(describe(script, result));
        }
        return result.getStdout();
    }

    ExecResult runAllowingFailure(String script) throws IOException, InterruptedException {
        ExecResult result = container.execInContainer("timeout", "--kill-after=5", String.valueOf(SCRIPT_TIMEOUT_SECONDS),
                "bash", "-euo", "pipefail", "-c", FUNCTIONS + script);
        if (result.getExitCode() == 124) {
            fail("timed out after " + SCRIPT_TIMEOUT_SECONDS + " s: " + describe(script, result));
        }
        return result;
    }

    /** SIGKILL for every process of the container at once, as a crash or an OOM kill would do. */
    void kill() {
        container.getDockerClient().killContainerCmd(container.getContainerId()).withSignal("KILL").exec();
        container.getDockerClient().waitContainerCmd(container.getContainerId()).start().awaitStatusCode();
    }

    @Override
    public void close() {
        container.stop();
    }

    private static String describe(String script, ExecResult result) {
        return "script exited " + result.getExitCode() + "\n--- script:\n" + script.strip() + "\n--- stdout:\n"
                + result.getStdout().strip() + "\n--- stderr:\n" + result.getStderr().strip();
    }
}
