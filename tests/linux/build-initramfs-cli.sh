#!/usr/bin/env bash
# Exercises driver-vms/initramfs/build-initramfs as a user would: --help
# (and that its description of the default init matches the init), usage
# errors, every kind of bad program or file (a clear error, no output file,
# an existing output left as it was, no temporary files), and a good image:
# its entries, modes, and that two builds are byte for byte the same.
# busybox comes from the user's cache (fetched once by the build).
# usage: tests/linux/build-initramfs-cli.sh SOURCE-DIR GUEST-PROGRAM
#   GUEST-PROGRAM: a static aarch64 program (build/release/guests/uio-ping)
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 SOURCE-DIR GUEST-PROGRAM" >&2
	exit 2
fi
src=$1
program=$2
bin=$src/driver-vms/initramfs/build-initramfs
init=$src/driver-vms/initramfs/init
. "$src/tests/cli/lib.sh"
for tool in aarch64-linux-gnu-gcc cpio; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool is not installed (run tools/install-deps)" >&2
		exit 1
	fi
done

run --help
expect_status 0 "--help"
expect_in "$out" "usage: build-initramfs" "--help"
expect_empty "$err" "--help"
# What --help says init prints is what init prints.
for phrase in "init started on" "powering off" "panicking on purpose" "uio-ping exited with status" \
	"spinning forever" "/etc/pinion-init.d/* in name order"; do
	expect_in "$out" "$phrase" "--help describes init"
done
for phrase in 'say "init started on $(count_cpus' 'say "powering off"' 'say "panicking on purpose"' \
	'say "uio-ping exited with status $?"' 'say "spinning forever"' 'for script in /etc/pinion-init.d/*'; do
	grep -qF -- "$phrase" "$init" || fail "init lacks '$phrase', which --help describes"
done
if ! grep -qF 'say() {' "$init" || ! grep -qF 'echo "pinion-guest: $*"' "$init"; then
	fail "init's lines do not start with \"pinion-guest: \""
fi

run
expect_status 2 "no --out"
expect_in "$err" "the following arguments are required: --out" "no --out"

outdir=$scratch/out
mkdir -p "$outdir"
image=$outdir/guest.cpio.gz

# expect_error WHAT TEXT ARGS...: exit 1 with TEXT, and no image written.
expect_error() {
	local what=$1 text=$2
	shift 2
	run --out "$image" "$@"
	expect_status 1 "$what"
	expect_in "$err" "build-initramfs: error: $text" "$what"
	expect_empty "$out" "$what"
	[[ ! -e $image ]] || fail "$what: $image was written"
}

printf '#!/bin/sh\necho hello\n' >"$scratch/script"
chmod +x "$scratch/script"
printf 'int main(void) { return 0; }\n' >"$scratch/hello.c"
aarch64-linux-gnu-gcc -o "$scratch/dynamic" "$scratch/hello.c"
head -c 40 "$program" >"$scratch/truncated"

expect_error "missing program" "cannot read $scratch/nope: No such file or directory" \
	--program "$scratch/nope"
host_program=$(readlink -f "$(command -v sh)")
expect_error "host program" "$host_program is not an aarch64 program (ELF machine" \
	--program "$host_program"
expect_error "script as a program" "$scratch/script is not an ELF file (use --file for other files)" \
	--program "$scratch/script"
expect_error "dynamic program" "$scratch/dynamic is dynamically linked" --program "$scratch/dynamic"
expect_error "truncated program" "$scratch/truncated is a truncated ELF file" \
	--program "$scratch/truncated"
expect_error "relative destination" "'relative/x' is not an absolute file path in the image" \
	--program "$program:relative/x"
expect_error "destination with .." "'/bin/../x' is not an absolute file path in the image" \
	--program "$program:/bin/../x"
expect_error "missing file" "cannot read $scratch/nope: No such file or directory" \
	--file "$scratch/nope:/etc/x"
expect_error "bad init" "$scratch/hello.c is neither a #! script nor an ELF program" \
	--init "$scratch/hello.c"
expect_error "same path twice" "/bin/uio-ping is in the image twice" \
	--program "$program" --program "$program"
expect_error "file under a symlink" "/sbin/x: /sbin is not a directory" \
	--file "$scratch/script:/sbin/x"

# An existing image survives a failed build untouched, with nothing left beside it.
echo old >"$image"
run --out "$image" --program "$scratch/nope"
expect_status 1 "failed build over an existing image"
[[ $(cat "$image") == old ]] || fail "a failed build changed the existing image"
rm "$image"
[[ -z $(ls -A "$outdir") ]] || fail "files left in the output directory: $(ls -A "$outdir")"

# A good image.
run --out "$image" --program "$program" --program "$program:/bin/ping" \
	--file "$scratch/script:/etc/pinion-init.d/10-hello" --file "$scratch/hello.c:/opt/src/hello.c"
expect_status 0 "good image"
expect_lines "$out" 1 "good image"
expect_in "$out" "$image" "good image"
expect_in "$err" "busybox applets, /bin/uio-ping /bin/ping /etc/pinion-init.d/10-hello /opt/src/hello.c" \
	"good image"
zcat "$image" | cpio -itv --quiet >"$scratch/listing" 2>&1 || fail "cpio cannot read the image"
# listing_has MODE NAME: an entry of `cpio -tv`, owned by root, with that mode.
listing_has() {
	local mode=$1 name=$2
	awk -v m="$mode" -v n="$name" '
		{ for (i = 5; i < NF; i++) if ($i == "1970") break }
		$1 == m && $3 == "root" && $4 == "root" && $(i + 1) == n { found = 1 }
		END { exit !found }' "$scratch/listing" || fail "no entry $mode $name in the image"
}
listing_has -rwxr-xr-x init
listing_has -rwxr-xr-x bin/busybox
listing_has -rwxr-xr-x bin/uio-ping
listing_has -rwxr-xr-x bin/ping # the program replaced busybox's applet
listing_has -rwxr-xr-x etc/pinion-init.d/10-hello
listing_has -rw-r--r-- opt/src/hello.c
listing_has drwxr-xr-x opt/src
listing_has crw------- dev/console
listing_has lrwxrwxrwx bin/sh
listing_has lrwxrwxrwx sbin
grep -q " 1970 bin/sh -> busybox$" "$scratch/listing" || fail "bin/sh is not a link to busybox"
if grep -v " Jan  1  1970 " "$scratch/listing" | grep -q .; then
	fail "entries with an mtime other than 0: $(grep -v ' Jan  1  1970 ' "$scratch/listing" | head -3)"
fi
cmp -s <(zcat "$image" | cpio -i --quiet --to-stdout init) "$src/driver-vms/initramfs/init" ||
	fail "/init is not driver-vms/initramfs/init"

# Deterministic: the same inputs a second later give the same bytes.
sleep 1
run --out "$outdir/again.cpio.gz" --program "$program" --program "$program:/bin/ping" \
	--file "$scratch/script:/etc/pinion-init.d/10-hello" --file "$scratch/hello.c:/opt/src/hello.c"
expect_status 0 "second build"
cmp -s "$image" "$outdir/again.cpio.gz" || fail "two builds of the same inputs differ"

finish build-initramfs-cli
