package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;

/**
 * The reference topologies, by name. Each family lives in its own class and returns false for a
 * name it does not know. Conventions shared with conformance/catalogue.py: keys are strings,
 * values JSON, counts are longs, windowed keys are written as "key@start/end".
 */
final class Catalogue {
    private Catalogue() {}

    static Built build(String name, Params p) {
        StreamsBuilder b = new StreamsBuilder();
        Built out = new Built();
        boolean known = StreamOps.build(name, p, b, out)
                || Aggregations.build(name, p, b, out)
                || TableOps.build(name, p, b, out)
                || WindowOps.build(name, p, b, out)
                || JoinOps.build(name, p, b, out);
        if (!known) {
            throw new IllegalArgumentException("unknown topology '" + name + "'");
        }
        out.topology = b.build();
        return out;
    }

    static Consumed<String, JsonNode> consumed() {
        return Consumed.with(Serdes.String(), new JsonSerde());
    }

    static KStream<String, JsonNode> stream(StreamsBuilder b, String topic) {
        return b.stream(topic, consumed());
    }

    /** Re-keying used by select_key / group_by: the value modulo `mod` (floor mod), null -> null. */
    static String modKey(JsonNode v, long mod) {
        return v == null ? null : String.valueOf(Math.floorMod(Json.intOf(v), mod));
    }

    static JsonNode plus(JsonNode v, long add) {
        return v == null ? null : Json.num(Json.intOf(v) + add);
    }
}
