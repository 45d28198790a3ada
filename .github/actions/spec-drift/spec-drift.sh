#!/usr/bin/env bash
# The steps of the spec-drift action (action.yml beside this file), one per
# argument: build, breaking, upstream. Run by GitHub Actions with the
# working directory at the caller's repository and these in the
# environment:
#   ACTION_DIR        the action's directory (github.action_path)
#   RUNNER_TEMP       where specdiff is built, and the base spec written
#   GITHUB_STEP_SUMMARY  the job summary the markdown reports go to
#   SPEC              the caller's copy of the spec (breaking, upstream)
#   BASE_REF, ALLOW   breaking: the ref to compare with; an allow list
#   UPSTREAM, FORMAT, FAIL_ON_UPSTREAM  upstream: the documents, one a
#                     line; the log's format; "true" to fail on a breaking
#                     difference
# SPECDIFF names the specdiff to run (default: the one "build" wrote), for
# the tests (cmd/specdiff/action_test.go). Inputs reach this script through
# the environment only, never spliced into it.
set -euo pipefail

root=$(cd "${ACTION_DIR:?}/../../.." && pwd) # the action's checkout: the module at the action's ref
tmp="${RUNNER_TEMP:?}/spec-drift"
specdiff="${SPECDIFF:-$tmp/specdiff}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"

case "${1:-}" in
build)
	mkdir -p "$tmp"
	go build -C "$root/cmd/specdiff" -o "$specdiff" .
	echo "spec-drift: built $specdiff from $root/cmd/specdiff"
	;;

breaking)
	if [ -z "${BASE_REF:-}" ]; then
		echo "::notice title=spec-drift::No base ref (not a pull request, and no base-ref input): the breaking check was skipped."
		exit 0
	fi
	case "$BASE_REF" in
	-*)
		echo "::error title=spec-drift::base-ref ${BASE_REF} starts with -, which git would read as an option."
		exit 2
		;;
	esac
	ref="$BASE_REF"
	if ! git cat-file -e "${ref}^{commit}" 2>/dev/null; then
		git fetch --no-tags --depth=1 origin "$BASE_REF"
		ref=FETCH_HEAD
	fi
	if ! git cat-file -e "${ref}:${SPEC:?}" 2>/dev/null; then
		echo "::notice file=${SPEC},title=spec-drift::${SPEC} is not in ${BASE_REF}: a new spec breaks nobody, the breaking check was skipped."
		exit 0
	fi
	mkdir -p "$tmp/base"
	base="$tmp/base/$(basename "$SPEC")"
	git show --end-of-options "${ref}:${SPEC}" >"$base"
	args=(breaking -base "$base" -head "$SPEC")
	if [ -n "${ALLOW:-}" ]; then
		args+=(-allow "$ALLOW" -strict)
	fi
	status=0
	"$specdiff" "${args[@]}" -format github || status=$?
	if [ "$status" -le 1 ]; then
		"$specdiff" "${args[@]}" -format markdown >>"$summary" || true
	fi
	exit "$status"
	;;

upstream)
	docs=()
	while IFS= read -r line; do
		line="${line#"${line%%[![:space:]]*}"}"
		line="${line%"${line##*[![:space:]]}"}"
		if [ -n "$line" ]; then
			docs+=(-spec "$line")
		fi
	done <<<"${UPSTREAM:-}"
	if [ "${#docs[@]}" -eq 0 ]; then
		docs=(-spec "$root/cmd/specdiff/testdata/upstream")
	fi
	args=(upstream -ours "${SPEC:?}" "${docs[@]}")
	status=0
	out=$("$specdiff" "${args[@]}" -format "${FORMAT:-github}") || status=$?
	if [ "$status" -eq 1 ] && [ "${FAIL_ON_UPSTREAM:-false}" != true ] && [ "${FORMAT:-github}" = github ]; then
		# Reported, not failing: the errors are shown as warnings.
		out=$(printf '%s\n' "$out" | sed 's/^::error /::warning /')
	fi
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
	fi
	if [ "$status" -le 1 ]; then
		"$specdiff" "${args[@]}" -format markdown >>"$summary" || true
	fi
	if [ "$status" -eq 1 ] && [ "${FAIL_ON_UPSTREAM:-false}" != true ]; then
		echo "::notice title=spec-drift::Merge's documents differ from ${SPEC} in ways that would break its callers (above, and in the job summary); fail-on-upstream is not true, so the job goes on."
		exit 0
	fi
	exit "$status"
	;;

*)
	echo "usage: spec-drift.sh build|breaking|upstream" >&2
	exit 2
	;;
esac
