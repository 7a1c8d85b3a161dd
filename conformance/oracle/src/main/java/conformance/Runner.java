package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;

/** Runs one scenario through Kafka Streams' TopologyTestDriver and renders the results. */
final class Runner {
    private final Path stateDir;
    private long seq;

    Runner(Path stateDir) {
        this.stateDir = stateDir;
    }

    ObjectNode run(JsonNode scenario) {
        ObjectNode res = Json.F.objectNode();
        res.put("name", scenario.path("name").asText(""));
        try {
            execute(scenario, res);
        } catch (Exception | AssertionError e) {
            res.removeAll();
            res.put("name", scenario.path("name").asText(""));
            res.put("error", describe(e));
        }
        return res;
    }

    /** The exception and its causes, one "Type: message" per level. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- caused by ");
            }
            sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return sb.toString();
    }

    private Properties props(JsonNode config) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "oracle-" + (seq++));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, JsonSerde.class.getName());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        JsonNode cache = config.path("cache_max_bytes");
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
                cache.isIntegralNumber() ? cache.asLong() : 0L);
        // Raw Kafka Streams properties a scenario may set (strings), applied last.
        config.path("streams").fields().forEachRemaining(e -> p.put(e.getKey(), e.getValue().asText()));
        return p;
    }

    private void execute(JsonNode scenario, ObjectNode res) {
        String topology = scenario.path("topology").asText(null);
        if (topology == null) {
            throw new IllegalArgumentException("scenario field 'topology' is required");
        }
        Built built = Catalogue.build(topology, new Params(scenario.get("params")));
        JsonSerde json = new JsonSerde();
        try (TopologyTestDriver d = new TopologyTestDriver(built.topology,
                props(scenario.path("config")), Instant.ofEpochMilli(0))) {
            Map<String, TestInputTopic<String, JsonNode>> inputs = new HashMap<>();
            int i = 0;
            for (JsonNode ev : scenario.path("inputs")) {
                if (ev.has("advance_wall_clock_ms")) {
                    d.advanceWallClockTime(Duration.ofMillis(ev.get("advance_wall_clock_ms").asLong()));
                    continue;
                }
                String topic = ev.path("topic").asText(null);
                JsonNode key = ev.get("key");
                JsonNode ts = ev.get("timestamp");
                if (topic == null || ts == null || !ts.isIntegralNumber()) {
                    throw new IllegalArgumentException("inputs[" + i + "] needs 'topic' and an"
                            + " integer 'timestamp'");
                }
                if (key != null && !key.isNull() && !key.isTextual()) {
                    throw new IllegalArgumentException("inputs[" + i + "].key must be a string");
                }
                TestInputTopic<String, JsonNode> in = inputs.computeIfAbsent(topic,
                        t -> d.createInputTopic(t, new StringSerializer(), json.serializer()));
                in.pipeInput(key == null || key.isNull() ? null : key.asText(),
                        Json.orTombstone(ev.get("value")), ts.asLong());
                i++;
            }
            ObjectNode outs = res.putObject("outputs");
            for (Map.Entry<String, String> o : built.outputs.entrySet()) {
                outs.set(o.getKey(), readTopic(d, o.getKey(), o.getValue()));
            }
            ObjectNode stores = res.putObject("stores");
            for (String name : built.kvStores) {
                stores.set(name, dumpKv(d, name));
            }
            ObjectNode windows = res.putObject("window_stores");
            for (String name : built.windowStores) {
                windows.set(name, dumpWindows(d, name));
            }
        }
    }

    private static ArrayNode readTopic(TopologyTestDriver d, String topic, String encoding) {
        TestOutputTopic<String, byte[]> t = d.createOutputTopic(topic, new StringDeserializer(),
                new ByteArrayDeserializer());
        ArrayNode list = Json.F.arrayNode();
        LongDeserializer longs = new LongDeserializer();
        for (TestRecord<String, byte[]> r : t.readRecordsToList()) {
            ObjectNode rec = list.addObject();
            rec.put("key", r.key());
            JsonNode value = null;
            if (r.value() != null) {
                value = encoding.equals("long") ? Json.num(longs.deserialize(topic, r.value()))
                        : new JsonSerde().deserializer().deserialize(topic, r.value());
            }
            rec.set("value", Json.nullable(value));
            rec.put("timestamp", r.timestamp());
        }
        return list;
    }

    private static ObjectNode dumpKv(TopologyTestDriver d, String name) {
        KeyValueStore<String, Object> s = d.getKeyValueStore(name);
        if (s == null) {
            throw new IllegalStateException("no key-value store named '" + name + "'");
        }
        ObjectNode o = Json.F.objectNode();
        try (KeyValueIterator<String, Object> it = s.all()) {
            it.forEachRemaining(kv -> o.set(kv.key, Json.MAPPER.valueToTree(kv.value)));
        }
        return o;
    }

    private static ObjectNode dumpWindows(TopologyTestDriver d, String name) {
        WindowStore<String, Object> s = d.getWindowStore(name);
        if (s == null) {
            throw new IllegalStateException("no window store named '" + name + "'");
        }
        ObjectNode o = Json.F.objectNode();
        try (KeyValueIterator<Windowed<String>, Object> it = s.all()) {
            Iterator<KeyValue<Windowed<String>, Object>> i = it;
            i.forEachRemaining(kv -> o.set(WindowOps.windowKey(kv.key),
                    Json.MAPPER.valueToTree(kv.value)));
        }
        return o;
    }
}
