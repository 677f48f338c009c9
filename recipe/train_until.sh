#!/usr/bin/env bash
# Keep train.py running until a UTC deadline on a shared machine: if the process is killed (it
# happened once here, silently, right after a checkpoint), start it again; it resumes from the
# last checkpoint (saved every 5 minutes). Runs detached in its own session so that process-group
# kills aimed at other jobs do not reach it.
# usage: setsid nohup recipe/train_until.sh 05:25 recipe/runs/session1 [train.py args] &
set -u
cd "$(dirname "$0")/.."
UNTIL=$1; RUN=$2; shift 2
BLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ -d "$BLAS" ]; then export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
mkdir -p "$RUN"
end=$(date -u -d "$UNTIL" +%s)
# HH:MM already past today is tomorrow's, as train.py reads it (a session across midnight)
if [[ $UNTIL =~ ^[0-9]{1,2}:[0-9]{2}$ ]] && [ "$end" -le "$(date -u +%s)" ]; then end=$((end + 86400)); fi
# every restart of train.py gets this one absolute deadline, not HH:MM to read again
UNTIL_AT=$(date -u -d "@$end" +%FT%TZ)
while [ "$(date -u +%s)" -lt $((end - 120)) ]; do
  echo "[train_until] $(date -u +%FT%TZ) starting train.py" >> "$RUN/stdout.log"
  nice -n "${TRAIN_NICE:-19}" /usr/bin/python3 recipe/train.py --until "$UNTIL_AT" --run "$RUN" "$@" >> "$RUN/stdout.log" 2>&1
  rc=$?
  echo "[train_until] $(date -u +%FT%TZ) train.py exited with $rc" >> "$RUN/stdout.log"
  [ $rc -eq 0 ] && break
  sleep 5
done
