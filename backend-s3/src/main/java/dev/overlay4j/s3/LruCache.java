package dev.overlay4j.s3;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/** A map bounded by a total weight, dropping the least recently used entries first. Thread safe. */
final class LruCache<K, V> {

    private final long capacity;
    private final ToLongFunction<V> weigher;
    private final Consumer<V> dropped;
    private final LinkedHashMap<K, V> map = new LinkedHashMap<>(64, 0.75f, true);
    private long weight;

    long capacity() {
        return capacity;
    }

    LruCache(long capacity, ToLongFunction<V> weigher) {
        this(capacity, weigher, value -> { });
    }

    /** A cache that hands every value it lets go of (evicted, replaced, removed) to {@code dropped}. */
    LruCache(long capacity, ToLongFunction<V> weigher, Consumer<V> dropped) {
        this.capacity = capacity;
        this.weigher = weigher;
        this.dropped = dropped;
    }

    synchronized V get(K key) {
        return map.get(key);
    }

    synchronized void put(K key, V value) {
        long w = weigher.applyAsLong(value);
        if (w > capacity) {
            return;
        }
        V old = map.put(key, value);
        if (old != null) {
            weight -= weigher.applyAsLong(old);
            if (old != value) {
                dropped.accept(old);
            }
        }
        weight += w;
        var it = map.entrySet().iterator();
        while (weight > capacity && it.hasNext()) {
            Map.Entry<K, V> eldest = it.next();
            weight -= weigher.applyAsLong(eldest.getValue());
            it.remove();
            dropped.accept(eldest.getValue());
        }
    }

    /** The keys now, least recently used first. */
    synchronized java.util.List<K> keys() {
        return java.util.List.copyOf(map.keySet());
    }

    synchronized void remove(K key) {
        V old = map.remove(key);
        if (old != null) {
            weight -= weigher.applyAsLong(old);
            dropped.accept(old);
        }
    }

    synchronized void clear() {
        map.values().forEach(dropped);
        map.clear();
        weight = 0;
    }
}
