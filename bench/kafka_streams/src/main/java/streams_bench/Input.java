package streams_bench;

import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * First processor after the source: marks the first record and, once the whole input has been
 * consumed, asks for a commit (the cache flush that forwards the last results). Without it the
 * run's end waits for the next commit interval; streams_app's contestant commits at that point
 * the same way.
 */
final class Input implements FixedKeyProcessor<String, String, String> {
  private final Progress progress;
  private final boolean latencyMode;
  private FixedKeyProcessorContext<String, String> context;

  Input(Progress progress, boolean latencyMode) {
    this.progress = progress;
    this.latencyMode = latencyMode;
  }

  @Override
  public void init(FixedKeyProcessorContext<String, String> context) {
    this.context = context;
  }

  @Override
  public void process(FixedKeyRecord<String, String> record) {
    progress.first(latencyMode);
    if (progress.consumed()) {
      context.commit();
    }
    context.forward(record);
  }
}
