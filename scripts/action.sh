#!/usr/bin/env bash
# The podfence GitHub Action (action.yml runs this after installing podfence).
#
#   lint  podfence lint -o sarif into $PODFENCE_SARIF (skipped with a notice when this
#         podfence has no lint command)
#   diff  podfence diff --base <merge base with the base branch> -o md, appended to the
#         job summary ($GITHUB_STEP_SUMMARY) and kept in a file for a PR comment
#   test  podfence test on the assertion files, with JUnit XML in $PODFENCE_JUNIT
#
# Inputs come as environment variables (see action.yml); outputs go to $GITHUB_OUTPUT.
# Exit 1 when a step named in $PODFENCE_FAIL_ON found something (lint findings, a
# connectivity change, a failed expectation), 2 when podfence or git could not run.
set -uo pipefail

podfence=${PODFENCE:-podfence}
read -r -a manifests <<<"$(echo "${PODFENCE_MANIFESTS:-}" | tr '\n' ' ')"
read -r -a specs <<<"$(echo "${PODFENCE_TESTS:-}" | tr '\n' ' ')"
read -r -a steps <<<"${PODFENCE_STEPS:-lint diff test}"
fail_on=" ${PODFENCE_FAIL_ON-test} "  # empty: nothing fails the job
base=${PODFENCE_BASE_REF:-}
sarif=${PODFENCE_SARIF:-podfence.sarif}
junit=${PODFENCE_JUNIT:-podfence-junit.xml}
diff_md=${PODFENCE_DIFF_MARKDOWN:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/podfence-diff.md}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
outputs=${GITHUB_OUTPUT:-/dev/null}

files=()
for m in "${manifests[@]}"; do files+=(-f "$m"); done
extra=()
if [ -n "${PODFENCE_CONFIG:-}" ]; then extra+=(--config "$PODFENCE_CONFIG"); fi

status=0
found() {  # a step found something: fail the job if the user asked for it
  if [[ "$fail_on" == *" $1 "* ]]; then status=$(( status > 1 ? status : 1 )); fi
}
broken() {  # podfence or git could not run
  echo "::error title=podfence $1::$2"
  status=2
}
output() { echo "$1=$2" >>"$outputs"; }
wants() { [[ " ${steps[*]} " == *" $1 "* ]]; }

if [ ${#files[@]} -eq 0 ]; then
  broken setup "no manifests: set the 'manifests' input to the files or directories to check"
  exit 2
fi

# ---- lint --------------------------------------------------------------------------
if wants lint; then
  if "$podfence" lint --help >/dev/null 2>&1; then
    "$podfence" lint "${files[@]}" "${extra[@]}" -o sarif >"$sarif"
    rc=$?
    case $rc in
      0) echo "podfence lint: no findings" ;;
      1) echo "::warning title=podfence lint::findings in $sarif (upload it with github/codeql-action/upload-sarif)"
         found lint ;;
      *) broken lint "podfence lint exited with $rc" ;;
    esac
    if [ $rc -le 1 ]; then output sarif-file "$sarif"; fi
  else
    echo "::notice title=podfence lint::this podfence has no lint command; skipping lint"
  fi
fi

# ---- diff against the base branch ------------------------------------------------------
resolve_base() {
  # Sets $commit to what the pull request is compared with: the merge base of the base
  # branch and HEAD, so that changes made on the base branch meanwhile are not shown
  # as this branch's.
  local ref=$1 tip=""
  if git rev-parse --verify --quiet "refs/remotes/origin/$ref^{commit}" >/dev/null; then
    tip="origin/$ref"
  elif git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
    tip=$ref
  else
    local depth=()
    if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then depth=(--depth=1); fi
    git fetch --quiet --no-tags "${depth[@]}" origin "+refs/heads/$ref:refs/remotes/origin/$ref" || return 1
    tip="origin/$ref"
  fi
  if ! commit=$(git merge-base "$tip" HEAD 2>/dev/null); then
    echo "::notice title=podfence diff::no merge base with $tip (shallow clone? use fetch-depth: 0); comparing with its tip"
    commit=$(git rev-parse "$tip")
  fi
}

if wants diff; then
  if [ -z "$base" ]; then
    echo "::notice title=podfence diff::no base branch (not a pull request, and no base-ref input); skipping diff"
  elif ! resolve_base "$base"; then
    broken diff "cannot find or fetch the base branch $base"
  else
    "$podfence" diff --base "$commit" "${files[@]}" "${extra[@]}" -o md >"$diff_md"
    rc=$?
    case $rc in
      0|1) cat "$diff_md" >>"$summary"
           output diff-markdown "$diff_md"
           if [ $rc -eq 1 ]; then output changed true; found diff; else output changed false; fi
           echo "podfence diff against $base ($commit): $( [ $rc -eq 1 ] && echo changes || echo no change )" ;;
      *) broken diff "podfence diff exited with $rc" ;;
    esac
  fi
fi

# ---- test ------------------------------------------------------------------------------
if wants test && [ ${#specs[@]} -gt 0 ]; then
  report=$("$podfence" test "${files[@]}" "${extra[@]}" "${specs[@]}" --junit "$junit" --force)
  rc=$?
  echo "$report"
  { echo "### podfence test"; echo; echo '```'; echo "$report"; echo '```'; } >>"$summary"
  case $rc in
    0) output tests-passed true; output junit-file "$junit" ;;
    1) output tests-passed false; output junit-file "$junit"
       echo "::error title=podfence test::$(echo "$report" | tail -n 1)"
       found test ;;
    *) broken test "podfence test exited with $rc" ;;
  esac
fi

exit $status
