#!/usr/bin/env bash
# Side-by-side benchmark of `lagwise server` against redis-server.
#
# Usage: bench/server.sh [all|throughput|memory|suite]
#
#   all         throughput, suite, memory (default)
#   throughput  redis-benchmark GET/SET with -P 1 and -P 16, BENCH_ROUNDS rounds,
#               redis and lagwise alternating within each round; medians reported
#   memory      load the same SET workload into fresh instances of both servers,
#               then compare DBSIZE and process RSS (VmRSS)
#   suite       run the default redis-benchmark suite against lagwise only and
#               fail if any line mentions ERR/error
#
# The final report is a Markdown table, printed on stdout and written to
# RESULTS_FILE (default: bench/results/server-latest.md). Progress goes to stderr.
#
# Environment:
#   LAGWISE_BIN         prebuilt lagwise binary (default: go build ./cmd/lagwise)
#   BENCH_AGAINST       "lagwise" (default) or "redis": run the lagwise side as a
#                       second redis-server, to sanity-check this script itself
#   BENCH_N_P1          requests per -P 1 run           (default 200000)
#   BENCH_N_P16         requests per -P 16 run          (default 1000000)
#   BENCH_ROUNDS        throughput rounds               (default 3)
#   BENCH_CLIENTS       redis-benchmark -c              (default 50)
#   BENCH_DATA_SIZE     redis-benchmark -d              (default 64)
#   BENCH_KEYSPACE      -r for the throughput runs      (default 100000)
#   BENCH_MEM_N         requests for the memory load    (default 2000000)
#   BENCH_MEM_KEYSPACE  -r for the memory load          (default 1000000)
#   BENCH_SUITE_N       -n for the default suite        (default 2000)
#   BENCH_SETTLE        seconds to wait before reading RSS (default 2)
#   BENCH_TIMEOUT       per redis-benchmark run timeout, seconds (default 900)
#   BENCH_SUITE_TIMEOUT timeout for the whole default suite, seconds (default 180)
#   RESULTS_FILE        where to write the Markdown report
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK   tool paths (default: from PATH)
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$script_dir/lib.sh"

mode=${1:-all}
case $mode in
all | throughput | memory | suite) ;;
-h | --help | help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac
(($# <= 1)) || die "too many arguments (usage: bench/server.sh [all|throughput|memory|suite])"

REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
BENCH_AGAINST=${BENCH_AGAINST:-lagwise}
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
DATA_SIZE=${BENCH_DATA_SIZE:-64}
KEYSPACE=${BENCH_KEYSPACE:-100000}
MEM_N=${BENCH_MEM_N:-2000000}
MEM_KEYSPACE=${BENCH_MEM_KEYSPACE:-1000000}
SUITE_N=${BENCH_SUITE_N:-2000}
SETTLE=${BENCH_SETTLE:-2}
RUN_TIMEOUT=${BENCH_TIMEOUT:-900}
SUITE_TIMEOUT=${BENCH_SUITE_TIMEOUT:-180}
RESULTS_FILE=${RESULTS_FILE:-$script_dir/results/server-latest.md}

for pair in BENCH_N_P1:N_P1 BENCH_N_P16:N_P16 BENCH_ROUNDS:ROUNDS BENCH_CLIENTS:CLIENTS \
	BENCH_DATA_SIZE:DATA_SIZE BENCH_KEYSPACE:KEYSPACE BENCH_MEM_N:MEM_N BENCH_MEM_KEYSPACE:MEM_KEYSPACE \
	BENCH_SUITE_N:SUITE_N BENCH_TIMEOUT:RUN_TIMEOUT BENCH_SUITE_TIMEOUT:SUITE_TIMEOUT; do
	var=${pair#*:}
	require_positive "${pair%%:*}" "${!var}"
done
require_seconds BENCH_SETTLE "$SETTLE"
case $BENCH_AGAINST in
lagwise | redis) ;;
*) die "BENCH_AGAINST must be 'lagwise' or 'redis' (got '$BENCH_AGAINST')" ;;
esac

require_tools "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK"
bench_init

report=$tmp/report.md
status=0

throughput() {
	local raw=$tmp/throughput.tsv r p n side out test rps p50 p99
	local -a order
	: >"$raw"
	for ((r = 1; r <= ROUNDS; r++)); do
		# Alternate who goes first so neither side always runs on a cooler machine.
		if ((r % 2)); then order=(redis lagwise); else order=(lagwise redis); fi
		for p in 1 16; do
			if ((p == 1)); then n=$N_P1; else n=$N_P16; fi
			for side in "${order[@]}"; do
				out=$tmp/tp-$r-$p-$side.csv
				run_bench "$side" "$out" -c "$CLIENTS" -d "$DATA_SIZE" -r "$KEYSPACE" -n "$n" -t get,set -P "$p" --csv
				while read -r test rps p50 p99 _; do
					printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$p" "$test" "$rps" "$p50" "$p99" >>"$raw"
					log "$(printf 'round %d/%d  P%-2d %-7s %-4s %10.0f rps  p50 %s ms  p99 %s ms' \
						"$r" "$ROUNDS" "$p" "$side" "$test" "$rps" "$p50" "$p99")"
				done < <(parse_csv "$out")
			done
		done
	done

	# col SIDE P TEST FIELD -> median of that field over the rounds.
	col() {
		awk -F'\t' -v s="$1" -v p="$2" -v t="$3" -v f="$4" '$1 == s && $2 == p && $3 == t { print $f }' "$raw" | median
	}
	local rr lr rp50 lp50 rp99 lp99
	{
		echo
		echo "### Throughput"
		echo
		echo "redis-benchmark \`-c $CLIENTS -d $DATA_SIZE -r $KEYSPACE -t get,set\`, -n $N_P1 (P1) / $N_P16 (P16);" \
			"median of $ROUNDS rounds, redis and lagwise alternating. ratio = lagwise / redis (higher is better)."
		echo
		{
			printf 'test\tredis rps\tlagwise rps\tratio\tredis p50 ms\tlagwise p50 ms\tredis p99 ms\tlagwise p99 ms\n'
			for p in 1 16; do
				for test in SET GET; do
					rr=$(col redis "$p" "$test" 4)
					lr=$(col lagwise "$p" "$test" 4)
					rp50=$(col redis "$p" "$test" 5)
					lp50=$(col lagwise "$p" "$test" 5)
					rp99=$(col redis "$p" "$test" 6)
					lp99=$(col lagwise "$p" "$test" 6)
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test -P $p" \
						"$(fmt %.0f "$rr")" "$(fmt %.0f "$lr")" "$(ratio "$lr" "$rr")" \
						"$(fmt %.3f "$rp50")" "$(fmt %.3f "$lp50")" "$(fmt %.3f "$rp99")" "$(fmt %.3f "$lp99")"
				done
			done
		} | md_table
	} >>"$report"
}

used_memory() {
	local v
	v=$(cli "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }' || true)
	if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; else echo n/a; fi
}

memory() {
	local side pid port
	local -A idle rss keys used
	log "memory: restarting both servers for a clean baseline"
	stop_servers
	start_servers
	for side in redis lagwise; do
		idle[$side]=$(rss_kb "$(side_pid "$side")")
	done
	for side in redis lagwise; do
		log "memory: loading $MEM_N SETs (-r $MEM_KEYSPACE) into $side"
		run_bench "$side" "$tmp/mem-$side.csv" -t set -P 16 -d "$DATA_SIZE" -r "$MEM_KEYSPACE" -n "$MEM_N" -c "$CLIENTS" --csv
	done
	sleep "$SETTLE"
	for side in redis lagwise; do
		pid=$(side_pid "$side")
		port=$(side_port "$side")
		kill -0 "$pid" 2>/dev/null || die "$side server died during the memory load"
		rss[$side]=$(rss_kb "$pid")
		keys[$side]=$(cli "$port" dbsize | tr -d '\r')
		[[ ${keys[$side]} =~ ^[0-9]+$ ]] || die "unexpected DBSIZE reply from $side: ${keys[$side]}"
		used[$side]=$(used_memory "$port")
		log "memory: $side keys=${keys[$side]} rss=${rss[$side]} kB (idle ${idle[$side]} kB)"
	done

	per_key() { # side
		if ((${keys[$1]} == 0)); then
			echo n/a
		else
			awk -v a="${rss[$1]}" -v b="${idle[$1]}" -v k="${keys[$1]}" 'BEGIN { printf "%.0f", (a - b) * 1024 / k }'
		fi
	}
	local rpk lpk
	rpk=$(per_key redis)
	lpk=$(per_key lagwise)
	{
		echo
		echo "### Memory"
		echo
		echo "Fresh servers loaded with redis-benchmark \`-t set -P 16 -d $DATA_SIZE -r $MEM_KEYSPACE -n $MEM_N -c $CLIENTS\`;" \
			"RSS is VmRSS from /proc, read ${SETTLE}s after the load. ratio = lagwise / redis (lower is better)."
		echo
		{
			printf 'metric\tredis\tlagwise\tratio\n'
			printf 'keys (DBSIZE)\t%s\t%s\t%s\n' "${keys[redis]}" "${keys[lagwise]}" "$(ratio "${keys[lagwise]}" "${keys[redis]}")"
			printf 'RSS idle (MiB)\t%s\t%s\t%s\n' "$(mib "${idle[redis]}" 1024)" "$(mib "${idle[lagwise]}" 1024)" \
				"$(ratio "${idle[lagwise]}" "${idle[redis]}")"
			printf 'RSS loaded (MiB)\t%s\t%s\t%s\n' "$(mib "${rss[redis]}" 1024)" "$(mib "${rss[lagwise]}" 1024)" \
				"$(ratio "${rss[lagwise]}" "${rss[redis]}")"
			printf 'RSS growth per key (bytes)\t%s\t%s\t%s\n' "$rpk" "$lpk" "$(ratio "$lpk" "$rpk")"
			printf 'INFO used_memory (MiB)\t%s\t%s\t%s\n' "$(mib "${used[redis]}" 1048576)" "$(mib "${used[lagwise]}" 1048576)" \
				"$(ratio "${used[lagwise]}" "${used[redis]}")"
		} | md_table
	} >>"$report"
}

suite() {
	local out=$tmp/suite.out clean=$tmp/suite.txt rc=0 errors warnings nerr
	log "suite: redis-benchmark -q -n $SUITE_N against lagwise"
	RUN_TIMEOUT=$SUITE_TIMEOUT run_timeout "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$lw_port" -q -n "$SUITE_N" >"$out" 2>&1 || rc=$?
	# -q redraws progress with \r; keep only completed lines.
	tr '\r' '\n' <"$out" | grep -v 'rps=.*avg_msec=' | sed '/^[[:space:]]*$/d' >"$clean" || true
	errors=$(grep -E 'ERR|[Ee]rror' "$clean" | sort | uniq -c | sed 's/^ *//' || true)
	warnings=$(grep -E 'WARN' "$clean" | sort -u || true)
	local verdict alive=yes
	kill -0 "$lw_pid" 2>/dev/null || alive=no
	if [[ -n $errors ]]; then
		nerr=$(grep -cE 'ERR|[Ee]rror' "$clean" || true)
		verdict="FAIL: $nerr error line(s)"
	elif ((rc == 124)); then
		verdict="FAIL: timed out after ${SUITE_TIMEOUT}s (last output: $(tr '\r' '\n' <"$out" | sed '/^[[:space:]]*$/d' | tail -n 1))"
	elif ((rc != 0)); then
		verdict="FAIL: redis-benchmark exited $rc"
	else
		verdict=PASS
	fi
	if [[ $alive == no ]]; then
		if [[ $verdict == PASS ]]; then verdict="FAIL"; else verdict+=";"; fi
		verdict+=" lagwise server is no longer running"
	fi
	[[ $verdict == PASS ]] || status=1
	if [[ -n $errors ]]; then
		log "suite: error lines (count, line):"
		printf '%s\n' "$errors" >&2
	fi

	# redis-benchmark gives up at the first error reply, so after a failure run
	# each test of the default suite on its own to see every one that fails.
	local -a failed=()
	local t trc line table_src=$clean each_timeout=$((SUITE_TIMEOUT < 60 ? SUITE_TIMEOUT : 60))
	if [[ $verdict != PASS && $alive == yes ]]; then
		log "suite: re-running each test separately to find all failures"
		table_src=$tmp/suite-each.txt
		: >"$table_src"
		for t in ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange mset; do
			trc=0
			RUN_TIMEOUT=$each_timeout run_timeout "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$lw_port" -q -n "$SUITE_N" -t "$t" \
				>"$tmp/suite-$t.out" 2>&1 || trc=$?
			tr '\r' '\n' <"$tmp/suite-$t.out" | grep -v 'rps=.*avg_msec=' | sed '/^[[:space:]]*$/d' >>"$table_src" || true
			line=$(tr '\r' '\n' <"$tmp/suite-$t.out" | grep -E 'ERR|[Ee]rror' | head -n 1 || true)
			if ((trc == 124)); then
				line="timed out after ${each_timeout}s${line:+; $line}"
			elif [[ -z $line && $trc -ne 0 ]]; then
				line="redis-benchmark exited $trc"
			fi
			if ! kill -0 "$lw_pid" 2>/dev/null; then
				failed+=("$t: ${line:+$line; }lagwise server died")
				break
			fi
			[[ -z $line ]] || failed+=("$t: $line")
		done
		log "suite: failing tests: ${#failed[@]}"
		((${#failed[@]} == 0)) || printf '  %s\n' "${failed[@]}" >&2
	fi
	[[ -z $warnings ]] || log "suite: warnings: $warnings"
	log "suite: $verdict"
	{
		echo
		echo "### Default redis-benchmark suite (lagwise)"
		echo
		echo "\`redis-benchmark -q -n $SUITE_N\`: **$verdict**"
		if [[ -n $errors ]]; then
			echo
			printf '%s\n' "$errors" | sed 's/^\([0-9]*\) /- (x\1) /; s/`/'"'"'/g'
		fi
		if ((${#failed[@]} > 0)); then
			echo
			echo "Each test run on its own, failing ones:"
			echo
			printf -- '- %s\n' "${failed[@]}" | sed "s/\`/'/g"
		fi
		if [[ -n $warnings ]]; then
			echo
			printf '%s\n' "$warnings" | sed 's/^/- /'
		fi
		echo
		{
			printf 'test\tlagwise rps\tp50 ms\n'
			sed -nE 's/^ *(.*): ([0-9.]+) requests per second, p50=([0-9.]+) msec.*$/\1\t\2\t\3/p' "$table_src" |
				awk -F'\t' '{ printf "%s\t%.0f\t%s\n", $1, $2, $3 }'
		} | md_table
	} >>"$report"
}

prepare_lagwise
write_header "lagwise server vs Redis" "$mode" "$report"
case $mode in
suite) start_servers lagwise-only ;;
*) start_servers ;;
esac

case $mode in
all)
	throughput
	suite
	memory
	;;
throughput) throughput ;;
memory) memory ;;
suite) suite ;;
esac

stop_servers
mkdir -p -- "$(dirname -- "$RESULTS_FILE")"
cp -- "$report" "$RESULTS_FILE"
log "report written to $RESULTS_FILE"
echo >&2
cat "$report"
exit "$status"
