#!/usr/bin/env bash
# strata convert never widens a 16-bit checkpoint whole: the default model (F16, 14.4 MB)
# converted to F16, BF16 and F32 under a heap limit (ulimit -d) of 16 MB plus the file's
# size, where widening it to floats first needs twice the file's size on top. The F16 → F16
# copy holds every tensor's bytes unchanged, and BF16 → F32 → BF16 comes back bit for bit.
#   convert_memory_test.sh <strata binary> <work dir>
set -euo pipefail
strata=$1
work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fail() { echo "convert_memory_test: $*"; exit 1; }
export OMP_NUM_THREADS=1  # each OpenMP worker's stack counts against the limit too

model=$root/assets/model
file_kb=$(( $(stat -c %s "$model/model.safetensors") / 1024 ))
limit_kb=$(( 16 * 1024 + file_kb ))
limited() { (ulimit -d "$limit_kb"; "$strata" "$@" > /dev/null) || fail "under a ${limit_kb} KB heap limit: $*"; }

limited convert --model "$model" --out "$work/f16" --dtype f16
limited convert --model "$model" --out "$work/bf16" --dtype bf16
limited convert --model "$work/bf16" --out "$work/f32" --dtype f32
# An F32 model is held as floats (copied, trainable): this one runs without the limit.
"$strata" convert --model "$work/f32" --out "$work/bf16_again" --dtype bf16 > /dev/null
cmp -s "$work/bf16/model.safetensors" "$work/bf16_again/model.safetensors" || fail "BF16 -> F32 -> BF16 changed the file"

python3 - "$model/model.safetensors" "$work/f16/model.safetensors" <<'PY' || fail "the F16 copy's tensors differ from the original's"
import json, struct, sys
def tensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in header.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
sys.exit(0 if a == b and a else 1)
PY
echo "convert_memory_test: 3 conversions under a ${limit_kb} KB heap limit, F16 copy exact, BF16 round trip exact"
