package dev.overlay4j.s3;

import dev.overlay4j.api.DirectoryEntry;
import dev.overlay4j.api.EntryAttributes;
import dev.overlay4j.api.EntryPath;
import dev.overlay4j.api.EntryType;
import dev.overlay4j.api.Errno;
import dev.overlay4j.api.Layer;
import dev.overlay4j.api.LayerOptions;
import dev.overlay4j.api.ReadableContent;
import dev.overlay4j.api.StoreSpace;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A read-only layer over the keys below a prefix of an S3 bucket. Common prefixes and
 * {@code dir/} marker objects are directories; file metadata comes from s3fs-fuse's user
 * metadata ({@link S3fsMetadata}); whiteouts follow the OCI convention ({@link ObjectNames}).
 * Listings and metadata are cached for the listing TTL, within bounds set by options; file
 * bytes are read lazily in blocks.
 *
 * <p>A listing waits on LISTs alone: an object's s3fs metadata costs a HEAD per object, which
 * made listings five to seven times slower, so it is fetched when a caller needs it (stat,
 * open, xattrs, readlink). Only empty objects, which may be whiteouts, devices or directories
 * and so change what a listing means, are HEADed while listing, all at once. Once two stats in
 * one directory had to HEAD (ls -l, cp -a), the rest of its objects are HEADed ahead of the
 * caller; once a directory is listed, its subdirectories are listed ahead (the overlay stats
 * each of them, and a stat of a directory needs its listing). Both run on a few threads.
 */
final class S3Layer implements Layer {

    private static final System.Logger LOG = System.getLogger(S3Layer.class.getName());
    /** The longest symlink target Linux accepts (PATH_MAX): larger objects are never symlinks. */
    private static final long PATH_MAX = 4096;
    /** Requests made ahead of callers at once: enough to hide a server's latency, few enough to leave it CPU. */
    private static final int AHEAD_THREADS = 8;

    /** What HEAD told about one object version. */
    private record Head(String etag, long size, S3fsMetadata meta, long lastModifiedNanos, long loadedAtNanos) {
    }

    private final S3Settings settings;
    private final S3Client client;
    private final BlockFetcher fetcher;
    private final long ttlNanos;
    private final int processUid;
    private final int processGid;
    private final long openedAtNanos = System.currentTimeMillis() * 1_000_000L;
    /** Listings by prefix, weighed by their entries. */
    private final LruCache<String, Listing> listings;
    private final ConcurrentHashMap<String, CompletableFuture<Listing>> loading = new ConcurrentHashMap<>();
    private final LruCache<String, Head> heads;
    private final ConcurrentHashMap<String, CompletableFuture<Head>> headsLoading = new ConcurrentHashMap<>();
    private final LruCache<String, String> linkTargets = new LruCache<>(10_000, t -> 1);
    /** Per directory prefix, how many stats had to HEAD one of its objects. */
    private final LruCache<String, AtomicInteger> statMisses = new LruCache<>(1024, m -> 1);
    /** Per directory prefix, the listing (its load time) whose subdirectories were listed ahead. */
    private final LruCache<String, Long> listedAhead = new LruCache<>(4096, t -> 1);
    /**
     * HEADs and LISTs made ahead of callers. Platform threads, as for GETs: on virtual threads
     * every socket read that would block parks and waits for the JDK's poller to wake it.
     */
    private final ExecutorService ahead = Executors.newFixedThreadPool(AHEAD_THREADS,
            Thread.ofPlatform().daemon().name("overlay4j-s3-ahead-", 0).factory());
    private final String overlayPrefix;
    private final List<ChangeListener> changeListeners = new CopyOnWriteArrayList<>();
    /** The path of each directory whose listing is cached, for taking it again ({@code refresh}). */
    private final ConcurrentHashMap<String, EntryPath> listedPaths = new ConcurrentHashMap<>();
    private final Thread refresher;
    private volatile boolean closed;

    S3Layer(S3Settings settings, S3Client client, LayerOptions options) throws IOException {
        this.settings = settings;
        this.overlayPrefix = options.overlayXattrPrefix();
        this.client = client;
        this.fetcher = new BlockFetcher(client, settings,
                settings.cacheDir() == null ? null : new DiskBlockCache(settings.cacheDir(), settings.cacheSize()));
        this.ttlNanos = settings.listTtl().toNanos();
        this.listings = new LruCache<>(settings.listCache(), l -> 1 + l.entries().size());
        this.heads = new LruCache<>(settings.metadataCache(), h -> 1);
        int[] ids = processIds();
        this.processUid = ids[0];
        this.processGid = ids[1];
        this.refresher = settings.refresh().isZero() ? null
                : Thread.ofVirtual().name("overlay4j-s3-refresh").start(this::refreshPeriodically);
    }

    /** Every {@code refresh}: lists each cached directory again and reports what changed. */
    private void refreshPeriodically() {
        while (!closed) {
            try {
                Thread.sleep(settings.refresh());
            } catch (InterruptedException e) {
                return; // closing
            }
            for (String prefix : listings.keys()) {
                EntryPath path = listedPaths.get(prefix);
                Listing before = listings.get(prefix);
                if (closed || path == null || before == null) {
                    continue;
                }
                try {
                    Listing after = load(prefix, path);
                    listings.put(prefix, after);
                    reportChanges(path, before, after);
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, () -> "refreshing " + display(path) + ": " + e.getMessage());
                }
            }
            listedPaths.keySet().removeIf(prefix -> listings.get(prefix) == null);
        }
    }

    /** Every read may wait on the server; listings and metadata are kept for {@code listTtl}. */
    @Override
    public boolean remote() {
        return true;
    }

    @Override
    public String description() {
        return settings.describe();
    }

    @Override
    public String toString() {
        return "S3Layer[" + description() + "]";
    }

    /** An entry for messages: the layer root without options, then the path. */
    private String display(EntryPath path) {
        return settings.root() + (path.isRoot() ? "" : path.relativeString());
    }

    // ---- resolution ----------------------------------------------------------------------

    /** What a path is, after its parents were found to be directories; null when absent. */
    private Listing.Node resolve(EntryPath path) throws IOException {
        checkOpen();
        if (path.isRoot()) {
            return new Listing.DirectoryNode(settings.prefix());
        }
        String dirPrefix = settings.prefix();
        for (int i = 0; i < path.nameCount(); i++) {
            Listing listing = listing(dirPrefix, path.subpath(i));
            Listing.Node node = listing.entries().get(path.name(i));
            if (node == null) {
                return null;
            }
            if (i == path.nameCount() - 1) {
                return node;
            }
            switch (node) {
                case Listing.DirectoryNode dir -> dirPrefix = dir.prefix();
                case Listing.WhiteoutNode w -> {
                    return null;
                }
                case Listing.ObjectNode object -> {
                    if (type(object) != EntryType.DIRECTORY) {
                        throw Errno.ENOTDIR.exception(display(path), "a path component is not a directory");
                    }
                    dirPrefix = object.key() + "/";
                }
            }
        }
        throw new AssertionError();
    }

    private EntryType type(Listing.ObjectNode object) throws IOException {
        if (!settings.metadata()) {
            return EntryType.REGULAR_FILE;
        }
        return type(head(object));
    }

    /** The type an object's metadata gives it; the kernel's xattr whiteout format counts too. */
    private EntryType type(Head head) {
        if (head == null) {
            return EntryType.REGULAR_FILE;
        }
        EntryType type = head.meta().type(EntryType.REGULAR_FILE);
        if (type == EntryType.REGULAR_FILE && head.size() == 0
                && head.meta().xattrs().containsKey(overlayPrefix + "whiteout")) {
            return EntryType.WHITEOUT;
        }
        return type;
    }

    // ---- Layer ---------------------------------------------------------------------------

    @Override
    public Optional<EntryAttributes> stat(EntryPath path) throws IOException {
        Listing.Node node = resolve(path);
        if (node == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(attributes(path, node));
    }

    private EntryAttributes attributes(EntryPath path, Listing.Node node) throws IOException {
        return switch (node) {
            case Listing.DirectoryNode dir -> directoryAttributes(path, dir.prefix(), null);
            case Listing.WhiteoutNode w -> new EntryAttributes(EntryType.WHITEOUT, 0, 0, 0, 0, 0,
                    openedAtNanos, openedAtNanos, openedAtNanos, 1, ObjectNames.inode(w.key()), 0, false, null);
            case Listing.ObjectNode object -> {
                Head head = settings.metadata() ? statHead(object) : null;
                if (settings.metadata() && head == null) {
                    yield null; // deleted since the listing
                }
                S3fsMetadata meta = head == null ? S3fsMetadata.NONE : head.meta();
                long size = head == null ? object.size() : head.size();
                long modified = head == null ? object.lastModifiedNanos() : head.lastModifiedNanos();
                EntryType type = type(head);
                if (type == EntryType.WHITEOUT) {
                    yield new EntryAttributes(EntryType.WHITEOUT, 0, 0, 0, 0, 0, modified, modified, modified, 1,
                            ObjectNames.inode(object.key()), 0, false, null);
                }
                if (type == EntryType.DIRECTORY) {
                    yield directoryAttributes(path, object.key() + "/", meta);
                }
                long mtime = or(meta.mtimeNanos(), modified);
                yield new EntryAttributes(type,
                        type == EntryType.SYMLINK ? 0777 : meta.permissions(0644),
                        meta.uid() >= 0 ? meta.uid() : processUid,
                        meta.gid() >= 0 ? meta.gid() : processGid,
                        type == EntryType.REGULAR_FILE || type == EntryType.SYMLINK ? size : 0,
                        (size + 511) / 512,
                        or(meta.atimeNanos(), mtime), mtime, or(meta.ctimeNanos(), mtime),
                        1, ObjectNames.inode(object.key()),
                        type == EntryType.CHARACTER_DEVICE || type == EntryType.BLOCK_DEVICE ? meta.rdev() : 0,
                        false, null);
            }
        };
    }

    private EntryAttributes directoryAttributes(EntryPath path, String prefix, S3fsMetadata ownMeta) throws IOException {
        Listing listing = listing(prefix, path);
        S3fsMetadata meta = ownMeta == null ? S3fsMetadata.NONE : ownMeta;
        long modified = openedAtNanos;
        if (ownMeta == null && listing.marker() && settings.metadata() && !prefix.isEmpty()) {
            Head head = head(prefix, null, -1, 0);
            if (head != null) {
                meta = head.meta();
                modified = head.lastModifiedNanos();
            }
        }
        long mtime = or(meta.mtimeNanos(), modified);
        byte[] opaqueMark = meta.xattrs().get(overlayPrefix + "opaque");
        byte[] redirect = meta.xattrs().get(overlayPrefix + "redirect");
        return new EntryAttributes(EntryType.DIRECTORY, meta.permissions(0755),
                meta.uid() >= 0 ? meta.uid() : processUid, meta.gid() >= 0 ? meta.gid() : processGid,
                4096, 8, or(meta.atimeNanos(), mtime), mtime, or(meta.ctimeNanos(), mtime),
                2 + listing.subdirectories(),
                ObjectNames.inode(prefix), 0,
                listing.opaque() || (opaqueMark != null && new String(opaqueMark, StandardCharsets.UTF_8).equals("y")),
                redirect == null ? null : new String(redirect, StandardCharsets.UTF_8));
    }

    private static long or(long value, long fallback) {
        return value == S3fsMetadata.NO_TIME ? fallback : value;
    }

    @Override
    public Stream<DirectoryEntry> list(EntryPath directory) throws IOException {
        String prefix = directoryPrefix(directory);
        Listing cached = listings.get(prefix);
        if ((cached == null || System.nanoTime() - cached.loadedAtNanos() >= ttlNanos) && loading.containsKey(prefix)) {
            cached = listing(prefix, directory); // being listed ahead: wait for it rather than list again
        }
        if (cached != null && System.nanoTime() - cached.loadedAtNanos() < ttlNanos) {
            listAhead(directory, cached);
            long unknown = cached.entries().values().stream()
                    .filter(n -> n instanceof Listing.ObjectNode o && isSmall(o) && cachedHead(o) == null).count();
            return entries(cached.entries().entrySet(), unknown <= SMALL_LISTING).stream();
        }
        return streamListing(prefix, directory);
    }

    /** Subdirectories listed ahead of a caller at most, per listing. */
    private static final int LIST_AHEAD = 1024;

    /**
     * Lists the subdirectories of a directory just listed, ahead of the caller: the overlay
     * stats each of them (and a directory's stat needs its listing), and a walk lists them next.
     * Once per listing, and never from a listing made ahead, so it goes one level down only.
     */
    private void listAhead(EntryPath directory, Listing listing) {
        Long done = listedAhead.get(listing.prefix());
        if (done != null && done == listing.loadedAtNanos()) {
            return;
        }
        listedAhead.put(listing.prefix(), listing.loadedAtNanos());
        listing.entries().entrySet().stream()
                .filter(e -> e.getValue() instanceof Listing.DirectoryNode)
                .sorted(Map.Entry.comparingByKey())
                .limit(LIST_AHEAD)
                .forEach(e -> {
                    String sub = ((Listing.DirectoryNode) e.getValue()).prefix();
                    Listing known = listings.get(sub);
                    if ((known == null || System.nanoTime() - known.loadedAtNanos() >= ttlNanos) && !loading.containsKey(sub)) {
                        ahead(() -> {
                            // The directory's own metadata is its marker's, when it has one.
                            if (listing(sub, directory.resolve(e.getKey())).marker() && settings.metadata()) {
                                head(sub, null, -1, 0);
                            }
                        });
                    }
                });
    }

    /**
     * Serves a listing page by page as S3 delivers it: the first page is fetched now (so a
     * failure is an IOException of this call), later ones as the stream is read (a failure
     * then is an UncheckedIOException carrying the errno exception). A listing read to its end
     * is cached like any other.
     */
    private Stream<DirectoryEntry> streamListing(String prefix, EntryPath directory) throws IOException {
        java.util.Iterator<ListObjectsV2Response> pages = client.listObjectsV2Paginator(r -> r.bucket(settings.bucket())
                .prefix(prefix).delimiter("/").encodingType(EncodingType.URL)).iterator();
        ListingBuilder builder = new ListingBuilder(prefix, this::warn);
        java.util.ArrayDeque<DirectoryEntry> ready = new java.util.ArrayDeque<>();
        boolean[] finished = {false};
        // Decided on the first page: whether the listing is one page with few small objects.
        Boolean[] headSmall = {null};
        IoStep step = () -> {
            try {
                if (pages.hasNext()) {
                    ListObjectsV2Response page = pages.next();
                    if (headSmall[0] == null) {
                        headSmall[0] = !Boolean.TRUE.equals(page.isTruncated()) && page.contents().stream()
                                .filter(o -> o.size() != null && o.size() > 0 && o.size() <= PATH_MAX).count() <= SMALL_LISTING;
                    }
                    String cursor = "";
                    for (S3Object object : page.contents()) {
                        builder.object(object.key(), object.size(), object.eTag(), nanos(object.lastModified()));
                        cursor = object.key();
                    }
                    for (CommonPrefix common : page.commonPrefixes()) {
                        builder.commonPrefix(common.prefix());
                        if (ListingBuilder.compareKeys(common.prefix(), cursor) > 0) {
                            cursor = common.prefix();
                        }
                    }
                    ready.addAll(entries(builder.drainSettled(cursor), headSmall[0]));
                } else {
                    ready.addAll(entries(builder.drainRest(), Boolean.TRUE.equals(headSmall[0])));
                    Listing listing = builder.build(System.nanoTime());
                    listings.put(prefix, listing);
                    finished[0] = true;
                    listAhead(directory, listing);
                }
            } catch (SdkException e) {
                throw S3Errors.of(e, display(directory), "listing " + ObjectNames.printable(prefix));
            }
        };
        step.run();
        java.util.Spliterator<DirectoryEntry> entries = new java.util.Spliterators.AbstractSpliterator<>(
                Long.MAX_VALUE, java.util.Spliterator.DISTINCT | java.util.Spliterator.NONNULL) {
            @Override
            public boolean tryAdvance(java.util.function.Consumer<? super DirectoryEntry> action) {
                try {
                    while (ready.isEmpty() && !finished[0]) {
                        step.run();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                DirectoryEntry next = ready.poll();
                if (next == null) {
                    return false;
                }
                action.accept(next);
                return true;
            }
        };
        return java.util.stream.StreamSupport.stream(entries, false);
    }

    private interface IoStep {
        void run() throws IOException;
    }

    private long nanos(java.time.Instant instant) {
        return instant == null ? openedAtNanos : instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }

    /**
     * A listing with at most this many small objects not HEADed yet HEADs them all (in parallel:
     * about two rounds of the threads that work ahead) to type them exactly.
     */
    private static final int SMALL_LISTING = 2 * AHEAD_THREADS;

    /**
     * Directory entries for listing nodes. An object's type is in its metadata, but only an
     * empty one can be a whiteout, device or directory (what the overlay's merge depends on), and
     * only one of 1 to PATH_MAX bytes (a small one) a symlink. Empty objects are HEADed (in
     * parallel), and small ones with {@code headSmall} (a listing with few of them) or with
     * {@code metadata=listing}; other small ones not HEADed yet are listed as
     * {@link EntryType#UNKNOWN}, which a stat makes exact: HEADing them all made a listing five to
     * seven times slower than its LISTs, and calling them regular files would hide symlinks from
     * {@code find -type l}.
     */
    private List<DirectoryEntry> entries(java.util.Collection<Map.Entry<String, Listing.Node>> nodes, boolean headSmall)
            throws IOException {
        boolean small = headSmall || settings.metadataInListings();
        if (settings.metadata()) {
            headAll(nodes.stream().map(Map.Entry::getValue)
                    .filter(n -> n instanceof Listing.ObjectNode o && (o.size() == 0 || small && isSmall(o))).toList());
        }
        List<DirectoryEntry> entries = new ArrayList<>(nodes.size());
        for (Map.Entry<String, Listing.Node> e : nodes) {
            switch (e.getValue()) {
                case Listing.DirectoryNode dir ->
                        entries.add(new DirectoryEntry(e.getKey(), EntryType.DIRECTORY, ObjectNames.inode(dir.prefix())));
                case Listing.WhiteoutNode w ->
                        entries.add(new DirectoryEntry(e.getKey(), EntryType.WHITEOUT, ObjectNames.inode(w.key())));
                case Listing.ObjectNode object -> {
                    EntryType type = EntryType.REGULAR_FILE;
                    if (settings.metadata() && object.size() <= PATH_MAX) {
                        boolean headed = object.size() == 0 || small;
                        Head head = headed ? head(object) : cachedHead(object);
                        if (head == null && headed) {
                            continue; // deleted since the listing
                        }
                        // A file or a symlink: the first stat tells (readdir's DT_UNKNOWN).
                        type = head == null ? EntryType.UNKNOWN : type(head);
                    }
                    entries.add(new DirectoryEntry(e.getKey(), type, ObjectNames.inode(object.key())));
                }
            }
        }
        return entries;
    }

    private static boolean isSmall(Listing.ObjectNode object) {
        return object.size() > 0 && object.size() <= PATH_MAX;
    }

    /** The key prefix of a directory, or ENOENT / ENOTDIR. */
    private String directoryPrefix(EntryPath directory) throws IOException {
        Listing.Node node = resolve(directory);
        return switch (node) {
            case null -> throw Errno.ENOENT.exception(display(directory));
            case Listing.WhiteoutNode w -> throw Errno.ENOENT.exception(display(directory));
            case Listing.DirectoryNode dir -> dir.prefix();
            case Listing.ObjectNode object -> {
                if (type(object) != EntryType.DIRECTORY) {
                    throw Errno.ENOTDIR.exception(display(directory));
                }
                yield object.key() + "/";
            }
        };
    }

    @Override
    public ReadableContent openRead(EntryPath file) throws IOException {
        Listing.ObjectNode object = object(file);
        Head head = settings.metadata() ? head(object) : null;
        if (settings.metadata() && head == null) {
            throw Errno.ENOENT.exception(display(file));
        }
        EntryType type = type(head);
        if (type == EntryType.WHITEOUT) {
            throw Errno.ENOENT.exception(display(file));
        }
        if (type == EntryType.DIRECTORY) {
            throw Errno.EISDIR.exception(display(file));
        }
        if (type == EntryType.SYMLINK) {
            throw Errno.ELOOP.exception(display(file), "a symbolic link (opened without following it)");
        }
        if (type != EntryType.REGULAR_FILE) {
            throw Errno.EINVAL.exception(display(file), "not a regular file");
        }
        ObjectVersion version = head == null
                ? new ObjectVersion(object.key(), object.etag(), object.size(), display(file))
                : new ObjectVersion(object.key(), head.etag(), head.size(), display(file));
        return new S3Content(version, fetcher, settings.readahead());
    }

    private Listing.ObjectNode object(EntryPath path) throws IOException {
        return switch (resolve(path)) {
            case null -> throw Errno.ENOENT.exception(display(path));
            case Listing.WhiteoutNode w -> throw Errno.ENOENT.exception(display(path));
            case Listing.DirectoryNode d -> throw Errno.EISDIR.exception(display(path));
            case Listing.ObjectNode object -> object;
        };
    }

    @Override
    public String readLink(EntryPath link) throws IOException {
        Listing.Node node = resolve(link);
        if (node == null || node instanceof Listing.WhiteoutNode) {
            throw Errno.ENOENT.exception(display(link));
        }
        if (!(node instanceof Listing.ObjectNode object) || type(object) != EntryType.SYMLINK) {
            throw Errno.EINVAL.exception(display(link), "not a symbolic link");
        }
        Head head = head(object);
        String cacheKey = object.key() + '\0' + head.etag();
        String target = linkTargets.get(cacheKey);
        if (target == null) {
            try {
                ResponseBytes<GetObjectResponse> bytes = client.getObjectAsBytes(r -> r.bucket(settings.bucket())
                        .key(object.key()).ifMatch(head.etag()));
                target = bytes.asString(StandardCharsets.UTF_8);
            } catch (SdkException e) {
                throw S3Errors.of(e, display(link), "reading the symlink target");
            }
            linkTargets.put(cacheKey, target);
        }
        return target;
    }

    @Override
    public List<String> listXattrs(EntryPath path) throws IOException {
        return xattrs(path).keySet().stream().filter(name -> !name.startsWith(overlayPrefix)).sorted().toList();
    }

    @Override
    public Optional<byte[]> readXattr(EntryPath path, String name) throws IOException {
        if (name.startsWith(overlayPrefix)) {
            requireExists(path);
            return Optional.empty();
        }
        return Optional.ofNullable(xattrs(path).get(name)).map(byte[]::clone);
    }

    @Override
    public Optional<byte[]> readOverlayXattr(EntryPath path, String key) throws IOException {
        return Optional.ofNullable(xattrs(path).get(overlayPrefix + key)).map(byte[]::clone);
    }

    /** The extended attributes s3fs keeps in the entry's (or its directory marker's) metadata. */
    private Map<String, byte[]> xattrs(EntryPath path) throws IOException {
        Listing.Node node = requireExists(path);
        if (!settings.metadata()) {
            return Map.of();
        }
        Head head = switch (node) {
            case Listing.ObjectNode object -> head(object);
            case Listing.DirectoryNode dir -> dir.prefix().isEmpty() || !listing(dir.prefix(), path).marker() ? null
                    : head(dir.prefix(), null, -1, 0);
            case Listing.WhiteoutNode w -> null;
        };
        return head == null ? Map.of() : head.meta().xattrs();
    }

    private Listing.Node requireExists(EntryPath path) throws IOException {
        Listing.Node node = resolve(path);
        if (node == null) {
            throw Errno.ENOENT.exception(display(path));
        }
        return node;
    }

    @Override
    public Optional<StoreSpace> space() {
        // An object store has no capacity to report; a lower layer never needs free space.
        return Optional.of(new StoreSpace(settings.blockSize(), 0, 0, 0, 0, 0, EntryPath.NAME_MAX));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (refresher != null) {
            refresher.interrupt();
        }
        ahead.shutdownNow();
        fetcher.close();
        client.close();
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw Errno.EBADF.exception(description(), "the layer is closed");
        }
    }

    // ---- listings -------------------------------------------------------------------------

    /** Checks that the bucket and prefix exist and can be read; fails with one clear message. */
    void probe() throws IOException {
        try {
            ListObjectsV2Response response = client.listObjectsV2(r -> r.bucket(settings.bucket())
                    .prefix(settings.prefix()).maxKeys(1));
            if (!settings.prefix().isEmpty() && response.keyCount() != null && response.keyCount() == 0
                    && response.contents().isEmpty()) {
                throw Errno.ENOENT.exception(description(), "no objects under " + settings.root());
            }
        } catch (SdkException e) {
            String doing = "opening " + settings.root() + (settings.endpoint() == null ? ""
                    : " at " + settings.endpoint().getScheme() + "://" + settings.endpoint().getAuthority());
            if (S3Errors.isNotFound(e)) {
                throw Errno.ENOENT.exception(description(), doing + ": the bucket does not exist");
            }
            throw S3Errors.of(e, description(), doing);
        }
    }

    @Override
    public void addChangeListener(ChangeListener listener) {
        changeListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Tells the listeners what a new listing of the directory {@code path} shows changed since
     * the one before it: each name added, removed or now another object (a new ETag, size or
     * time, or a whiteout), and the directory itself when its names or opaqueness changed.
     */
    private void reportChanges(EntryPath path, Listing before, Listing after) {
        if (changeListeners.isEmpty()) {
            return;
        }
        List<EntryPath> changed = new ArrayList<>();
        for (Map.Entry<String, Listing.Node> entry : after.entries().entrySet()) {
            if (!entry.getValue().equals(before.entries().get(entry.getKey()))) {
                changed.add(path.resolve(entry.getKey()));
            }
        }
        for (String name : before.entries().keySet()) {
            if (!after.entries().containsKey(name)) {
                changed.add(path.resolve(name));
            }
        }
        if (!before.entries().keySet().equals(after.entries().keySet()) || before.opaque() != after.opaque()) {
            changed.add(path);
        }
        for (EntryPath one : changed) {
            for (ChangeListener listener : changeListeners) {
                try {
                    listener.changed(one);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a change listener failed for " + display(one), e);
                }
            }
        }
    }

    private Listing listing(String prefix, EntryPath path) throws IOException {
        Listing cached = listings.get(prefix);
        if (cached != null && System.nanoTime() - cached.loadedAtNanos() < ttlNanos) {
            return cached;
        }
        CompletableFuture<Listing> mine = new CompletableFuture<>();
        CompletableFuture<Listing> running = loading.putIfAbsent(prefix, mine);
        if (running != null) {
            try {
                return running.get();
            } catch (InterruptedException e) {
                throw S3Errors.interrupted(display(path));
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : Errno.EIO.exception(display(path), String.valueOf(e.getCause()));
            }
        }
        try {
            Listing listing = load(prefix, path);
            listings.put(prefix, listing);
            if (refresher != null) {
                listedPaths.put(prefix, path);
            }
            loading.remove(prefix, mine);
            mine.complete(listing);
            if (cached != null) {
                reportChanges(path, cached, listing);
            }
            return listing;
        } catch (IOException | RuntimeException e) {
            // Out of the map before waking waiters, so the next call lists again (a failure is not cached).
            loading.remove(prefix, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** Lists one directory: every page of ListObjectsV2 with delimiter '/', refusing hostile keys. */
    private Listing load(String prefix, EntryPath path) throws IOException {
        ListingBuilder builder = new ListingBuilder(prefix, this::warn);
        try {
            for (ListObjectsV2Response page : client.listObjectsV2Paginator(r -> r.bucket(settings.bucket())
                    .prefix(prefix).delimiter("/").encodingType(EncodingType.URL))) {
                for (S3Object object : page.contents()) {
                    builder.object(object.key(), object.size(), object.eTag(), nanos(object.lastModified()));
                }
                for (CommonPrefix common : page.commonPrefixes()) {
                    builder.commonPrefix(common.prefix());
                }
            }
        } catch (SdkException e) {
            throw S3Errors.of(e, display(path), "listing " + ObjectNames.printable(prefix));
        }
        return builder.build(System.nanoTime());
    }

    private void warn(String key, String why) {
        LOG.log(Level.WARNING, () -> "layer " + description() + ": skipping key \"" + ObjectNames.printable(key)
                + "\": " + why);
    }

    // ---- object metadata -----------------------------------------------------------------

    private Head head(Listing.ObjectNode object) throws IOException {
        return head(object.key(), object.etag(), object.size(), object.lastModifiedNanos());
    }

    /** The cached HEAD of the listed object, or null when none was made of this version. */
    private Head cachedHead(Listing.ObjectNode object) {
        return cachedHead(object.key(), object.etag());
    }

    private Head cachedHead(String key, String listedEtag) {
        Head cached = heads.get(key);
        return cached != null && (listedEtag != null ? cached.etag() != null && cached.etag().equals(listedEtag)
                : System.nanoTime() - cached.loadedAtNanos() < ttlNanos) ? cached : null;
    }

    /**
     * The HEAD a stat needs. The second stat in one directory that finds no HEAD made is taken
     * for a caller going through the directory, and the rest of its objects are HEADed ahead.
     */
    private Head statHead(Listing.ObjectNode object) throws IOException {
        Head cached = cachedHead(object);
        if (cached != null) {
            return cached;
        }
        String prefix = object.key().substring(0, object.key().lastIndexOf('/') + 1);
        AtomicInteger misses = statMisses.get(prefix);
        if (misses == null) {
            misses = new AtomicInteger();
            statMisses.put(prefix, misses);
        }
        if (misses.incrementAndGet() == 2) {
            headAhead(prefix);
        }
        return head(object);
    }

    /** HEADs a directory's objects not HEADed yet, in key order (as ls goes), without waiting. */
    private void headAhead(String prefix) {
        Listing listing = listings.get(prefix);
        if (listing == null) {
            return;
        }
        listing.entries().values().stream()
                .filter(n -> n instanceof Listing.ObjectNode o && cachedHead(o) == null && !headsLoading.containsKey(o.key()))
                .map(Listing.ObjectNode.class::cast)
                .sorted(java.util.Comparator.comparing(Listing.ObjectNode::key, ListingBuilder::compareKeys))
                // More than the cache holds would push out what the first ones brought.
                .limit(settings.metadataCache() / 2)
                .forEach(object -> ahead(() -> head(object)));
    }

    /** Runs a fetch on the threads that work ahead; a failure is the caller's to meet when it asks itself. */
    private void ahead(IoStep fetch) {
        try {
            ahead.execute(() -> {
                try {
                    if (!closed) {
                        fetch.run();
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, () -> "layer " + description() + ": a fetch ahead failed: " + e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * HEAD of a key, cached while its ETag matches the listing's; null when the object is gone.
     * Callers asking for a key whose HEAD is under way wait for that one.
     */
    private Head head(String key, String listedEtag, long listedSize, long listedModified) throws IOException {
        Head cached = cachedHead(key, listedEtag);
        if (cached != null) {
            return cached;
        }
        CompletableFuture<Head> mine = new CompletableFuture<>();
        CompletableFuture<Head> running = headsLoading.putIfAbsent(key, mine);
        if (running != null) {
            Head head = await(running, key);
            // Made for another listing of the key (a newer version): ask again for this one.
            return head == null || listedEtag == null || listedEtag.equals(head.etag()) ? head
                    : fetchHead(key, listedEtag, listedSize, listedModified);
        }
        try {
            Head head = fetchHead(key, listedEtag, listedSize, listedModified);
            headsLoading.remove(key, mine);
            mine.complete(head);
            return head;
        } catch (IOException | RuntimeException e) {
            headsLoading.remove(key, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private Head await(CompletableFuture<Head> running, String key) throws IOException {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw S3Errors.interrupted("s3://" + settings.bucket() + "/" + ObjectNames.printable(key));
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io
                    : Errno.EIO.exception("s3://" + settings.bucket() + "/" + ObjectNames.printable(key), String.valueOf(e.getCause()));
        }
    }

    private Head fetchHead(String key, String listedEtag, long listedSize, long listedModified) throws IOException {
        try {
            HeadObjectResponse response = client.headObject(r -> r.bucket(settings.bucket()).key(key));
            Head head = new Head(response.eTag() != null ? response.eTag() : listedEtag,
                    response.contentLength() != null ? response.contentLength() : listedSize,
                    S3fsMetadata.parse(response.metadata()),
                    response.lastModified() == null ? listedModified
                            : response.lastModified().getEpochSecond() * 1_000_000_000L + response.lastModified().getNano(),
                    System.nanoTime());
            heads.put(key, head);
            return head;
        } catch (SdkException e) {
            if (S3Errors.isNotFound(e)) {
                heads.remove(key);
                return null;
            }
            throw S3Errors.of(e, "s3://" + settings.bucket() + "/" + ObjectNames.printable(key), "HEAD");
        }
    }

    /** HEADs the objects, in parallel on the threads that work ahead, and waits for them all. */
    private void headAll(List<Listing.Node> nodes) throws IOException {
        Map<String, CompletableFuture<Head>> pending = new java.util.HashMap<>();
        for (Listing.Node node : nodes) {
            if (node instanceof Listing.ObjectNode object && cachedHead(object) == null) {
                CompletableFuture<Head> one = new CompletableFuture<>();
                try {
                    ahead.execute(() -> {
                        try {
                            one.complete(head(object));
                        } catch (IOException | RuntimeException e) {
                            one.completeExceptionally(e);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    throw Errno.EBADF.exception(description(), "the layer is closed");
                }
                pending.put(object.key(), one);
            }
        }
        for (Map.Entry<String, CompletableFuture<Head>> one : pending.entrySet()) {
            await(one.getValue(), one.getKey());
        }
    }

    private static int[] processIds() {
        try {
            Path self = Path.of("/proc/self");
            return new int[] {(Integer) Files.getAttribute(self, "unix:uid"), (Integer) Files.getAttribute(self, "unix:gid")};
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return new int[] {0, 0};
        }
    }
}
