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
repo_root=$(cd -- "$script_dir/.." && pwd)

usage() {
	sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

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
	[[ ${!var} =~ ^[1-9][0-9]*$ ]] || die "${pair%%:*} must be a positive integer (got '${!var}')"
done
[[ $SETTLE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "BENCH_SETTLE must be a number of seconds (got '$SETTLE')"
case $BENCH_AGAINST in
lagwise | redis) ;;
*) die "BENCH_AGAINST must be 'lagwise' or 'redis' (got '$BENCH_AGAINST')" ;;
esac

for tool in "$REDIS_SERVER" "$REDIS_CLI" "$REDIS_BENCHMARK"; do
	command -v "$tool" >/dev/null || die "$tool not found in PATH"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lagwise-bench.XXXXXX")
redis_pid=''
lw_pid=''
started_pid=''

stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	stop_pid "$redis_pid"
	stop_pid "$lw_pid"
	redis_pid='' lw_pid=''
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_timeout CMD...: run CMD, killed after RUN_TIMEOUT seconds when timeout(1) exists.
run_timeout() {
	if command -v timeout >/dev/null; then
		timeout "$RUN_TIMEOUT" "$@"
	else
		"$@"
	fi
}

# free_ports N: print N distinct currently free TCP ports on 127.0.0.1.
free_ports() {
	local count=$1
	if command -v python3 >/dev/null; then
		python3 - "$count" <<-'EOF' && return 0
			import socket, sys
			socks = []
			for _ in range(int(sys.argv[1])):
			    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
			    s.bind(("127.0.0.1", 0))
			    socks.append(s)
			print(" ".join(str(s.getsockname()[1]) for s in socks))
		EOF
	fi
	# Fallback: probe random high ports with bash's /dev/tcp.
	local -a found=()
	local port tries=0
	while ((${#found[@]} < count)); do
		((++tries < 1000)) || return 1
		port=$((20000 + RANDOM % 40000))
		[[ " ${found[*]} " == *" $port "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			found+=("$port")
		fi
	done
	echo "${found[*]}"
}

# cli PORT ARGS...: redis-cli against 127.0.0.1:PORT with a short timeout.
cli() {
	local port=$1
	shift
	if command -v timeout >/dev/null; then
		timeout 10 "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
	else
		"$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
	fi
}

lagwise_bin=''
prepare_lagwise() {
	if [[ $BENCH_AGAINST == redis ]]; then
		log "BENCH_AGAINST=redis: the lagwise side is a second redis-server"
		return
	fi
	if [[ -n ${LAGWISE_BIN:-} ]]; then
		[[ -x $LAGWISE_BIN ]] || die "LAGWISE_BIN=$LAGWISE_BIN is not an executable file"
		lagwise_bin=$LAGWISE_BIN
		log "using prebuilt $lagwise_bin"
		return
	fi
	command -v go >/dev/null || die "go not found; set LAGWISE_BIN to a prebuilt binary"
	log "building ./cmd/lagwise"
	(cd -- "$repo_root" && go build -o "$tmp/lagwise" ./cmd/lagwise) ||
		die "go build ./cmd/lagwise failed (set LAGWISE_BIN, or BENCH_AGAINST=redis to test the script)"
	lagwise_bin=$tmp/lagwise
}

# start_server SIDE PORT: start redis|lagwise on PORT, wait for PING, set started_pid.
start_server() {
	local side=$1 port=$2 i
	local dir=$tmp/$side
	local -a cmd
	mkdir -p "$dir"
	if [[ $side == redis || $BENCH_AGAINST == redis ]]; then
		cmd=("$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir")
	else
		cmd=("$lagwise_bin" server --port "$port" --bind 127.0.0.1 --save "" --appendonly no)
	fi
	(cd -- "$dir" && exec "${cmd[@]}") >>"$dir/server.log" 2>&1 &
	started_pid=$!
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$started_pid" 2>/dev/null; then
			tail -n 20 "$dir/server.log" >&2 || true
			die "$side server exited during startup (port $port)"
		fi
		if [[ $(cli "$port" ping 2>/dev/null || true) == PONG ]]; then
			log "$side up on 127.0.0.1:$port (pid $started_pid)"
			return 0
		fi
		sleep 0.05
	done
	tail -n 20 "$dir/server.log" >&2 || true
	die "$side server did not answer PING on port $port within 10s"
}

redis_port=''
lw_port=''
start_servers() { # [lagwise-only]
	local ports
	ports=$(free_ports 2) || die "could not find free ports"
	read -r redis_port lw_port <<<"$ports"
	if [[ ${1:-} != lagwise-only ]]; then
		start_server redis "$redis_port"
		redis_pid=$started_pid
	fi
	start_server lagwise "$lw_port"
	lw_pid=$started_pid
}

stop_servers() {
	stop_pid "$redis_pid"
	stop_pid "$lw_pid"
	redis_pid='' lw_pid=''
}

side_port() { if [[ $1 == redis ]]; then echo "$redis_port"; else echo "$lw_port"; fi; }
side_pid() { if [[ $1 == redis ]]; then echo "$redis_pid"; else echo "$lw_pid"; fi; }

# run_bench SIDE OUT ARGS...: redis-benchmark against SIDE, stdout to OUT.
run_bench() {
	local side=$1 out=$2 port pid rc=0
	shift 2
	port=$(side_port "$side")
	pid=$(side_pid "$side")
	run_timeout "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" "$@" >"$out" 2>"$out.err" || rc=$?
	if ((rc != 0)); then
		tail -n 20 "$out.err" >&2 || true
		kill -0 "$pid" 2>/dev/null || log "$side server is no longer running"
		((rc == 124)) && die "redis-benchmark against $side timed out after ${RUN_TIMEOUT}s: $*"
		die "redis-benchmark against $side failed (exit $rc): $*"
	fi
}

# parse_csv FILE: print "TEST RPS P50 P99" for each row of redis-benchmark --csv output.
parse_csv() {
	awk -F, '
		{ gsub(/"/, ""); gsub(/\r/, "") }
		NR == 1 {
			for (i = 1; i <= NF; i++) col[$i] = i
			next
		}
		NF >= 2 {
			p50 = ("p50_latency_ms" in col) ? $(col["p50_latency_ms"]) : "n/a"
			p99 = ("p99_latency_ms" in col) ? $(col["p99_latency_ms"]) : "n/a"
			print $1, $2, p50, p99
		}' "$1"
}

# median: median of the numbers on stdin ("n/a" if none).
median() {
	grep -E '^[0-9.]+$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) print "n/a"
			else if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# fmt PRINTF-FORMAT VALUE: format a number, passing "n/a" through.
fmt() { if [[ $2 == n/a ]]; then echo n/a; else awk -v f="$1" -v x="$2" 'BEGIN { printf f, x }'; fi; }

# ratio A B: A/B with two decimals ("n/a" when not computable).
ratio() {
	if [[ $1 == n/a || $2 == n/a ]]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'
	fi
}

# md_table: tab-separated rows on stdin (header first) -> aligned Markdown table.
md_table() {
	awk -F'\t' '
		function pad(s, n, right,   out) {
			out = s
			while (length(out) < n) out = right ? " " out : out " "
			return out
		}
		function dashes(n,   out) { out = ""; while (length(out) < n) out = out "-"; return out }
		{
			for (i = 1; i <= NF; i++) {
				cell[NR, i] = $i
				if (length($i) > w[i]) w[i] = length($i)
			}
			if (NF > nf) nf = NF
		}
		END {
			for (i = 1; i <= nf; i++) if (w[i] < 3) w[i] = 3
			for (r = 1; r <= NR; r++) {
				line = "|"
				for (i = 1; i <= nf; i++) line = line " " pad(cell[r, i], w[i], i > 1) " |"
				print line
				if (r == 1) {
					line = "|"
					for (i = 1; i <= nf; i++)
						line = line (i == 1 ? ":" dashes(w[i] + 1) : dashes(w[i] + 1) ":") "|"
					print line
				}
			}
		}'
}

report=$tmp/report.md
status=0

write_header() {
	local commit cpu
	commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ $commit != unknown && -n $(git -C "$repo_root" status --porcelain 2>/dev/null | head -n 1) ]]; then
		commit+='+dirty'
	fi
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	{
		echo "## lagwise server vs Redis"
		echo
		echo "- mode: \`$mode\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`"
		echo "- host: $(nproc 2>/dev/null || echo '?') CPUs${cpu:+, $cpu}; $("$REDIS_SERVER" --version | awk '{ print $1, $3 }'); client: redis-benchmark on the same host"
		if [[ $BENCH_AGAINST == redis ]]; then
			echo "- **BENCH_AGAINST=redis: the \"lagwise\" column is a second redis-server (script self-check, not a lagwise result)**"
		fi
	} >"$report"
}

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
				while read -r test rps p50 p99; do
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

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

used_memory() {
	local v
	v=$(cli "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }' || true)
	if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; else echo n/a; fi
}

mib() { if [[ $1 == n/a ]]; then echo n/a; else awk -v x="$1" -v d="$2" 'BEGIN { printf "%.1f", x / d }'; fi; }

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
write_header
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
