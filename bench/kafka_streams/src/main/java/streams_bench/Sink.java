package streams_bench;

import java.util.function.Function;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;

/** Terminal processor: hands every count update downstream of the aggregation to Progress. */
final class Sink<K> implements Processor<K, Long, Void, Void> {
  private final Progress progress;
  private final boolean latencyMode;
  private final Function<K, String> resultKey;

  Sink(Progress progress, boolean latencyMode, Function<K, String> resultKey) {
    this.progress = progress;
    this.latencyMode = latencyMode;
    this.resultKey = resultKey;
  }

  @Override
  public void process(Record<K, Long> record) {
    progress.update(resultKey.apply(record.key()), record.value(), record.timestamp(),
        latencyMode);
  }
}
