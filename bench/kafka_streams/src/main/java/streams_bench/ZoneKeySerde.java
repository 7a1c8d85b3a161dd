package streams_bench;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The session store's key serde: a zone id ("1".."265", a String in the topology) as a 4-byte
 * int. A session store key is [key][end][start]; with variable-length keys the range a lookup
 * of "1" scans also spans every stored session of "10".."199" (their bytes sort between
 * "1"+end and "1"+max), so each lookup walked a growing share of the store and the pipeline
 * slowed down as it ran. Fixed-width keys keep each lookup to the key's own sessions.
 */
final class ZoneKeySerde implements Serde<String> {
  @Override
  public Serializer<String> serializer() {
    return (topic, zone) -> zone == null ? null
        : ByteBuffer.allocate(4).putInt(Integer.parseInt(zone)).array();
  }

  @Override
  public Deserializer<String> deserializer() {
    return (topic, bytes) -> bytes == null ? null
        : Integer.toString(ByteBuffer.wrap(bytes).getInt());
  }
}
