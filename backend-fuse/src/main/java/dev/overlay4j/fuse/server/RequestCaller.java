package dev.overlay4j.fuse.server;

import dev.overlay4j.api.Access;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The caller of one request as {@code access(2)} sees it: the request's file system uid and gid,
 * and the supplementary groups of its process. The kernel sends no groups, so they are read
 * from {@code /proc/PID/status}, and only when a check gets past the owner and the primary
 * group. A process that cannot be read (gone, or pid 0: outside the server's pid namespace)
 * counts with its primary group alone: the check refuses what it cannot verify.
 */
final class RequestCaller implements Access.Caller {

    private static final Path PROC = Path.of("/proc");

    private final int uid;
    private final int gid;
    private final int pid;
    private final Path proc;
    private int[] groups; // sorted; read at the first check that needs them

    RequestCaller(int uid, int gid, int pid) {
        this(uid, gid, pid, PROC);
    }

    /** With {@code proc} in place of {@code /proc}, for tests. */
    RequestCaller(int uid, int gid, int pid, Path proc) {
        this.uid = uid;
        this.gid = gid;
        this.pid = pid;
        this.proc = proc;
    }

    @Override
    public int uid() {
        return uid;
    }

    @Override
    public boolean inGroup(int id) {
        if (id == gid) {
            return true;
        }
        if (groups == null) {
            groups = pid > 0 ? supplementaryGroups(proc.resolve(pid + "/status")) : new int[0];
        }
        return Arrays.binarySearch(groups, id) >= 0;
    }

    /** The ids of the {@code Groups:} line of a {@code /proc/PID/status}; none if it cannot be read. */
    static int[] supplementaryGroups(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Groups:")) {
                    String ids = line.substring("Groups:".length()).trim();
                    return ids.isEmpty() ? new int[0]
                            : Arrays.stream(ids.split("\\s+")).mapToInt(Integer::parseInt).sorted().toArray();
                }
            }
        } catch (IOException e) {
            // the process is gone, or not ours to read
        }
        return new int[0];
    }
}
