#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one prochandle guest under QEMU, run a command in it, and judge the
# run.
#
#   guest/run.sh [OPTIONS] [--] [COMMAND...]
#
#   -k, --kernel FILE     kernel image (default: Debian's for $KVER, fetched)
#   -m, --module FILE     prochandle.ko, loaded by the guest's init
#   -s, --stage DIR       directory tree packed into the initramfs (repeatable)
#   -a, --append ARGS     extra kernel command line
#   -p, --modparams ARGS  module parameters for insmod
#       --mem SIZE        guest memory (default 512M, or $PH_GUEST_MEM)
#   -t, --timeout SECS    hard limit for the whole guest (default 900)
#   -o, --out DIR         keep console.log, result.txt, payload.txt here
#   -i, --interactive     a shell on the console instead of COMMAND
#       --show WHAT       live output: payload (default), progress, none
#       --accel ACCEL     how QEMU runs the guest (default: $PH_ACCEL, else auto):
#                           auto    KVM when a probe proves it runs a guest,
#                                   else TCG (guest/accel.sh; one line says why)
#                           kvm     KVM, unchecked; tcg  software emulation
#                           icount  deterministic instruction counting: TCG
#                                   with -icount shift=0,sleep=off and ONE
#                                   vCPU; the guest clock counts instructions
#                                   (1 ns = 1 instruction), so timings are the
#                                   same on every run and host (make bench);
#                                   fixed random seed, wall clock (2026-01-01
#                                   at boot) and initramfs bytes, so that two
#                                   boots run the same instructions; nokaslr
#   PH_BOOT_TIMEOUT       seconds for the guest's init to start (default a
#                         quarter of --timeout, within 300..600); a guest
#                         that misses it is booted once more
#   PH_TEST_TIMEOUT, PH_SELFCHECK_TIMEOUT  passed on to guest/run-tests.sh
#   COMMAND...            shell command line run by the guest's sh, as root,
#                         in /tmp; default: every test under
#                         /opt/prochandle/tests (guest/run-tests.sh)
#
# Exit status: 0 the command succeeded and the kernel stayed clean; 1 the
# command failed (the kernel stayed clean); 3 the run itself failed: the
# module did not load, the kernel reported a problem (the splat is
# printed), or the guest did not finish in time.  QEMU's own exit status
# means nothing and is ignored.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernel='' module='' append='' modparams='' out=''
interactive=0 show=payload accel=${PH_ACCEL:-auto}
mem=${PH_GUEST_MEM:-512M}
timeout=900
stages=()

usage() { sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-k|--kernel) kernel=$2; shift 2 ;;
	-m|--module) module=$2; shift 2 ;;
	-s|--stage) stages+=("$2"); shift 2 ;;
	-a|--append) append="$append $2"; shift 2 ;;
	-p|--modparams) modparams=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	-t|--timeout) timeout=$2; shift 2 ;;
	-o|--out) out=$2; shift 2 ;;
	-i|--interactive) interactive=1; shift ;;
	--show) show=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; usage 2 >&2 ;;
	*) break ;;
	esac
done
case $show in payload|progress|none) ;; *) echo "run.sh: --show payload|progress|none" >&2; exit 2 ;; esac
case $accel in auto|kvm|tcg|icount) ;; *) echo "run.sh: --accel (PH_ACCEL) auto|kvm|tcg|icount, not '$accel'" >&2; exit 2 ;; esac

[ -n "$kernel" ] || kernel=$("$here/fetch-kernel.sh")
[ -f "$kernel" ] || { echo "run.sh: no kernel image $kernel" >&2; exit 2; }
[ -z "$module" ] || [ -f "$module" ] || { echo "run.sh: no module $module" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "run.sh: qemu-system-x86_64 missing (scripts/deps.sh guest)" >&2; exit 2; }

if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/ph-guest.XXXXXX")
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
console=$out/console.log result=$out/result.txt payload=$out/payload.txt
rm -f "$console" "$result" "$payload"

# What the guest's init reads: mode, payload, module parameters, scripts.
cfg=$out/stage-config
rm -rf "$cfg"
mkdir -p "$cfg/etc/prochandle" "$cfg/usr/libexec/prochandle" "$cfg/opt/prochandle"
if [ "$interactive" = 1 ]; then
	echo shell >"$cfg/etc/prochandle/mode"
else
	echo payload >"$cfg/etc/prochandle/mode"
fi
if [ $# -gt 0 ]; then
	printf '%s\n' "$*" >"$cfg/etc/prochandle/payload"
else
	echo /usr/libexec/prochandle/run-tests >"$cfg/etc/prochandle/payload"
fi
printf '%s\n' "$modparams" >"$cfg/etc/prochandle/modparams"
# Settings the guest side reads from its environment.
: >"$cfg/etc/prochandle/env"
for var in PH_TEST_TIMEOUT PH_SELFCHECK_TIMEOUT; do
	[ -z "${!var:-}" ] || printf 'export %s=%d\n' "$var" "${!var}" >>"$cfg/etc/prochandle/env"
done
install -m 755 "$here/run-tests.sh" "$cfg/usr/libexec/prochandle/run-tests"
install -m 755 "$here/demo-guest.sh" "$cfg/usr/libexec/prochandle/demo"
[ -z "$module" ] || install -m 644 "$module" "$cfg/opt/prochandle/prochandle.ko"

[ "$accel" != auto ] || accel=$("$here/accel.sh")
# The instruction-counting guest must be the same on every boot, down to
# the instruction: its initramfs the same bytes (mkinitramfs.sh --epoch:
# KASLR's seed hashes boot_params, which hold the initramfs's size), its
# random numbers (RDRAND/RDSEED: KASLR, the random pool, ASLR, hash seeds)
# from a fixed seed, and its wall clock starting at a fixed date and
# running on the instruction clock (the random pool mixes it in at boot,
# and the kernel's RTC reads wait 100 us whenever they see the update-in-
# progress bit, which an RTC on the host's clock sets at host-timed
# moments).  bench/README.md, "Two runs".
epoch=()
[ "$accel" != icount ] || epoch=(--epoch 1767225600)
"$here/mkinitramfs.sh" ${epoch[@]+"${epoch[@]}"} "$out/initramfs.cpio.gz" \
	${stages[@]+"${stages[@]}"} "$cfg" >/dev/null

cmdline="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet loglevel=4"
case $accel in
kvm) qaccel=(-accel kvm -cpu host -smp 2) ;;
tcg) qaccel=(-accel "tcg,thread=multi" -cpu max -smp 2) ;;
# icount excludes multi-threaded TCG, and -smp 2 hangs the boot at
# "Booting SMP configuration".
# nokaslr: the kernel at the same addresses whatever the initramfs holds
# (KASLR's seed hashes its size), so that rebuilding the module moves no
# figure the module's code does not (bench/README.md, "Two runs").
icount) qaccel=(-accel tcg -icount "shift=0,sleep=off" -cpu max -smp 1
	-seed 1 -rtc "base=2026-01-01T00:00:00,clock=vm")
	cmdline="$cmdline nokaslr" ;;
esac
if [ "$accel" != kvm ]; then
	# Emulated CPUs on a busy host can stall long enough to look like RCU
	# stalls; real ones are still reported after a minute.  The boot-time
	# check that the IO-APIC timer ticks can lose its race with a starved
	# emulator thread and panic ("IO-APIC + timer doesn't work", seen on
	# 6.1 and 7.2 at load 20): skip it, as emulated CI guests commonly do.
	cmdline="$cmdline rcupdate.rcu_cpu_stall_timeout=60 no_timer_check"
fi
cmdline="$cmdline$append"

qemu=(qemu-system-x86_64 -nodefaults -no-reboot -monitor none
	-machine q35 "${qaccel[@]}" -m "$mem"
	-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" -append "$cmdline")
echo "$accel" >"$out/accel"

# follow WHAT T0: print the live part of the verdict port that WHAT asks for.
follow() {
	local on=0 line
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		PH-PAYLOAD-BEGIN*) on=1 ;;
		PH-PAYLOAD-END*) on=0 ;;
		PH-TEST-BEGIN\ *)
			[ "$1" != progress ] ||
				printf '  [%4ds] %s\n' "$(($(date +%s) - $2))" "${line#PH-TEST-BEGIN }"
			[ "$1" != payload ] || [ "$on" = 0 ] || printf '%s\n' "$line" ;;
		*) [ "$1" != payload ] || [ "$on" = 0 ] || printf '%s\n' "$line" ;;
		esac
	done
}

start=$(date +%s)
if [ "$interactive" = 1 ]; then
	echo "guest: booting; Ctrl-A X quits QEMU" >&2
	"${qemu[@]}" -nographic -serial mon:stdio -serial "file:$result" || true
	: >"$console"
else
	# A boot that never reaches init: QEMU idles and the console stays
	# silent (seen once under TCG with the debug kernel; no module code
	# has run by then).  The guest gets $boot_limit seconds to say
	# PH-INSMOD; if it does not, that boot is killed, its console kept
	# as console.boot1.log, and the guest booted once more.  A second
	# silent boot is a failure like any other.
	boot_limit=$((timeout / 4))
	[ "$boot_limit" -ge 300 ] || boot_limit=300
	[ "$boot_limit" -le 600 ] || boot_limit=600
	boot_limit=${PH_BOOT_TIMEOUT:-$boot_limit}
	for attempt in 1 2; do
		: >"$result"
		: >"$console"
		timeout -k 5 "$timeout" "${qemu[@]}" -display none \
			-serial "file:$console" -serial "file:$result" </dev/null &
		qpid=$!
		booted=0
		while kill -0 "$qpid" 2>/dev/null; do
			if grep -q '^PH-INSMOD' "$result"; then booted=1; break; fi
			[ $(($(date +%s) - start)) -lt "$boot_limit" ] || break
			sleep 1
		done
		if [ "$booted" = 1 ] || ! kill -0 "$qpid" 2>/dev/null || [ "$attempt" = 2 ]; then
			break
		fi
		echo "guest: init did not start within ${boot_limit}s (console: $(wc -c <"$console") bytes); booting once more" >&2
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
		cp "$console" "$out/console.boot1.log"
		start=$(date +%s)
	done
	if [ "$show" != none ]; then
		# Follow the verdict port live until QEMU is gone.
		tail -n +1 -F --pid="$qpid" "$result" 2>/dev/null |
			follow "$show" "$start" &
		tpid=$!
	fi
	qrc=0
	wait "$qpid" || qrc=$?
	[ "$show" = none ] || wait "$tpid" || true
fi
elapsed=$(($(date +%s) - start))
echo "$elapsed" >"$out/elapsed"

tr -d '\r' <"$result" | sed -n '/^PH-PAYLOAD-BEGIN/,/^PH-PAYLOAD-END/{/^PH-PAYLOAD-/d;p}' >"$payload"

status=0
fail() { echo "guest: $*" >&2; status=3; }
if ! grep -q '^PH-DONE' "$result"; then
	if [ "${qrc:-0}" = 124 ] || [ "${qrc:-0}" = 137 ]; then
		fail "no verdict: the guest was killed after the ${timeout}s limit"
	else
		fail "no verdict: the guest died before finishing"
	fi
fi
if grep -q '^PH-INSMOD failed' "$result"; then
	fail "$(sed -n 's/^PH-INSMOD failed: */loading prochandle.ko failed: /p' "$result" | tr -d '\r')"
fi
kernel_report=$(tr -d '\r' <"$result" |
	sed -n '/^PH-KERNEL-BEGIN/,/^PH-KERNEL-END/{/^PH-KERNEL-/d;p}')
if [ -n "$kernel_report" ]; then
	fail "the guest kernel reported problems:"
	printf '%s\n' "$kernel_report" | head -n 60 | sed 's/^/  | /' >&2
fi
splat=0
if ! "$here/scan-log.sh" "$console" >&2; then
	status=3 splat=1
fi
if [ "$splat" = 0 ] && ! grep -q '^PH-DONE' "$result"; then
	if [ "$interactive" = 0 ] && [ ! -s "$console" ]; then
		# Not one byte: the guest never ran (README: "When a guest times out").
		if [ "$accel" = kvm ]; then
			hint="a KVM that does not run guests? PH_ACCEL=tcg avoids it; guest/accel.sh --probe re-checks"
		else
			hint="it did not boot within the limit: QEMU failed, or the host is too busy"
		fi
		echo "guest: the console is empty: the guest never started under $accel ($hint)" >&2
	else
		echo "guest: last console lines ($console):" >&2
		tail -n 25 "$console" | tr -d '\r' | sed 's/^/  | /' >&2
	fi
fi
if [ "$status" = 0 ]; then
	rc=$(sed -n 's/^PH-PAYLOAD-END rc=\([0-9]*\).*/\1/p' "$result" | tr -d '\r')
	[ "${rc:-1}" = 0 ] || { echo "guest: command exited ${rc:-?}" >&2; status=1; }
fi
exit "$status"
