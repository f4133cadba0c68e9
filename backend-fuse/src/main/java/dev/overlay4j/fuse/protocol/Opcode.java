package dev.overlay4j.fuse.protocol;

/** The request opcodes of {@code enum fuse_opcode} in the kernel's {@code include/uapi/linux/fuse.h}. */
public final class Opcode {

    public static final int LOOKUP = 1;
    public static final int FORGET = 2;
    public static final int GETATTR = 3;
    public static final int SETATTR = 4;
    public static final int READLINK = 5;
    public static final int SYMLINK = 6;
    public static final int MKNOD = 8;
    public static final int MKDIR = 9;
    public static final int UNLINK = 10;
    public static final int RMDIR = 11;
    public static final int RENAME = 12;
    public static final int LINK = 13;
    public static final int OPEN = 14;
    public static final int READ = 15;
    public static final int WRITE = 16;
    public static final int STATFS = 17;
    public static final int RELEASE = 18;
    public static final int FSYNC = 20;
    public static final int SETXATTR = 21;
    public static final int GETXATTR = 22;
    public static final int LISTXATTR = 23;
    public static final int REMOVEXATTR = 24;
    public static final int FLUSH = 25;
    public static final int INIT = 26;
    public static final int OPENDIR = 27;
    public static final int READDIR = 28;
    public static final int RELEASEDIR = 29;
    public static final int FSYNCDIR = 30;
    public static final int GETLK = 31;
    public static final int SETLK = 32;
    public static final int SETLKW = 33;
    public static final int ACCESS = 34;
    public static final int CREATE = 35;
    public static final int INTERRUPT = 36;
    public static final int BMAP = 37;
    public static final int DESTROY = 38;
    public static final int IOCTL = 39;
    public static final int POLL = 40;
    public static final int NOTIFY_REPLY = 41;
    public static final int BATCH_FORGET = 42;
    public static final int FALLOCATE = 43;
    public static final int READDIRPLUS = 44;
    public static final int RENAME2 = 45;
    public static final int LSEEK = 46;
    public static final int COPY_FILE_RANGE = 47;
    public static final int SETUPMAPPING = 48;
    public static final int REMOVEMAPPING = 49;
    public static final int SYNCFS = 50;
    public static final int TMPFILE = 51;
    public static final int STATX = 52;

    private Opcode() {
    }

    /** The opcode's name without the {@code FUSE_} prefix, for logs. */
    public static String name(int opcode) {
        for (var field : Opcode.class.getFields()) {
            try {
                if (field.getType() == int.class && field.getInt(null) == opcode) {
                    return field.getName();
                }
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        return "OPCODE_" + opcode;
    }
}
