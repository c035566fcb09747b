// Offline schema validation of rendered Kubernetes manifests, two complementary passes:
//  1. kubernetes-models' validators (JSON Schema generated from the Kubernetes OpenAPI spec):
//     types, required fields, enums, formats - but, like the OpenAPI spec, they accept unknown
//     fields;
//  2. the TypeScript compiler on the same package's interfaces: every document becomes a typed
//     object literal, so a misspelt or misplaced field is an excess-property error (what
//     `kubectl apply --validate=strict` reports against a live API server).
// Usage: node validate.mjs FILE.yaml...   Prints JSON {file: {objects, errors}} on stdout; exits 0
// even when documents are invalid (the pytest suite asserts on the errors), 2 on bad usage.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const YAML = require("yaml");
const ts = require("typescript");

// apiVersion "apps/v1" -> "kubernetes-models/apps/v1/<Kind>", "v1" -> "kubernetes-models/v1/<Kind>".
function modelModule(obj) {
  if (typeof obj?.apiVersion !== "string" || typeof obj?.kind !== "string") return null;
  if (!/^[a-z0-9.]+(\/v[0-9a-z]+)?$/.test(obj.apiVersion) || !/^[A-Za-z]+$/.test(obj.kind)) {
    return null;
  }
  return `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
}

function hasModel(obj) {
  const mod = modelModule(obj);
  try {
    return mod !== null && typeof require(mod)[obj.kind] === "function";
  } catch {
    return false;
  }
}

function schemaErrors(obj) {
  const mod = modelModule(obj);
  if (!mod) return ["missing or malformed apiVersion/kind"];
  let Model;
  try {
    Model = require(mod)[obj.kind];
  } catch {
    return [`unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`];
  }
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [String(e.message ?? e)];
  }
}

// One .ts module per input file; returns {docIndex: [messages]} from the type checker. Only
// documents whose model exists take part (the others already failed the schema pass).
function typeErrors(docs) {
  const typed = docs.map((obj, i) => [obj, i]).filter(([obj]) => hasModel(obj));
  const lines = typed.map(
    ([obj, i]) => `import type { I${obj.kind} as T${i} } from "${modelModule(obj)}";`,
  );
  const starts = [];
  for (const [obj, i] of typed) {
    starts.push([lines.length, i]);
    lines.push(...`export const doc${i}: T${i} = ${JSON.stringify(obj, null, 1)};`.split("\n"));
  }
  const text = lines.join("\n");
  const dir = mkdtempSync(join(tmpdir(), "deploy-validate-"));
  const file = join(dir, "manifests.ts");
  writeFileSync(file, text);
  const options = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
    typeRoots: [],
    baseUrl: here,
  };
  // Resolve the package from this directory's node_modules, not from the temp dir.
  const host = ts.createCompilerHost(options);
  const resolve = (name, containing) =>
    ts.resolveModuleName(name, join(here, "x.ts"), options, host).resolvedModule;
  host.resolveModuleNames = (names, containing) =>
    names.map((n) => (containing === file ? resolve(n) : ts.resolveModuleName(n, containing, options, host).resolvedModule));
  const program = ts.createProgram([file], options, host);
  const out = {};
  const push = (i, msg) => (out[i] ??= []).push(msg);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.file.fileName !== file) {
      push(-1, msg);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    let doc = -1;
    for (const [start, i] of starts) if (line >= start) doc = i;
    const path = lines[line].trim().slice(0, 120);
    push(doc, `${msg} (at: ${path})`);
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(2);
}
const result = {};
for (const f of files) {
  const errors = [];
  const docs = [];
  for (const d of YAML.parseAllDocuments(readFileSync(f, "utf8"))) {
    if (d.errors.length) errors.push(...d.errors.map((e) => `YAML: ${e.message}`));
    const obj = d.toJS();
    if (obj !== null && obj !== undefined) docs.push(obj);
  }
  docs.forEach((obj, i) => {
    for (const e of schemaErrors(obj)) errors.push(`${obj?.kind}/${obj?.metadata?.name}: schema: ${e}`);
  });
  for (const [i, msgs] of Object.entries(typeErrors(docs))) {
    const obj = docs[Number(i)];
    const who = obj ? `${obj.kind}/${obj.metadata?.name}` : "(program)";
    for (const m of msgs) errors.push(`${who}: type: ${m}`);
  }
  result[f] = { objects: docs, errors };
}
process.stdout.write(JSON.stringify(result));
