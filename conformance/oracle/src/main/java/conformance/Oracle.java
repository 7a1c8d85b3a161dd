package conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Long-lived conformance oracle: one scenario per stdin line (JSON), one result per stdout line.
 * Results are {"name", "outputs": {topic: [{key, value, timestamp}]}, "stores": {store: {k: v}},
 * "window_stores": {store: {"key@start/end": v}}} or {"name", "error"}.
 */
public final class Oracle {
    private Oracle() {}

    public static void main(String[] args) throws IOException {
        // Keep stdout for the protocol alone: anything else that prints goes to stderr.
        PrintStream protocol = System.out;
        System.setOut(System.err);
        Path stateDir = Files.createTempDirectory("conformance-oracle");
        Runner runner = new Runner(stateDir);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(protocol,
                StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode res;
            try {
                JsonNode scenario = Json.MAPPER.readTree(line);
                res = runner.run(scenario);
            } catch (IOException e) {
                res = Json.F.objectNode();
                res.put("name", "");
                res.put("error", "bad scenario JSON: " + e.getMessage());
            }
            out.write(Json.MAPPER.writeValueAsString(res));
            out.newLine();
            out.flush();
        }
    }
}
