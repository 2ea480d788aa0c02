#!/usr/bin/env bash
# Kill-and-resume: a training run killed with SIGKILL after a checkpoint and continued with
# --resume must end with exactly the weights of an uninterrupted run (same seed, threads),
# and the same lowest-validation model in best/. With dropout, so its masks repeat too.
#   train_resume_test.sh <strata binary> <work dir>
set -euo pipefail
strata=$1
work=$2
text=$(dirname "$0")/../../../shared/data/sherlock/adventures.txt
rm -rf "$work" && mkdir -p "$work"
if [[ ! -f $text ]]; then echo "train_resume_test: $text missing"; exit 1; fi
head -c 300000 "$text" > "$work/text.txt"

args=(--threads 2 train --text "$work/text.txt" --vocab 320 --dim 64 --layers 2 --heads 4 --kv-heads 2
      --ffn 128 --max-context 64 --context 64 --batch 8 --steps 400 --warmup 10 --lr 3e-3 --seed 7 --dropout 0.1
      --eval-every 50 --eval-batches 2 --checkpoint-every 20)

"$strata" "${args[@]}" --out "$work/straight" 2>/dev/null

"$strata" "${args[@]}" --out "$work/killed" 2>/dev/null &
pid=$!
until [[ -f $work/killed/checkpoint.safetensors ]]; do
  kill -0 $pid 2>/dev/null || { echo "train_resume_test: the run ended before its first checkpoint"; exit 1; }
  sleep 0.01
done
kill -9 $pid
status=0
wait $pid || status=$?
if [[ $status -ne 137 ]]; then
  echo "train_resume_test: the run finished (status $status) before it could be killed; make it longer"
  exit 1
fi
killed_at=$(tail -n 1 "$work/killed/loss.csv" | cut -d, -f1)
echo "killed after step $killed_at of 400"

"$strata" "${args[@]}" --out "$work/killed" --resume 2>/dev/null

cmp "$work/straight/model.safetensors" "$work/killed/model.safetensors"
cmp "$work/straight/best/model.safetensors" "$work/killed/best/model.safetensors"
# step, lr, train loss and validation loss of every step agree; speed columns may differ.
diff <(cut -d, -f1-4 "$work/straight/loss.csv") <(cut -d, -f1-4 "$work/killed/loss.csv")
echo "train_resume_test: resumed run matches the uninterrupted run bit for bit"
