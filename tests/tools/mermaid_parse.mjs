// Parse a Mermaid diagram from stdin with mermaid's own parser (under jsdom, no browser).
// Prints the diagram type and exits 0, or prints the parse error and exits 1.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  const result = await mermaid.parse(text);
  console.log(result.diagramType);
} catch (err) {
  console.error(String(err?.message ?? err));
  process.exit(1);
}
