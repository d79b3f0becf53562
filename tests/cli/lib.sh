# Shared by the CLI test scripts: a scratch directory, running the tool
# under test ($bin) with its output kept, and checks that count failures
# instead of stopping at the first. Source it after setting $bin; end the
# script with `finish NAME`.

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
out=$scratch/stdout
err=$scratch/stderr
failures=0
status=0

fail() {
	echo "FAIL: $*" >&2
	echo "  stdout: $(head -c 3000 "$out" 2>/dev/null)" >&2
	echo "  stderr: $(head -c 2000 "$err" 2>/dev/null)" >&2
	failures=$((failures + 1))
}

# Runs the tool with the given arguments; sets $status, keeps stdout and stderr.
run() {
	status=0
	"$bin" "$@" >"$out" 2>"$err" || status=$?
}

expect_status() {
	local want=$1 what=$2
	[[ $status -eq $want ]] || fail "$what: exit status $status, expected $want"
}

expect_in() {
	local file=$1 text=$2 what=$3
	grep -qF -- "$text" "$file" || fail "$what: \"$text\" missing from $(basename "$file")"
}

expect_empty() {
	local file=$1 what=$2
	[[ ! -s $file ]] || fail "$what: $(basename "$file") should be empty"
}

expect_lines() {
	local file=$1 want=$2 what=$3 lines
	lines=$(wc -l <"$file")
	[[ $lines -eq $want ]] || fail "$what: $(basename "$file") has $lines lines, expected $want"
}

finish() {
	if [[ $failures -ne 0 ]]; then
		echo "$1: $failures check(s) failed" >&2
		exit 1
	fi
	echo "$1: all checks passed"
}
