package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Shared Jackson mapper and small constructors for the integer/object values scenarios use. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Json() {}

    /** Scenario values are nullable; a JSON null stands for a Kafka tombstone (no value). */
    static JsonNode orTombstone(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n;
    }

    static JsonNode num(long v) {
        return F.numberNode(v);
    }

    /**
     * The integer a value carries: the number itself, or its "v" field for object values. Null
     * counts as 0: some paths (windowed reduce with onWindowClose) hand null values to reducers.
     */
    static long intOf(JsonNode v) {
        if (v == null) {
            return 0;
        }
        return v.isObject() ? v.path("v").asLong() : v.asLong();
    }

    static JsonNode nullable(JsonNode n) {
        return n == null ? F.nullNode() : n;
    }

    /** The joined value every join topology emits: {"l": left, "r": right} (nulls kept). */
    static ObjectNode pair(JsonNode l, JsonNode r) {
        ObjectNode o = F.objectNode();
        o.set("l", nullable(l));
        o.set("r", nullable(r));
        return o;
    }

    /** The aggregate value: {"n": count, "sum": total}. */
    static ObjectNode agg(long n, long sum) {
        ObjectNode o = F.objectNode();
        o.put("n", n);
        o.put("sum", sum);
        return o;
    }
}
