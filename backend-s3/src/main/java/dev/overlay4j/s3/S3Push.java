package dev.overlay4j.s3;

import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.cli.Command;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 * {@code overlay4j push SOURCE s3://bucket/prefix/}: uploads a directory as an S3 layer. SOURCE
 * is a plain directory or an overlay upper dir, whose whiteouts (character devices 0/0, or
 * zero-size files with the {@code overlay.whiteout} xattr) become {@code .wh.NAME} keys and whose
 * opaque directories ({@code overlay.opaque=y}) get a {@code .wh..wh..opq} key. Metadata and
 * extended attributes (a directory's {@code overlay.redirect} included) go into s3fs's {@code x-amz-meta-*}; large files go up in parallel multipart uploads; an object whose
 * size and metadata (mode, owner, mtime) already match is left alone; keys under the prefix that
 * SOURCE no longer has are deleted (never a key outside the prefix) unless {@code --keep}.
 */
public final class S3Push implements Command {

    private static final String USAGE = """
            usage: overlay4j push [--jobs N] [--keep] [--part-size SIZE] SOURCE s3://BUCKET/PREFIX/[?endpoint=URL&region=NAME&pathStyle=true]
              SOURCE       a directory, or an overlay upper dir (whiteouts and opaque dirs become OCI .wh. keys)
              --jobs N     parallel uploads (default 8)
              --keep       keep keys under PREFIX that SOURCE does not have (default: delete them)
              --part-size  multipart part size (default 16M); files of 4 parts or more go up in parts
            Credentials come from the AWS SDK default chain (environment, system properties, profile files).""";

    /** S3 allows 2 KiB of user metadata per object; leave room for mode, owner and times. */
    private static final int MAX_XATTR_HEADER = 1700;

    private enum Kind { DIRECTORY, FILE, SYMLINK, SPECIAL, WHITEOUT }

    /** One object to put. {@code body} is null for files, whose bytes come from {@code source}. */
    private record Item(String key, Kind kind, Path source, long size, Map<String, String> metadata, byte[] body) {
    }

    private record Totals(AtomicInteger put, AtomicInteger unchanged, AtomicInteger failed, AtomicLong bytes) {
        Totals() {
            this(new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicLong());
        }
    }

    private PrintStream out;
    private PrintStream err;
    private boolean terminal;

    @Override
    public String name() {
        return "push";
    }

    @Override
    public String summary() {
        return "push SOURCE s3://BUCKET/PREFIX/  upload a directory or an overlay upper dir as an S3 layer";
    }

    /** Runs the command; the exit status is 0 when everything went up, 1 on failures, 2 on bad usage. */
    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        this.terminal = out == System.out && System.console() != null && System.console().isTerminal();
        int jobs = 8;
        boolean keep = false;
        long partSize = 16L << 20;
        List<String> positional = new ArrayList<>();
        try {
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "--jobs" -> jobs = Integer.parseInt(value(args, ++i, arg));
                    case "--keep" -> keep = true;
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
        Path source = Path.of(positional.get(0));
        URI destination;
        try {
            destination = URI.create(positional.get(1));
        } catch (IllegalArgumentException e) {
            err.println("push: not a URI: " + positional.get(1));
            return 2;
        }
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            err.println("push: " + source + " is not a directory");
            return 2;
        }
        try {
            return push(source, destination, jobs, keep, partSize);
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

    private int push(Path source, URI destination, int jobs, boolean keep, long partSize) throws IOException {
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
            List<Item> items = plan(source, prefix, totals);
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
                s.streams(), s.cacheDir(), s.cacheSize(), s.metadata(), s.refresh());
    }

    // ---- what to upload ---------------------------------------------------------------------

    private List<Item> plan(Path source, String prefix, Totals totals) throws IOException {
        List<Item> items = new ArrayList<>();
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path rel = source.relativize(dir);
                String dirKey = rel.toString().isEmpty() ? prefix : prefix + rel + "/";
                if (!rel.toString().isEmpty() && !pushable(dir, totals)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (!dirKey.isEmpty()) {
                    items.add(new Item(dirKey, Kind.DIRECTORY, dir, 0, metadata(dir), new byte[0]));
                }
                if (overlayMark(dir, "opaque").filter("y"::equals).isPresent()) {
                    items.add(new Item(dirKey + ObjectNames.OPAQUE_MARKER, Kind.WHITEOUT, dir, 0, Map.of(), new byte[0]));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!pushable(file, totals)) {
                    return FileVisitResult.CONTINUE;
                }
                String parentKey = prefix + (source.relativize(file).getParent() == null ? ""
                        : source.relativize(file).getParent() + "/");
                String name = file.getFileName().toString();
                Map<String, Object> unix = Files.readAttributes(file, "unix:mode,rdev,size", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) unix.get("mode");
                long rdev = (Long) unix.get("rdev");
                int type = mode & 0170000;
                if ((type == 0020000 && rdev == 0)
                        || (type == 0100000 && attrs.size() == 0 && overlayMark(file, "whiteout").isPresent())) {
                    items.add(new Item(parentKey + ObjectNames.WHITEOUT_PREFIX + name, Kind.WHITEOUT, file, 0, Map.of(),
                            new byte[0]));
                } else if (type == 0100000) {
                    items.add(new Item(parentKey + name, Kind.FILE, file, attrs.size(), metadata(file), null));
                } else if (type == 0120000) {
                    byte[] target = Files.readSymbolicLink(file).toString().getBytes(StandardCharsets.UTF_8);
                    items.add(new Item(parentKey + name, Kind.SYMLINK, file, target.length, metadata(file), target));
                } else {
                    items.add(new Item(parentKey + name, Kind.SPECIAL, file, 0, metadata(file), new byte[0]));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                totals.failed().incrementAndGet();
                err.println("push: cannot read " + file + ": " + e.getMessage());
                return FileVisitResult.CONTINUE;
            }
        });
        return items;
    }

    /** Source names that would read back as something else are refused. */
    private boolean pushable(Path path, Totals totals) {
        String name = path.getFileName().toString();
        String why = name.startsWith(ObjectNames.WHITEOUT_PREFIX) ? "names starting with .wh. mark whiteouts"
                : name.endsWith("_$folder$") ? "names ending in _$folder$ mark directories" : null;
        if (why != null) {
            totals.failed().incrementAndGet();
            err.println("push: cannot push " + path + ": " + why + " in an S3 layer");
            return false;
        }
        return true;
    }

    /** An overlay mark of an upper dir, under {@code trusted.overlay.} or (userxattr) {@code user.overlay.}. */
    private static Optional<String> overlayMark(Path path, String key) {
        return LinuxXattrs.get(path, "trusted.overlay." + key)
                .or(() -> LinuxXattrs.get(path, "user.overlay." + key))
                .map(v -> new String(v, StandardCharsets.UTF_8));
    }

    private Map<String, String> metadata(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid,gid,rdev,lastModifiedTime,lastAccessTime",
                LinkOption.NOFOLLOW_LINKS);
        Map<String, String> meta = new java.util.LinkedHashMap<>(S3fsMetadata.write((Integer) a.get("mode"),
                (Integer) a.get("uid"), (Integer) a.get("gid"), nanos((FileTime) a.get("lastModifiedTime")),
                nanos((FileTime) a.get("lastAccessTime")), (Long) a.get("rdev")));
        Map<String, byte[]> xattrs = new java.util.TreeMap<>();
        for (String name : LinuxXattrs.list(path)) {
            // The overlay's own marks become .wh. keys, except a renamed directory's redirect.
            boolean overlayMark = name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.");
            if (!overlayMark || name.endsWith(".overlay.redirect")) {
                LinuxXattrs.get(path, name).ifPresent(value -> xattrs.put(name, value));
            }
        }
        if (!xattrs.isEmpty()) {
            String header = S3fsMetadata.xattrHeader(xattrs);
            if (header.length() > MAX_XATTR_HEADER) {
                err.println("push: warning: the extended attributes of " + path + " exceed S3's 2 KiB of user "
                        + "metadata and are left out");
            } else {
                meta.put("xattr", header);
            }
        }
        return meta;
    }

    private static long nanos(FileTime time) {
        return time.to(TimeUnit.NANOSECONDS);
    }

    // ---- uploading -------------------------------------------------------------------------

    private void upload(S3Client client, S3Settings settings, Item item, S3Object existing, long partSize,
                        ExecutorService executor, Totals totals) {
        try {
            if (existing != null && unchanged(client, settings, item, existing)) {
                totals.unchanged().incrementAndGet();
                return;
            }
            if (item.kind() == Kind.FILE && item.size() >= 4 * partSize) {
                multipart(client, settings, item, partSize, executor);
            } else {
                RequestBody body = item.body() != null ? RequestBody.fromBytes(item.body()) : RequestBody.fromFile(item.source());
                client.putObject(r -> r.bucket(settings.bucket()).key(item.key()).metadata(item.metadata()), body);
            }
            totals.put().incrementAndGet();
            totals.bytes().addAndGet(item.size());
            progress("put %s (%s)".formatted(ObjectNames.printable(item.key()), bytes(item.size())));
        } catch (SdkException | IOException e) {
            totals.failed().incrementAndGet();
            String message = e instanceof SdkException sdk ? S3Errors.of(sdk, item.source().toString(), "upload").getMessage()
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

    private static void multipart(S3Client client, S3Settings settings, Item item, long partSize, ExecutorService executor)
            throws IOException {
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
                                RequestBody.fromContentProvider(() -> slice(item.source(), offset, length), length,
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
                throw S3Errors.of(sdk, item.source().toString(), "multipart upload");
            }
            throw new IOException(item.source() + ": multipart upload: " + cause, cause);
        }
    }

    private static void abort(S3Client client, S3Settings settings, Item item, String uploadId) {
        try {
            client.abortMultipartUpload(r -> r.bucket(settings.bucket()).key(item.key()).uploadId(uploadId));
        } catch (SdkException ignored) {
            // The failure that brought us here is the one worth reporting.
        }
    }

    private static InputStream slice(Path file, long offset, long length) {
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
            InputStream in = Channels.newInputStream(channel);
            return new InputStream() {
                private long left = length;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int b = in.read();
                    if (b >= 0) {
                        left--;
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = in.read(buf, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }

                @Override
                public void close() throws IOException {
                    in.close();
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
