// Builds the console into dist/ (or the folder given as the first
// argument): regenerates the protobuf code with buf, type-checks, bundles
// with esbuild and copies the page and its styles. The output is committed
// and embedded in reserve-server; the e2e test `console_bundle_is_up_to_date`
// rebuilds it into a temporary folder and compares.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));
const bin = (name) => join(here, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: here, stdio: "inherit" });

run(bin("buf"), ["generate"]);
run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]);
mkdirSync(out, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  charset: "utf8",
  legalComments: "none",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "src", "app.css"), join(out, "app.css"));
console.log(`console built into ${out}`);
