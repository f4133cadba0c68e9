package dev.overlay4j.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Sizes and offsets as gcc lays out include/uapi/linux/fuse.h (7.38) on x86_64. */
class StructsTest {

    @Test
    void headersMatchFuseH() {
        assertEquals(40, Structs.InHeader.SIZE);
        assertEquals(4, Structs.InHeader.OPCODE);
        assertEquals(8, Structs.InHeader.UNIQUE);
        assertEquals(16, Structs.InHeader.NODEID);
        assertEquals(24, Structs.InHeader.UID);
        assertEquals(28, Structs.InHeader.GID);
        assertEquals(32, Structs.InHeader.PID);
        assertEquals(36, Structs.InHeader.TOTAL_EXTLEN);
        assertEquals(16, Structs.OutHeader.SIZE);
        assertEquals(4, Structs.OutHeader.ERROR);
        assertEquals(8, Structs.OutHeader.UNIQUE);
    }

    @Test
    void attributeStructsMatchFuseH() {
        assertEquals(88, Structs.Attr.SIZE);
        assertEquals(48, Structs.Attr.ATIMENSEC);
        assertEquals(60, Structs.Attr.MODE);
        assertEquals(64, Structs.Attr.NLINK);
        assertEquals(76, Structs.Attr.RDEV);
        assertEquals(80, Structs.Attr.BLKSIZE);
        assertEquals(84, Structs.Attr.FLAGS);
        assertEquals(128, Structs.EntryOut.SIZE);
        assertEquals(40, Structs.EntryOut.ATTR);
        assertEquals(32, Structs.EntryOut.ENTRY_VALID_NSEC);
        assertEquals(104, Structs.AttrOut.SIZE);
        assertEquals(16, Structs.AttrOut.ATTR);
        assertEquals(88, Structs.SetattrIn.SIZE);
        assertEquals(32, Structs.SetattrIn.ATIME);
        assertEquals(56, Structs.SetattrIn.ATIMENSEC);
        assertEquals(68, Structs.SetattrIn.MODE);
        assertEquals(76, Structs.SetattrIn.UID);
        assertEquals(80, Structs.SetattrIn.GID);
        assertEquals(16, Structs.GetattrIn.SIZE);
        assertEquals(8, Structs.GetattrIn.FH);
    }

    @Test
    void initStructsMatchFuseH() {
        assertEquals(64, Structs.InitIn.SIZE);
        assertEquals(16, Structs.InitIn.FLAGS2);
        assertEquals(64, Structs.InitOut.SIZE);
        assertEquals(16, Structs.InitOut.MAX_BACKGROUND);
        assertEquals(20, Structs.InitOut.MAX_WRITE);
        assertEquals(24, Structs.InitOut.TIME_GRAN);
        assertEquals(28, Structs.InitOut.MAX_PAGES);
        assertEquals(32, Structs.InitOut.FLAGS2);
        assertEquals(36, Structs.InitOut.MAX_STACK_DEPTH);
    }

    @Test
    void argumentStructsMatchFuseH() {
        assertEquals(16, Structs.OpenOut.SIZE);
        assertEquals(12, Structs.OpenOut.BACKING_ID);
        assertEquals(16, Structs.CreateIn.SIZE);
        assertEquals(8, Structs.OpenIn.SIZE);
        assertEquals(40, Structs.ReadIn.SIZE);
        assertEquals(16, Structs.ReadIn.SIZE_FIELD);
        assertEquals(40, Structs.WriteIn.SIZE);
        assertEquals(8, Structs.WriteOut.SIZE);
        assertEquals(80, Structs.Kstatfs.SIZE);
        assertEquals(40, Structs.Kstatfs.BSIZE);
        assertEquals(48, Structs.Kstatfs.FRSIZE);
        assertEquals(24, Structs.ReleaseIn.SIZE);
        assertEquals(24, Structs.FlushIn.SIZE);
        assertEquals(16, Structs.FsyncIn.SIZE);
        assertEquals(16, Structs.MknodIn.SIZE);
        assertEquals(8, Structs.MkdirIn.SIZE);
        assertEquals(16, Structs.RenameIn.SIZE2);
        assertEquals(8, Structs.RenameIn.FLAGS);
        assertEquals(8, Structs.SetxattrIn.SIZE);
        assertEquals(8, Structs.GetxattrIn.SIZE);
        assertEquals(8, Structs.AccessIn.SIZE);
        assertEquals(32, Structs.FallocateIn.SIZE);
        assertEquals(24, Structs.FallocateIn.MODE);
        assertEquals(24, Structs.LseekIn.SIZE);
        assertEquals(56, Structs.CopyFileRangeIn.SIZE);
        assertEquals(40, Structs.CopyFileRangeIn.LEN);
        assertEquals(16, Structs.ForgetIn.ONE_SIZE);
    }

    @Test
    void direntRecordsArePaddedToEightBytes() {
        assertEquals(24, Structs.Dirent.NAME);
        assertEquals(32, Structs.Dirent.recordSize(1));
        assertEquals(32, Structs.Dirent.recordSize(8));
        assertEquals(40, Structs.Dirent.recordSize(9));
        // fuse_direntplus = fuse_entry_out + fuse_dirent: 152 bytes before the name
        assertEquals(160, Structs.Dirent.plusRecordSize(1));
        assertEquals(152 + 256, Structs.Dirent.plusRecordSize(255));
    }
}
