package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.ValueJoiner;

/**
 * Joins ("joins" family). Inputs are "left" and "right"; every joiner emits {"l": .., "r": ..};
 * tables are materialized as "left-store" / "right-store".
 */
final class JoinOps {
    private static final ValueJoiner<JsonNode, JsonNode, JsonNode> PAIR = Json::pair;

    private JoinOps() {}

    /** An input table; versioned when the scenario sets "versioned" (history in ms). */
    static KTable<String, JsonNode> table(StreamsBuilder b, String topic, Params p, Built out) {
        return table(b, topic, p, out, true);
    }

    /** Unmaterialized, the join materializes the table itself (an internal store). */
    static KTable<String, JsonNode> table(StreamsBuilder b, String topic, Params p, Built out,
                                          boolean materialized) {
        if (!materialized) {
            return b.table(topic, Catalogue.consumed());
        }
        return b.table(topic, Catalogue.consumed(),
                Aggregations.tableStore(topic + "-store", p, out));
    }

    static boolean build(String name, Params p, StreamsBuilder b, Built out) {
        switch (name) {
            case "join_stream_stream" -> {
                String kind = p.s("kind", "inner", List.of("inner", "left", "outer"));
                Duration diff = Duration.ofMillis(p.i("diff", 10));
                Long grace = p.opt("grace");
                JoinWindows w = grace == null ? JoinWindows.ofTimeDifferenceWithNoGrace(diff)
                        : JoinWindows.ofTimeDifferenceAndGrace(diff, Duration.ofMillis(grace));
                StreamJoined<String, JsonNode, JsonNode> sj =
                        StreamJoined.with(Serdes.String(), new JsonSerde(), new JsonSerde());
                KStream<String, JsonNode> l = Catalogue.stream(b, "left");
                KStream<String, JsonNode> r = Catalogue.stream(b, "right");
                KStream<String, JsonNode> j = switch (kind) {
                    case "inner" -> l.join(r, PAIR, w, sj);
                    case "left" -> l.leftJoin(r, PAIR, w, sj);
                    default -> l.outerJoin(r, PAIR, w, sj);
                };
                j.to("output");
            }
            case "join_stream_table" -> {
                String kind = p.s("kind", "inner", List.of("inner", "left"));
                KStream<String, JsonNode> l = Catalogue.stream(b, "left");
                KTable<String, JsonNode> r = table(b, "right", p, out);
                Long grace = p.opt("grace");
                if (grace == null) {
                    (kind.equals("inner") ? l.join(r, PAIR) : l.leftJoin(r, PAIR)).to("output");
                } else {
                    Joined<String, JsonNode, JsonNode> jd = Joined.with(Serdes.String(),
                            new JsonSerde(), new JsonSerde()).withGracePeriod(Duration.ofMillis(grace));
                    (kind.equals("inner") ? l.join(r, PAIR, jd) : l.leftJoin(r, PAIR, jd))
                            .to("output");
                }
            }
            case "join_table_table" -> {
                String kind = p.s("kind", "inner", List.of("inner", "left", "outer"));
                boolean materialized = p.b("materialized", true);
                KTable<String, JsonNode> l = table(b, "left", p, out, materialized);
                KTable<String, JsonNode> r = table(b, "right", p, out, materialized);
                KTable<String, JsonNode> j;
                if (p.b("result_materialized", false)) {
                    var m = Aggregations.resultStore("store", p, out);
                    j = switch (kind) {
                        case "inner" -> l.join(r, PAIR, m);
                        case "left" -> l.leftJoin(r, PAIR, m);
                        default -> l.outerJoin(r, PAIR, m);
                    };
                } else {
                    j = switch (kind) {
                        case "inner" -> l.join(r, PAIR);
                        case "left" -> l.leftJoin(r, PAIR);
                        default -> l.outerJoin(r, PAIR);
                    };
                }
                j.toStream().to("output");
            }
            case "join_stream_globaltable" -> {
                String kind = p.s("kind", "inner", List.of("inner", "left"));
                String mapper = p.s("mapper", "key", List.of("key", "value_mod"));
                long mod = p.i("mod", 3);
                KStream<String, JsonNode> l = Catalogue.stream(b, "left");
                out.kv("right-store");
                GlobalKTable<String, JsonNode> g = b.globalTable("right", Catalogue.consumed(),
                        Aggregations.jsonStore("right-store"));
                KeyValueMapper<String, JsonNode, String> km = mapper.equals("key")
                        ? (k, v) -> k : (k, v) -> Catalogue.modKey(v, mod);
                (kind.equals("inner") ? l.join(g, km, PAIR) : l.leftJoin(g, km, PAIR))
                        .to("output");
            }
            case "join_foreign_key" -> {
                String kind = p.s("kind", "inner", List.of("inner", "left"));
                KTable<String, JsonNode> l = table(b, "left", p, out);
                KTable<String, JsonNode> r = table(b, "right", p, out);
                BiFunction<String, JsonNode, String> fk = (k, v) -> foreignKey(v);
                (kind.equals("inner") ? l.join(r, fk, PAIR) : l.leftJoin(r, fk, PAIR))
                        .toStream().to("output");
            }
            default -> {
                return false;
            }
        }
        out.json("output");
        return true;
    }

    /** Left values of the foreign-key join are {"fk": "a", "v": 1}; a missing fk is null. */
    static String foreignKey(JsonNode v) {
        JsonNode fk = v == null ? null : v.get("fk");
        return fk == null || fk.isNull() ? null : fk.asText();
    }
}
