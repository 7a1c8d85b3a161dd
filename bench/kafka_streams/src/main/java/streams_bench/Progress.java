package streams_bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Results and timing of one run, shared by the stream thread and the main thread. */
final class Progress {
  private final Map<String, Long> results = new HashMap<>();
  private final List<Double> latencies = new ArrayList<>();
  private volatile long total;
  private long covered;
  private double firstAt;
  private double doneAt;
  private long lastChange = System.currentTimeMillis();
  private final AtomicLong consumed = new AtomicLong();

  Progress(long total) {
    this.total = total;
  }

  synchronized void setTotal(long total) {
    this.total = total;
    check();
  }

  /** The first input record was consumed (latency mode: tell the harness). */
  synchronized void first(boolean announce) {
    if (firstAt == 0) {
      firstAt = Main.now();
      if (announce) {
        System.out.println("READY");
        System.out.flush();
      }
    }
  }

  /** Count one consumed input record; true once the input total has been consumed. */
  boolean consumed() {
    long n = consumed.incrementAndGet();
    return total > 0 && n >= total;
  }

  /** A result update: the latest count of ``key`` (null: the result was deleted). */
  synchronized void update(String key, Long count, long timestampMs, boolean latencyMode) {
    Long old = count == null ? results.remove(key) : results.put(key, count);
    covered += (count == null ? 0 : count) - (old == null ? 0 : old);
    lastChange = System.currentTimeMillis();
    if (latencyMode && firstAt > 0 && timestampMs >= firstAt * 1000) {
      latencies.add(System.currentTimeMillis() - (double) timestampMs);
    }
    check();
  }

  private void check() {
    if (doneAt == 0 && total > 0 && covered >= total) {
      doneAt = Main.now();
      notifyAll();
    }
  }

  /** Wait until the results cover the total; false if nothing changed for ``idleMs``. */
  synchronized boolean awaitDone(long idleMs) throws InterruptedException {
    while (doneAt == 0) {
      if (firstAt > 0 && System.currentTimeMillis() - lastChange > idleMs) {
        doneAt = Main.now();
        return false;
      }
      wait(200);
    }
    return true;
  }

  synchronized double firstAt() {
    return firstAt;
  }

  synchronized double doneAt() {
    return doneAt;
  }

  synchronized long covered() {
    return covered;
  }

  synchronized Map<String, Long> results() {
    return new HashMap<>(results);
  }

  synchronized List<Double> latencies() {
    return new ArrayList<>(latencies);
  }
}
