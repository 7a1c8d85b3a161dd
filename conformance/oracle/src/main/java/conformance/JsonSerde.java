package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** JSON value serde; a Java null is a tombstone (null bytes), never the JSON literal null. */
public final class JsonSerde implements Serde<JsonNode> {
    @Override
    public Serializer<JsonNode> serializer() {
        return (topic, data) -> {
            if (data == null) {
                return null;
            }
            try {
                return Json.MAPPER.writeValueAsBytes(data);
            } catch (IOException e) {
                throw new SerializationException(e);
            }
        };
    }

    @Override
    public Deserializer<JsonNode> deserializer() {
        return (topic, data) -> {
            if (data == null) {
                return null;
            }
            try {
                return Json.MAPPER.readTree(data);
            } catch (IOException e) {
                throw new SerializationException(e);
            }
        };
    }
}
