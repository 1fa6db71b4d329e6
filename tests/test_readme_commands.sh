#!/usr/bin/env bash
# The README's "Two commands" are the ones CI and the tests run, so the README cannot drift:
# - the test command (block 2) is byte for byte the one .ci/run runs, and the install command the
#   README names for it is .ci/run's install line;
# - the first command (block 1) is `.ci/install-deps && <block 2's build without -DWF_WERROR=ON> &&
#   ./build/whyflag audit samples/config.json --out out`, uses no sudo, and that audit is the one
#   tests/test_audit.sh runs and checks (not rerun here: this test stays well under a second);
# - .ci/install-deps itself, with the system tools replaced by stubs on an otherwise empty PATH:
#   as root it calls apt-get directly, as a user through sudo, as a user without sudo it stops with
#   a one-line fix, and with nothing missing it installs nothing and needs neither.
# Args: CLI SOURCE_DIR BUILD_DIR (only SOURCE_DIR is used).
# shellcheck disable=SC2015,SC2016 # A && B || fail is meant; the stubs' $ expand when they run
set -u
SRC=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# The command lines (not comments) of each ```sh block in the "## Two commands" section.
awk '/^## /{sec = ($0 == "## Two commands")} sec && /^```sh$/{inb = 1; n++; next}
     inb && /^```$/{inb = 0; next}
     inb && !/^#/ && NF {print n "\t" $0}' "$SRC/README.md" > "$T/blocks"
nblocks=$(cut -f1 "$T/blocks" | sort -u | wc -l)
[ "$nblocks" -eq 2 ] || fail "README's Two commands: $nblocks sh blocks, expected 2"
[ "$(wc -l < "$T/blocks")" -eq 2 ] || fail "README's Two commands: each block must hold exactly one command line"
cmd1=$(awk -F'\t' '$1 == 1 {print $2}' "$T/blocks")
cmd2=$(awk -F'\t' '$1 == 2 {print $2}' "$T/blocks")

# Block 2 is what .ci/run runs after its marker line, and the README's install line for it
# ("after `...`" in block 2's comment) is .ci/run's.
run_test=$(sed -n '/^# --- the README.s test command (keep identical) ---$/{n;p}' "$SRC/.ci/run")
[ -n "$run_test" ] || fail ".ci/run: no line after the '# --- the README's test command' marker"
[ "$cmd2" = "$run_test" ] || fail "README test command differs from .ci/run's:
  README:  $cmd2
  .ci/run: $run_test"
readme_install=$(sed -n '/^## Two commands$/,/^## Commands$/p' "$SRC/README.md" |
  sed -n 's/^# 2\..*after `\([^`]*\)`.*/\1/p')
run_install=$(grep -E '^[^#]*install-deps' "$SRC/.ci/run")
[ -n "$readme_install" ] && [ "$readme_install" = "$run_install" ] ||
  fail "README's install command for the tests ('$readme_install') is not .ci/run's ('$run_install')"

# Block 1: install-deps, block 2's build, the audit.
for c in "$cmd1" "$cmd2" "$readme_install"; do
  case " $c " in *" sudo "*) fail "README command uses sudo: $c" ;; esac
done
IFS=$'\x01' read -r -a p1 <<< "${cmd1// && /$'\x01'}"
IFS=$'\x01' read -r -a p2 <<< "${cmd2// && /$'\x01'}"
[ "${#p1[@]}" -eq 4 ] || fail "README first command: ${#p1[@]} steps joined by &&, expected 4: $cmd1"
[ "${p1[0]:-}" = ".ci/install-deps" ] || fail "README first command does not start with .ci/install-deps: $cmd1"
[ "$readme_install" = "${p1[0]:-} --test" ] || fail "README installs '$readme_install' for the tests, not '${p1[0]:-} --test'"
[ "${p1[1]:-}" = "${p2[0]// -DWF_WERROR=ON/}" ] && [ "${p1[2]:-}" = "${p2[1]:-}" ] ||
  fail "README first command builds differently from the test command: $cmd1"
[ -x "$SRC/.ci/install-deps" ] && head -1 "$SRC/.ci/install-deps" | grep -q '^#!/usr/bin/env bash$' ||
  fail ".ci/install-deps is not an executable bash script (the README runs it as a command)"

# The audit step runs the CLI this build writes on the shipped samples; test_audit.sh runs that
# audit (on a copy of samples/) and checks what it writes, the files the README lists.
audit=${p1[3]:-}
build_dir=$(sed -n 's/.* -B \([^ ]*\).*/\1/p' <<< "${p1[1]:-}")
[ "$audit" = "./$build_dir/whyflag audit samples/config.json --out out" ] ||
  fail "README first command's last step is not ./$build_dir/whyflag audit samples/config.json --out out: $audit"
[ -f "$SRC/samples/config.json" ] || fail "README audits samples/config.json, which is missing"
grep -q '^"$CLI" audit "$T/samples/config.json" --out ' "$SRC/tests/test_audit.sh" ||
  fail "tests/test_audit.sh no longer runs the README's audit of samples/config.json"
for f in report.pdf report.xlsx results.json scores.csv episodes.csv failure_outcomes.csv attributions.csv manifest.json; do
  grep -q "\`out/$f\`" "$SRC/README.md" || fail "README does not list out/$f"
  grep -q "$f" "$SRC/tests/test_audit.sh" || fail "tests/test_audit.sh does not check $f"
done

# .ci/install-deps with stubs: id says who we are, dpkg-query whether anything is missing, apt-get
# and sudo log their arguments. PATH holds only the stubs (and grep, env), so no real sudo or apt.
mkdir -p "$T/bin"
ln -s "$(command -v grep)" "$T/bin/grep"
ln -s "$(command -v env)" "$T/bin/env"
printf '#!%s\necho "$WF_UID"\n' "$BASH" > "$T/bin/id"
printf '#!%s\n[ -n "$WF_MISSING" ] && exit 1\necho "install ok installed"\n' "$BASH" > "$T/bin/dpkg-query"
printf '#!%s\necho "apt-get $* (DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-})" >> "$WF_LOG"\n' "$BASH" > "$T/bin/apt-get"
printf '#!%s\necho "sudo $*" >> "$WF_LOG"\nexec "$@"\n' "$BASH" > "$T/sudo"
chmod +x "$T/bin/id" "$T/bin/dpkg-query" "$T/bin/apt-get" "$T/sudo"
deps() { # uid missing(0/1) with_sudo(0/1): runs install-deps --test, output in $T/out.txt, log in $T/log
  rm -f "$T/log" "$T/bin/sudo"
  touch "$T/log"
  [ "$3" -eq 1 ] && ln -s "$T/sudo" "$T/bin/sudo"
  local miss=""
  [ "$2" -eq 1 ] && miss=1
  env -i PATH="$T/bin" WF_UID="$1" WF_MISSING="$miss" WF_LOG="$T/log" \
    "$BASH" "$SRC/.ci/install-deps" --test > "$T/out.txt" 2>&1
}
deps 0 1 0 || fail "install-deps as root without sudo failed: $(cat "$T/out.txt")"
grep -q '^apt-get update' "$T/log" && grep -q '^apt-get install .*--no-install-recommends .*build-essential.*qpdf.*(DEBIAN_FRONTEND=noninteractive)$' "$T/log" &&
  ! grep -q '^sudo' "$T/log" || fail "install-deps as root: expected apt-get update and install without sudo, got: $(cat "$T/log")"
deps 1000 1 1 || fail "install-deps as a user with sudo failed: $(cat "$T/out.txt")"
grep -q '^sudo apt-get update' "$T/log" &&
  grep -q '^sudo env DEBIAN_FRONTEND=noninteractive apt-get install .*build-essential' "$T/log" &&
  grep -q '^apt-get install .*(DEBIAN_FRONTEND=noninteractive)$' "$T/log" ||
  fail "install-deps as a user: expected apt-get update and install through sudo, got: $(cat "$T/log")"
if deps 1000 1 0; then
  fail "install-deps as a user without sudo succeeded"
else
  [ "$(wc -l < "$T/out.txt")" -eq 1 ] && grep -q "needs root.*su -c '.*install-deps --test'" "$T/out.txt" &&
    [ ! -s "$T/log" ] || fail "install-deps as a user without sudo: expected the one-line fix and no apt-get, got: $(cat "$T/out.txt" "$T/log")"
fi
deps 1000 0 0 && [ ! -s "$T/log" ] && [ ! -s "$T/out.txt" ] ||
  fail "install-deps with nothing missing: expected no output and no apt-get, got: $(cat "$T/out.txt" "$T/log")"

[ "$fails" -eq 0 ] || exit 1
echo "ok: README's two commands match .ci/run and .ci/install-deps; audit step and install-deps as root, user, user without sudo"
