package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** Typed access to a scenario's "params" object; a wrong type fails naming the parameter. */
final class Params {
    private final JsonNode node;

    Params(JsonNode node) {
        this.node = node == null || node.isNull() ? Json.F.objectNode() : node;
    }

    long i(String name, long dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException("param '" + name + "' must be an integer, got " + v);
        }
        return v.asLong();
    }

    /** A nullable integer: null when absent (e.g. "grace" absent means no grace period). */
    Long opt(String name) {
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : i(name, 0);
    }

    boolean b(String name, boolean dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("param '" + name + "' must be a boolean, got " + v);
        }
        return v.asBoolean();
    }

    String s(String name, String dflt, List<String> allowed) {
        JsonNode v = node.get(name);
        String out = v == null || v.isNull() ? dflt : v.asText();
        if (allowed != null && !allowed.contains(out)) {
            throw new IllegalArgumentException("param '" + name + "' must be one of " + allowed
                    + ", got " + out);
        }
        return out;
    }

    String s(String name, String dflt) {
        return s(name, dflt, null);
    }
}
