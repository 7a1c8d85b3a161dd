package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.CogroupedKStream;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Initializer;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindowedKStream;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindowedKStream;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Windowed aggregations ("windows" family): tumbling, hopping, sliding and session windows,
 * count or sum-reduce, emitted on every update, through suppress(untilWindowCloses), or with
 * EmitStrategy.onWindowClose. Output keys are "key@start/end".
 */
final class WindowOps {
    private WindowOps() {}

    static Duration ms(long v) {
        return Duration.ofMillis(v);
    }

    /**
     * Two streams cogrouped per time, sliding or session window ("cogroup_window"). No
     * suppress variant: Kafka Streams 4.4 gives the windowed cogroup table the plain key serde,
     * so its suppression buffer fails to serialize the Windowed key.
     */
    static boolean cogroup(Params p, StreamsBuilder b, Built out) {
        String kind = p.s("kind", "tumbling", List.of("tumbling", "sliding", "session"));
        String emit = "update";
        Duration grace = ms(p.i("grace", 0));
        CogroupedKStream<String, JsonNode> c = Catalogue.stream(b, "input").groupByKey()
                .<JsonNode>cogroup((k, v, a) -> Aggregations.addTo(a, v, 1))
                .cogroup(Catalogue.stream(b, "input2").groupByKey(),
                        (k, v, a) -> Aggregations.addTo(a, v, -1));
        Initializer<JsonNode> init = () -> Json.agg(0, 0);
        switch (kind) {
            case "tumbling" -> sink(c.windowedBy(TimeWindows.ofSizeAndGrace(ms(10), grace))
                    .aggregate(init, Materialized.<String, JsonNode, WindowStore<Bytes, byte[]>>as(
                            "store").withValueSerde(new JsonSerde())), emit, new JsonSerde());
            case "sliding" -> sink(c.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(ms(10),
                    grace)).aggregate(init, Materialized.<String, JsonNode,
                            WindowStore<Bytes, byte[]>>as("store").withValueSerde(new JsonSerde())),
                    emit, new JsonSerde());
            default -> sink(c.windowedBy(SessionWindows.ofInactivityGapAndGrace(ms(10), grace))
                    .aggregate(init, (k, x, y) -> Json.agg(
                                    x.path("n").asLong() + y.path("n").asLong(),
                                    x.path("sum").asLong() + y.path("sum").asLong()),
                            Materialized.<String, JsonNode, SessionStore<Bytes, byte[]>>as("store")
                                    .withValueSerde(new JsonSerde())), emit, new JsonSerde());
        }
        if (!kind.equals("session")) {
            out.windowStores.add("store");
        }
        out.json("output");
        return true;
    }

    static boolean build(String name, Params p, StreamsBuilder b, Built out) {
        if (name.equals("cogroup_window")) {
            return cogroup(p, b, out);
        }
        if (!List.of("window_tumbling", "window_hopping", "window_sliding", "window_session")
                .contains(name)) {
            return false;
        }
        String agg = p.s("agg", "count", List.of("count", "reduce"));
        String emit = p.s("emit", "update", List.of("update", "suppress", "on_window_close"));
        Long grace = p.opt("grace");
        Long retention = p.opt("retention");  // Materialized.withRetention, when set
        KGroupedStream<String, JsonNode> g = Catalogue.stream(b, "input").groupByKey();
        switch (name) {
            case "window_tumbling", "window_hopping" -> {
                Duration size = ms(p.i("size", 10));
                TimeWindows w = grace == null ? TimeWindows.ofSizeWithNoGrace(size)
                        : TimeWindows.ofSizeAndGrace(size, ms(grace));
                if (name.equals("window_hopping")) {
                    w = w.advanceBy(ms(p.i("advance", 5)));
                }
                timeWindowed(g.windowedBy(w), agg, emit, retention, out);
            }
            case "window_sliding" -> {
                Duration diff = ms(p.i("diff", 10));
                SlidingWindows w = grace == null ? SlidingWindows.ofTimeDifferenceWithNoGrace(diff)
                        : SlidingWindows.ofTimeDifferenceAndGrace(diff, ms(grace));
                timeWindowed(g.windowedBy(w), agg, emit, retention, out);
            }
            default -> {
                Duration gap = ms(p.i("gap", 10));
                SessionWindows w = grace == null ? SessionWindows.ofInactivityGapWithNoGrace(gap)
                        : SessionWindows.ofInactivityGapAndGrace(gap, ms(grace));
                SessionWindowedKStream<String, JsonNode> s = g.windowedBy(w);
                if (emit.equals("on_window_close")) {
                    s = s.emitStrategy(EmitStrategy.onWindowClose());
                }
                if (agg.equals("count")) {
                    sink(s.count(retained(Materialized.<String, Long, SessionStore<Bytes, byte[]>>as(
                            "store").withValueSerde(Serdes.Long()), retention)), emit, Serdes.Long());
                    out.longs("output");
                } else {
                    sink(s.reduce(Aggregations::sum,
                            retained(Materialized.<String, JsonNode, SessionStore<Bytes, byte[]>>as(
                                    "store").withValueSerde(new JsonSerde()), retention)),
                            emit, new JsonSerde());
                    out.json("output");
                }
            }
        }
        return true;
    }

    static <V, S extends StateStore> Materialized<String, V, S> retained(
            Materialized<String, V, S> m, Long retention) {
        return retention == null ? m : m.withRetention(ms(retention));
    }

    static void timeWindowed(TimeWindowedKStream<String, JsonNode> w, String agg, String emit,
                             Long retention, Built out) {
        if (emit.equals("on_window_close")) {
            w = w.emitStrategy(EmitStrategy.onWindowClose());
        }
        if (agg.equals("count")) {
            sink(w.count(retained(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("store")
                    .withValueSerde(Serdes.Long()), retention)), emit, Serdes.Long());
            out.longs("output");
        } else {
            sink(w.reduce(Aggregations::sum,
                    retained(Materialized.<String, JsonNode, WindowStore<Bytes, byte[]>>as("store")
                            .withValueSerde(new JsonSerde()), retention)), emit, new JsonSerde());
            out.json("output");
        }
        out.windowStores.add("store");
    }

    static <V> void sink(KTable<Windowed<String>, V> t, String emit, Serde<V> serde) {
        if (emit.equals("suppress")) {
            t = t.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
        }
        t.toStream()
                .map((wk, v) -> KeyValue.pair(windowKey(wk), v))
                .to("output", Produced.with(Serdes.String(), serde));
    }

    static String windowKey(Windowed<String> wk) {
        return wk.key() + "@" + wk.window().start() + "/" + wk.window().end();
    }
}
