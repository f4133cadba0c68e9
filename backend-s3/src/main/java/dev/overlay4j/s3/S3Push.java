package dev.overlay4j.s3;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.Layers;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.cli.Command;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.ProviderNotFoundException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@code overlay4j push SOURCE s3://bucket/prefix/}: uploads a layer as an S3 layer. SOURCE is
 * any layer {@link Layers#openLower} opens (a directory or an overlay upper dir, a zip or jar,
 * another S3 layer, ...) and is read through the {@link Layer} SPI only, so whiteouts and opaque
 * directories are what the layer's own backend says they are, the rule the overlay mounts with:
 * whiteouts become {@code .wh.NAME} keys, opaque directories get a {@code .wh..wh..opq} key.
 * Metadata and extended attributes (a directory's redirect included, as
 * {@code <overlay xattr prefix>redirect}) go into s3fs's {@code x-amz-meta-*}; large files go up
 * in parallel multipart uploads; an object whose size and metadata (mode, owner, mtime) already
 * match is left alone; keys under the prefix that SOURCE no longer has are deleted (never a key
 * outside the prefix) unless {@code --keep}.
 */
public final class S3Push implements Command {

    private static final String USAGE = """
            usage: overlay4j push [--jobs N] [--keep] [--part-size SIZE] [--userxattr] SOURCE s3://BUCKET/PREFIX/[?endpoint=URL&region=NAME&pathStyle=true]
              SOURCE       a layer: a directory or an overlay upper dir (whiteouts and opaque dirs become OCI .wh. keys),
                           a .zip or .jar, or a layer URI (s3://..., jar:file:...!/dir/)
              --userxattr  SOURCE keeps its overlay marks in user.overlay.* xattrs, as a mount with -o userxattr
                           reads it (default: trusted.overlay.*)
              --jobs N     parallel uploads (default 8)
              --keep       keep keys under PREFIX that SOURCE does not have (default: delete them)
              --part-size  multipart part size (default 16M); files of 4 parts or more go up in parts
            Credentials come from the AWS SDK default chain (environment, system properties, profile files).""";

    /** S3 allows 2 KiB of user metadata per object; leave room for mode, owner and times. */
    private static final int MAX_XATTR_HEADER = 1700;

    private enum Kind { DIRECTORY, FILE, SYMLINK, SPECIAL, WHITEOUT }

    /** One object to put. {@code body} is null for files, whose bytes come from {@code path} in the source layer. */
    private record Item(String key, Kind kind, EntryPath path, long size, Map<String, String> metadata, byte[] body) {
    }

    private record Totals(AtomicInteger put, AtomicInteger unchanged, AtomicInteger failed, AtomicLong bytes) {
        Totals() {
            this(new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicLong());
        }
    }

    private PrintStream out;
    private PrintStream err;
    private boolean terminal;
    private Layer source;
    private LayerOptions options;

    @Override
    public String name() {
        return "push";
    }

    @Override
    public String summary() {
        return "push SOURCE s3://BUCKET/PREFIX/  upload a layer (a directory, an overlay upper dir, a zip, ...) as an S3 layer";
    }

    /** Runs the command; the exit status is 0 when everything went up, 1 on failures, 2 on bad usage. */
    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        this.terminal = out == System.out && System.console() != null && System.console().isTerminal();
        int jobs = 8;
        boolean keep = false;
        boolean userXattr = false;
        long partSize = 16L << 20;
        List<String> positional = new ArrayList<>();
        try {
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "--jobs" -> jobs = Integer.parseInt(value(args, ++i, arg));
                    case "--keep" -> keep = true;
                    case "--userxattr" -> userXattr = true;
                    case "--part-size" -> partSize = S3Settings.size(value(args, ++i, arg));
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> {
                        if (arg.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + arg);
                        }
                        positional.add(arg);
                    }
                }
            }
            if (positional.size() != 2) {
                throw new IllegalArgumentException("expected SOURCE and an s3:// destination");
            }
            if (jobs < 1 || partSize < (5L << 20)) {
                throw new IllegalArgumentException("--jobs must be positive and --part-size at least 5M (an S3 limit)");
            }
        } catch (IllegalArgumentException e) {
            err.println("push: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        URI destination;
        try {
            destination = URI.create(positional.get(1));
        } catch (IllegalArgumentException e) {
            err.println("push: not a URI: " + positional.get(1));
            return 2;
        }
        options = new LayerOptions(userXattr, Map.of());
        Layer layer;
        try {
            layer = Layers.openLower(positional.get(0), options);
        } catch (NoSuchFileException | NotDirectoryException | ProviderNotFoundException | IllegalArgumentException e) {
            // SOURCE names nothing that can be pushed: a usage error, as a missing directory always was.
            err.println("push: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("push: " + e.getMessage());
            return 1;
        }
        source = layer;
        try (layer) {
            return push(destination, jobs, keep, partSize);
        } catch (IOException e) {
            err.println("push: " + e.getMessage());
            return 1;
        }
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    private int push(URI destination, int jobs, boolean keep, long partSize) throws IOException {
        S3Settings parsed = S3Settings.parse(destination, LayerOptions.DEFAULTS);
        // Uploads of large parts take longer than the read path's default bound.
        S3Settings settings = destination.getRawQuery() != null && destination.getRawQuery().contains("timeout=")
                ? parsed : withTimeout(parsed, Duration.ofMinutes(10));
        String shown = settings.root();
        String prefix = settings.prefix();
        try (S3Client client = S3Clients.create(settings)) {
            Map<String, S3Object> existing = new HashMap<>();
            try {
                for (var page : client.listObjectsV2Paginator(r -> r.bucket(settings.bucket()).prefix(prefix))) {
                    for (S3Object object : page.contents()) {
                        existing.put(object.key(), object);
                    }
                }
            } catch (SdkException e) {
                throw S3Errors.of(e, shown, S3Errors.isNotFound(e) ? "the bucket does not exist" : "listing the destination");
            }
            Totals totals = new Totals();
            List<Item> items = plan(prefix, totals);
            long totalBytes = items.stream().mapToLong(Item::size).sum();
            progress("%d objects (%s) to check under %s".formatted(items.size(), bytes(totalBytes), shown));

            Semaphore slots = new Semaphore(jobs);
            try (ExecutorService executor = Executors.newThreadPerTaskExecutor(
                    Thread.ofVirtual().name("overlay4j-push-", 0).factory())) {
                List<Future<?>> futures = new ArrayList<>();
                for (Item item : items) {
                    futures.add(executor.submit(() -> {
                        slots.acquireUninterruptibly();
                        try {
                            upload(client, settings, item, existing.get(item.key()), partSize, executor, totals);
                        } finally {
                            slots.release();
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    try {
                        f.get();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    } catch (java.util.concurrent.ExecutionException e) {
                        totals.failed().incrementAndGet();
                        err.println("push: " + e.getCause());
                    }
                }
            }
            int deleted = 0;
            if (!keep && prefix.isEmpty()) {
                // Mirroring into a whole bucket would delete everything else in it.
                progress("not deleting keys SOURCE lacks: the destination is a bucket root, not a prefix");
            } else if (!keep && totals.failed().get() == 0) {
                java.util.Set<String> wanted = new java.util.HashSet<>();
                items.forEach(i -> wanted.add(i.key()));
                List<String> stale = existing.keySet().stream()
                        .filter(k -> k.startsWith(prefix) && !wanted.contains(k)).sorted().toList();
                deleted = delete(client, settings, stale, totals);
            }
            if (terminal) {
                out.println();
            }
            out.printf("pushed %d objects (%s), %d unchanged, %d deleted, %d failed, to %s%n",
                    totals.put().get(), bytes(totals.bytes().get()), totals.unchanged().get(), deleted,
                    totals.failed().get(), shown);
            return totals.failed().get() == 0 ? 0 : 1;
        }
    }

    private static S3Settings withTimeout(S3Settings s, Duration timeout) {
        return new S3Settings(s.location(), s.bucket(), s.prefix(), s.endpoint(), s.region(), s.pathStyle(),
                s.anonymous(), timeout, s.attempts(), s.listTtl(), s.blockSize(), s.memoryCache(), s.readahead(),
                s.streams(), s.cacheDir(), s.cacheSize(), s.metadata(), s.metadataInListings(), s.metadataCache(),
                s.listCache(), s.refresh());
    }

    // ---- what to upload ---------------------------------------------------------------------

    private record Pending(EntryPath path, String key) {
    }

    /** Every object SOURCE stands for, a directory before its entries, names in order. */
    private List<Item> plan(String prefix, Totals totals) {
        List<Item> items = new ArrayList<>();
        Deque<Pending> directories = new ArrayDeque<>();
        try {
            EntryAttributes root = source.stat(EntryPath.ROOT)
                    .orElseThrow(() -> new NoSuchFileException(source.description()));
            if (!prefix.isEmpty()) {
                items.add(new Item(prefix, Kind.DIRECTORY, EntryPath.ROOT, 0, metadata(EntryPath.ROOT, root), new byte[0]));
            }
            if (root.opaque()) {
                items.add(new Item(prefix + ObjectNames.OPAQUE_MARKER, Kind.WHITEOUT, EntryPath.ROOT, 0, Map.of(), new byte[0]));
            }
            directories.push(new Pending(EntryPath.ROOT, prefix));
        } catch (IOException e) {
            cannotRead(EntryPath.ROOT, e, totals);
        }
        while (!directories.isEmpty()) {
            Pending dir = directories.pop();
            List<String> names;
            try (Stream<DirectoryEntry> entries = source.list(dir.path())) {
                names = entries.map(DirectoryEntry::name).sorted().toList();
            } catch (IOException e) {
                cannotRead(dir.path(), e, totals);
                continue;
            }
            List<Pending> below = new ArrayList<>();
            for (String name : names) {
                EntryPath path = dir.path().resolve(name);
                if (!pushable(path, totals)) {
                    continue;
                }
                try {
                    // stat, not the listing's type: it is the lookup rule, the one the overlay follows.
                    Optional<EntryAttributes> found = source.stat(path);
                    if (found.isPresent()) {
                        Item item = item(dir.key(), path, found.get());
                        items.add(item);
                        if (item.kind() == Kind.DIRECTORY) {
                            if (found.get().opaque()) {
                                items.add(new Item(item.key() + ObjectNames.OPAQUE_MARKER, Kind.WHITEOUT, path, 0,
                                        Map.of(), new byte[0]));
                            }
                            below.add(new Pending(path, item.key()));
                        }
                    }
                } catch (IOException e) {
                    cannotRead(path, e, totals);
                }
            }
            // Reversed onto the stack, so directories come out in name order.
            below.reversed().forEach(directories::push);
        }
        return items;
    }

    private Item item(String dirKey, EntryPath path, EntryAttributes a) throws IOException {
        String key = dirKey + path.fileName();
        return switch (a.type()) {
            case WHITEOUT -> new Item(dirKey + ObjectNames.WHITEOUT_PREFIX + path.fileName(), Kind.WHITEOUT, path, 0,
                    Map.of(), new byte[0]);
            case DIRECTORY -> new Item(key + "/", Kind.DIRECTORY, path, 0, metadata(path, a), new byte[0]);
            case REGULAR_FILE -> new Item(key, Kind.FILE, path, a.size(), metadata(path, a), null);
            case SYMLINK -> {
                byte[] target = source.readLink(path).getBytes(StandardCharsets.UTF_8);
                yield new Item(key, Kind.SYMLINK, path, target.length, metadata(path, a), target);
            }
            default -> new Item(key, Kind.SPECIAL, path, 0, metadata(path, a), new byte[0]);
        };
    }

    private void cannotRead(EntryPath path, IOException e, Totals totals) {
        totals.failed().incrementAndGet();
        err.println("push: cannot read " + display(path) + ": " + e.getMessage());
    }

    /** Source names that would read back as something else are refused (a layer that is no directory may list them). */
    private boolean pushable(EntryPath path, Totals totals) {
        String name = path.fileName();
        String why = name.startsWith(ObjectNames.WHITEOUT_PREFIX) ? "names starting with .wh. mark whiteouts"
                : name.endsWith("_$folder$") ? "names ending in _$folder$ mark directories" : null;
        if (why != null) {
            totals.failed().incrementAndGet();
            err.println("push: cannot push " + display(path) + ": " + why + " in an S3 layer");
            return false;
        }
        return true;
    }

    /** Where an entry of SOURCE is, for messages: the layer as the user named it, and the path in it. */
    private String display(EntryPath path) {
        String layer = source.description();
        return path.isRoot() ? layer : layer.endsWith("/") ? layer + path.relativeString() : layer + path;
    }

    private Map<String, String> metadata(EntryPath path, EntryAttributes a) throws IOException {
        Map<String, String> meta = new java.util.LinkedHashMap<>(S3fsMetadata.write(a.mode(), a.uid(), a.gid(),
                a.mtimeNanos(), a.atimeNanos(), a.rdev()));
        // The layer lists no overlay marks; of those only a renamed directory's redirect travels,
        // under the prefix an S3 layer opened with the same options reads it from.
        Map<String, byte[]> xattrs = new java.util.TreeMap<>();
        for (String name : source.listXattrs(path)) {
            source.readXattr(path, name).ifPresent(value -> xattrs.put(name, value));
        }
        if (a.redirect() != null) {
            xattrs.put(options.overlayXattrPrefix() + "redirect", a.redirect().getBytes(StandardCharsets.UTF_8));
        }
        if (!xattrs.isEmpty()) {
            String header = S3fsMetadata.xattrHeader(xattrs);
            if (header.length() > MAX_XATTR_HEADER) {
                err.println("push: warning: the extended attributes of " + display(path) + " exceed S3's 2 KiB of user "
                        + "metadata and are left out");
            } else {
                meta.put("xattr", header);
            }
        }
        return meta;
    }

    // ---- uploading -------------------------------------------------------------------------

    private void upload(S3Client client, S3Settings settings, Item item, S3Object existing, long partSize,
                        ExecutorService executor, Totals totals) {
        try {
            if (existing != null && unchanged(client, settings, item, existing)) {
                totals.unchanged().incrementAndGet();
                return;
            }
            if (item.kind() != Kind.FILE) {
                client.putObject(r -> r.bucket(settings.bucket()).key(item.key()).metadata(item.metadata()),
                        RequestBody.fromBytes(item.body()));
            } else {
                try (ReadableContent content = source.openRead(item.path())) {
                    if (item.size() >= 4 * partSize) {
                        multipart(client, settings, item, content, partSize, executor);
                    } else {
                        client.putObject(r -> r.bucket(settings.bucket()).key(item.key()).metadata(item.metadata()),
                                RequestBody.fromContentProvider(() -> slice(content, 0, item.size(), display(item.path())), item.size(),
                                        "application/octet-stream"));
                    }
                }
            }
            totals.put().incrementAndGet();
            totals.bytes().addAndGet(item.size());
            progress("put %s (%s)".formatted(ObjectNames.printable(item.key()), bytes(item.size())));
        } catch (SdkException | IOException e) {
            totals.failed().incrementAndGet();
            String message = e instanceof SdkException sdk ? S3Errors.of(sdk, display(item.path()), "upload").getMessage()
                    : e.getMessage();
            err.println("push: " + message);
        }
    }

    /** Whether the object already holds this item: same size and, where recorded, same metadata. */
    private static boolean unchanged(S3Client client, S3Settings settings, Item item, S3Object existing) {
        if (existing.size() != item.size()) {
            return false;
        }
        if (item.metadata().isEmpty()) {
            return true;
        }
        HeadObjectResponse head = client.headObject(r -> r.bucket(settings.bucket()).key(item.key()));
        Map<String, String> remote = new HashMap<>();
        head.metadata().forEach((k, v) -> remote.put(k.toLowerCase(java.util.Locale.ROOT), v));
        for (String k : List.of("mode", "uid", "gid", "mtime", "rdev", "xattr")) {
            if (!java.util.Objects.equals(item.metadata().get(k), remote.get(k))) {
                return false;
            }
        }
        return true;
    }

    private void multipart(S3Client client, S3Settings settings, Item item, ReadableContent content, long partSize,
                           ExecutorService executor) throws IOException {
        long size = item.size();
        long part = Math.max(partSize, (size + 9_999) / 10_000); // S3 allows 10,000 parts
        int parts = (int) ((size + part - 1) / part);
        String uploadId = client.createMultipartUpload(r -> r.bucket(settings.bucket()).key(item.key())
                .metadata(item.metadata())).uploadId();
        try {
            List<Future<CompletedPart>> futures = new ArrayList<>();
            Semaphore partSlots = new Semaphore(4);
            for (int i = 0; i < parts; i++) {
                int number = i + 1;
                long offset = i * part;
                long length = Math.min(part, size - offset);
                futures.add(executor.submit(() -> {
                    partSlots.acquireUninterruptibly();
                    try {
                        String etag = client.uploadPart(r -> r.bucket(settings.bucket()).key(item.key())
                                        .uploadId(uploadId).partNumber(number).contentLength(length),
                                RequestBody.fromContentProvider(() -> slice(content, offset, length, display(item.path())), length,
                                        "application/octet-stream")).eTag();
                        return CompletedPart.builder().partNumber(number).eTag(etag).build();
                    } finally {
                        partSlots.release();
                    }
                }));
            }
            List<CompletedPart> completed = new ArrayList<>();
            for (Future<CompletedPart> f : futures) {
                completed.add(f.get());
            }
            client.completeMultipartUpload(r -> r.bucket(settings.bucket()).key(item.key()).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(completed)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(client, settings, item, uploadId);
            throw new IOException("interrupted");
        } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
            abort(client, settings, item, uploadId);
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            if (cause instanceof SdkException sdk) {
                throw S3Errors.of(sdk, display(item.path()), "multipart upload");
            }
            throw new IOException(display(item.path()) + ": multipart upload: " + cause, cause);
        }
    }

    private static void abort(S3Client client, S3Settings settings, Item item, String uploadId) {
        try {
            client.abortMultipartUpload(r -> r.bucket(settings.bucket()).key(item.key()).uploadId(uploadId));
        } catch (SdkException ignored) {
            // The failure that brought us here is the one worth reporting.
        }
    }

    /**
     * {@code length} bytes of {@code content} from {@code offset}, as a new stream each time the
     * SDK asks (a retry starts over); positional reads, so parts share one open content.
     */
    private static InputStream slice(ReadableContent content, long offset, long length, String shown) {
        return new InputStream() {
            private long position = offset;
            private final long end = offset + length;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                if (position >= end) {
                    return -1;
                }
                if (len == 0) {
                    return 0;
                }
                int n = content.read(ByteBuffer.wrap(buf, off, (int) Math.min(len, end - position)), position);
                if (n < 0) {
                    // Ending early would make the SDK's length check fail with a less useful message.
                    throw new IOException(shown + ": shorter than when the push began");
                }
                position += n;
                return n;
            }
        };
    }

    private int delete(S3Client client, S3Settings settings, List<String> stale, Totals totals) {
        int deleted = 0;
        for (int from = 0; from < stale.size(); from += 1000) {
            List<ObjectIdentifier> batch = new ArrayList<>();
            for (String key : stale.subList(from, Math.min(stale.size(), from + 1000))) {
                if (!key.startsWith(settings.prefix())) {
                    throw new IllegalStateException("refusing to delete " + key + " outside " + settings.prefix());
                }
                batch.add(ObjectIdentifier.builder().key(key).build());
            }
            try {
                var response = client.deleteObjects(r -> r.bucket(settings.bucket()).delete(d -> d.objects(batch).quiet(true)));
                deleted += batch.size() - response.errors().size();
                response.errors().forEach(e -> {
                    totals.failed().incrementAndGet();
                    err.println("push: cannot delete " + ObjectNames.printable(e.key()) + ": " + e.code());
                });
                batch.forEach(id -> progress("deleted " + ObjectNames.printable(id.key())));
            } catch (SdkException e) {
                totals.failed().incrementAndGet();
                err.println("push: " + S3Errors.of(e, settings.describe(), "deleting stale keys").getMessage());
            }
        }
        return deleted;
    }

    private synchronized void progress(String line) {
        if (terminal) {
            out.print("\r\033[K" + line);
            out.flush();
        } else {
            out.println(line);
        }
    }

    private static String bytes(long n) {
        return n < 1024 ? n + " B" : n < (1 << 20) ? "%.1f KiB".formatted(n / 1024.0)
                : n < (1L << 30) ? "%.1f MiB".formatted(n / 1048576.0) : "%.2f GiB".formatted(n / 1073741824.0);
    }

    public static void main(String[] args) {
        System.exit(new S3Push().run(List.of(args), System.out, System.err));
    }
}
