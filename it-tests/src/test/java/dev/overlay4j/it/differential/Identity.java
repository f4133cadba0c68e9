package dev.overlay4j.it.differential;

import java.util.List;

/**
 * Who performs an operation: user, primary group and supplementary groups. The generated
 * layers give some entries to {@link #ALICE}, {@link #BOB} and the group {@link #TEAM}
 * (set-group-ID and sticky directories among them), and operations run as them through
 * {@link Callers}, so ownership of new entries, permission checks and the kernel's rules for
 * chown, chmod and set-id bits all get compared.
 */
record Identity(String name, int uid, int gid, List<Integer> groups) {
    static final int TEAM = 3001;
    static final Identity ROOT = new Identity("root", 0, 0, List.of(0));
    static final Identity ALICE = new Identity("alice", 2001, 2001, List.of(2001, TEAM));
    static final Identity BOB = new Identity("bob", 2002, 2002, List.of(2002));
    /** The users the generator runs operations as (root runs the rest). */
    static final List<Identity> USERS = List.of(ALICE, BOB);
    /** Owners (uid, gid) the generated layers and chown operations hand out. */
    static final int[][] OWNERS = {{0, 0}, {ALICE.uid, ALICE.gid}, {BOB.uid, BOB.gid}, {ALICE.uid, TEAM},
        {0, TEAM}, {BOB.uid, TEAM}};

    Identity {
        groups = List.copyOf(groups);
    }

    int[] groupArray() {
        return groups.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return name;
    }
}
