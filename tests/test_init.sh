#!/usr/bin/env bash
# whyflag init: a starting config guessed from a log. On the samples (with the model) the config
# cuts the same windows as samples/config.json; on a constructed messy export (';' and decimal
# comma, CRLF, a Latin-1 header byte, dd.mm.yyyy times, a 20-minute cadence) every guess is right;
# logs without a time or turbine column are refused with a message saying what is needed; a model
# channel no column matches exits 2. When ../shared/realdata is beside the checkout (the project's
# real exports, never copied into it), init runs on every CSV there too.
# Args: CLI SOURCE_DIR BUILD_DIR.
set -u
CLI=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/wfinit.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
skips=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
skip() { skips=$((skips + 1)); echo "SKIP: $*"; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
command -v python3 > /dev/null || { echo "SKIP: python3 missing"; exit 77; }

# ---- the samples, with the model: the same windows as the shipped config
cp -r "$SRC/samples" "$T/s" && chmod -R u+w "$T/s"
(cd "$T/s" && "$CLI" init sensor_log.csv --model aurora_int8.onnx --out init.json 2> "$T/s.err")
check "[ $? -eq 0 ] && [ -s '$T/s/init.json' ]" "init on the samples writes a config ($(tail -1 "$T/s.err"))"
(cd "$T/s" && "$CLI" windows init.json --out "$T/w_init.json" --quiet &&
  "$CLI" windows config.json --out "$T/w_ref.json" --quiet) 2> "$T/w.err"
python3 - "$T/w_init.json" "$T/w_ref.json" > "$T/w.out" 2>&1 << 'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["channels"] == b["channels"], (a["channels"], b["channels"])
assert len(a["windows"]) == len(b["windows"]) == 1716, (len(a["windows"]), len(b["windows"]))
for x, y in zip(a["windows"], b["windows"]):
    assert (x["turbine_id"], x["start"], x["label"]) == (y["turbine_id"], y["start"], y["label"])
    assert x["values"] == y["values"]
print(len(a["windows"]))
PY
check "[ $? -eq 0 ]" "the guessed config cuts the shipped config's windows, values and labels ($(tail -1 "$T/w.out"))"
check "grep -q 'failures.csv' '$T/s/init.json' && grep -q '\"length\": 36' '$T/s/init.json'" \
  "the failure log beside the log and the model's window length are taken"
check "! grep -q '\"timezone\"' '$T/s/init.json'" "times with Z: no log.timezone written"
(cd "$T/s" && "$CLI" init sensor_log.csv --out init.json 2> "$T/s2.err")
check "[ $? -ne 0 ] && grep -q 'exists' '$T/s2.err'" "an existing config is not overwritten without --force"

# ---- a messy export
python3 - "$T/messy.csv" << 'PY'
import sys
rows = [b"Anlage;Zeit;Windgeschwindigkeit (m/s);Lagertemperatur (\xb0C);Leistung [kW]\r\n"]
for t in ("WEA-1", "WEA-2"):
    for i in range(60):
        h, m = divmod(i * 20, 60)
        d = 1 + h // 24
        rows.append(("%s;%02d.03.2024 %02d:%02d;%d,%02d;%d,%d;%d,5\r\n"
                     % (t, d, h % 24, m, 5 + i % 7, i % 100, 40 + i % 9, i % 10, 300 + i)).encode())
open(sys.argv[1], "wb").write(b"".join(rows))
PY
"$CLI" init "$T/messy.csv" > "$T/messy.json" 2> "$T/messy.err"
check "[ $? -eq 0 ]" "init on a messy export ($(tail -1 "$T/messy.err"))"
python3 - "$T/messy.json" > "$T/m.out" 2>&1 << 'PY'
import json, sys
c = json.load(open(sys.argv[1]))
l = c["log"]
assert l["delimiter"] == ";" and l["decimal"] == ",", l
assert l["turbine_column"] == "Anlage" and l["time_column"] == "Zeit", l
assert l["time_format"] == "%d.%m.%Y %H:%M", l["time_format"]
assert l["cadence_seconds"] == 1200, l["cadence_seconds"]
assert l["timezone"] == "UTC", l  # naive times: the zone they are read in, for the user to fix
ch = l["channels"]
assert [x["name"] for x in ch] == ["windgeschwindigkeit", "lagertemperatur", "leistung"], ch
assert [x.get("unit") for x in ch] == ["m/s", "\u00b0C", "kW"], ch
assert ch[1]["column"] == "Lagertemperatur (\u00b0C)", ch[1]
print("ok")
PY
check "[ $? -eq 0 ]" "delimiter, decimal comma, columns, dd.mm.yyyy format, 20-min cadence, Latin-1 unit ($(tail -1 "$T/m.out"))"
check "grep -q 'read as UTC (log.timezone \"UTC\"); if the log was written in local time, set log.timezone' '$T/messy.err'" \
  "naive local times: init says they are read as UTC and how to change it"
sed -i 's/"MODEL.onnx"/"x.onnx"/' "$T/messy.json"
cp "$SRC/samples/aurora_int8.onnx" "$T/x.onnx"
"$CLI" windows "$T/messy.json" --out "$T/mw.json" 2> "$T/mw.err"
check "[ $? -eq 0 ] && grep -q '\"windows\"' '$T/mw.json'" "the guessed config loads and cuts windows ($(tail -1 "$T/mw.err"))"

# ---- what cannot be guessed: refused with what is needed
printf 'a,b\n1,2\n3,4\n' > "$T/notime.csv"
"$CLI" init "$T/notime.csv" > /dev/null 2> "$T/nt.err"
rc=$?
check "[ $rc -eq 4 ] && grep -q 'time column' '$T/nt.err'" "no time column: exit 4 saying so (rc=$rc)"
printf 'timestamp,a\n2024-03-01T00:00:00Z,2\n2024-03-01T00:10:00Z,4\n' > "$T/noid.csv"
"$CLI" init "$T/noid.csv" > /dev/null 2> "$T/ni.err"
rc=$?
check "[ $rc -eq 4 ] && grep -q 'turbine id column' '$T/ni.err'" "no turbine column: exit 4 saying so (rc=$rc)"
"$CLI" init "$T/messy.csv" --model "$SRC/samples/aurora_int8.onnx" > /dev/null 2> "$T/mm.err"
rc=$?
check "[ $rc -eq 2 ] && grep -q 'matches no column' '$T/mm.err'" "model channels no column matches: exit 2 naming them (rc=$rc)"

# ---- the real exports, where they are
RD="$SRC/../shared/realdata"
if [ -d "$RD" ]; then
  n=0
  while IFS= read -r f; do
    n=$((n + 1))
    "$CLI" init "$f" --out "$T/r$n.json" 2> "$T/r$n.err"
    rc=$?
    if [ $rc -eq 0 ]; then
      "$CLI" windows "$T/r$n.json" --out "$T/rw$n.json" --quiet 2> "$T/rw$n.err"
      check "[ $? -eq 0 ]" "realdata $(basename "$f"): init's config cuts windows"
    else
      check "[ $rc -eq 4 ] && grep -q 'needs' '$T/r$n.err'" \
        "realdata $(basename "$f"): refused with what is needed ($(tail -1 "$T/r$n.err"))"
    fi
  done < <(find "$RD" -name '*.csv' -size +100k | sort)
  check "[ $n -ge 2 ]" "init tried on $n real exports"
else
  skip "no ../shared/realdata beside the checkout: the real exports were not tried"
fi

echo "$passes passed, $fails failed, $skips skipped"
[ $fails -eq 0 ] || exit 1
[ $skips -eq 0 ] || exit 77
