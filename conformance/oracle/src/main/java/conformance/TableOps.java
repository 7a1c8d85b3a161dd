package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedTable;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;

/** KTable operators ("table" family): source, filter, mapValues, and re-grouping. */
final class TableOps {
    private TableOps() {}

    /** The input table; "materialized" (default true) names its store "source". */
    static KTable<String, JsonNode> source(StreamsBuilder b, Params p, Built out, String store) {
        if (p.b("materialized", true)) {
            return b.table("input", Catalogue.consumed(), Aggregations.tableStore(store, p, out));
        }
        return b.table("input", Catalogue.consumed());
    }

    static boolean build(String name, Params p, StreamsBuilder b, Built out) {
        switch (name) {
            case "table_source" -> source(b, p, out, "store").toStream().to("output");
            case "table_filter", "table_filter_not" -> {
                long min = p.i("min", 0);
                KTable<String, JsonNode> t = source(b, p, out, "source");
                boolean not = name.endsWith("_not");
                KTable<String, JsonNode> f;
                if (p.b("result_materialized", false)) {
                    var m = Aggregations.resultStore("store", p, out);
                    f = not ? t.filterNot((k, v) -> StreamOps.atLeast(v, min), m)
                            : t.filter((k, v) -> StreamOps.atLeast(v, min), m);
                } else {
                    f = not ? t.filterNot((k, v) -> StreamOps.atLeast(v, min))
                            : t.filter((k, v) -> StreamOps.atLeast(v, min));
                }
                f.toStream().to("output");
            }
            case "table_map_values" -> {
                long mul = p.i("mul", 2);
                KTable<String, JsonNode> t = source(b, p, out, "source");
                KTable<String, JsonNode> m;
                if (p.b("result_materialized", false)) {
                    m = t.mapValues(v -> times(v, mul), Aggregations.resultStore("store", p, out));
                } else {
                    m = t.mapValues(v -> times(v, mul));
                }
                m.toStream().to("output");
            }
            case "table_group_by_count", "table_group_by_reduce", "table_group_by_aggregate" -> {
                long mod = p.i("mod", 3);
                KGroupedTable<String, JsonNode> g = source(b, p, out, "source")
                        .groupBy((k, v) -> KeyValue.pair(Catalogue.modKey(v, mod), v),
                                Grouped.with(Serdes.String(), new JsonSerde()));
                out.kv("store");
                if (name.endsWith("_count")) {
                    g.count(Aggregations.countStore()).toStream()
                            .to("output", Produced.with(Serdes.String(), Serdes.Long()));
                    out.longs("output");
                    return true;
                }
                KTable<String, JsonNode> r = name.endsWith("_reduce")
                        ? g.reduce(Aggregations::sum,
                                (a, v) -> Json.num(Json.intOf(a) - Json.intOf(v)),
                                Aggregations.jsonStore("store"))
                        : g.aggregate(() -> Json.agg(0, 0),
                                (k, v, a) -> Aggregations.addTo(a, v, 1),
                                (k, v, a) -> Aggregations.addTo(a, v, -1),
                                Aggregations.jsonStore("store"));
                r.toStream().to("output");
            }
            default -> {
                return false;
            }
        }
        out.json("output");
        return true;
    }

    static JsonNode times(JsonNode v, long mul) {
        return v == null ? null : Json.num(Json.intOf(v) * mul);
    }
}
