// The adversarial texts of the reference comparison: every Unicode general category (one or
// more characters each, alone and in context), emoji with skin tones and ZWJ sequences, flags,
// CJK, combining marks, right-to-left scripts, NBSP and other spaces, runs of spaces, tabs,
// newlines and CRLF, long digit runs, contractions in both cases, the tokenizer's own added
// tokens' text, the empty text, and deterministic random mixtures of all of these.
//
// Left out on purpose, because transformers.js (the reference here) and the Hugging Face
// tokenizers disagree on them and strata follows the latter (tests/core/tokenizer/):
// U+0085 and U+FEFF (JavaScript's \s lacks the first and adds the second), U+017F "ſ"
// (Oniguruma's case-insensitive contractions match it), U+180E; also characters newer than
// Unicode 13, where node's ICU, PCRE2 and utf8proc may not share a version.
export const categories = {
  Lu: ['A', 'Z', 'Ä', 'Ω', 'Ж'], Ll: ['a', 'z', 'ß', 'ω', 'ж'], Lt: ['ǅ', 'ᾈ'], Lm: ['ʰ', 'ー', 'ᵃ'],
  Lo: ['ก', 'א', 'ب', '漢', 'ㄅ'], Mn: ['\u0301', '\u0308', '\u05B4', '\u0E31'], Mc: ['\u0903', '\u0BBE'],
  Me: ['\u20DD', '\u20E3'], Nd: ['7', '٣', '९', '７'], Nl: ['Ⅻ', 'ↂ'], No: ['½', '²', '①'],
  Pc: ['_', '‿'], Pd: ['-', '—', '–'], Ps: ['(', '「', '['], Pe: [')', '」', ']'], Pi: ['«', '‘', '“'],
  Pf: ['»', '’', '”'], Po: ['!', '¿', '。', '،', '#', '&', '~'], Sm: ['+', '∑', '≠', '<', '|'],
  Sc: ['$', '€', '£', '¥'], Sk: ['^', '˚', '`'], So: ['©', '☃', '°', '♥'],
  Zs: [' ', '\u00A0', '\u2003', '\u2009', '\u202F', '\u3000'], Zl: ['\u2028'], Zp: ['\u2029'],
  Cc: ['\u0000', '\u0001', '\u0009', '\u000B', '\u001F', '\u007F', '\u0090'],
  Cf: ['\u00AD', '\u200B', '\u200D', '\u202E', '\u2066'], Co: ['\uE000', '\u{F0000}'], Cn: ['\u0378', '\uFFFF'],
  // Cs (surrogates) cannot occur in well-formed UTF-8.
};

const fixed = [
  '', ' ', 'a', 'Hello, world!', 'Hello world',
  '👍🏽 👍🏿👋🏻', '👨‍👩‍👧‍👦 family', '🏳️‍🌈 and 🏴‍☠️', '🇫🇷🇯🇵🇺🇸', '1️⃣ #️⃣', '😀😃😄😁😆😅🤣😂', 'I ❤️ NY',
  '日本語のテキスト、中文测试。한국어 텍스트', '漢字かな交じり文', '我爱北京天安门！',
  'e\u0301 a\u0308\u0301\u0323 n\u0303', 'Z\u0351\u0368a\u0357l\u0350g\u0352o', 'cafe\u0301 café',
  'مرحبا بالعالم ١٢٣', 'שָׁלוֹם עולם', 'abc مرحبا def שלום 123', '\u202Eevil\u202C text',
  'a\u00A0b', 'a\u2009b\u3000c', 'a \u00A0 b', '\u00A0\u00A0x', 'x\u200By',
  '   ', '\t\t', '\n\n\n', '\r\n\r\n', ' \n \n', 'a  \t\n b', 'word   ', '   word', ' \t \r\n  x  \n',
  'a\r\nb\rc\nd', '\n', '\r', 'line1\n\n\n\n\n\nline2', 'tab\t\t\t\t\tend', ' '.repeat(300), '\n'.repeat(40),
  '1234567890123456789012345', '3.14159265358979', '1,000,000.00', '١٢٣٤٥٦٧', 'x2y3z45', '00000007', '２０２４年',
  "I'm you're he's we've they'll I'd can't", "I'M YOU'RE HE'S WE'VE THEY'LL I'D CAN'T", "It'S don'T",
  "'s 't 're 've 'm 'll 'd", "''", "'Sam 'Tom 'Rex 'Vera 'Max 'Lloyd 'Dan", "'SAM 'TOM 'REX 'VERA 'MAX 'LLOYD 'DAN",
  "THEY'LLBE WE'VEGOT I'MOK", "o'clock O'Brien d'Artagnan", "rock'n'roll", "’s ’t", '"quoted" \'single\'',
  'https://example.com/path?q=1&r=2#frag', 'user@example.com', 'C++ x->y != z && a<=b',
  'a'.repeat(1000), '😀'.repeat(100), 'ab'.repeat(300), '▁leading metaspace ▁▁ twice',
  '\u0000a\u0000', '<html><body><h1>Title</h1></body></html>', '[multimodal]<start_of_turn>user',
];

// Each category's characters alone and in contexts.
function categoryCases() {
  const out = [];
  for (const [cat, chars] of Object.entries(categories)) {
    for (const c of chars) {
      out.push([`${cat} alone`, c]);
      out.push([`${cat} in word`, `a${c}b`]);
      out.push([`${cat} after space`, `x ${c}1 ${c}${c}${c}`]);
      out.push([`${cat} at line end`, `end${c}\n${c} `]);
    }
  }
  return out;
}

// Deterministic random mixtures (xorshift32, fixed seed).
function mixtures(pool, count) {
  let s = 0x9E3779B9;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0));
  const out = [];
  for (let n = 0; n < count; ++n) {
    const length = 1 + (next() % 24);
    let t = '';
    for (let k = 0; k < length; ++k) t += pool[next() % pool.length];
    out.push([`mixture ${n}`, t]);
  }
  return out;
}

// [name, text] pairs; `added` is the tokenizer's added tokens' contents (a sample is used).
export function adversarialCases(added) {
  const pool = [...Object.values(categories).flat(), ' ', ' ', 'the', 'The', "'s", '\n', '\r\n', '\t', '123',
    '👍🏽', '👨‍👩‍👧', '🇫🇷', '漢字', 'مرحبا', 'e\u0301', '  ', ...added.slice(0, 3)];
  const sample = added.length <= 12 ? added : [...added.slice(0, 8), ...added.slice(-4)];
  const special = sample.flatMap((t) => [[`added ${t}`, t], [`added in text ${t}`, `Hello${t}world ${t} x${t}${t}`]]);
  return [...fixed.map((t, i) => [`fixed ${i}`, t]), ...categoryCases(), ...special, ...mixtures(pool, 200)];
}
