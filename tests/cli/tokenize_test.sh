#!/usr/bin/env bash
# strata tokenize: ids of a tokenizer.json without a model, the template only with
# --add-special, --decode back to the exact bytes (random bytes, ill-formed UTF-8 included),
# --model still working, and one-line refusals of a broken tokenizer.json and bad ids.
#   tokenize_test.sh <strata binary> <work dir>
set -euo pipefail
strata=$1
work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fail() { echo "tokenize_test: $*"; exit 1; }

head -c 20000 /dev/urandom > "$work/random.bin"
"$strata" tokenize --tokenizer "$root/assets/model/tokenizer.json" --text "$work/random.bin" --out "$work/ids.json"
"$strata" tokenize --tokenizer "$root/assets/model/tokenizer.json" --decode --text "$work/ids.json" --out "$work/back.bin"
cmp -s "$work/random.bin" "$work/back.bin" || fail "random bytes do not round-trip"
"$strata" tokenize --model "$root/assets/model" --text "$work/random.bin" > "$work/ids_model.json"
cmp -s "$work/ids.json" "$work/ids_model.json" || fail "--model and --tokenizer disagree"

# A SentencePiece-style file with a template: <s> only with --add-special.
cat > "$work/spm.json" <<'JSON'
{"added_tokens": [{"id": 1, "content": "<s>", "special": true}],
 "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
 "model": {"type": "BPE", "vocab": {"a": 0, "<s>": 1, "\u2581": 2, "\u2581a": 3}, "merges": ["\u2581 a"]}}
JSON
printf 'a a' > "$work/text.txt"
[[ $("$strata" tokenize --tokenizer "$work/spm.json" --text "$work/text.txt") == "[0,3]" ]] || fail "plain ids"
[[ $("$strata" tokenize --tokenizer "$work/spm.json" --text "$work/text.txt" --add-special) == "[1,0,3]" ]] || fail "--add-special"
echo '[0,3]' > "$work/ids2.json"
[[ $("$strata" tokenize --tokenizer "$work/spm.json" --decode --text "$work/ids2.json") == "a a" ]] || fail "--decode"

# Refusals: one line naming the problem, exit code 1.
echo '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}' > "$work/bad.json"
if "$strata" tokenize --tokenizer "$work/bad.json" --text "$work/text.txt" 2> "$work/err.txt"; then fail "bad merges accepted"; fi
grep -q 'model (BPE): merge 0 "a b": unknown token "b"' "$work/err.txt" || fail "message: $(cat "$work/err.txt")"
[[ $(wc -l < "$work/err.txt") -eq 1 ]] || fail "more than one line: $(cat "$work/err.txt")"
echo '[0, 99]' > "$work/bad_ids.json"
if "$strata" tokenize --tokenizer "$work/spm.json" --decode --text "$work/bad_ids.json" 2> "$work/err.txt"; then fail "bad id accepted"; fi
grep -q "99 is not a token id" "$work/err.txt" || fail "message: $(cat "$work/err.txt")"
echo "tokenize_test: ok"
