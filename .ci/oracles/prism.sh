#!/usr/bin/env bash
# Usage: .ci/oracles/prism.sh COMMAND [ARG...]
#
# Starts Prism's mock of the spec (openapi/link-token.yaml, or SPEC) from the
# pinned install in .ci/oracles/node_modules, on a free loopback port, waits
# until it answers, runs COMMAND with PRISM_BASE_URL set to it, and stops Prism
# when COMMAND ends. Exits with COMMAND's status.
#
# The mock runs in Prism's defaults: every request is validated against the
# spec, and answers are the spec's static examples (no --dynamic), so the same
# request always gets the same answer. Prism serves the operation at
# /link-token: it drops the path of the spec's servers (/api/mktg/v1).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
prism="$root/.ci/oracles/node_modules/.bin/prism"
spec=${SPEC:-$root/openapi/link-token.yaml}
start_timeout=60 # seconds; Prism starts in about 2 s here

if [ $# -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi
if [ ! -x "$prism" ]; then
	echo "prism.sh: $prism is missing: run 'npm ci --prefix .ci/oracles --omit=dev --ignore-scripts --no-audit --no-fund'" >&2
	exit 2
fi

log=$(mktemp)
# Port 0: the system picks a free port, and Prism prints the address it got.
"$prism" mock --host 127.0.0.1 --port 0 "$spec" >"$log" 2>&1 &
pid=$!
# shellcheck disable=SC2317 # stop runs from the EXIT trap
stop() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$log"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base=""
deadline=$((SECONDS + start_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "prism.sh: Prism exited before listening:" >&2
		cat "$log" >&2
		exit 1
	fi
	base=$(grep -o 'Prism is listening on http://127\.0\.0\.1:[0-9]*' "$log" | grep -o 'http://.*' || true)
	# Listening is not answering: wait for one HTTP answer (any status).
	if [ -n "$base" ] && node -e 'fetch(process.argv[1]).then(() => process.exit(0), () => process.exit(1))' "$base/link-token" 2>/dev/null; then
		break
	fi
	base=""
	sleep 0.1
done
if [ -z "$base" ]; then
	echo "prism.sh: Prism did not answer within ${start_timeout}s:" >&2
	cat "$log" >&2
	exit 1
fi

echo "prism.sh: Prism $("$prism" --version) mocks $spec at $base" >&2
status=0
PRISM_BASE_URL=$base "$@" || status=$?
exit "$status"
