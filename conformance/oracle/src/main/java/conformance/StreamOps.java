package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;

/** Stateless KStream operators ("stream" family), each ending in a sink. */
final class StreamOps {
    private StreamOps() {}

    static boolean atLeast(JsonNode v, long min) {
        return v != null && Json.intOf(v) >= min;
    }

    static boolean below(JsonNode v, long bound) {
        return v != null && Json.intOf(v) < bound;
    }

    static boolean build(String name, Params p, StreamsBuilder b, Built out) {
        switch (name) {
            case "stream_map_values" -> {
                long add = p.i("add", 1);
                Catalogue.stream(b, "input").mapValues(v -> Catalogue.plus(v, add)).to("output");
            }
            case "stream_filter" -> {
                long min = p.i("min", 0);
                Catalogue.stream(b, "input").filter((k, v) -> atLeast(v, min)).to("output");
            }
            case "stream_filter_not" -> {
                long min = p.i("min", 0);
                Catalogue.stream(b, "input").filterNot((k, v) -> atLeast(v, min)).to("output");
            }
            case "stream_map" -> {
                String suffix = p.s("suffix", "x");
                long add = p.i("add", 0);
                Catalogue.stream(b, "input")
                        .map((k, v) -> KeyValue.pair(k == null ? null : k + suffix,
                                Catalogue.plus(v, add)))
                        .to("output");
            }
            case "stream_select_key" -> {
                long mod = p.i("mod", 3);
                Catalogue.stream(b, "input").selectKey((k, v) -> Catalogue.modKey(v, mod))
                        .to("output");
            }
            case "stream_flat_map" -> {
                long n = p.i("n", 2);
                Catalogue.stream(b, "input").flatMap((k, v) -> {
                    List<KeyValue<String, JsonNode>> kvs = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        kvs.add(KeyValue.pair(k == null ? null : k + "-" + i, v));
                    }
                    return kvs;
                }).to("output");
            }
            case "stream_flat_map_values" -> {
                long n = p.i("n", 2);
                Catalogue.stream(b, "input").flatMapValues(v -> {
                    List<JsonNode> vs = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        vs.add(Catalogue.plus(v, i));
                    }
                    return vs;
                }).to("output");
            }
            case "stream_branch" -> {
                long first = p.i("first", 0);
                long second = p.i("second", 10);
                Catalogue.stream(b, "input").split(Named.as("split-"))
                        .branch((k, v) -> below(v, first),
                                Branched.withConsumer(s -> s.to("output-0")))
                        .branch((k, v) -> below(v, second),
                                Branched.withConsumer(s -> s.to("output-1")))
                        .defaultBranch(Branched.withConsumer(s -> s.to("output-2")));
                out.json("output-0", "output-1", "output-2");
                return true;
            }
            case "stream_merge" -> {
                long add = p.i("add", 0);
                KStream<String, JsonNode> left = Catalogue.stream(b, "input");
                left.merge(Catalogue.stream(b, "input2")).mapValues(v -> Catalogue.plus(v, add))
                        .to("output");
            }
            case "stream_to_table" -> {
                Catalogue.stream(b, "input").toTable(Aggregations.tableStore("store", p, out))
                        .toStream().to("output");
            }
            default -> {
                return false;
            }
        }
        out.json("output");
        return true;
    }
}
