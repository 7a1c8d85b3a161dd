package conformance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.Topology;

/** A built reference topology plus what the runner reads back: output topics and stores. */
final class Built {
    Topology topology;
    /** Output topic -> value encoding ("json" or "long"); keys are always strings. */
    final Map<String, String> outputs = new LinkedHashMap<>();
    final List<String> kvStores = new ArrayList<>();
    final List<String> windowStores = new ArrayList<>();

    Built json(String... topics) {
        for (String t : topics) {
            outputs.put(t, "json");
        }
        return this;
    }

    Built longs(String topic) {
        outputs.put(topic, "long");
        return this;
    }

    Built kv(String... stores) {
        kvStores.addAll(List.of(stores));
        return this;
    }
}
