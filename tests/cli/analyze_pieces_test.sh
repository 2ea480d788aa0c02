#!/usr/bin/env bash
# strata analyze --pieces N: the targets cut as N ranks would cut them, run one after another
# in one process, each piece kept in OUT.pieces when done. Three and four pieces give the
# statistics and rows of one sweep (compare_analyses.py: a piece's last target is served by
# shorter shared passes than in one sweep, and with the weights packed every row takes one
# kernel whatever its call holds, so even that target's bits stay); a run of four pieces
# killed (SIGKILL) or stopped (SIGTERM) after some keeps them, and --resume goes on from
# them, rewriting none, to the report of four pieces run straight, byte for byte; a pieces
# directory is never reused without --resume, nor under other options.
#   analyze_pieces_test.sh <strata binary> <work dir>
set -euo pipefail
strata=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
rm -rf "$work" && mkdir -p "$work"

export OMP_WAIT_POLICY=PASSIVE
common=(analyze --model "$root/assets/model" --text "$root/assets/text/adventures.txt" --span 32:224
        --schedules sequential,hierarchical,dilated --by word --batch 16)
args=("${common[@]}" --budget 32)

fail() { echo "analyze_pieces_test: $*"; exit 1; }
# The summary's pieces record: resumed (the pieces an earlier run kept) and count.
pieces_record() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["pieces"]; print(d["count"], d["resumed"])' "$1"; }
# The pieces on disk: name, size, inode and modification time of each (a rewrite changes them).
kept() { (cd "$1" && stat -c '%n %s %i %y' piece-*.bin); }

# 1. One sweep, then three pieces: the same summary and rows; the pieces are gone.
"$strata" "${args[@]}" --out "$work/one" >/dev/null 2>"$work/one.err" || { cat "$work/one.err"; fail "one sweep failed"; }
"$strata" "${args[@]}" --out "$work/three" --pieces 3 >/dev/null 2>"$work/three.err" ||
  { cat "$work/three.err"; fail "three pieces failed"; }
python3 "$here/compare_analyses.py" "$work/one" "$work/three" || fail "three pieces differ from one sweep"
cmp -s "$work/one/words.csv" "$work/three/words.csv" || fail "words.csv differs"
[[ $(pieces_record "$work/three/summary.json") == "3 []" ]] || fail "pieces record: $(pieces_record "$work/three/summary.json")"
[[ ! -e $work/three.pieces ]] || fail "three.pieces left behind after the report"

# 2. Four pieces straight, then four killed (SIGKILL) once the first is kept: it stays, nothing else appears.
"$strata" "${args[@]}" --out "$work/straight" --pieces 4 >/dev/null 2>"$work/straight.err" ||
  { cat "$work/straight.err"; fail "four pieces failed"; }
python3 "$here/compare_analyses.py" "$work/one" "$work/straight" || fail "four pieces differ from one sweep"
status=0
STRATA_TEST_SIGNAL_AFTER_PIECE=1 "$strata" "${args[@]}" --out "$work/four" --pieces 4 >/dev/null 2>"$work/killed.err" || status=$?
[[ $status -eq 137 ]] || { cat "$work/killed.err"; fail "expected death by SIGKILL (137), got $status"; }
[[ -f $work/four.pieces/piece-1-of-4.bin && -f $work/four.pieces/plan.json ]] || fail "the killed run kept no piece 1"
[[ ! -e $work/four.pieces/piece-2-of-4.bin ]] || fail "piece 2 exists though the run was killed after piece 1"
compgen -G "$work/four" >/dev/null && fail "the killed run left an output directory"
compgen -G "$work/four.tmp-*" >/dev/null && fail "the killed run left a temporary output: $(ls -d "$work"/four.tmp-*)"
before=$(kept "$work/four.pieces")

# Resumed and stopped by SIGTERM after piece 2: one line saying what is kept, piece 1 untouched.
status=0
STRATA_TEST_SIGNAL_AFTER_PIECE=2 STRATA_TEST_SIGNAL=TERM "$strata" "${args[@]}" --out "$work/four" --pieces 4 --resume \
  >/dev/null 2>"$work/stopped.err" || status=$?
[[ $status -ne 0 && $status -ne 143 ]] || { cat "$work/stopped.err"; fail "expected a handled SIGTERM (an error), got $status"; }
grep -q "resumed from .*four.pieces: pieces 1 of 4 already there" "$work/stopped.err" ||
  { cat "$work/stopped.err"; fail "no word of resuming from piece 1"; }
grep -q "strata: error: interrupted; 2 of 4 pieces kept in .*four.pieces: the same command with --resume goes on" "$work/stopped.err" ||
  { cat "$work/stopped.err"; fail "no clear message for the stopped run"; }
[[ $(kept "$work/four.pieces" | head -n 1) == "$before" ]] || fail "piece 1 was rewritten: $before -> $(kept "$work/four.pieces" | head -n 1)"
[[ $(kept "$work/four.pieces" | wc -l) -eq 2 ]] || fail "expected pieces 1 and 2 kept, got: $(kept "$work/four.pieces")"
compgen -G "$work/four" >/dev/null && fail "the stopped run left an output directory"
before=$(kept "$work/four.pieces")

# 3. --resume under another --budget: refused in one line naming it; the pieces stay.
status=0
"$strata" "${common[@]}" --budget 16 --out "$work/four" --pieces 4 --resume >/dev/null 2>"$work/budget.err" || status=$?
[[ $status -ne 0 ]] || fail "--resume under another --budget was not refused"
[[ $(grep -c . "$work/budget.err") -eq 1 ]] || { cat "$work/budget.err"; fail "expected one line for another --budget"; }
grep -q "strata: error: .*four.pieces: made with --budget 32, not 16; remove it or match the options" "$work/budget.err" ||
  { cat "$work/budget.err"; fail "not the --budget message"; }
[[ $(kept "$work/four.pieces") == "$before" ]] || fail "a refused --resume changed the pieces"

# 4. The same options without --resume: refused, never deleted.
status=0
"$strata" "${args[@]}" --out "$work/four" --pieces 4 >/dev/null 2>"$work/again.err" || status=$?
[[ $status -ne 0 ]] || fail "an existing pieces directory was not refused without --resume"
grep -q "strata: error: .*four.pieces: holds the pieces of an earlier run; pass --resume to go on from them, or remove it" \
  "$work/again.err" || { cat "$work/again.err"; fail "not the message for an existing pieces directory"; }
[[ $(kept "$work/four.pieces") == "$before" ]] || fail "a refused run changed the pieces"

# 2, continued: --resume finishes from the two kept pieces, to the report of four straight.
"$strata" "${args[@]}" --out "$work/four" --pieces 4 --resume >/dev/null 2>"$work/resumed.err" ||
  { cat "$work/resumed.err"; fail "the last --resume failed"; }
[[ $(pieces_record "$work/four/summary.json") == "4 [1, 2]" ]] ||
  fail "expected pieces 1 and 2 resumed: $(pieces_record "$work/four/summary.json")"
python3 "$here/compare_analyses.py" "$work/straight" "$work/four" || fail "the resumed run differs from four pieces straight"
for table in tokens.csv words.csv; do
  cmp -s "$work/straight/$table" "$work/four/$table" || fail "$table of the resumed run differs from four pieces straight"
done
[[ ! -e $work/four.pieces ]] || fail "four.pieces left behind after the report"

# 5. Pieces made from copies of the model and text elsewhere resume from the originals (their
# contents are compared, not where they were); another text is refused naming both files.
mkdir -p "$work/moved"
cp -r "$root/assets/model" "$work/moved/model"
cp "$root/assets/text/adventures.txt" "$work/moved/adventures.txt"
moved=(analyze --model "$work/moved/model" --text "$work/moved/adventures.txt" "${args[@]:5}")
status=0
STRATA_TEST_SIGNAL_AFTER_PIECE=1 "$strata" "${moved[@]}" --out "$work/moved_run" --pieces 4 >/dev/null 2>"$work/moved.err" || status=$?
[[ $status -eq 137 ]] || { cat "$work/moved.err"; fail "expected death by SIGKILL (137) from the copies, got $status"; }
head -c 20000 "$root/assets/text/adventures.txt" > "$work/moved/other.txt"
status=0
"$strata" analyze --model "$root/assets/model" --text "$work/moved/other.txt" "${args[@]:5}" --out "$work/moved_run" --pieces 4 \
  --resume >/dev/null 2>"$work/other.err" || status=$?
[[ $status -ne 0 ]] || fail "--resume with another text was not refused"
grep -q "made with text hash .*, not .* (--text .*moved/adventures.txt, not .*moved/other.txt)" "$work/other.err" ||
  { cat "$work/other.err"; fail "not the message for another text"; }
"$strata" "${args[@]}" --out "$work/moved_run" --pieces 4 --resume >/dev/null 2>"$work/moved_resumed.err" ||
  { cat "$work/moved_resumed.err"; fail "pieces made from moved copies of the model and text did not resume"; }
[[ $(pieces_record "$work/moved_run/summary.json") == "4 [1]" ]] ||
  fail "expected piece 1 resumed: $(pieces_record "$work/moved_run/summary.json")"
cmp -s "$work/straight/tokens.csv" "$work/moved_run/tokens.csv" || fail "tokens.csv of the moved-files resume differs"
echo "analyze_pieces_test: ok"
