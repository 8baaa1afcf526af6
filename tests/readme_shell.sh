#!/usr/bin/env bash
# The README's shell commands, run as a newcomer runs them (ctest's readme_shell tests):
#   readme_shell.sh check README NAME...   every shell block and transcript of README is marked,
#                                          and each block that runs is one of the NAMEs
#   readme_shell.sh run README NAME SOURCE_DIR WORK_DIR [CXX]
#                                          run block NAME in a fresh copy of SOURCE_DIR's tracked
#                                          files, then check the outputs and transcripts shown
#                                          after it; CXX, when given, is set in the environment
# Markers, on the line just before a block's opening fence:
#   <!-- shell: NAME -->                    run, from the copy's root, by `readme_shell: NAME`
#   <!-- shell: skip, REASON -->            shown but never run, for the reason given
#   <!-- output: NAME -->                   the last lines block NAME prints
#   <!-- transcript: after NAME, in DIR --> each "$ command" line runs in the shell that ran
#                                           block NAME, from DIR (relative to the copy's root),
#                                           with the bin/ folders it installed on PATH; the lines
#                                           after it are all it prints; "# exit N" ends a command
#                                           that exits with status N
# In outputs and transcripts, "..." alone on a line stands for any lines, within a line for any
# text. A block is run by `bash -e` with a clean environment (PATH, HOME, USER, LANG) in which
# DESTDIR is WORK_DIR/stage, so that an install stays in the test's folder, and CC, CXX,
# CXXFLAGS, CMAKE_* or PKG_CONFIG_PATH of the caller cannot change what the README does; what it
# leaves running in the background is ended with it.
set -euo pipefail

usage() {
  sed -n '2,7p' "$0" >&2
  exit 2
}

# parse README DIR: block<N> files (the fence's text, its indentation removed) and DIR/index,
# one line per block: N, README line, language, 1 when a line starts with "$ ", marker kind,
# marker text. A marker that no fence follows is listed as kind "stray".
parse() {
  awk -v dir="$2" '
    function marker_of(text) {
      if (text !~ /^ *<!-- *(shell|output|transcript): .*-->[ \t]*$/) return ""
      sub(/^ *<!-- */, "", text)
      sub(/ *-->[ \t]*$/, "", text)
      return text
    }
    {
      line = $0
      if (!in_fence) {
        if (match(line, /^ *```/)) {
          indent = RLENGTH - 3
          lang = substr(line, RLENGTH + 1)
          gsub(/[ \t]+$/, "", lang)
          n++
          in_fence = 1
          start = NR
          dollar = 0
          file = dir "/block" n
          printf "" > file
          marker = marker_of(prev)
          kind = marker == "" ? "-" : substr(marker, 1, index(marker, ":") - 1)
          text = marker == "" ? "-" : substr(marker, index(marker, ":") + 2)
        } else if (marker_of(prev) != "") {
          printf "0\t%d\t-\t0\tstray\t%s\n", NR - 1, marker_of(prev) > (dir "/index")
        }
      } else if (line ~ /^ *```[ \t]*$/) {
        in_fence = 0
        close(file)
        printf "%d\t%d\t%s\t%d\t%s\t%s\n", n, start, lang == "" ? "-" : lang, dollar, kind,
               text > (dir "/index")
      } else {
        if (substr(line, 1, indent) ~ /^ *$/) line = substr(line, indent + 1)
        print line > file
        if (line ~ /^\$ /) dollar = 1
      }
      prev = line
    }
    END { close(dir "/index") }' "$1"
  touch "$2/index"
}

# matches PATTERN LINE: LINE is PATTERN, where "..." stands for any text (trailing blanks aside).
matches() {
  local pattern=${1%"${1##*[![:space:]]}"} rest=${2%"${2##*[![:space:]]}"}
  local -a pieces=()
  while [[ $pattern == *...* ]]; do
    pieces+=("${pattern%%...*}")
    pattern=${pattern#*...}
  done
  pieces+=("$pattern")
  if ((${#pieces[@]} == 1)); then
    [[ $rest == "${pieces[0]}" ]]
    return
  fi
  local first=${pieces[0]} last=${pieces[-1]} i
  ((${#rest} >= ${#first} + ${#last})) && [[ $rest == "$first"* && $rest == *"$last" ]] ||
    return 1
  rest=${rest:${#first}:$((${#rest} - ${#first} - ${#last}))}
  for ((i = 1; i < ${#pieces[@]} - 1; i++)); do
    [[ $rest == *"${pieces[i]}"* ]] || return 1
    rest=${rest#*"${pieces[i]}"}
  done
}

# match_output EXPECTED ACTUAL ANCHORED: the lines of file ACTUAL are those of EXPECTED, where a
# line "..." stands for any lines; the first expected line is the first actual one only when
# ANCHORED is 1 (the last always is the last). Prints what differs otherwise.
match_output() {
  local -a want got
  mapfile -t want <"$1"
  mapfile -t got <"$2"
  while ((${#want[@]})) && [[ -z ${want[-1]//[[:space:]]/} ]]; do unset 'want[-1]'; done
  while ((${#got[@]})) && [[ -z ${got[-1]//[[:space:]]/} ]]; do unset 'got[-1]'; done
  # Segments of consecutive expected lines, "..." between them.
  local -a segments=() ends=()
  local i start=0 gap_first=$((1 - $3)) gap_last=0
  for ((i = 0; i <= ${#want[@]}; i++)); do
    if ((i == ${#want[@]})) || [[ ${want[i]} =~ ^[[:space:]]*\.\.\.[[:space:]]*$ ]]; then
      ((i > start)) && segments+=("$start") ends+=("$i")
      ((i == 0)) && gap_first=1
      ((i == ${#want[@]} - 1)) && gap_last=1
      start=$((i + 1))
    fi
  done
  local at=0 s k from to fits length found first_try last_try
  for ((s = 0; s < ${#segments[@]}; s++)); do
    from=${segments[s]} to=${ends[s]}
    length=$((to - from)) found=-1 first_try=$at last_try=$((${#got[@]} - to + from))
    if ((s == 0 && !gap_first)); then last_try=0; fi
    if ((s == ${#segments[@]} - 1 && !gap_last)); then first_try=$((${#got[@]} - length)); fi
    for ((k = first_try; k >= at && k <= last_try; k++)); do
      fits=1
      for ((i = 0; i < length; i++)); do
        matches "${want[from + i]}" "${got[k + i]}" || { fits=0; break; }
      done
      if ((fits)); then found=$k; break; fi
    done
    if ((found < 0)); then
      echo "expected, from line $((from + 1)) of what the README shows:"
      printf '  | %s\n' "${want[@]:from:length}"
      echo "not found in the output, from its line $((at + 1)):"
      printf '  | %s\n' "${got[@]:at}"
      return 1
    fi
    at=$((found + length))
  done
  ((${#segments[@]} > 0)) || { echo "an empty output block"; return 1; }
}

check() {
  local readme=$1 work
  shift
  local -A known=() used=()
  local name
  for name in "$@"; do known[$name]=1; done
  work=$(mktemp -d)
  parse "$readme" "$work"
  local n line lang dollar kind text failures=0 runs=0 skips=0 shown=0
  fail() { echo "README line $line: $*"; failures=$((failures + 1)); }
  while IFS=$'\t' read -r n line lang dollar kind text; do
    case "$kind" in
      stray) fail "a marker with no block after it: $text" ;;
      shell)
        if [[ $text == skip,* ]]; then
          [[ $text =~ ^skip,\ +[^[:space:]]+\ +[^[:space:]]+ ]] || fail "a skip with no reason"
          skips=$((skips + 1))
        elif [[ -n ${known[$text]:-} ]]; then
          [[ -z ${used[$text]:-} ]] || fail "a second block named '$text'"
          used[$text]=1
          runs=$((runs + 1))
        else
          fail "no test runs the block named '$text' (the tests run: $*)"
        fi ;;
      output | transcript)
        if ! [[ $text =~ ^(after\ )?([a-z_-]+)(,\ in\ .+)?$ ]]; then
          fail "cannot read <!-- $kind: $text -->"
          continue
        fi
        [[ -n ${known[${BASH_REMATCH[2]}]:-} ]] || fail "$kind after '${BASH_REMATCH[2]}', which no test runs"
        if [[ $kind == transcript ]]; then
          [[ $text =~ ^after\ [a-z_-]+,\ in\ .+$ ]] || fail "a transcript says: after NAME, in DIR"
          ((dollar)) || fail "a transcript with no \"\$ command\" line"
        fi
        shown=$((shown + 1)) ;;
      *)
        if [[ $lang =~ ^(sh|bash|shell|console|zsh)$ ]] || ((dollar)); then
          fail "a shell block neither run by a test nor skipped with a reason: mark it" \
               "<!-- shell: NAME --> or <!-- shell: skip, REASON -->"
        fi ;;
    esac
  done <"$work/index"
  rm -rf "$work"
  for name in "$@"; do
    [[ -n ${used[$name]:-} ]] || { echo "README has no block <!-- shell: $name -->"; failures=$((failures + 1)); }
  done
  ((failures == 0)) || { echo "$failures README markers to fix"; return 1; }
  echo "README: $runs shell blocks run by tests, $skips skipped with a reason, $shown outputs and transcripts checked"
}

# session BLOCK ROOT TRANSCRIPT...: the script run for a block: the block as written, then each
# transcript's commands (N:LINE:DIR) in the same shell, from ROOT/DIR, with the bin/ folders
# installed under DESTDIR first on PATH; marker lines split what each part prints.
session() {
  local block=$1 root=$2 entry n line dir command c=0
  shift 2
  cat "$block"
  printf '\nprintf "\\n@@ readme_shell: block done @@\\n"\nset +e\n'
  printf 'PATH="$(find "$DESTDIR" -type d -name bin -printf "%%p:")$PATH"\n'
  for entry in "$@"; do
    IFS=: read -r n line dir <<<"$entry"
    printf 'if cd %q; then\n' "$root/$dir"
    while IFS= read -r command; do
      c=$((c + 1))
      printf 'printf "\\n@@ readme_shell: command %d @@\\n"\n%s\n' "$c" "$command"
      printf 'printf "\\n@@ readme_shell: status %d %%d @@\\n" $?\n' "$c"
    done < <(sed -n 's/^\$ //p' "$work/parsed/block$n")
    printf 'else\n  printf "\\n@@ readme_shell: no %s @@\\n"\nfi\n' "$dir"
  done
}

# section FILE FROM TO: the lines of FILE after the line FROM and before the line TO.
section() {
  awk -v from="$2" -v to="$3" '$0 == to { on = 0 } on { print } $0 == from { on = 1 }' "$1"
}

run() {
  local readme=$1 name=$2 source=$3 cxx=${5:-}
  work=$4
  [[ -n $name && -d $source ]] || usage
  git -C "$source" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    { echo "$source is not a git work tree: its tracked files cannot be listed"; return 1; }
  rm -rf "$work"
  mkdir -p "$work/parsed" "$work/rproc" "$work/stage"
  parse "$readme" "$work/parsed"
  local n line lang dollar kind text block="" block_line=0
  local -a outputs=() transcripts=()
  while IFS=$'\t' read -r n line lang dollar kind text; do
    if [[ $kind == shell && $text == "$name" ]]; then
      block=$n block_line=$line
    elif [[ $kind == output && $text == "$name" ]]; then
      outputs+=("$n:$line")
    elif [[ $kind == transcript && $text == "after $name, in "* ]]; then
      transcripts+=("$n:$line:${text#"after $name, in "}")
    fi
  done <"$work/parsed/index"
  [[ -n $block ]] || { echo "README has no block <!-- shell: $name -->"; return 1; }

  # The fresh copy: the tracked files as they are in SOURCE_DIR (edits not yet committed too;
  # a new file once git-added), with ../shared beside it as in a clone of the repository.
  local f
  while IFS= read -r -d '' f; do
    [[ -e $source/$f || -L $source/$f ]] && printf '%s\0' "$f"
  done < <(git -C "$source" ls-files -z) >"$work/files"
  tar -C "$source" --null -T "$work/files" -cf - | tar -C "$work/rproc" -xf -
  [[ -e $source/../shared ]] && ln -s "$(cd "$source/../shared" && pwd)" "$work/shared"
  session "$work/parsed/block$block" "$work/rproc" "${transcripts[@]}" >"$work/session.sh"

  local -a environment=(PATH="$PATH" HOME="$HOME" USER="${USER:-$(id -un)}" LANG=C.UTF-8
                        DESTDIR="$work/stage")
  [[ -n $cxx ]] && environment+=(CXX="$cxx")
  echo "== README line $block_line, block '$name'${cxx:+ with CXX=$cxx}:"
  cat "$work/parsed/block$block"
  echo "== its output:"
  local status=0 started=$SECONDS
  # In a process group of its own, ended with whatever it left running (a server in the
  # background).
  (cd "$work/rproc" && env -i "${environment[@]}" timeout -k 10 "${READMESH_TIMEOUT:-540}" \
     setsid -w bash -c 'echo $$ >"$0"; exec bash -e -o pipefail "$1"' "$work/group" \
     "$work/session.sh" </dev/null >"$work/session.out" 2>&1) || status=$?
  [[ -s $work/group ]] && kill -- "-$(<"$work/group")" 2>/dev/null || true
  local done_marker='@@ readme_shell: block done @@'
  if ! grep -qxF "$done_marker" "$work/session.out"; then
    cat "$work/session.out"
    echo "== block '$name' (README line $block_line) failed with exit status $status"
    return 1
  fi
  awk -v to="$done_marker" '$0 == to { exit } { print }' "$work/session.out" >"$work/output"
  cat "$work/output"
  echo "== block '$name' ran in $((SECONDS - started)) s"

  local failures=0 entry
  for entry in "${outputs[@]}"; do
    if match_output "$work/parsed/block${entry%%:*}" "$work/output" 0; then
      echo "== the output at README line ${entry#*:} matches"
    else
      echo "== the output at README line ${entry#*:} does not match (above)"
      failures=$((failures + 1))
    fi
  done

  local c=0 k dir command expected_status shown commands
  for entry in "${transcripts[@]}"; do
    IFS=: read -r n line dir <<<"$entry"
    if grep -qxF "@@ readme_shell: no $dir @@" "$work/session.out"; then
      if [[ $dir == ../shared* ]]; then
        echo "== skipped the transcript at README line $line: no $dir (../shared is absent)"
        c=$((c + $(grep -c '^\$ ' "$work/parsed/block$n")))
        continue
      fi
      echo "== the transcript at README line $line runs in $dir, which does not exist"
      failures=$((failures + 1))
      continue
    fi
    # Each command with the lines shown after it.
    k=0
    rm -f "$work/expected".*
    while IFS= read -r shown; do
      if [[ $shown == '$ '* ]]; then
        k=$((k + 1))
        printf '%s\n' "${shown#'$ '}" >"$work/expected.$k.command"
        : >"$work/expected.$k"
      elif ((k > 0)); then
        printf '%s\n' "$shown" >>"$work/expected.$k"
      fi
    done <"$work/parsed/block$n"
    commands=$k
    for ((k = 1; k <= commands; k++)); do
      c=$((c + 1))
      command=$(<"$work/expected.$k.command")
      expected_status=0
      [[ $command =~ \#\ *exit\ +([0-9]+)[[:space:]]*$ ]] && expected_status=${BASH_REMATCH[1]}
      section "$work/session.out" "@@ readme_shell: command $c @@" \
        "$(grep -m1 "^@@ readme_shell: status $c " "$work/session.out")" >"$work/actual.$c"
      status=$(sed -n "s/^@@ readme_shell: status $c \([0-9]*\) @@$/\1/p" "$work/session.out")
      if [[ $status != "$expected_status" ]]; then
        echo "== \$ $command (README line $line): exit status ${status:-none}, not $expected_status:"
        cat "$work/actual.$c"
        failures=$((failures + 1))
      elif match_output "$work/expected.$k" "$work/actual.$c" 1; then
        echo "== \$ $command (README line $line): as shown"
      else
        echo "== \$ $command (README line $line): not as shown (above)"
        failures=$((failures + 1))
      fi
    done
  done
  ((failures == 0))
}

case "${1:-}" in
  check) shift; (($# >= 1)) || usage; check "$@" ;;
  run) shift; (($# >= 4)) || usage; run "$@" ;;
  *) usage ;;
esac
