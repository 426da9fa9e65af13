// Fails when src/schema.ts is not what openapi-typescript makes of the
// current functions/http/openapi.json: run `npm run generate` and commit.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "portal-schema-"));
try {
  const fresh = join(dir, "schema.ts");
  execFileSync(
    join(root, "node_modules", ".bin", "openapi-typescript"),
    [join(root, "..", "..", "functions", "http", "openapi.json"), "--output", fresh],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const committed = readFileSync(join(root, "src", "schema.ts"), "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error(
      "clients/typescript/src/schema.ts is stale: openapi.json changed. Run `npm run generate` in clients/typescript and commit the result.",
    );
    process.exit(1);
  }
  console.log("src/schema.ts matches functions/http/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
