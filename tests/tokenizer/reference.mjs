// The reference ids: @lenml/tokenizers (a port of transformers.js's tokenizers) on one
// tokenizer.json + tokenizer_config.json, for each text file given.
//   node reference.mjs <tokenizer.json> <tokenizer_config.json> <out dir> <text>...
// For each text writes <out dir>/<basename>.plain.json (encode(text, {add_special_tokens:
// false})) and <basename>.special.json (the default, add_special_tokens: true), and prints
// the encoding time per text (MB/s of input) on stderr.
import { TokenizerLoader } from '@lenml/tokenizers';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [jsonPath, configPath, outDir, ...texts] = process.argv.slice(2);
if (!jsonPath || !configPath || !outDir || texts.length === 0) {
  console.error('usage: node reference.mjs <tokenizer.json> <tokenizer_config.json> <out dir> <text>...');
  process.exit(2);
}
const t0 = performance.now();
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(jsonPath, 'utf8')),
  tokenizerConfig: JSON.parse(readFileSync(configPath, 'utf8')),
});
console.error(`reference: loaded ${jsonPath} in ${(performance.now() - t0).toFixed(0)} ms`);
for (const path of texts) {
  const bytes = readFileSync(path);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);  // the texts are valid UTF-8
  const name = basename(path).replace(/\.[^.]*$/, '');
  const t1 = performance.now();
  const plain = tokenizer.encode(text, { add_special_tokens: false });
  const seconds = (performance.now() - t1) / 1000;
  const special = tokenizer.encode(text);
  writeFileSync(join(outDir, `${name}.plain.json`), JSON.stringify(plain) + '\n');
  writeFileSync(join(outDir, `${name}.special.json`), JSON.stringify(special) + '\n');
  console.error(`reference: ${name}: ${plain.length} ids, ${(bytes.length / 1e6 / seconds).toFixed(3)} MB/s`);
}
