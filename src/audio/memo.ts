/**
 * The value of `key` in `cache`, made by `make` the first time; the cache keeps at most `max`
 * (the oldest goes). The audio code keeps its tables this way (FFT twiddles, mel filterbanks,
 * resampling filters): every file of a set uses the same ones, and building one costs about as
 * much as using it once.
 */
export function memo<K, V>(cache: Map<K, V>, key: K, make: () => V, max = 8): V {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    if (cache.size >= max) cache.delete(cache.keys().next().value as K);
    cache.set(key, v);
  }
  return v;
}
