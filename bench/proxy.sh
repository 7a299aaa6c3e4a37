#!/usr/bin/env bash
# Throughput, latency and CPU cost of `lagwise proxy` against talking to Redis
# straight, in the same run.
#
# Usage: bench/proxy.sh
#
# One redis-server 7.0 master, two redis-server replicas, and redis-benchmark
# `-c CLIENTS -d DATA_SIZE -r KEYSPACE -t set` then `-t get`, with -P 1 and
# -P 16, against three endpoints:
#
#   direct      the master itself
#   proxy       lagwise proxy with the master as its only backend (no
#               replicas in its config.yaml): the 1:1 comparison with direct
#   proxy+2r    lagwise proxy in front of the master and both replicas
#               (weights 1, 1, the default routing: reads to the replicas)
#
# The replicas replicate the master only during the proxy+2r runs (REPLICAOF
# before, REPLICAOF NO ONE after), so direct and proxy measure a master with
# no replica to feed. Each of BENCH_ROUNDS rounds runs every test (SET -P 1,
# GET -P 1, SET -P 16, GET -P 16) against the three endpoints back to back,
# the order rotating from test to test, so that a change in the machine's
# load hits the three alike; figures are medians over the rounds, and a
# ratio is the median of the rounds' ratios, with their range.
#
# Reported: requests/s and the ratio to direct; p50 and p99 latency as
# redis-benchmark --csv prints them and what the proxy adds to direct's; the
# proxy's CPU time (utime + stime from /proc/PID/stat, before and after each
# redis-benchmark run) per 100k requests; and for proxy+2r the share of GETs
# the replicas served (INFO commandstats of the three servers).
#
# The Markdown report is printed on stdout and written to RESULTS_FILE
# (default bench/results/proxy-latest.md); progress goes to stderr. The exit
# status is 1 if a redis-benchmark run printed an error or a process died.
# Every process the script starts is stopped when it exits.
#
# Environment:
#   LAGWISE_BIN       prebuilt lagwise binary (default: go build -o into a temp dir)
#   BENCH_N_P1        requests per -P 1 run              (default 300000)
#   BENCH_N_P16       requests per -P 16 run             (default 2000000)
#   BENCH_ROUNDS      rounds                             (default 3)
#   BENCH_CLIENTS     redis-benchmark -c                 (default 50)
#   BENCH_DATA_SIZE   redis-benchmark -d                 (default 64)
#   BENCH_KEYSPACE    redis-benchmark -r                 (default 100000)
#   BENCH_TIMEOUT     per redis-benchmark run timeout, seconds (default 900)
#   RESULTS_FILE      where to write the Markdown report
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK   tool paths (default: from PATH)
set -euo pipefail
export LC_ALL=C

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$script_dir/lib.sh"

no_args "$@"

N_P1=${BENCH_N_P1:-300000}
N_P16=${BENCH_N_P16:-2000000}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
DATA_SIZE=${BENCH_DATA_SIZE:-64}
KEYSPACE=${BENCH_KEYSPACE:-100000}
RUN_TIMEOUT=${BENCH_TIMEOUT:-900}
RESULTS_FILE=${RESULTS_FILE:-$script_dir/results/proxy-latest.md}

for pair in BENCH_N_P1:N_P1 BENCH_N_P16:N_P16 BENCH_ROUNDS:ROUNDS BENCH_CLIENTS:CLIENTS \
	BENCH_DATA_SIZE:DATA_SIZE BENCH_KEYSPACE:KEYSPACE BENCH_TIMEOUT:RUN_TIMEOUT; do
	var=${pair#*:}
	require_positive "${pair%%:*}" "${!var}"
done
[[ $BENCH_AGAINST == lagwise ]] || die "BENCH_AGAINST=$BENCH_AGAINST: this script has no stand-in for the proxy"
require_tools "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK" awk sort
[[ -r /proc/self/stat ]] || die "/proc is needed to read the proxy's CPU time"
bench_init

clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
report=$tmp/report.md
raw=$tmp/raw.tsv # round, endpoint, P, test, metric, value
: >"$raw"
status=0

# The endpoints, in report order.
endpoints=(direct proxy proxy+2r)

# cpu_ticks PID: utime + stime of PID in clock ticks. The command name
# (field 2) may hold spaces, so count the fields after its closing ')'.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# alive PID NAME: die if the process is gone.
alive() {
	kill -0 "$1" 2>/dev/null || die "$2 (pid $1) is no longer running"
}

# rec ROUND ENDPOINT P TEST METRIC VALUE: one figure, to $raw.
rec() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$raw"; }

# get_calls PORT: cmdstat_get calls of the server on PORT (0 if none yet).
get_calls() {
	local v
	v=$(cli "$1" info commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_get" { print $3 }')
	echo "${v:-0}"
}

# ---------------------------------------------------------------- servers

prepare_lagwise
write_header "lagwise proxy vs Redis direct" proxy "$report"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

read -r master_port r1_port r2_port proxy_port proxy2r_port m1 m2 <<<"$(free_ports 7)" ||
	die "could not find free ports"
start_server redis-master "$master_port" --repl-diskless-sync-delay 0
master_pid=$started_pid
cleanup_pids+=("$master_pid")
start_server redis-replica1 "$r1_port"
r1_pid=$started_pid
cleanup_pids+=("$r1_pid")
start_server redis-replica2 "$r2_port"
r2_pid=$started_pid
cleanup_pids+=("$r2_pid")

# write_config FILE LISTEN METRICS [REPLICA_PORT...]: a proxy config.yaml
# in front of the master and the given replicas.
write_config() {
	local file=$1 listen=$2 metrics=$3 port
	shift 3
	{
		echo "listen: 127.0.0.1:$listen"
		echo "metrics_listen: 127.0.0.1:$metrics"
		echo "master: 127.0.0.1:$master_port"
		if (($# == 0)); then
			echo "replicas: []"
		else
			echo "replicas:"
			for port in "$@"; do
				printf '  - addr: 127.0.0.1:%s\n    weight: 1\n' "$port"
			done
		fi
		echo "log_level: warn"
	} >"$file"
}

# start_proxy NAME CONFIG PORT: start lagwise proxy and wait for PING; sets
# started_pid.
start_proxy() {
	local name=$1 config=$2 port=$3 start=$SECONDS
	mkdir -p "$tmp/$name"
	"$lagwise_bin" proxy --config "$config" >>"$tmp/$name/proxy.log" 2>&1 &
	started_pid=$!
	cleanup_pids+=("$started_pid")
	while ((SECONDS - start <= START_TIMEOUT)); do
		if ! kill -0 "$started_pid" 2>/dev/null; then
			tail -n 20 "$tmp/$name/proxy.log" >&2 || true
			die "$name exited during startup (port $port)"
		fi
		if [[ $(cli "$port" ping 2>/dev/null || true) == PONG ]]; then
			log "$name up on 127.0.0.1:$port (pid $started_pid)"
			return 0
		fi
		sleep "$START_POLL"
	done
	tail -n 20 "$tmp/$name/proxy.log" >&2 || true
	die "$name did not answer PING on port $port within ${START_TIMEOUT}s"
}

stop_proxy() {
	stop_pid "$1"
	forget_pid "$1"
}

# The master-only proxy runs for the whole benchmark.
write_config "$tmp/proxy.yaml" "$proxy_port" "$m1"
start_proxy proxy "$tmp/proxy.yaml" "$proxy_port"
proxy_pid=$started_pid
write_config "$tmp/proxy2r.yaml" "$proxy2r_port" "$m2" "$r1_port" "$r2_port"

# attach_replicas / detach_replicas: make both replicas replicate the master
# and wait until they hold its offset; and stop that.
attach_replicas() {
	local port start=$SECONDS mo o1 o2
	for port in "$r1_port" "$r2_port"; do
		[[ $(cli "$port" replicaof 127.0.0.1 "$master_port") == OK ]] || die "REPLICAOF on $port failed"
	done
	while :; do
		mo=$(info_field "$master_port" replication master_repl_offset)
		o1=$(info_field "$r1_port" replication slave_repl_offset)
		o2=$(info_field "$r2_port" replication slave_repl_offset)
		if [[ $(info_field "$r1_port" replication master_link_status) == up &&
			$(info_field "$r2_port" replication master_link_status) == up && $o1 == "$mo" && $o2 == "$mo" ]]; then
			return 0
		fi
		((SECONDS - start < 120)) || die "the replicas did not catch up with the master within 120s (master $mo, replicas $o1 $o2)"
		sleep 0.1
	done
}
detach_replicas() {
	local port
	for port in "$r1_port" "$r2_port"; do
		cli "$port" replicaof no one >/dev/null || die "REPLICAOF NO ONE on $port failed"
	done
}

# wait_routable PORT: until LAGWISE LAG through the proxy on PORT shows
# every replica routable (at most 10 s; then a warning, and on we go).
wait_routable() {
	local port=$1 start=$SECONDS out
	while ((SECONDS - start < 10)); do
		out=$(cli "$port" lagwise lag 2>/dev/null | tr -d '\r' || true)
		if [[ -n $out ]] && awk -v a="127.0.0.1:$r1_port" -v b="127.0.0.1:$r2_port" '
			{ addr = $1; sub(/:$/, "", addr) }
			(addr == a || addr == b) && !(addr in seen) {
				seen[addr] = 1
				n++
				if (!match($0, /routable=(1|yes|true)([ ,]|$)/)) bad = 1
			}
			END { exit !(n == 2 && !bad) }' <<<"$out"; then
			return 0
		fi
		sleep 0.1
	done
	log "warning: LAGWISE LAG through the proxy did not show both replicas routable within 10s:"
	printf '%s\n' "$out" >&2
}

# ---------------------------------------------------------------- runs

# bench_run ROUND ENDPOINT PORT PID P TEST: one redis-benchmark run of TEST
# (set or get) against PORT, recording rps, p50, p99 and (with a PID) the
# CPU that process used per 100k requests; for proxy+2r GET, also the
# share of GETs the replicas served.
bench_run() {
	local r=$1 ep=$2 port=$3 pid=$4 p=$5 test=$6 n out rc=0 t0 t1 name rps p50 p99 before=() after=() port_i i
	if ((p == 1)); then n=$N_P1; else n=$N_P16; fi
	out=$tmp/run-$r-${ep//+/_}-$p-$test.csv
	[[ -z $pid ]] || t0=$(cpu_ticks "$pid")
	if [[ $ep == proxy+2r && $test == get ]]; then
		for port_i in "$master_port" "$r1_port" "$r2_port"; do before+=("$(get_calls "$port_i")"); done
	fi
	run_timeout "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -c "$CLIENTS" -d "$DATA_SIZE" -r "$KEYSPACE" \
		-n "$n" -t "$test" -P "$p" --csv >"$out" 2>"$out.err" || rc=$?
	[[ -z $pid ]] || t1=$(cpu_ticks "$pid")
	if ((rc != 0)); then
		tail -n 20 "$out.err" >&2 || true
		((rc == 124)) && die "redis-benchmark against $ep timed out after ${RUN_TIMEOUT}s"
		die "redis-benchmark against $ep (-P $p -t $test) failed (exit $rc)"
	fi
	if grep -qE 'ERR|[Ee]rror' "$out" "$out.err"; then
		log "error: redis-benchmark against $ep (-P $p -t $test) printed errors:"
		grep -hE 'ERR|[Ee]rror' "$out" "$out.err" | sort | uniq -c | head -n 5 >&2
		status=1
		rec "$r" "$ep" "$p" "$test" errors 1
	fi
	read -r name rps p50 p99 _ < <(parse_csv "$out") || die "no result in $out: $(head -c 300 "$out")"
	rec "$r" "$ep" "$p" "$test" rps "$rps"
	rec "$r" "$ep" "$p" "$test" p50 "$p50"
	rec "$r" "$ep" "$p" "$test" p99 "$p99"
	local msg
	msg=$(printf 'round %d/%d  %-8s P%-2d %-3s %10.0f rps  p50 %s ms  p99 %s ms' "$r" "$ROUNDS" "$ep" "$p" "$name" "$rps" "$p50" "$p99")
	if [[ -n $pid ]]; then
		local cpu
		cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / hz * 1000 * 100000 / n }')
		rec "$r" "$ep" "$p" "$test" cpu "$cpu"
		msg+="  proxy CPU ${cpu} ms/100k"
	fi
	if ((${#before[@]} > 0)); then
		for port_i in "$master_port" "$r1_port" "$r2_port"; do after+=("$(get_calls "$port_i")"); done
		local dm=$((after[0] - before[0])) d1=$((after[1] - before[1])) d2=$((after[2] - before[2]))
		if ((dm + d1 + d2 > 0)); then
			rec "$r" "$ep" "$p" "$test" replica_share "$(awk -v m="$dm" -v a="$d1" -v b="$d2" 'BEGIN { printf "%.1f", 100 * (a + b) / (m + a + b) }')"
		fi
		msg+="  GETs served: master $dm, replicas $d1 + $d2"
	fi
	log "$msg"
	for i in "$master_pid" "$r1_pid" "$r2_pid"; do alive "$i" redis-server; done
}

# run_endpoint ROUND ENDPOINT P TEST: one run against ENDPOINT; for
# proxy+2r, the replicas are attached and a proxy started for it, and both
# undone after.
run_endpoint() {
	local r=$1 ep=$2 p=$3 test=$4 port pid=''
	case $ep in
	direct) port=$master_port ;;
	proxy)
		port=$proxy_port
		pid=$proxy_pid
		alive "$pid" "the proxy"
		;;
	proxy+2r)
		attach_replicas
		start_proxy proxy2r "$tmp/proxy2r.yaml" "$proxy2r_port"
		pid=$started_pid
		port=$proxy2r_port
		wait_routable "$port"
		;;
	esac
	bench_run "$r" "$ep" "$port" "$pid" "$p" "$test"
	[[ -z $pid ]] || alive "$pid" "the $ep proxy"
	if [[ $ep == proxy+2r ]]; then
		stop_proxy "$pid"
		detach_replicas
	fi
}

# Each test runs against the three endpoints back to back, so that a change
# in the machine's load between tests hits all three alike; the order
# rotates from test to test.
turn=0
for ((r = 1; r <= ROUNDS; r++)); do
	for p in 1 16; do
		for test in set get; do
			k=$((turn++ % 3))
			order=("${endpoints[@]:k}" "${endpoints[@]:0:k}")
			for ep in "${order[@]}"; do
				run_endpoint "$r" "$ep" "$p" "$test"
			done
		done
	done
done

# ---------------------------------------------------------------- report

# med ENDPOINT P TEST METRIC: median over the rounds.
med() {
	awk -F'\t' -v e="$1" -v p="$2" -v t="$3" -v m="$4" '$2 == e && $3 == p && $4 == t && $5 == m { print $6 }' "$raw" | median
}
# ratios EP P TEST: the rps ratio EP / direct of each round, one a line.
ratios() {
	awk -F'\t' -v e="$1" -v p="$2" -v t="$3" '
		$3 == p && $4 == t && $5 == "rps" && $2 == "direct" { d[$1] = $6 }
		$3 == p && $4 == t && $5 == "rps" && $2 == e { x[$1] = $6 }
		END { for (r in x) if (r in d && d[r] > 0) printf "%.4f\n", x[r] / d[r] }' "$raw"
}
# ratio_cell EP P TEST: "median (min–max)" of the per-round ratios.
ratio_cell() {
	local m lo hi
	m=$(ratios "$@" | median)
	[[ $m != n/a ]] || { echo n/a; return; }
	lo=$(ratios "$@" | sort -g | head -n 1)
	hi=$(ratios "$@" | sort -g | tail -n 1)
	awk -v m="$m" -v a="$lo" -v b="$hi" 'BEGIN { printf "%.2f (%.2f-%.2f)", m, a, b }'
}
# plus A B: B - A with three decimals, signed ("n/a" when not computable).
plus() {
	if [[ $1 == n/a || $2 == n/a ]]; then echo n/a; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", b - a }'; fi
}

{
	echo "- load average (1, 5, 15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "### Throughput"
	echo
	echo "redis-benchmark \`-c $CLIENTS -d $DATA_SIZE -r $KEYSPACE\`, \`-t set\` then \`-t get\`, -n $N_P1 (P1) / $N_P16 (P16);" \
		"median of $ROUNDS rounds, the endpoints' order rotating. direct: the Redis master itself; proxy: lagwise proxy" \
		"with that master as its only backend; proxy+2r: lagwise proxy in front of the master and two Redis replicas" \
		"(replicating only during these runs). Each test runs against the three back to back." \
		"ratio: median of the rounds' ratios to direct (lowest-highest)."
	echo
	{
		printf 'test\tdirect rps\tproxy rps\tratio\tproxy+2r rps\tratio\n'
		for p in 1 16; do
			for test in set get; do
				d=$(med direct "$p" "$test" rps)
				x=$(med proxy "$p" "$test" rps)
				y=$(med proxy+2r "$p" "$test" rps)
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${test^^} -P $p" "$(fmt %.0f "$d")" "$(fmt %.0f "$x")" \
					"$(ratio_cell proxy "$p" "$test")" "$(fmt %.0f "$y")" "$(ratio_cell proxy+2r "$p" "$test")"
			done
		done
	} | md_table
	echo
	echo "### Latency and proxy CPU"
	echo
	echo "p50/p99 in ms as redis-benchmark --csv reports them; (+x) is what the proxy adds to direct's." \
		"CPU: the proxy process's utime + stime per 100k requests, in ms. replicas: share of the GETs that the" \
		"replicas served (INFO commandstats)."
	echo
	{
		printf 'test\tdirect p50\tproxy p50\tproxy+2r p50\tdirect p99\tproxy p99\tproxy+2r p99\tproxy CPU\tproxy+2r CPU\treplicas\n'
		for p in 1 16; do
			for test in set get; do
				dp50=$(med direct "$p" "$test" p50)
				xp50=$(med proxy "$p" "$test" p50)
				yp50=$(med proxy+2r "$p" "$test" p50)
				dp99=$(med direct "$p" "$test" p99)
				xp99=$(med proxy "$p" "$test" p99)
				yp99=$(med proxy+2r "$p" "$test" p99)
				share=$(med proxy+2r "$p" "$test" replica_share)
				[[ $share == n/a ]] || share="$share%"
				[[ $test == get ]] || share='-'
				printf '%s\t%s\t%s (%s)\t%s (%s)\t%s\t%s (%s)\t%s (%s)\t%s\t%s\t%s\n' "${test^^} -P $p" \
					"$(fmt %.3f "$dp50")" "$(fmt %.3f "$xp50")" "$(plus "$dp50" "$xp50")" "$(fmt %.3f "$yp50")" "$(plus "$dp50" "$yp50")" \
					"$(fmt %.3f "$dp99")" "$(fmt %.3f "$xp99")" "$(plus "$dp99" "$xp99")" "$(fmt %.3f "$yp99")" "$(plus "$dp99" "$yp99")" \
					"$(fmt %.1f "$(med proxy "$p" "$test" cpu)")" "$(fmt %.1f "$(med proxy+2r "$p" "$test" cpu)")" "$share"
			done
		done
	} | md_table
	if grep -q $'\terrors\t' "$raw"; then
		echo
		echo "**Some redis-benchmark runs printed errors; see the log on stderr.**"
	fi
} >>"$report"

mkdir -p -- "$(dirname -- "$RESULTS_FILE")"
cp -- "$report" "$RESULTS_FILE"
log "report written to $RESULTS_FILE"
echo >&2
cat "$report"
exit "$status"
