#!/bin/bash
# whyflag inspect / predict end to end on the Aurora models (tests/data/aurora, from
# shared/fixtures/aurora): scores.csv against ONNX Runtime's scores (ort_scores.csv) within 2e-6,
# and the error messages for channel mismatches, bad layouts and usage.
# args: CLI source-dir build-dir
set -u
cli=$1
src=$2
data=$src/tests/data/aurora
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$cli" inspect "$data/mlp_int8_qdq.onnx") || fail "inspect exit $?"
for want in "quantized:  yes" "x float32 [N, 8, 36]" "prob float32 [N, 1]" "QuantizeLinear x3" \
            "FLOPs per evaluation" "channels = wind_speed"; do
    grep -qF "$want" <<<"$out" || fail "inspect lacks '$want': $out"
done
"$cli" inspect "$data/cnn1d.onnx" --json | grep -q '"flops_per_evaluation": [0-9]' || fail "inspect --json"

# predict: every model within 2e-6 of ONNX Runtime (column per model in ort_scores.csv)
for spec in logreg:6 mlp:7 cnn1d:8 mlp_pruned:10 mlp_int8_qdq:11; do
    m=${spec%%:*}
    col=${spec##*:}
    "$cli" predict --model "$data/$m.onnx" --windows "$src/tests/data/data/windows.json" --out "$tmp/$m.csv" \
        2>"$tmp/err" || fail "predict $m: $(cat "$tmp/err")"
    head -1 "$tmp/$m.csv" | grep -qx "turbine_id,start,end,score" || fail "header of $m"
    rows=$(($(wc -l <"$tmp/$m.csv") - 1))
    [ "$rows" -eq 1716 ] || fail "$m: $rows rows"
    maxd=$(paste -d, <(tail -n +2 "$tmp/$m.csv") <(tail -n +2 "$data/ort_scores.csv") |
        awk -F, -v c="$col" '{ if ($1 != $6 || $2 != $7 || $3 != $8) { print "order"; exit }
            d = $4 - $(c + 4); if (d < 0) d = -d; if (d > m) m = d } END { if (m != "") printf "%.3g\n", m; else print 0 }')
    [ "$maxd" != order ] || fail "$m: rows out of order"
    awk -v d="$maxd" 'BEGIN { exit !(d <= 2e-6) }' || fail "$m: max diff $maxd > 2e-6"
    echo "$m: max |whyflag - ORT| = $maxd"
done

# channel order must match the model's metadata
sed 's/"channels":\["wind_speed","rotor_rpm"/"channels":["rotor_rpm","wind_speed"/' \
    "$src/tests/data/data/windows.json" >"$tmp/swapped.json"
"$cli" predict --model "$data/mlp.onnx" --windows "$tmp/swapped.json" >/dev/null 2>"$tmp/err" &&
    fail "swapped channels accepted"
grep -q "channel 0 of .*is 'rotor_rpm' but the model .* expects 'wind_speed'" "$tmp/err" ||
    fail "channel message: $(cat "$tmp/err")"

# A window's score depends on that window only: every third window, in reverse order, scores
# bit for bit as in the full run (batched sgemm would move about half of the rows by a bit).
python3 - "$src/tests/data/data/windows.json" "$tmp/sub.json" <<'PY' || fail "python3 subset"
import json, sys
w = json.load(open(sys.argv[1]))
w["windows"] = w["windows"][::-3]
json.dump(w, open(sys.argv[2], "w"))
PY
for m in mlp cnn1d mlp_int8_qdq; do
    "$cli" predict --model "$data/$m.onnx" --windows "$tmp/sub.json" --out "$tmp/sub_$m.csv" 2>/dev/null ||
        fail "predict subset $m"
    bad=$(awk -F, 'NR == FNR { s[$1 "," $2] = $4; next } FNR > 1 && s[$1 "," $2] != $4 { n++ }
        END { print n + 0 }' "$tmp/$m.csv" "$tmp/sub_$m.csv")
    [ "$bad" = 0 ] || fail "$m: $bad scores changed when scored among other windows"
done
echo "scores independent of the other windows in the call (mlp, cnn1d, mlp_int8_qdq)"

# usage errors
"$cli" predict --model "$data/mlp.onnx" >/dev/null 2>&1 && fail "missing --windows accepted"
"$cli" predict --config "$tmp/missing.json" >/dev/null 2>"$tmp/err"
[ $? -eq 5 ] && grep -q "missing.json" "$tmp/err" || fail "--config naming a missing file: exit 5 (i/o) naming it: $(cat "$tmp/err")"
"$cli" predict --config x.json --model m.onnx >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "replaces" "$tmp/err" || fail "--config with --model: usage error: $(cat "$tmp/err")"
"$cli" predict --model "$data/mlp.onnx" --windows "$src/tests/data/data/windows.json" --layout XYZ \
    >/dev/null 2>"$tmp/err" && fail "bad layout accepted"
grep -q "NCT or NTC" "$tmp/err" || fail "layout message"
# NTC does not fit an [N, 8, 36] input for 8 x 36 windows
"$cli" predict --model "$data/mlp.onnx" --windows "$src/tests/data/data/windows.json" --layout NTC \
    >/dev/null 2>"$tmp/err" && fail "wrong layout accepted"
grep -q "does not fit --layout NTC" "$tmp/err" || fail "layout fit message: $(cat "$tmp/err")"
# not a model
echo "hello" >"$tmp/bad.onnx"
"$cli" inspect "$tmp/bad.onnx" >/dev/null 2>"$tmp/err" && fail "garbage accepted"
grep -q "bad.onnx" "$tmp/err" || fail "garbage message: $(cat "$tmp/err")"
# inspect lists every unsupported op at once (op, domain, count, first node), exit 3
"$cli" inspect "$src/tests/data/onnx/cli/unsupported_ops.onnx" >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] || fail "inspect of a model with unsupported ops: exit 3"
grep -q "3 op type(s) of 6 nodes" "$tmp/err" && grep -q "Einsum (2 nodes, first 'mix' #0)" "$tmp/err" &&
    grep -q "Trilu (1 node" "$tmp/err" && grep -q "com.microsoft::FusedGemm (1 node, first 'head'" "$tmp/err" ||
    fail "inspect lists every unsupported op: $(cat "$tmp/err")"
# predict gives the same list
"$cli" predict --model "$src/tests/data/onnx/cli/unsupported_ops.onnx" \
    --windows "$src/tests/data/data/windows.json" >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "Einsum" "$tmp/err" && grep -q "Trilu" "$tmp/err" ||
    fail "predict names every unsupported op: $(cat "$tmp/err")"
echo "unsupported ops listed at once"

# --output NAME[:COLUMN]: a softmax head needs a column; an unknown name lists the outputs
sm="$src/tests/data/zoo/softmax_head_d13.onnx"
"$cli" predict --model "$sm" --windows "$src/tests/data/data/windows.json" >/dev/null 2>"$tmp/err"
[ $? -ne 0 ] && grep -q -- "--output score:1" "$tmp/err" || fail "2-wide head without a column: $(cat "$tmp/err")"
"$cli" predict --model "$sm" --windows "$src/tests/data/data/windows.json" --output nope >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "no output 'nope' (its outputs: 'score' \[N,2\]" "$tmp/err" ||
    fail "unknown --output: $(cat "$tmp/err")"
"$cli" predict --model "$sm" --windows "$src/tests/data/data/windows.json" --output score:1 --out "$tmp/sm1.csv" 2>/dev/null &&
"$cli" predict --model "$sm" --windows "$src/tests/data/data/windows.json" --output score:0 --out "$tmp/sm0.csv" 2>/dev/null ||
    fail "--output score:0 / score:1"
# the two columns of a softmax head add up to 1 in every window
awk -F, 'NR == FNR { a[FNR] = $4; next } FNR > 1 { d = a[FNR] + $4 - 1; if (d < 0) d = -d; if (d > 1e-6) n++ }
    END { exit n > 0 }' "$tmp/sm0.csv" "$tmp/sm1.csv" || fail "softmax columns do not add up to 1"
echo "--output picks the output and column"
echo "ok"
