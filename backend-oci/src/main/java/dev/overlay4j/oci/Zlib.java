package dev.overlay4j.oci;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * One inflate stream of the system's zlib ({@code libz.so.1}), called through FFM downcalls.
 * {@link java.util.zip.Inflater} wraps the same library but can neither stop at deflate block
 * boundaries ({@code Z_BLOCK}) nor start in the middle of a byte ({@code inflatePrime}), which
 * is what indexing a gzip stream and resuming it at a checkpoint take (the idea of zlib's
 * {@code examples/zran.c}). An instance belongs to the thread that made it; close it.
 */
final class Zlib implements AutoCloseable {

    static final int RAW = -15;
    /** 15-bit window, gzip wrapper: zlib reads the header and checks the CRC-32 and length of each member. */
    static final int GZIP = 31;
    static final int Z_NO_FLUSH = 0;
    static final int Z_BLOCK = 5;
    static final int Z_OK = 0;
    static final int Z_STREAM_END = 1;
    static final int Z_NEED_DICT = 2;
    static final int Z_BUF_ERROR = -5;
    /** {@code data_type} after {@code Z_BLOCK}: inflate stopped at a block boundary, or just after a gzip header. */
    static final int AT_BOUNDARY = 128;
    /** {@code data_type}: the block being decoded is the stream's last. */
    static final int IN_LAST_BLOCK = 64;

    // struct z_stream on LP64 (zlib.h): pointers and uLong are 8 bytes, uInt and int 4.
    private static final long NEXT_IN = 0;
    private static final long AVAIL_IN = 8;
    private static final long NEXT_OUT = 24;
    private static final long AVAIL_OUT = 32;
    private static final long MSG = 48;
    private static final long DATA_TYPE = 88;
    private static final long Z_STREAM_SIZE = 112;

    private static final System.Logger LOG = System.getLogger(Zlib.class.getName());

    /** The downcalls, bound on first use; {@code unavailable} says why when the library cannot be. */
    private static final class Library {
        static final String unavailable;
        static final MethodHandle INFLATE_INIT2;
        static final MethodHandle INFLATE;
        static final MethodHandle INFLATE_END;
        static final MethodHandle INFLATE_RESET2;
        static final MethodHandle INFLATE_PRIME;
        static final MethodHandle INFLATE_SET_DICTIONARY;
        static final MemorySegment VERSION;

        static {
            String why = null;
            MethodHandle init = null, inflate = null, end = null, reset = null, prime = null, dictionary = null;
            MemorySegment version = null;
            try {
                if (ADDRESS.byteSize() != 8) {
                    throw new UnsupportedOperationException("zlib's z_stream is laid out here for 64-bit Linux only");
                }
                Linker linker = Linker.nativeLinker();
                SymbolLookup zlib = SymbolLookup.libraryLookup("libz.so.1", Arena.global());
                init = linker.downcallHandle(find(zlib, "inflateInit2_"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
                inflate = linker.downcallHandle(find(zlib, "inflate"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
                end = linker.downcallHandle(find(zlib, "inflateEnd"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
                reset = linker.downcallHandle(find(zlib, "inflateReset2"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
                prime = linker.downcallHandle(find(zlib, "inflatePrime"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
                dictionary = linker.downcallHandle(find(zlib, "inflateSetDictionary"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
                MethodHandle zlibVersion = linker.downcallHandle(find(zlib, "zlibVersion"), FunctionDescriptor.of(ADDRESS));
                version = ((MemorySegment) zlibVersion.invokeExact()).reinterpret(64);
            } catch (Throwable e) {
                why = e.toString();
            }
            unavailable = why;
            INFLATE_INIT2 = init;
            INFLATE = inflate;
            INFLATE_END = end;
            INFLATE_RESET2 = reset;
            INFLATE_PRIME = prime;
            INFLATE_SET_DICTIONARY = dictionary;
            VERSION = version;
            if (why != null) {
                LOG.log(System.Logger.Level.WARNING, "the system zlib (libz.so.1) cannot be used (" + why + "): gzip layers"
                        + " are read forward from their start, and reading a file near the end of one inflates all before it");
            }
        }

        private static MemorySegment find(SymbolLookup lookup, String name) {
            return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libz.so.1 has no " + name));
        }
    }

    /** Whether zlib could be loaded; the first call that finds it cannot warns, once. */
    static boolean available() {
        return Library.unavailable == null;
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment stream = arena.allocate(Z_STREAM_SIZE, 8); // zeroed: zalloc, zfree, opaque are Z_NULL
    private boolean open;

    /** A new inflate stream: {@link #RAW} deflate or {@link #GZIP} members. */
    Zlib(int windowBits) throws IOException {
        if (!available()) {
            arena.close();
            throw new IOException("the system zlib cannot be used: " + Library.unavailable);
        }
        int ret;
        try {
            ret = (int) Library.INFLATE_INIT2.invokeExact(stream, windowBits, Library.VERSION, (int) Z_STREAM_SIZE);
        } catch (Throwable e) {
            arena.close();
            throw rethrown(e);
        }
        if (ret != Z_OK) {
            arena.close();
            throw new IOException("zlib's inflateInit2 failed: " + ret);
        }
        open = true;
    }

    void input(MemorySegment bytes, int length) {
        stream.set(ADDRESS, NEXT_IN, bytes);
        stream.set(JAVA_INT, AVAIL_IN, length);
    }

    int availableInput() {
        return stream.get(JAVA_INT, AVAIL_IN);
    }

    void output(MemorySegment space, int length) {
        stream.set(ADDRESS, NEXT_OUT, space);
        stream.set(JAVA_INT, AVAIL_OUT, length);
    }

    int availableOutput() {
        return stream.get(JAVA_INT, AVAIL_OUT);
    }

    /** zlib's {@code inflate}: a return code, {@code Z_OK}, {@code Z_STREAM_END} or a failure; {@link #check} throws for the latter. */
    int inflate(int flush) {
        try {
            return (int) Library.INFLATE.invokeExact(stream, flush);
        } catch (Throwable e) {
            throw rethrown(e);
        }
    }

    /** The unused bits of the last input byte, and the {@link #AT_BOUNDARY} and {@link #IN_LAST_BLOCK} flags. */
    int dataType() {
        return stream.get(JAVA_INT, DATA_TYPE);
    }

    /** Throws for a return code of {@link #inflate} that is a failure: corrupt data, a dictionary asked for, no memory. */
    void check(int ret, String where) throws IOException {
        if (ret == Z_OK || ret == Z_STREAM_END || ret == Z_BUF_ERROR) {
            return;
        }
        MemorySegment msg = stream.get(ADDRESS, MSG);
        String text = msg.equals(MemorySegment.NULL) ? "error " + ret : msg.reinterpret(256).getString(0);
        throw new IOException((ret == Z_NEED_DICT ? "a preset dictionary is asked for" : "corrupt deflate data (" + text + ")") + " " + where);
    }

    /** Starts the stream afresh, for the next gzip member ({@link #GZIP}) or a raw stream. */
    void reset(int windowBits) throws IOException {
        call(Library.INFLATE_RESET2, windowBits, "inflateReset2");
    }

    /** Feeds the high {@code bits} bits of the byte before a checkpoint, where the checkpoint's block starts. */
    void prime(int bits, int value) throws IOException {
        int ret;
        try {
            ret = (int) Library.INFLATE_PRIME.invokeExact(stream, bits, value);
        } catch (Throwable e) {
            throw rethrown(e);
        }
        if (ret != Z_OK) {
            throw new IOException("zlib's inflatePrime failed: " + ret);
        }
    }

    /** The 32 KiB (or fewer) bytes before a checkpoint, which its back-references may reach. */
    void dictionary(byte[] window) throws IOException {
        if (window.length == 0) {
            return;
        }
        MemorySegment copy = arena.allocate(window.length);
        MemorySegment.copy(window, 0, copy, ValueLayout.JAVA_BYTE, 0, window.length);
        int ret;
        try {
            ret = (int) Library.INFLATE_SET_DICTIONARY.invokeExact(stream, copy, window.length);
        } catch (Throwable e) {
            throw rethrown(e);
        }
        if (ret != Z_OK) {
            throw new IOException("zlib's inflateSetDictionary failed: " + ret);
        }
    }

    private void call(MethodHandle handle, int argument, String name) throws IOException {
        int ret;
        try {
            ret = (int) handle.invokeExact(stream, argument);
        } catch (Throwable e) {
            throw rethrown(e);
        }
        if (ret != Z_OK) {
            throw new IOException("zlib's " + name + " failed: " + ret);
        }
    }

    /** Space in this stream's arena, freed with it. */
    MemorySegment allocate(long bytes) {
        return arena.allocate(bytes, 16);
    }

    private static RuntimeException rethrown(Throwable e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        if (e instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(e);
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            try {
                int ignored = (int) Library.INFLATE_END.invokeExact(stream);
            } catch (Throwable e) {
                throw rethrown(e);
            }
        }
        arena.close();
    }
}
