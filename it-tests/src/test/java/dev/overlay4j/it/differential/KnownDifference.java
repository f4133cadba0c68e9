package dev.overlay4j.it.differential;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Differences between overlay4j and the kernel's overlayfs that are known and being fixed.
 * Each says exactly what it leaves out, for the kinds it names: a part of an operation's
 * outcome, compared only when the outcomes differ otherwise (each run counts the operations it
 * decided and the trace names them), or operations it keeps the generator from making. Remove
 * an entry once fixed; the comparison is then strict again.
 */
enum KnownDifference {
    /**
     * FUSE server, with passthrough: open(O_TRUNC) by a user without CAP_FSETID of a file with
     * set-user-ID or set-group-ID bits leaves the bits, which the kernel's overlayfs clears (as
     * any file system does when such a caller truncates); a write clears them. Left out: such an
     * open that writes nothing afterwards (Files.write of 0 bytes as another user) is not
     * generated.
     */
    FUSE_PASSTHROUGH_TRUNCATING_OPEN_KEEPS_SET_ID_BITS {
        @Override
        boolean avoids(Op op) {
            return op instanceof Op.AsUser asUser && asUser.inner().innermost() instanceof Op.Overwrite overwrite
                    && overwrite.content().length() == 0
                    || op instanceof Op.OnHardLink onHardLink && avoids(onHardLink.inner())
                    || op instanceof Op.HeldRead heldRead && avoids(heldRead.inner());
        }
    },
    /**
     * Engine: the kernel marks an upper directory "impure" (trusted.overlay.impure) when a
     * copy-up or a rename from another directory puts an entry with a lower origin into it, and
     * drops the mark when a readdir finds none left; each is an xattr change, so a ctime move.
     * overlay4j keeps no such mark. It shows only where nothing else changes the directory: a
     * rename that fails (ENOTEMPTY from the upper layer) after its copy-ups, whose target parent
     * the kernel marked. Left out, at a rename that failed: a directory's ctime-only move the
     * other side lacks.
     */
    OVERLAY_IMPURE_MARK {
        @Override
        Times leftOut(Op op, String referenceResult, Times times) {
            if (!(op.innermost() instanceof Op.Move) || !referenceResult.contains("ERR ")) {
                return times;
            }
            return times.withoutUnmatched(change -> change.type() == 'd' && change.ctimeOnly());
        }

        /** Such a failed rename is rare: seed 101 (op #262) makes one, the default seeds none. */
        @Override
        boolean showsInDefaultRuns() {
            return false;
        }
    },
    /**
     * Engine: since Linux 6.7 the kernel lets a user set, read and remove xattrs in the overlay's
     * own namespace ("trusted.overlay.NAME", with userxattr "user.overlay.NAME"), stored escaped
     * as "trusted.overlay.overlay.NAME" so that an overlay can be a lower layer of another
     * (nested overlays, composefs); overlay4j refuses them with EOPNOTSUPP, as older kernels do.
     * Supporting it needs the layers to list escaped names, which the Layer SPI hides with the
     * overlay's marks. Such operations are not generated.
     */
    OVERLAY_XATTR_ESCAPING {
        @Override
        boolean avoids(Op op) {
            String name = switch (op.innermost()) {
                case Op.LXattrSet set -> set.name();
                case Op.LXattrGet get -> get.name();
                case Op.LXattrRemove remove -> remove.name();
                default -> null;
            };
            return name != null && (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay."));
        }
    },

    /**
     * overlay4j mounted by a user without privileges: its server acts with that user's rights
     * only, while the kernel's overlayfs in a user namespace acts with the namespace root's
     * capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER) over the user's own files. So where the user
     * took rights from itself, the server fails with EACCES and the kernel does not: a copy-up
     * into a directory its owner cannot write, reading or listing a lower file or directory its
     * owner cannot read (copy-up, rmdir's emptiness check), reading the user.overlay.* marks of
     * a directory its owner cannot read (lookup, stat). Running the server in a user namespace
     * of its own would give it the kernel's rights. Left out: the generated layers give every
     * directory's owner rwx ({@link LayerGenerator.Options#ownerFullRights}), and chmod that
     * takes rwx from the owner is not generated.
     */
    UNPRIVILEGED_SERVER_HAS_ONLY_THE_USERS_RIGHTS {
        @Override
        boolean avoids(Op op) {
            return switch (op.innermost()) {
                case Op.Chmod chmod -> !chmod.permissions().startsWith("rwx");
                case Op.SetMode setMode -> (setMode.mode() & 0700) != 0700;
                default -> false;
            };
        }
    };


    /** The times an operation moved on the reference side and on the candidate side. */
    record Times(List<TreeWalk.Change> expected, List<TreeWalk.Change> actual) {
        /** Without the changes matching {@code leftOut} that the other side does not show alike. */
        Times withoutUnmatched(Predicate<TreeWalk.Change> leftOut) {
            return new Times(unmatched(expected, actual, leftOut), unmatched(actual, expected, leftOut));
        }

        /** {@code changes} without those matching {@code leftOut} that {@code other} lacks. */
        static List<TreeWalk.Change> unmatched(List<TreeWalk.Change> changes, List<TreeWalk.Change> other,
                Predicate<TreeWalk.Change> leftOut) {
            List<TreeWalk.Change> kept = new ArrayList<>(changes);
            kept.removeIf(change -> leftOut.test(change) && !other.contains(change));
            return kept;
        }
    }

    /** The times as compared under this difference ({@code referenceResult}: the reference's outcome without them). */
    Times leftOut(Op op, String referenceResult, Times times) {
        return times;
    }

    /** An operation's result (without its times) as compared under this difference. */
    String leftOut(Op op, String result) {
        return result;
    }

    /**
     * Whether the default seeds meet this difference, so that its not showing there means it is
     * fixed (see DifferentialTest's check).
     */
    boolean showsInDefaultRuns() {
        return true;
    }

    /** Whether the generator must not make {@code op}. */
    boolean avoids(Op op) {
        return false;
    }

    /** The known differences that decided an operation or kept one from being made, by kind name. */
    private static final java.util.Map<String, java.util.Set<KnownDifference>> SHOWN =
            new java.util.concurrent.ConcurrentHashMap<>();

    static void shown(OverlayUnderTest.Kind kind, KnownDifference difference) {
        SHOWN.computeIfAbsent(kind.name(), name -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(difference);
    }

    /** Whether {@code difference} has shown in the runs of {@code kind} in this JVM. */
    static boolean hasShown(OverlayUnderTest.Kind kind, KnownDifference difference) {
        return SHOWN.getOrDefault(kind.name(), java.util.Set.of()).contains(difference);
    }

    /** The known differences of a kind of overlay compared with the kernel. */
    static List<KnownDifference> of(OverlayUnderTest.Kind kind) {
        if (kind == Overlay4jFuseMount.KIND) {
            return List.of(OVERLAY_IMPURE_MARK, OVERLAY_XATTR_ESCAPING);
        }
        if (kind == Overlay4jFuseMount.KIND_PASSTHROUGH) {
            return List.of(FUSE_PASSTHROUGH_TRUNCATING_OPEN_KEEPS_SET_ID_BITS, OVERLAY_IMPURE_MARK,
                    OVERLAY_XATTR_ESCAPING);
        }
        if (kind == Overlay4jFileSystem.KIND) {
            return List.of(OVERLAY_IMPURE_MARK);
        }
        if (kind.name().equals(Unprivileged.OVERLAY4J_NAME)) {
            return List.of(OVERLAY_IMPURE_MARK, OVERLAY_XATTR_ESCAPING, UNPRIVILEGED_SERVER_HAS_ONLY_THE_USERS_RIGHTS);
        }
        return List.of();
    }
}
