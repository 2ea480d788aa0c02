// The tokenizer benchmark's peer: the reference implementation (@lenml/tokenizers, a port of
// transformers.js, in node) on the same tokenizer.json files and text as strata-bench's
// tokenizer_encode/* and tokenizer_load/*, and the table putting the two side by side.
//   node native/bench/tokenizer_peer.mjs run --text FILE --gpt2 DIR --out peer.json
//   node native/bench/tokenizer_peer.mjs table --strata strata.json --peer peer.json
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const modules = join(root, 'tests/tokenizer/node_modules');
const args = Object.fromEntries(process.argv.slice(3).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));

if (process.argv[2] === 'run') {
  const { TokenizerLoader } = createRequire(join(modules, 'x.js'))('@lenml/tokenizers');
  const lenml = (n) => [join(modules, `@lenml/tokenizer-${n}/models/tokenizer.json`), join(modules, `@lenml/tokenizer-${n}/models/tokenizer_config.json`)];
  const files = { llama2: lenml('llama2'), llama3: lenml('llama3'), qwen3: lenml('qwen3'), gemma3: lenml('gemma3'),
    gpt2: [join(args.gpt2, 'tokenizer.json'), join(args.gpt2, 'tokenizer_config.json')],
    'strata-default': [join(root, 'assets/model/tokenizer.json'), null] };
  const text = readFileSync(args.text, 'utf8');
  const bytes = Buffer.byteLength(text);
  const out = {};
  for (const [name, [json, config]] of Object.entries(files)) {
    const t0 = performance.now();
    const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(readFileSync(json, 'utf8')),
      tokenizerConfig: config ? JSON.parse(readFileSync(config, 'utf8')) : { tokenizer_class: 'GPT2Tokenizer' } });
    const loadMs = performance.now() - t0;
    // Repeated for at least 2 s. The reference's BPE keeps an LRU cache of pieces across
    // calls, so runs after the first are warm; strata caches within one call only, so the
    // table compares with the first (cold) run, and the warm mean is kept in the JSON.
    let runs = 0, first = 0, total = 0;
    while (total < 2000 || runs < 2) {
      const t1 = performance.now();
      tok.encode(text, { add_special_tokens: false });
      const ms = performance.now() - t1;
      if (runs === 0) first = ms;
      total += ms;
      ++runs;
    }
    out[name] = { load_ms: loadMs, first_mb_s: bytes / 1e6 / (first / 1000), mean_mb_s: bytes / 1e6 / (total / runs / 1000), runs };
    console.error(`peer ${name}: load ${loadMs.toFixed(0)} ms, ${out[name].first_mb_s.toFixed(3)} MB/s first run, ${out[name].mean_mb_s.toFixed(3)} MB/s over ${runs}`);
  }
  writeFileSync(args.out, JSON.stringify({ text: args.text, bytes, node: process.version, tokenizers: out }, null, 2) + '\n');
} else if (process.argv[2] === 'table') {
  const strata = JSON.parse(readFileSync(args.strata, 'utf8'));
  const peer = JSON.parse(readFileSync(args.peer, 'utf8'));
  const find = (n) => strata.benchmarks.find((b) => b.name === n || b.run_name === n);
  const lines = ['| tokenizer | strata encode MB/s | reference (node) MB/s, cold / warm | ratio (cold) | strata load ms | reference load ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const [name, p] of Object.entries(peer.tokenizers)) {
    const enc = find(`tokenizer_encode/${name}/real_time`) ?? find(`tokenizer_encode/${name}`);
    const load = find(`tokenizer_load/${name}/real_time`) ?? find(`tokenizer_load/${name}`);
    const mbs = enc ? enc.bytes_per_second / 1e6 : NaN;
    lines.push(`| ${name} | ${mbs.toFixed(2)} | ${p.first_mb_s.toFixed(3)} / ${p.mean_mb_s.toFixed(3)} | ${(mbs / p.first_mb_s).toFixed(1)}× | ${load ? load.real_time.toFixed(0) : '-'} | ${p.load_ms.toFixed(0)} |`);
  }
  console.log(`Tokenizers on ${peer.text} (${peer.bytes} bytes), encode without template tokens; reference: @lenml/tokenizers 3.7.2 on node ${peer.node} (cold: its first run; warm: the mean of all its runs over at least 2 s, the later ones with its piece cache filled).\n`);
  console.log(lines.join('\n'));
} else {
  console.error('usage: tokenizer_peer.mjs run --text FILE --gpt2 DIR --out FILE | table --strata FILE --peer FILE');
  process.exit(2);
}
