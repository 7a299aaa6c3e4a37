#!/usr/bin/env bash
# The whole benchmark suite in one run, side by side with Redis 7.0, and one
# report gathering it.
#
# Usage: bench/all.sh            (or: make bench BENCH=all)
#
# Runs, one after the other, with one lagwise binary built up front:
#
#   server   bench/server.sh: lagwise server vs redis-server, throughput,
#            the default redis-benchmark suite, memory (RSS growth per key)
#   proxy    bench/proxy.sh: lagwise proxy vs the Redis master direct
#   repl     bench/repl.sh: full resync time, lag under load, partial resync
#   persist  bench/persist.sh: BGSAVE time, snapshot stall, load time
#   lag      bench/lagplot (go run ./bench/lagplot): replica1 of a Redis master stopped for
#            5 s behind lagwise proxy; its lag and the proxy's read routing,
#            drawn to bench/results/lag-episode.png (series in .csv)
#
# and writes bench/results/all-latest.md: a header (date, commit, host, load
# average), a table of the headline figures, then each part's report in
# full. A part that fails (a missed bar, a dead process) does not stop the
# others; the exit status is 1 if any failed.
#
# The parts keep their own defaults (3 rounds, up to 1M keys), which take a
# while. BENCH_QUICK=1 passes small counts and one round to each part (a few
# minutes); any variable of a part set in the environment still wins, e.g.
# BENCH_ROUNDS=3 for medians of three. In quick mode the parts' own reports
# (bench/results/<part>-latest.md) are left as they are: only all-latest.md
# and the lag episode are written.
#
# Environment:
#   BENCH_QUICK    1: small counts and one round per part (default 0)
#   BENCH_PARTS    parts to run, in order (default "server proxy repl persist lag")
#   LAGWISE_BIN    prebuilt lagwise binary (default: go build ./cmd/lagwise once)
#   RESULTS_DIR    where reports go (default bench/results)
#   LAGPLOT_ARGS   extra arguments for bench/lagplot (e.g. -lagwise)
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK   tool paths (default: from PATH)
#   and each part's own variables (see bench/<part>.sh --help).
set -euo pipefail
export LC_ALL=C

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$script_dir/lib.sh"

no_args "$@"

QUICK=${BENCH_QUICK:-0}
PARTS=${BENCH_PARTS:-server proxy repl persist lag}
RESULTS_DIR=${RESULTS_DIR:-$script_dir/results}
[[ $QUICK == 0 || $QUICK == 1 ]] || die "BENCH_QUICK must be 0 or 1 (got '$QUICK')"
for part in $PARTS; do
	case $part in
	server | proxy | repl | persist | lag) ;;
	*) die "unknown part '$part' in BENCH_PARTS (server, proxy, repl, persist, lag)" ;;
	esac
done
[[ $BENCH_AGAINST == lagwise ]] || die "BENCH_AGAINST=$BENCH_AGAINST: all.sh compares lagwise with Redis; run a part alone to self-check it"
for tool in "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK"; do
	command -v "$tool" >/dev/null ||
		die "$tool not found in PATH: the suite runs against a real Redis 7.0 (install redis-server and redis-tools, or set REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK)"
done
[[ " $PARTS " != *" repl "* ]] || require_tools "${PYTHON:-python3}"
[[ " $PARTS " != *" lag "* ]] || command -v go >/dev/null || die "go not found: bench/lagplot is a Go program"
bench_init

# Quick mode: small counts, unless the caller set them.
if ((QUICK)); then
	export BENCH_ROUNDS=${BENCH_ROUNDS:-1}
	export BENCH_N_P1=${BENCH_N_P1:-20000}
	export BENCH_N_P16=${BENCH_N_P16:-100000}
	export BENCH_MEM_N=${BENCH_MEM_N:-300000}
	export BENCH_MEM_KEYSPACE=${BENCH_MEM_KEYSPACE:-200000}
	export BENCH_SUITE_N=${BENCH_SUITE_N:-1000}
	export BENCH_REPL_KEYS=${BENCH_REPL_KEYS:-200000}
	export BENCH_REPL_LAG_SECS=${BENCH_REPL_LAG_SECS:-3}
	export BENCH_REPL_DISK=${BENCH_REPL_DISK:-0}
	export BENCH_PERSIST_KEYS=${BENCH_PERSIST_KEYS:-200000}
	export BENCH_PERSIST_WRITES=${BENCH_PERSIST_WRITES:-400000}
	mode=quick
else
	mode=full
fi

prepare_lagwise
export LAGWISE_BIN=$lagwise_bin
# bench/lagplot, built rather than run with `go run`, so that the signal
# the exit trap sends reaches it (and not only the go command).
lagplot_bin=''
if [[ " $PARTS " == *" lag "* ]]; then
	log "building ./bench/lagplot"
	(cd -- "$repo_root" && go build -o "$tmp/bin/lagplot" ./bench/lagplot) || die "go build ./bench/lagplot failed"
	lagplot_bin=$tmp/bin/lagplot
fi

mkdir -p -- "$RESULTS_DIR"
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Dirty: changes to tracked files outside the results this script rewrites.
if [[ $commit != unknown && -n $(git -C "$repo_root" status --porcelain --untracked-files=no -- . ':!bench/results' 2>/dev/null | head -n 1) ]]; then
	commit+='+dirty'
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_all=$SECONDS

# part_report PART: where the part's Markdown report goes.
part_report() {
	if [[ $1 == lag ]]; then
		echo "$tmp/lag.md"
	elif ((QUICK)); then
		echo "$tmp/$1-latest.md"
	else
		echo "$RESULTS_DIR/$1-latest.md"
	fi
}

declare -A part_status part_secs
for part in $PARTS; do
	log "---- $part ($mode)"
	report=$(part_report "$part")
	rm -f -- "$tmp/$part-latest.md" "$tmp/lag.md"
	t0=$SECONDS
	rc=0
	# Each part runs in the background and is waited for, so that a signal
	# to this script stops it at once and the exit trap stops the part (which
	# stops what it started).
	if [[ $part == lag ]]; then
		# shellcheck disable=SC2086 # LAGPLOT_ARGS is a list of arguments
		"$lagplot_bin" -out "$RESULTS_DIR/lag-episode.png" ${LAGPLOT_ARGS:-} >"$report" &
	else
		RESULTS_FILE=$report bash "$script_dir/$part.sh" >/dev/null &
	fi
	pid=$!
	cleanup_pids+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	part_secs[$part]=$((SECONDS - t0))
	if ((rc == 0)); then
		part_status[$part]=ok
	elif [[ -s $report ]]; then
		# The figures whose bar the part marked as missed, or its FAIL lines.
		missed=$(awk -F'|' '/MISSED|FAIL/ {
				s = ($0 ~ /^\|/) ? $2 : $0
				gsub(/^[ \t*-]+|[ \t*]+$/, "", s)
				printf "%s%s", (n++ ? "; " : ""), s
			}' "$report")
		part_status[$part]="exit $rc${missed:+, missed: $missed}"
	else
		part_status[$part]="FAILED, exit $rc, no report"
	fi
	log "---- $part: ${part_status[$part]} in ${part_secs[$part]}s"
done

# cell FILE FIRST-CELL N: the Nth cell (1 = the first) of the first table
# row of FILE whose first cell starts with FIRST-CELL; "n/a" if none.
cell() {
	local v=''
	[[ -f $1 ]] && v=$(awk -F'|' -v want="$2" -v n="$3" '
		function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		/^\|/ && index(trim($2), want) == 1 { print trim($(n + 1)); exit }' "$1")
	echo "${v:-n/a}"
}

# headline LABEL FILE FIRST-CELL REDIS-COL LAGWISE-COL [RATIO-COL]: a row
# of the headline table.
headline() {
	local ratio=''
	[[ -z ${6:-} ]] || ratio=$(cell "$2" "$3" "$6")
	printf '%s\t%s\t%s\t%s\n' "$1" "$(cell "$2" "$3" "$4")" "$(cell "$2" "$3" "$5")" "$ratio"
}

out=$tmp/all.md
{
	echo "# lagwise benchmarks against Redis 7.0"
	echo
	echo "- mode: \`$mode\` (\`bench/all.sh\`$( ((QUICK)) && echo ", BENCH_QUICK=1: small counts, BENCH_ROUNDS=$BENCH_ROUNDS")), started $started, $(((SECONDS - t_all) / 60)) min"
	echo "- commit \`$commit\`; host: $(nproc 2>/dev/null || echo '?') CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?');" \
		"$(uname -sr); $("$REDIS_SERVER" --version | awk '{ print $1, $3 }'); $(go version 2>/dev/null | awk '{ print $3 }')"
	echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
	echo "- clients (redis-benchmark, the probes, the loads) on the same host; the machine may be shared: compare ratios within one run"
	echo
	echo "| part | result | seconds |"
	echo "|:--|:--|--:|"
	for part in $PARTS; do
		echo "| $part | ${part_status[$part]} | ${part_secs[$part]} |"
	done
	echo
	echo "## Headline figures"
	echo
	s=$(part_report server) p=$(part_report proxy) r=$(part_report repl) d=$(part_report persist) l=$(part_report lag)
	{
		printf 'figure\tRedis 7.0\tlagwise\tratio\n'
		if [[ " $PARTS " == *" server "* ]]; then
			for t in 'SET -P 1' 'GET -P 1' 'SET -P 16' 'GET -P 16'; do
				headline "server $t (rps)" "$s" "$t" 2 3 4
			done
			headline "server RSS growth per key (bytes)" "$s" "RSS growth per key" 2 3 4
		fi
		if [[ " $PARTS " == *" proxy "* ]]; then
			for t in 'GET -P 1' 'GET -P 16'; do
				headline "proxy $t (rps): Redis direct vs through lagwise proxy" "$p" "$t" 2 3 4
			done
		fi
		if [[ " $PARTS " == *" repl "* ]]; then
			headline "full resync, diskless (s)" "$r" "full resync, diskless" 2 3 4
			headline "replica time lag under a SET load, p99 (ms)" "$r" "time lag p99" 2 3 4
			headline "partial resync: link cut to offsets equal (ms)" "$r" "partial resync: kill to offsets equal" 2 3 4
		fi
		if [[ " $PARTS " == *" persist "* ]]; then
			headline "BGSAVE time, no clients (s)" "$d" "BGSAVE time, no clients" 2 3 4
			headline "max latency added by a BGSAVE under a SET load (ms)" "$d" "stall added by the snapshot" 2 3
		fi
		if [[ " $PARTS " == *" lag "* ]]; then
			for t in 'SIGSTOP to replica1 out of rotation' "replica1's share of reads while out" 'SIGCONT to replica1 routable again'; do
				printf 'lag episode (Redis replicas): %s\t\t%s\t\n' "$t" "$(cell "$l" "$t" 2)"
			done
		fi
	} | md_table
	for part in $PARTS; do
		report=$(part_report "$part")
		echo
		if [[ -s $report ]]; then
			cat -- "$report"
		else
			echo "## $part"
			echo
			echo "**No report: ${part_status[$part]}.**"
		fi
	done
	if [[ " $PARTS " == *" lag "* && -s $RESULTS_DIR/lag-episode.png ]]; then
		echo
		echo "![replica lag during a stopped replica](lag-episode.png)"
	fi
} >"$out"

cp -- "$out" "$RESULTS_DIR/all-latest.md"
log "report written to $RESULTS_DIR/all-latest.md"
echo >&2
cat "$out"
for part in $PARTS; do
	[[ ${part_status[$part]} == ok ]] || exit 1
done
