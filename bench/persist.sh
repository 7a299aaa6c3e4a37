#!/usr/bin/env bash
# Persistence benchmark of `lagwise server` against redis-server, in the same run.
#
# Usage: bench/persist.sh
#
# Both servers get BENCH_PERSIST_KEYS string keys of BENCH_DATA_SIZE bytes,
# named as redis-benchmark names them (key:000000000000 ...), so the write
# load below overwrites keys and DBSIZE stays put. They are loaded through
# `redis-cli --pipe` (DEBUG POPULATE names keys key:0, key:1, ... which the
# writers would not hit). Then, for BENCH_ROUNDS rounds, redis and lagwise
# alternating (who goes first alternates too), each server in turn:
#
#   1. BGSAVE time: wall time from the BGSAVE reply until INFO persistence
#      shows rdb_bgsave_in_progress:0 (polled every BENCH_PERSIST_POLL s),
#      with no other clients; rdb_last_bgsave_status must be ok.
#   2. Snapshot stall: the writer `redis-benchmark -t set -P 16 -c CLIENTS
#      -d DATA_SIZE -r KEYS -n BENCH_PERSIST_WRITES --csv` runs once alone and
#      once with a BGSAVE sent BENCH_PERSIST_DELAY s after it starts; its
#      max_latency_ms is compared. The writer must outlast the snapshot: if it
#      does not, both runs are redone with twice the requests.
#   3. Extra memory: during both writer runs VmRSS of the server (and of its
#      child, for Redis's fork) is sampled every BENCH_PERSIST_RSS_POLL s;
#      reported is peak RSS while the BGSAVE runs minus RSS just before it,
#      the same window of the run without a snapshot (what the write load
#      alone does to RSS), and INFO's rdb_last_cow_size.
#   4. Load time: the server is restarted on the dump just written; time from
#      the process start until DBSIZE answers BENCH_PERSIST_KEYS, and the
#      "DB loaded from disk: X seconds" figure from its log.
#
# Figures are medians over the rounds; the stall added by the snapshot is
# the median of the per-round differences. The Markdown report is printed on
# stdout and written to RESULTS_FILE (default bench/results/persist-latest.md);
# progress goes to stderr. The exit status is 1 if a figure misses its bar
# (BGSAVE time at most 2x Redis's; at most 50 ms of stall added by lagwise's
# snapshot).
#
# Environment:
#   LAGWISE_BIN            prebuilt lagwise binary (default: go build ./cmd/lagwise)
#   BENCH_AGAINST          "lagwise" (default) or "redis": run the lagwise side as a
#                          second redis-server, to sanity-check this script itself
#   BENCH_PERSIST_KEYS     keys in the dataset                  (default 1000000)
#   BENCH_DATA_SIZE        value size in bytes                  (default 64)
#   BENCH_ROUNDS           rounds                               (default 3)
#   BENCH_CLIENTS          writer's redis-benchmark -c          (default 50)
#   BENCH_PERSIST_WRITES   writer's -n (doubled when too short) (default 2000000)
#   BENCH_PERSIST_DELAY    seconds from writer start to BGSAVE  (default 0.5)
#   BENCH_PERSIST_POLL     INFO / DBSIZE poll interval, seconds (default 0.01)
#   BENCH_PERSIST_RSS_POLL VmRSS sample interval, seconds       (default 0.02)
#   BENCH_PERSIST_TIMEOUT  limit for one BGSAVE or one load, s  (default 300)
#   BENCH_TIMEOUT          per redis-benchmark run timeout, s   (default 900)
#   RESULTS_FILE           where to write the Markdown report
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK   tool paths (default: from PATH)
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and awk with a '.' decimal point

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$script_dir/lib.sh"

no_args "$@"

KEYS=${BENCH_PERSIST_KEYS:-1000000}
DATA_SIZE=${BENCH_DATA_SIZE:-64}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
WRITES=${BENCH_PERSIST_WRITES:-2000000}
DELAY=${BENCH_PERSIST_DELAY:-0.5}
POLL=${BENCH_PERSIST_POLL:-0.01}
RSS_POLL=${BENCH_PERSIST_RSS_POLL:-0.02}
PERSIST_TIMEOUT=${BENCH_PERSIST_TIMEOUT:-300}
RUN_TIMEOUT=${BENCH_TIMEOUT:-900}
RESULTS_FILE=${RESULTS_FILE:-$script_dir/results/persist-latest.md}

for pair in BENCH_PERSIST_KEYS:KEYS BENCH_DATA_SIZE:DATA_SIZE BENCH_ROUNDS:ROUNDS BENCH_CLIENTS:CLIENTS \
	BENCH_PERSIST_WRITES:WRITES BENCH_PERSIST_TIMEOUT:PERSIST_TIMEOUT BENCH_TIMEOUT:RUN_TIMEOUT; do
	var=${pair#*:}
	require_positive "${pair%%:*}" "${!var}"
done
for pair in BENCH_PERSIST_DELAY:DELAY BENCH_PERSIST_POLL:POLL BENCH_PERSIST_RSS_POLL:RSS_POLL; do
	var=${pair#*:}
	require_seconds "${pair%%:*}" "${!var}"
done
((KEYS < 1000000000000)) || die "BENCH_PERSIST_KEYS must be below 10^12 (redis-benchmark's 12-digit keys)"
case $BENCH_AGAINST in
lagwise | redis) ;;
*) die "BENCH_AGAINST must be 'lagwise' or 'redis' (got '$BENCH_AGAINST')" ;;
esac
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (EPOCHREALTIME)"
[[ -r /proc/self/status ]] || die "/proc is needed to read VmRSS"
require_tools "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK" awk sort
bench_init

report=$tmp/report.md
raw=$tmp/raw.tsv # round, side, metric, value
: >"$raw"
status=0

set_side_pid() { if [[ $1 == redis ]]; then redis_pid=$2; else lw_pid=$2; fi; }

# bgsave SIDE: send BGSAVE, wait for its end. Sets bg_t0 (just before the
# command), bg_secs (from the reply to rdb_bgsave_in_progress:0) and bg_end.
bg_t0='' bg_secs='' bg_end=''
bgsave() {
	local side=$1 port reply t_reply line fd poller rc deadline
	port=$(side_port "$side")
	bg_t0=$EPOCHREALTIME
	reply=$(cli "$port" bgsave | tr -d '\r')
	t_reply=$EPOCHREALTIME
	[[ $reply == "Background saving started" ]] || die "BGSAVE on $side replied: $reply"
	# One redis-cli asking INFO persistence every POLL seconds.
	exec {fd}< <(exec "$REDIS_CLI" -h 127.0.0.1 -p "$port" -r -1 -i "$POLL" info persistence 2>&1)
	poller=$!
	bg_end='' deadline=$((SECONDS + PERSIST_TIMEOUT))
	while ((SECONDS < deadline)); do
		rc=0
		IFS= read -r -t 1 -u "$fd" line || rc=$?
		if ((rc > 128)); then continue; fi # no line within 1 s: the server is busy
		((rc == 0)) || break                # the poller ended
		if [[ ${line%$'\r'} == rdb_bgsave_in_progress:0 ]]; then
			bg_end=$EPOCHREALTIME
			break
		fi
	done
	kill "$poller" 2>/dev/null || true
	exec {fd}<&-
	wait "$poller" 2>/dev/null || true
	[[ -n $bg_end ]] || die "BGSAVE on $side did not end within ${PERSIST_TIMEOUT}s (or INFO failed)"
	bg_secs=$(elapsed "$t_reply" "$bg_end")
	reply=$(info_field "$port" persistence rdb_last_bgsave_status)
	[[ $reply == ok ]] || die "BGSAVE on $side: rdb_last_bgsave_status:$reply"
}

# rss_sampler PID OUT: every RSS_POLL seconds, append "time rss_kB child_rss_kB"
# for PID and its first child (0 when none) to OUT, until killed or PID exits.
rss_sampler() {
	local pid=$1 out=$2 k v rest rss crss child
	while kill -0 "$pid" 2>/dev/null; do
		rss=0 crss=0 child=''
		while read -r k v rest; do
			if [[ $k == VmRSS: ]]; then
				rss=$v
				break
			fi
		done 2>/dev/null <"/proc/$pid/status" || true
		read -r child rest 2>/dev/null <"/proc/$pid/task/$pid/children" || true
		if [[ -n $child ]]; then
			while read -r k v rest; do
				if [[ $k == VmRSS: ]]; then
					crss=$v
					break
				fi
			done 2>/dev/null <"/proc/$child/status" || true
		fi
		printf '%s %s %s\n' "$EPOCHREALTIME" "$rss" "$crss"
		sleep "$RSS_POLL"
	done >>"$out"
}

sampler_pid=''
start_sampler() {
	rss_sampler "$1" "$2" &
	sampler_pid=$!
	cleanup_pids+=("$sampler_pid")
}
stop_sampler() {
	kill "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	forget_pid "$sampler_pid"
}

# rss_window FROM TO FILE: "before peak child_peak" in kB: RSS of the last
# sample at or before FROM, and the highest RSS (and child RSS) of the
# samples in (FROM, TO].
rss_window() {
	awk -v a="$1" -v b="$2" '
		$1 <= a { before = $2 }
		$1 > a && $1 <= b { if ($2 > peak) peak = $2; if ($3 > child) child = $3 }
		END { printf "%d %d %d\n", before, peak, child }' "$3"
}

writer_pid=''
# start_writer SIDE N OUT: the write load, in the background.
start_writer() {
	local port
	port=$(side_port "$1")
	run_timeout "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -t set -P 16 -c "$CLIENTS" -d "$DATA_SIZE" \
		-r "$KEYS" -n "$2" --csv >"$3" 2>"$3.err" &
	writer_pid=$!
	cleanup_pids+=("$writer_pid")
}

# finish_writer SIDE OUT: wait for the writer; sets w_rps, w_p99, w_max.
w_rps='' w_p99='' w_max=''
finish_writer() {
	local side=$1 out=$2 rc=0 test
	wait "$writer_pid" || rc=$?
	forget_pid "$writer_pid"
	if ((rc != 0)); then
		tail -n 20 "$out.err" >&2 || true
		kill -0 "$(side_pid "$side")" 2>/dev/null || log "$side server is no longer running"
		((rc == 124)) && die "writer against $side timed out after ${RUN_TIMEOUT}s"
		die "writer (redis-benchmark) against $side failed (exit $rc)"
	fi
	read -r test w_rps _ w_p99 w_max < <(parse_csv "$out") || true
	[[ ${test:-} == SET && $w_max =~ ^[0-9.]+$ ]] || die "no SET row with max_latency_ms in $out"
}

# stall ROUND SIDE: the writer alone, then the writer with a BGSAVE.
stall() {
	local r=$1 side=$2 pid port n=$WRITES try base snap samples0 samples1 tw0 tw1 outlasted
	local rps0 p990 max0 rps1 p991 max1 b0 pk0 b1 pk1 ch1 cow fork
	pid=$(side_pid "$side")
	port=$(side_port "$side")
	for ((try = 0; try < 5; try++)); do
		base=$tmp/w-$r-$side-base.csv snap=$tmp/w-$r-$side-snap.csv
		samples0=$tmp/rss-$r-$side-base.txt samples1=$tmp/rss-$r-$side-snap.txt
		: >"$samples0"
		: >"$samples1"

		start_sampler "$pid" "$samples0"
		tw0=$EPOCHREALTIME
		start_writer "$side" "$n" "$base"
		finish_writer "$side" "$base"
		rps0=$w_rps p990=$w_p99 max0=$w_max
		stop_sampler

		start_sampler "$pid" "$samples1"
		tw1=$EPOCHREALTIME
		start_writer "$side" "$n" "$snap"
		sleep "$DELAY"
		outlasted=0
		if kill -0 "$writer_pid" 2>/dev/null; then
			bgsave "$side"
			kill -0 "$writer_pid" 2>/dev/null && outlasted=1
		fi
		finish_writer "$side" "$snap"
		rps1=$w_rps p991=$w_p99 max1=$w_max
		stop_sampler
		((outlasted)) && break
		log "round $r $side: the writer ($n requests) ended before the snapshot did; redoing both runs with $((2 * n))"
		n=$((2 * n))
	done
	((outlasted)) || die "the writer against $side never outlasted the snapshot; raise BENCH_PERSIST_WRITES"

	cow=$(info_field "$port" persistence rdb_last_cow_size)
	fork=$(info_field "$port" stats latest_fork_usec)
	read -r b1 pk1 ch1 < <(rss_window "$bg_t0" "$bg_end" "$samples1")
	# The same window of the run without a snapshot.
	local c0 c1
	c0=$(awk -v w="$tw0" -v s="$tw1" -v t="$bg_t0" 'BEGIN { printf "%.6f", w + (t - s) }')
	c1=$(awk -v w="$tw0" -v s="$tw1" -v t="$bg_end" 'BEGIN { printf "%.6f", w + (t - s) }')
	read -r b0 pk0 _ < <(rss_window "$c0" "$c1" "$samples0")

	record "$r" "$side" writes "$n"
	record "$r" "$side" rps_base "$rps0"
	record "$r" "$side" rps_snap "$rps1"
	record "$r" "$side" p99_base "$p990"
	record "$r" "$side" p99_snap "$p991"
	record "$r" "$side" max_base "$max0"
	record "$r" "$side" max_snap "$max1"
	record "$r" "$side" stall_added "$(awk -v a="$max0" -v b="$max1" 'BEGIN { printf "%.3f", b - a }')"
	record "$r" "$side" bgsave_load "$bg_secs"
	record "$r" "$side" rss_before "$b1"
	record "$r" "$side" rss_delta "$((pk1 > b1 ? pk1 - b1 : 0))"
	record "$r" "$side" rss_delta_ctrl "$((pk0 > b0 ? pk0 - b0 : 0))"
	((ch1 == 0)) || record "$r" "$side" child_rss "$ch1"
	record "$r" "$side" cow "$cow"
	[[ $fork == n/a || $fork == 0 ]] || record "$r" "$side" fork_usec "$fork"
	log "$(printf 'round %d/%d %-7s writer -n %d: max %s ms alone, %s ms with BGSAVE (%s s); RSS +%d kB (alone +%d kB), child %d kB, cow %s B' \
		"$r" "$ROUNDS" "$side" "$n" "$max0" "$max1" "$bg_secs" "$((pk1 - b1))" "$((pk0 - b0))" "$ch1" "$cow")"
}

# reload ROUND SIDE: restart SIDE on its dump, time it until DBSIZE == KEYS.
reload() {
	local r=$1 side=$2 port dir log_file lines n ready logged deadline
	port=$(side_port "$side")
	dir=$tmp/$side
	log_file=$dir/server.log
	[[ -s $dir/dump.rdb ]] || die "$side wrote no $dir/dump.rdb"
	stop_pid "$(side_pid "$side")"
	set_side_pid "$side" ''
	lines=$(wc -l <"$log_file")
	START_POLL=$POLL START_TIMEOUT=$PERSIST_TIMEOUT start_server "$side" "$port"
	set_side_pid "$side" "$started_pid"
	deadline=$((SECONDS + PERSIST_TIMEOUT))
	while :; do
		n=$(cli "$port" dbsize 2>/dev/null | tr -d '\r' || true)
		[[ $n == "$KEYS" ]] && break
		((SECONDS < deadline)) || die "$side answered DBSIZE '$n' after restarting on its dump, expected $KEYS"
		sleep "$POLL"
	done
	ready=$(elapsed "$started_at" "$EPOCHREALTIME")
	logged=$(tail -n "+$((lines + 1))" "$log_file" | sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' | tail -n 1)
	record "$r" "$side" load_ready "$ready"
	[[ -z $logged ]] || record "$r" "$side" load_logged "$logged"
	log "$(printf 'round %d/%d %-7s restart on a %s-byte dump: DBSIZE %s after %s s (log: %s s)' \
		"$r" "$ROUNDS" "$side" "$(stat -c %s "$dir/dump.rdb")" "$KEYS" "$ready" "${logged:-n/a}")"
}

# one_round ROUND SIDE: BGSAVE alone, the stall runs, the restart.
one_round() {
	local r=$1 side=$2
	bgsave "$side"
	record "$r" "$side" bgsave_idle "$bg_secs"
	record "$r" "$side" dump_bytes "$(stat -c %s "$tmp/$side/dump.rdb")"
	log "$(printf 'round %d/%d %-7s BGSAVE alone: %s s' "$r" "$ROUNDS" "$side" "$bg_secs")"
	stall "$r" "$side"
	reload "$r" "$side"
}

write_report() {
	local verdict
	# row METRIC LABEL FORMAT DIVISOR [BAR]: a row with medians and their
	# ratio; noratio rows leave the ratio out.
	row() {
		local rv lv r
		rv=$(col redis "$1")
		lv=$(col lagwise "$1")
		[[ $rv == n/a && $lv == n/a ]] && return 0
		[[ $rv == n/a ]] || rv=$(awk -v x="$rv" -v d="$4" 'BEGIN { print x / d }')
		[[ $lv == n/a ]] || lv=$(awk -v x="$lv" -v d="$4" 'BEGIN { print x / d }')
		r=$(ratio "$lv" "$rv")
		[[ ${noratio:-} != 1 ]] || r=''
		printf '%s\t%s\t%s\t%s\t%s\n' "$2" "$(fmt "$3" "$rv")" "$(fmt "$3" "$lv")" "$r" "${5:-}"
	}
	local bg_ratio added
	bg_ratio=$(ratio "$(col lagwise bgsave_idle)" "$(col redis bgsave_idle)")
	verdict=$(bar "$bg_ratio" 2)
	added=$(col lagwise stall_added)
	local stall_verdict
	stall_verdict=$(bar "$added" 50)
	if [[ $stall_verdict == ok ]]; then
		if [[ $(bar "$added" 10) == ok ]]; then stall_verdict+=", goal <= 10 ms met"; else stall_verdict+=", goal <= 10 ms not met"; fi
	fi
	[[ $verdict != MISSED && $stall_verdict != MISSED* ]] || status=1
	{
		echo
		echo "### Persistence"
		echo
		echo "$KEYS keys of $DATA_SIZE bytes (loaded with \`redis-cli --pipe\`, keys as redis-benchmark names them)." \
			"Writer: redis-benchmark \`-t set -P 16 -c $CLIENTS -d $DATA_SIZE -r $KEYS --csv\`, -n $WRITES, run alone and" \
			"with a BGSAVE sent ${DELAY}s after its start. Medians of $ROUNDS rounds, redis and lagwise alternating;" \
			"ratio = lagwise / redis (lower is better, except rps)."
		echo
		{
			printf 'metric\tredis\tlagwise\tratio\tbar\n'
			row bgsave_idle 'BGSAVE time, no clients (s)' %.3f 1 "<= 2x: $verdict"
			row bgsave_load 'BGSAVE time, under the writer (s)' %.3f 1
			row dump_bytes 'dump size (MiB)' %.1f 1048576
			row max_base 'writer max latency, no snapshot (ms)' %.1f 1
			row max_snap 'writer max latency, BGSAVE during the run (ms)' %.1f 1
			printf '%s\t%s\t%s\t\t%s\n' 'stall added by the snapshot (ms)' \
				"$(fmt %.1f "$(col redis stall_added)")" "$(fmt %.1f "$added")" "lagwise <= 50 ms: $stall_verdict"
			row p99_base 'writer p99, no snapshot (ms)' %.3f 1
			row p99_snap 'writer p99, BGSAVE during the run (ms)' %.3f 1
			row rps_base 'writer rps, no snapshot' %.0f 1
			row rps_snap 'writer rps, BGSAVE during the run' %.0f 1
			noratio=1 row fork_usec 'fork time, latest_fork_usec (ms)' %.1f 1000
			row rss_before 'RSS before the BGSAVE (MiB)' %.1f 1024
			noratio=1 row rss_delta 'RSS peak during the BGSAVE - before (MiB)' %.1f 1024
			noratio=1 row rss_delta_ctrl 'same window, writer alone (MiB)' %.1f 1024
			noratio=1 row child_rss 'child process RSS peak (MiB)' %.1f 1024
			noratio=1 row cow 'INFO rdb_last_cow_size (MiB)' %.1f 1048576
			row load_ready 'restart on the dump: start to DBSIZE ok (s)' %.3f 1
			row load_logged 'restart on the dump: "DB loaded from disk" (s)' %.3f 1
		} | md_table
		echo
		echo "- BGSAVE time: from the BGSAVE reply to INFO's rdb_bgsave_in_progress:0, polled every ${POLL}s." \
			"Redis notices its child's exit in serverCron (hz 10), so its figure includes up to ~100 ms of that."
		echo "- Stall added: median over the rounds of (max latency with BGSAVE - max latency alone), same -n."
		echo "- RSS: VmRSS of the server process sampled every ${RSS_POLL}s; peak between the BGSAVE and its end," \
			"minus the last sample before it. Redis's fork child is a separate process: its RSS (above) counts pages" \
			"it shares with the parent, so it overstates the extra memory; Redis's rdb_last_cow_size is the child's" \
			"private dirty memory. lagwise's rdb_last_cow_size is the peak of shards encoded ahead of the writer."
		echo
		echo "<details><summary>Per round</summary>"
		echo
		{
			printf 'round\tserver\tBGSAVE s\tunder writer s\tmax ms alone\tmax ms BGSAVE\tadded ms\tRSS +MiB\talone +MiB\tcow MiB\tload s\n'
			awk -F'\t' '
				{ v[$1 "\t" $2, $3] = $4; if (!(($1 "\t" $2) in seen)) { seen[$1 "\t" $2] = 1; order[++n] = $1 "\t" $2 } }
				function g(k, m, f, d) { return ((k, m) in v) && v[k, m] != "n/a" ? sprintf(f, v[k, m] / d) : "n/a" }
				END {
					for (i = 1; i <= n; i++) {
						k = order[i]
						print k "\t" g(k, "bgsave_idle", "%.3f", 1) "\t" g(k, "bgsave_load", "%.3f", 1) "\t" \
							g(k, "max_base", "%.1f", 1) "\t" g(k, "max_snap", "%.1f", 1) "\t" g(k, "stall_added", "%.1f", 1) "\t" \
							g(k, "rss_delta", "%.1f", 1024) "\t" g(k, "rss_delta_ctrl", "%.1f", 1024) "\t" \
							g(k, "cow", "%.1f", 1048576) "\t" g(k, "load_ready", "%.3f", 1)
					}
				}' "$raw"
		} | md_table
		echo
		echo "</details>"
	} >>"$report"
}

prepare_lagwise
write_header "lagwise server vs Redis: persistence" persist "$report"
start_servers both
load_keys redis
load_keys lagwise

for ((r = 1; r <= ROUNDS; r++)); do
	# Alternate who goes first so neither side always runs on a cooler machine.
	if ((r % 2)); then order=(redis lagwise); else order=(lagwise redis); fi
	for side in "${order[@]}"; do
		one_round "$r" "$side"
	done
done

stop_servers
write_report
mkdir -p -- "$(dirname -- "$RESULTS_FILE")"
cp -- "$report" "$RESULTS_FILE"
log "report written to $RESULTS_FILE"
echo >&2
cat "$report"
exit "$status"
