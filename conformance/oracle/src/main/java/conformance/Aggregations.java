package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/** Grouped-stream aggregations ("aggregate" family): by key, or re-keyed through a repartition. */
final class Aggregations {
    private static final java.util.Set<String> OPS = java.util.Set.of("count", "reduce", "aggregate");

    private Aggregations() {}

    static Materialized<String, Long, KeyValueStore<Bytes, byte[]>> countStore() {
        return Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("store")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long());
    }

    static Materialized<String, JsonNode, KeyValueStore<Bytes, byte[]>> jsonStore(String name) {
        return Materialized.<String, JsonNode, KeyValueStore<Bytes, byte[]>>as(name)
                .withKeySerde(Serdes.String()).withValueSerde(new JsonSerde());
    }

    /**
     * A table's store: versioned (Stores.persistentVersionedKeyValueStore) when the scenario
     * sets "versioned" to a history retention in ms, else a key-value store dumped at the end
     * (a versioned store has no iterator, so it is not dumped).
     */
    static Materialized<String, JsonNode, KeyValueStore<Bytes, byte[]>> tableStore(
            String name, Params p, Built out) {
        return store(name, new JsonSerde(), p, out);
    }

    /** A table operator's result store, versioned when "result_versioned" is set. */
    static Materialized<String, JsonNode, KeyValueStore<Bytes, byte[]>> resultStore(
            String name, Params p, Built out) {
        return store(name, new JsonSerde(), p.opt("result_versioned"), out);
    }

    static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> store(
            String name, org.apache.kafka.common.serialization.Serde<V> values, Params p,
            Built out) {
        return store(name, values, p.opt("versioned"), out);
    }

    static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> store(
            String name, org.apache.kafka.common.serialization.Serde<V> values, Long history,
            Built out) {
        if (history == null) {
            out.kv(name);
            return Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(name)
                    .withKeySerde(Serdes.String()).withValueSerde(values);
        }
        return Materialized.<String, V>as(Stores.persistentVersionedKeyValueStore(
                        name, Duration.ofMillis(history)))
                .withKeySerde(Serdes.String()).withValueSerde(values);
    }

    static JsonNode sum(JsonNode a, JsonNode v) {
        return Json.num(Json.intOf(a) + Json.intOf(v));
    }

    static JsonNode addTo(JsonNode agg, JsonNode v, int sign) {
        return Json.agg(agg.path("n").asLong() + sign,
                agg.path("sum").asLong() + sign * Json.intOf(v));
    }

    /** Two streams cogrouped into one aggregate; "mod" > 0 re-keys the second one first. */
    static boolean cogroup(Params p, StreamsBuilder b, Built out) {
        Grouped<String, JsonNode> grouped = Grouped.with(Serdes.String(), new JsonSerde());
        KGroupedStream<String, JsonNode> first = Catalogue.stream(b, "input").groupByKey(grouped);
        KStream<String, JsonNode> in2 = Catalogue.stream(b, "input2");
        long mod = p.i("mod", 0);
        KGroupedStream<String, JsonNode> second = mod > 0
                ? in2.groupBy((k, v) -> Catalogue.modKey(v, mod), grouped)
                : in2.groupByKey(grouped);
        long init = p.i("init", 0);
        first.<JsonNode>cogroup((k, v, a) -> addTo(a, v, 1))
                .cogroup(second, (k, v, a) -> addTo(a, v, -1))
                .aggregate(() -> Json.agg(0, init), tableStore("store", p, out)).toStream()
                .to("output", Produced.with(Serdes.String(), new JsonSerde()));
        out.json("output");
        return true;
    }

    static boolean build(String name, Params p, StreamsBuilder b, Built out) {
        if (name.equals("cogroup_aggregate")) {
            return cogroup(p, b, out);
        }
        boolean byKey = name.startsWith("group_by_key_");
        String op = name.replaceFirst("^group_by_(key_)?", "");
        if (!name.startsWith("group_by_") || !OPS.contains(op)) {
            return false;
        }
        KStream<String, JsonNode> in = Catalogue.stream(b, "input");
        KGroupedStream<String, JsonNode> g;
        if (byKey) {
            g = in.groupByKey(Grouped.with(Serdes.String(), new JsonSerde()));
        } else {
            long mod = p.i("mod", 3);
            g = in.groupBy((k, v) -> Catalogue.modKey(v, mod),
                    Grouped.with(Serdes.String(), new JsonSerde()));
        }
        switch (op) {
            case "count" -> {
                g.count(store("store", Serdes.Long(), p, out)).toStream()
                        .to("output", Produced.with(
                                Serdes.String(), Serdes.Long()));
                out.longs("output");
            }
            case "reduce" -> {
                g.reduce(Aggregations::sum, tableStore("store", p, out)).toStream()
                        .to("output", Produced.with(Serdes.String(), new JsonSerde()));
                out.json("output");
            }
            case "aggregate" -> {
                long init = p.i("init", 0);
                g.aggregate(() -> Json.agg(0, init), (k, v, a) -> addTo(a, v, 1),
                        tableStore("store", p, out)).toStream()
                        .to("output", Produced.with(Serdes.String(), new JsonSerde()));
                out.json("output");
            }
            default -> {
                return false;
            }
        }
        return true;
    }
}
