#!/usr/bin/env bash
# Replication benchmark of `lagwise server` against redis-server, in the same
# run: a lagwise master with a lagwise replica against a Redis master with a
# Redis replica.
#
# Usage: bench/repl.sh
#
# Both masters get BENCH_REPL_KEYS string keys of BENCH_DATA_SIZE bytes, named
# as redis-benchmark names them (key:000000000000 ...), loaded through
# `redis-cli --pipe`, and run with --repl-diskless-sync-delay 0 and
# --repl-backlog-size BENCH_REPL_BACKLOG (larger than Redis's 1mb default:
# at this load 1mb is ~25 ms of stream, and a replica that happens to be
# further behind when its link is cut gets a full resync). Then, for
# BENCH_ROUNDS rounds, redis and lagwise alternating (who goes first
# alternates too), each side in turn starts a fresh, empty replica and:
#
#   1. Full resync: time from sending REPLICAOF to the replica until its INFO
#      shows master_link_status:up and its DBSIZE equals the master's, polled
#      every BENCH_REPL_POLL s (diskless: the masters' default).
#   2. Lag under load: `redis-benchmark -t set -P 16 -c CLIENTS -d DATA_SIZE
#      -r KEYS -n BENCH_REPL_WRITES` runs against the master; for
#      BENCH_REPL_LAG_SECS s, every BENCH_REPL_LAG_POLL s, INFO replication is
#      sent to the master, and to the replica as soon as the master has
#      answered (sent to both at once, the master, busy with the load, may
#      answer many milliseconds after the replica, which inflates the lag
#      seen). Byte lag is master_repl_offset - slave_repl_offset; time lag is
#      the sample's time minus the time the master's offset reached the
#      replica's (from the master's samples, interpolated linearly between
#      two). Then the load is stopped and the time until the replica reaches
#      the master is taken.
#   3. Partial resync: with the load running again, CLIENT KILL TYPE master on
#      the replica, the load stopped right after; time from the kill until the
#      replica's slave_repl_offset equals the master's master_repl_offset (and
#      the link is up), the bytes it took (master offset then minus the
#      replica's offset at the cut, and the master's "Sending N bytes of
#      backlog" log line), and INFO stats sync_partial_ok +1, sync_full +0 on
#      the master.
#      If CLIENT KILL TYPE master kills nothing, the replica's connection is
#      killed on the master (CLIENT KILL ID) instead, and the report says so.
#
# Then, with BENCH_REPL_DISK=1, one more full resync per side with
# repl-diskless-sync set to no on the master (reported, no bar).
#
# Figures are medians over the rounds. The Markdown report is printed on
# stdout and written to RESULTS_FILE (default bench/results/repl-latest.md);
# progress goes to stderr. The exit status is 1 if lagwise's full resync takes
# more than 1.5x Redis's, if a partial resync was not one (sync_partial_ok did
# not rise or sync_full did), or if a replica failed to sync or catch up.
#
# Needs python3 (bench/repl_probe.py does the polling over long-lived
# connections) and bash 5.
#
# Environment:
#   LAGWISE_BIN          prebuilt lagwise binary (default: go build ./cmd/lagwise)
#   BENCH_AGAINST        "lagwise" (default) or "redis": run the lagwise side as a
#                        second redis-server, to sanity-check this script itself
#   BENCH_REPL_KEYS      keys on the masters                       (default 1000000)
#   BENCH_DATA_SIZE      value size in bytes                       (default 64)
#   BENCH_ROUNDS         rounds                                    (default 3)
#   BENCH_CLIENTS        write load's redis-benchmark -c           (default 50)
#   BENCH_REPL_WRITES    write load's -n; the script stops it      (default 100000000)
#   BENCH_REPL_LAG_SECS  seconds of lag sampling under the load    (default 10)
#   BENCH_REPL_LAG_POLL  lag sample interval, seconds              (default 0.02)
#   BENCH_REPL_POLL      resync poll interval, seconds             (default 0.01)
#   BENCH_REPL_WARMUP    seconds of load before the kill           (default 1)
#   BENCH_REPL_BACKLOG   the masters' repl-backlog-size            (default 64mb)
#   BENCH_REPL_DISK      1: also one disk-based full resync, 0: not (default 1)
#   BENCH_REPL_TIMEOUT   limit for one resync or catch-up, seconds (default 120)
#   BENCH_TIMEOUT        per redis-benchmark run timeout, seconds  (default 900)
#   RESULTS_FILE         where to write the Markdown report
#   PYTHON               python interpreter (default python3)
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK   tool paths (default: from PATH)
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and awk with a '.' decimal point

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$script_dir/lib.sh"

no_args "$@"

PYTHON=${PYTHON:-python3}
KEYS=${BENCH_REPL_KEYS:-1000000}
DATA_SIZE=${BENCH_DATA_SIZE:-64}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-50}
WRITES=${BENCH_REPL_WRITES:-100000000}
LAG_SECS=${BENCH_REPL_LAG_SECS:-10}
LAG_POLL=${BENCH_REPL_LAG_POLL:-0.02}
POLL=${BENCH_REPL_POLL:-0.01}
WARMUP=${BENCH_REPL_WARMUP:-1}
BACKLOG=${BENCH_REPL_BACKLOG:-64mb}
DISK=${BENCH_REPL_DISK:-1}
REPL_TIMEOUT=${BENCH_REPL_TIMEOUT:-120}
RUN_TIMEOUT=${BENCH_TIMEOUT:-900}
RESULTS_FILE=${RESULTS_FILE:-$script_dir/results/repl-latest.md}

for pair in BENCH_REPL_KEYS:KEYS BENCH_DATA_SIZE:DATA_SIZE BENCH_ROUNDS:ROUNDS BENCH_CLIENTS:CLIENTS \
	BENCH_REPL_WRITES:WRITES BENCH_REPL_TIMEOUT:REPL_TIMEOUT BENCH_TIMEOUT:RUN_TIMEOUT; do
	var=${pair#*:}
	require_positive "${pair%%:*}" "${!var}"
done
for pair in BENCH_REPL_LAG_SECS:LAG_SECS BENCH_REPL_LAG_POLL:LAG_POLL BENCH_REPL_POLL:POLL BENCH_REPL_WARMUP:WARMUP; do
	var=${pair#*:}
	require_seconds "${pair%%:*}" "${!var}"
done
((KEYS < 1000000000000)) || die "BENCH_REPL_KEYS must be below 10^12 (redis-benchmark's 12-digit keys)"
[[ ${BACKLOG,,} =~ ^[1-9][0-9]*(kb|mb|gb)?$ ]] || die "BENCH_REPL_BACKLOG must be a size such as 1048576 or 64mb (got '$BACKLOG')"
[[ $DISK == 0 || $DISK == 1 ]] || die "BENCH_REPL_DISK must be 0 or 1 (got '$DISK')"
case $BENCH_AGAINST in
lagwise | redis) ;;
*) die "BENCH_AGAINST must be 'lagwise' or 'redis' (got '$BENCH_AGAINST')" ;;
esac
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (EPOCHREALTIME)"
require_tools "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK" "$PYTHON" awk sort
probe_py=$script_dir/repl_probe.py
[[ -r $probe_py ]] || die "$probe_py not found"
bench_init

report=$tmp/report.md
raw=$tmp/raw.tsv # round, side, metric, value
failures=$tmp/failures.txt
: >"$raw"
: >"$failures"
status=0

# fail MESSAGE: note a failure for the report; the exit status becomes 1.
fail() {
	printf 'error: %s\n' "$1" >&2
	printf '%s\n' "$1" >>"$failures"
	status=1
}

redis_rport='' lw_rport=''
replica_port() { if [[ $1 == redis ]]; then echo "$redis_rport"; else echo "$lw_rport"; fi; }

# start_replica SIDE: a fresh, empty replica server for SIDE (no REPLICAOF yet).
replica_pid=''
start_replica() {
	local side=$1
	rm -rf -- "${tmp:?}/$side-replica"
	start_server "$side-replica" "$(replica_port "$side")"
	replica_pid=$started_pid
	cleanup_pids+=("$replica_pid")
}
stop_replica() {
	stop_pid "$replica_pid"
	forget_pid "$replica_pid"
	replica_pid=''
}

# probe ROUND SIDE MODE ARGS...: run repl_probe.py MODE MASTER REPLICA ARGS...
# and record its "name value" lines; returns 1 (after fail) if it failed.
probe() {
	local r=$1 side=$2 mode=$3 out rc=0 name value
	shift 3
	out=$("$PYTHON" "$probe_py" "$mode" "$(side_port "$side")" "$(replica_port "$side")" "$@" 2>"$tmp/probe.err") || rc=$?
	if ((rc != 0)); then
		kill -0 "$(side_pid "$side")" 2>/dev/null || log "the $side master is no longer running"
		[[ -z $replica_pid ]] || kill -0 "$replica_pid" 2>/dev/null || log "the $side replica is no longer running"
		fail "round $r, $side, $mode: $(tr '\n' ' ' <"$tmp/probe.err")"
		return 1
	fi
	while read -r name value; do
		[[ $r != disk ]] || name=disk_${name#full_}
		record "$r" "$side" "$name" "$value"
	done <<<"$out"
}

# got ROUND SIDE METRIC: the recorded value ("n/a" if none).
got() {
	local v
	v=$(awk -F'\t' -v r="$1" -v s="$2" -v m="$3" '$1 == r && $2 == s && $3 == m { v = $4 } END { print v }' "$raw")
	echo "${v:-n/a}"
}

load_pid=''
# start_load SIDE: the write load against SIDE's master, in the background.
# Started as a simple command (not through run_timeout, a function) so that
# $! is the process itself and a signal to it stops the load.
start_load() {
	local -a cmd=("$REDIS_BENCHMARK" -h 127.0.0.1 -p "$(side_port "$1")" -t set -P 16 -c "$CLIENTS"
		-d "$DATA_SIZE" -r "$KEYS" -n "$WRITES" -q)
	if command -v timeout >/dev/null; then
		timeout "$RUN_TIMEOUT" "${cmd[@]}" >"$tmp/load.out" 2>&1 &
	else
		"${cmd[@]}" >"$tmp/load.out" 2>&1 &
	fi
	load_pid=$!
	cleanup_pids+=("$load_pid")
}
# finish_load SIDE: stop the load if the probe did not, and reap it.
finish_load() {
	local rc=0
	kill "$load_pid" 2>/dev/null || true
	wait "$load_pid" || rc=$?
	forget_pid "$load_pid"
	# 143: stopped by SIGTERM, as it should be; anything else is its own failure.
	if ((rc != 143 && rc != 0)); then
		log "redis-benchmark against the $1 master exited with $rc: $(tr '\r' '\n' <"$tmp/load.out" | tail -n 3)"
	fi
}

# full_resync ROUND SIDE: a fresh replica of SIDE's master, timed until synced.
full_resync() {
	local r=$1 side=$2
	start_replica "$side"
	probe "$r" "$side" fullsync "$POLL" "$REPL_TIMEOUT" || return 1
	if [[ $r == disk ]]; then
		log "$(printf '%-7s full resync, disk-based: %s s' "$side" "$(fmt %.3f "$(got "$r" "$side" disk_secs)")")"
	else
		log "$(printf 'round %s/%d %-7s full resync: %s s (link up after %s s)' "$r" "$ROUNDS" "$side" \
			"$(fmt %.3f "$(got "$r" "$side" full_secs)")" "$(fmt %.3f "$(got "$r" "$side" full_link_up_secs)")")"
	fi
}

# lag ROUND SIDE: offsets of master and replica under the write load.
lag() {
	local r=$1 side=$2 rc=0
	start_load "$side"
	probe "$r" "$side" lag "$LAG_POLL" "$LAG_SECS" "$load_pid" "$REPL_TIMEOUT" || rc=1
	finish_load "$side"
	((rc == 0)) || return 1
	log "$(printf 'round %s/%d %-7s lag: %s samples, %.0f SET/s, %.1f MB/s; bytes p50 %s p99 %s max %s; ms p50 %s p99 %s max %s; caught up %s ms after the load' \
		"$r" "$ROUNDS" "$side" "$(got "$r" "$side" lag_samples)" "$(got "$r" "$side" lag_cmds_per_sec)" \
		"$(got "$r" "$side" lag_stream_mbps)" "$(got "$r" "$side" lag_bytes_p50)" "$(got "$r" "$side" lag_bytes_p99)" \
		"$(got "$r" "$side" lag_bytes_max)" "$(fmt %.1f "$(got "$r" "$side" lag_ms_p50)")" \
		"$(fmt %.1f "$(got "$r" "$side" lag_ms_p99)")" "$(fmt %.1f "$(got "$r" "$side" lag_ms_max)")" \
		"$(fmt %.1f "$(got "$r" "$side" lag_drain_ms)")")"
}

# partial_resync ROUND SIDE: cut the link under the load, time the catch-up.
partial_resync() {
	local r=$1 side=$2 rc=0 log_file lines sent ok full
	log_file=$tmp/$side/server.log
	lines=$(wc -l <"$log_file")
	start_load "$side"
	probe "$r" "$side" psync "$POLL" "$WARMUP" "$load_pid" "$REPL_TIMEOUT" || rc=1
	finish_load "$side"
	((rc == 0)) || return 1
	sent=$(tail -n "+$((lines + 1))" "$log_file" | sed -n 's/.*accepted\. Sending \([0-9]*\) bytes of backlog.*/\1/p' | tail -n 1)
	record "$r" "$side" psync_log_bytes "${sent:-n/a}"
	ok=$(got "$r" "$side" psync_partial_ok_delta)
	full=$(got "$r" "$side" psync_full_delta)
	[[ $ok == 1 && $full == 0 ]] ||
		fail "round $r, $side: after the kill the master's sync_partial_ok rose by $ok and sync_full by $full (want 1 and 0); the replica was $(got "$r" "$side" psync_backlog_bytes) bytes behind at the cut, repl-backlog-size $BACKLOG"
	log "$(printf 'round %s/%d %-7s partial resync (%s): offsets equal %s ms after the kill, link up after %s ms; %s bytes (log: %s); partial_ok +%s, full +%s' \
		"$r" "$ROUNDS" "$side" "$(got "$r" "$side" psync_method)" \
		"$(fmt %.1f "$(awk -v s="$(got "$r" "$side" psync_secs)" 'BEGIN { print s * 1000 }')")" \
		"$(fmt %.1f "$(awk -v s="$(got "$r" "$side" psync_link_up_secs)" 'BEGIN { print s * 1000 }')")" \
		"$(got "$r" "$side" psync_backlog_bytes)" "${sent:-n/a}" "$ok" "$full")"
}

one_round() {
	local r=$1 side=$2
	if full_resync "$r" "$side"; then
		lag "$r" "$side" || true
		partial_resync "$r" "$side" || true
	fi
	stop_replica
}

# cfg SIDE DIRECTIVE VALUE: CONFIG SET on SIDE's master.
cfg() {
	local reply
	reply=$(cli "$(side_port "$1")" config set "$2" "$3" | tr -d '\r')
	[[ $reply == OK ]] || die "CONFIG SET $2 $3 on the $1 master answered: $reply"
}

write_report() {
	# row METRIC LABEL FORMAT DIVISOR [BAR]: medians of both sides and their ratio.
	row() {
		local rv lv
		rv=$(col redis "$1")
		lv=$(col lagwise "$1")
		[[ $rv == n/a && $lv == n/a ]] && return 0
		[[ $rv == n/a ]] || rv=$(awk -v x="$rv" -v d="$4" 'BEGIN { print x / d }')
		[[ $lv == n/a ]] || lv=$(awk -v x="$lv" -v d="$4" 'BEGIN { print x / d }')
		printf '%s\t%s\t%s\t%s\t%s\n' "$2" "$(fmt "$3" "$rv")" "$(fmt "$3" "$lv")" "$(ratio "$lv" "$rv")" "${5:-}"
	}
	# sum SIDE METRIC: the sum over the rounds.
	sum() { awk -F'\t' -v s="$1" -v m="$2" '$2 == s && $3 == m { n++; t += $4 } END { print n ? t : "n/a" }' "$raw"; }
	# methods SIDE: how the link was cut, per round.
	methods() { awk -F'\t' -v s="$1" '$2 == s && $3 == "psync_method" { print $4 }' "$raw" | sort | uniq -c | awk '{ printf "%s%s x%d", sep, $2, $1; sep = ", " }'; }

	local full_ratio verdict
	full_ratio=$(ratio "$(col lagwise full_secs)" "$(col redis full_secs)")
	verdict=$(bar "$full_ratio" 1.5)
	[[ $verdict != MISSED ]] || status=1
	{
		echo
		echo "### Replication"
		echo
		echo "Masters with $KEYS keys of $DATA_SIZE bytes (loaded with \`redis-cli --pipe\`, keys as redis-benchmark names them)," \
			"\`--repl-diskless-sync-delay 0 --repl-backlog-size $BACKLOG\`; replicas of the same kind (redis -> redis, lagwise -> lagwise), fresh and empty" \
			"each round, on the same host. Write load: redis-benchmark \`-t set -P 16 -c $CLIENTS -d $DATA_SIZE -r $KEYS\`," \
			"stopped by the script. Medians of $ROUNDS rounds, redis and lagwise alternating; ratio = lagwise / redis" \
			"(lower is better)."
		echo
		{
			printf 'metric\tredis\tlagwise\tratio\tbar\n'
			row full_secs 'full resync, diskless: REPLICAOF to link up and DBSIZE equal (s)' %.3f 1 "<= 1.5x: $verdict"
			row full_link_up_secs '  of which REPLICAOF to master_link_status:up (s)' %.3f 1
			row disk_secs 'full resync, disk-based (repl-diskless-sync no), one run (s)' %.3f 1
			row lag_cmds_per_sec 'under load: commands/s on the master' %.0f 1
			row lag_stream_mbps 'under load: replication stream (MB/s)' %.1f 1
			row lag_bytes_p50 'byte lag p50 (KiB)' %.1f 1024
			row lag_bytes_p99 'byte lag p99 (KiB)' %.1f 1024
			row lag_bytes_max 'byte lag max (KiB)' %.1f 1024
			row lag_ms_p50 'time lag p50 (ms)' %.1f 1
			row lag_ms_p99 'time lag p99 (ms)' %.1f 1
			row lag_ms_max 'time lag max (ms)' %.1f 1
			row lag_bytes_first_p50 'byte lag p50, first fifth of the run (KiB)' %.1f 1024
			row lag_bytes_last_p50 'byte lag p50, last fifth of the run (KiB)' %.1f 1024
			row lag_left_bytes 'lag when the load stopped (KiB)' %.1f 1024
			row lag_drain_ms 'load stopped to replica at the master offset (ms)' %.1f 1
			row psync_secs 'partial resync: kill to offsets equal (ms)' %.0f 0.001
			row psync_link_up_secs 'partial resync: kill to link up again (ms)' %.0f 0.001
			row psync_stop_ms 'partial resync: kill to load stopped (ms)' %.1f 1
			row psync_backlog_bytes 'partial resync: master offset - replica offset at the kill (KiB)' %.1f 1024
			row psync_log_bytes 'partial resync: master log "Sending N bytes of backlog" (KiB)' %.1f 1024
			printf '%s\t%s\t%s\t\t%s\n' 'sync_partial_ok / sync_full added, all rounds' \
				"+$(sum redis psync_partial_ok_delta) / +$(sum redis psync_full_delta)" \
				"+$(sum lagwise psync_partial_ok_delta) / +$(sum lagwise psync_full_delta)" "want +$ROUNDS / +0"
		} | md_table
		echo
		echo "- Full resync: from just before REPLICAOF is sent to the first poll (INFO replication and DBSIZE, pipelined," \
			"every ${POLL}s) that shows master_link_status:up and the master's DBSIZE. Redis's replica loads the RDB" \
			"from disk (its default repl-diskless-load disabled)."
		echo "- Lag: every ${LAG_POLL}s for ${LAG_SECS}s of load, INFO replication to the master, and to the replica as soon as" \
			"the master has answered (two open connections; the busy master may take milliseconds to answer, so the" \
			"replica's offset is never older than the master's) ($(col redis lag_samples) / $(col lagwise lag_samples) samples, one every" \
			"$(fmt %.1f "$(col redis lag_interval_ms)") / $(fmt %.1f "$(col lagwise lag_interval_ms)") ms, redis / lagwise)." \
			"Byte lag = master_repl_offset - slave_repl_offset (0 if the replica is ahead);" \
			"time lag = sample time (the master's answer) - when the master's sampled offset reached the replica's," \
			"interpolated between samples. p50/p99/max are per round, then the median over the rounds. lagwise's replica ACKs every" \
			"repl-ack-interval (default 1000 ms), which does not enter here: slave_repl_offset is the replica's own."
		echo "- Partial resync: load running for ${WARMUP}s, then the kill, then the load stopped (SIGTERM to redis-benchmark)." \
			"\"Master offset - replica offset\" is the master's master_repl_offset once the replica matched it, minus" \
			"the replica's slave_repl_offset in the INFO pipelined right behind the kill (or, for a kill on the master's side," \
			"at the first poll that showed the link down). How the link was cut:" \
			"redis $(methods redis); lagwise $(methods lagwise) (type-master: CLIENT KILL TYPE master on the replica;" \
			"master-side-id: CLIENT KILL ID of the replica's connection on the master, used when the former kills nothing)."
		local rnet lnet
		rnet=$(got end redis net_repl_output_bytes)
		lnet=$(got end lagwise net_repl_output_bytes)
		if [[ $lnet == 0 && $rnet != 0 ]]; then
			echo "- The bytes a partial resync took come from the offsets and the master's log: lagwise's INFO stats" \
				"total_net_repl_output_bytes reads 0 after the whole run (Redis's: $(mib "$rnet" 1048576) MiB)."
		fi
		if [[ $(awk -F'\t' '$2 == "lagwise" && $3 == "psync_method" && $4 == "master-side-id"' "$raw") ]]; then
			echo "- CLIENT KILL TYPE master on the lagwise replica answered $(awk -F'\t' '$2 == "lagwise" && $3 == "psync_kill_reply" { print $4; exit }' "$raw")" \
				"and left the link up: lagwise does not list its master link as a client (Redis lists it with flag M)."
		fi
		local rl ll
		rl=$(col redis psync_link_up_secs)
		ll=$(col lagwise psync_link_up_secs)
		if [[ $rl != n/a && $ll != n/a ]] && awk -v r="$rl" -v l="$ll" 'BEGIN { exit !(l >= 0.5 && l > 4 * r) }'; then
			echo "- Kill to link up: Redis 7.0's replica connects again as soon as it loses an established link;" \
				"lagwise's waited $(fmt %.0f "$(awk -v x="$ll" 'BEGIN { print x * 1000 }')") ms (median)." \
				"Under a write load, what the master takes in meanwhile has to fit in its backlog for the resync to stay partial."
		fi
		if [[ -s $failures ]]; then
			echo
			echo "**Failures:**"
			echo
			sed 's/^/- /' "$failures"
		fi
		echo
		echo "<details><summary>Per round</summary>"
		echo
		{
			printf 'round\tserver\tfull s\tlag KiB p50/p99/max\tlag ms p50/p99/max\tSET/s\tdrain ms\tpsync ms\tpsync KiB\tkill\n'
			awk -F'\t' '
				$1 == "end" { next }
				{ v[$1 "\t" $2, $3] = $4; if (!(($1 "\t" $2) in seen)) { seen[$1 "\t" $2] = 1; order[++n] = $1 "\t" $2 } }
				function g(k, m, f, d) { return ((k, m) in v) && v[k, m] != "n/a" ? sprintf(f, v[k, m] / d) : "n/a" }
				END {
					for (i = 1; i <= n; i++) {
						k = order[i]
						full = (k ~ /^disk/) ? g(k, "disk_secs", "%.3f", 1) " (disk)" : g(k, "full_secs", "%.3f", 1)
						print k "\t" full "\t" \
							g(k, "lag_bytes_p50", "%.1f", 1024) " / " g(k, "lag_bytes_p99", "%.1f", 1024) " / " g(k, "lag_bytes_max", "%.1f", 1024) "\t" \
							g(k, "lag_ms_p50", "%.1f", 1) " / " g(k, "lag_ms_p99", "%.1f", 1) " / " g(k, "lag_ms_max", "%.1f", 1) "\t" \
							g(k, "lag_cmds_per_sec", "%.0f", 1) "\t" g(k, "lag_drain_ms", "%.1f", 1) "\t" \
							g(k, "psync_secs", "%.0f", 0.001) "\t" g(k, "psync_backlog_bytes", "%.1f", 1024) "\t" \
							(((k, "psync_method") in v) ? v[k, "psync_method"] : "")
					}
				}' "$raw"
		} | md_table
		echo
		echo "</details>"
	} >>"$report"
}

prepare_lagwise
write_header "lagwise server vs Redis: replication" repl "$report"
ports=$(free_ports 4) || die "could not find free ports"
read -r redis_port lw_port redis_rport lw_rport <<<"$ports"
start_server redis "$redis_port" --repl-diskless-sync-delay 0 --repl-backlog-size "$BACKLOG"
redis_pid=$started_pid
start_server lagwise "$lw_port" --repl-diskless-sync-delay 0 --repl-backlog-size "$BACKLOG"
lw_pid=$started_pid
load_keys redis
load_keys lagwise

for ((r = 1; r <= ROUNDS; r++)); do
	# Alternate who goes first so neither side always runs on a cooler machine.
	if ((r % 2)); then order=(redis lagwise); else order=(lagwise redis); fi
	for side in "${order[@]}"; do
		one_round "$r" "$side"
	done
done

if ((DISK)); then
	for side in redis lagwise; do
		cfg "$side" repl-diskless-sync no
		full_resync disk "$side" || true
		stop_replica
		cfg "$side" repl-diskless-sync yes
	done
fi

for side in redis lagwise; do
	record end "$side" net_repl_output_bytes "$(info_field "$(side_port "$side")" stats total_net_repl_output_bytes)"
done
stop_servers
write_report
mkdir -p -- "$(dirname -- "$RESULTS_FILE")"
cp -- "$report" "$RESULTS_FILE"
log "report written to $RESULTS_FILE"
echo >&2
cat "$report"
exit "$status"
