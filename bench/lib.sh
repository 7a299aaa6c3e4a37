# shellcheck shell=bash
# Helpers shared by the benchmark scripts in bench/ (sourced, not run).
#
# The sourcing script sets, before calling these:
#   REDIS_SERVER, REDIS_CLI, REDIS_BENCHMARK  tool paths
#   BENCH_AGAINST   "lagwise" or "redis" (the lagwise side as a second redis-server)
#   RUN_TIMEOUT     per redis-benchmark run timeout, seconds
# and calls bench_init, which makes the temp dir $tmp and installs the exit
# trap: it stops both servers, kills the pids listed in cleanup_pids, and
# removes $tmp.

bench_lib_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$bench_lib_dir/.." && pwd)

# usage: the main script's leading comment, up to `set -euo pipefail`.
usage() {
	sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[-1]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# no_args: a script that takes no arguments answers --help and refuses
# anything else.
no_args() {
	case ${1:-} in
	'') ;;
	-h | --help | help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

# The tools and the side under test, unless the environment names others.
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
BENCH_AGAINST=${BENCH_AGAINST:-lagwise}

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# require_positive NAME VALUE: die unless VALUE is a positive integer.
require_positive() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer (got '$2')"
}

# require_seconds NAME VALUE: die unless VALUE is a number of seconds.
require_seconds() {
	[[ $2 =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$1 must be a number of seconds (got '$2')"
}

# require_tools TOOL...: die naming the first tool not found.
require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool not found in PATH"
	done
}

tmp=''
redis_pid=''
lw_pid=''
started_pid=''
cleanup_pids=()

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
	local pid
	for pid in "${cleanup_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	stop_pid "$redis_pid"
	stop_pid "$lw_pid"
	redis_pid='' lw_pid=''
	[[ -z $tmp ]] || rm -rf -- "$tmp"
}

# bench_init: make $tmp and install the traps.
bench_init() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/lagwise-bench.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

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
	# Not $tmp/lagwise: that is the lagwise server's directory.
	(cd -- "$repo_root" && go build -o "$tmp/bin/lagwise" ./cmd/lagwise) ||
		die "go build ./cmd/lagwise failed (set LAGWISE_BIN, or BENCH_AGAINST=redis to test the script)"
	lagwise_bin=$tmp/bin/lagwise
}

# START_TIMEOUT and START_POLL: how long start_server waits for PING, and
# how often it asks.
START_TIMEOUT=10
START_POLL=0.05

# start_server SIDE PORT [ARGS...]: start redis|lagwise on PORT in $tmp/SIDE,
# with ARGS appended to its command line, and wait for PING; sets
# started_pid and started_at (EPOCHREALTIME just before the start). SIDE may
# carry a suffix (redis-replica, lagwise-replica): the part before the first
# '-' says which server runs.
# shellcheck disable=SC2034 # read by the sourcing script
started_at=''
start_server() {
	local side=$1 port=$2 start
	shift 2
	local dir=$tmp/$side
	local -a cmd
	mkdir -p "$dir"
	if [[ ${side%%-*} == redis || $BENCH_AGAINST == redis ]]; then
		cmd=("$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" "$@")
	else
		cmd=("$lagwise_bin" server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" "$@")
	fi
	# shellcheck disable=SC2034 # read by the sourcing script
	started_at=$EPOCHREALTIME
	start=$SECONDS
	(cd -- "$dir" && exec "${cmd[@]}") >>"$dir/server.log" 2>&1 &
	started_pid=$!
	while ((SECONDS - start <= START_TIMEOUT)); do
		if ! kill -0 "$started_pid" 2>/dev/null; then
			tail -n 20 "$dir/server.log" >&2 || true
			die "$side server exited during startup (port $port)"
		fi
		if [[ $(cli "$port" ping 2>/dev/null || true) == PONG ]]; then
			log "$side up on 127.0.0.1:$port (pid $started_pid)"
			return 0
		fi
		sleep "$START_POLL"
	done
	tail -n 20 "$dir/server.log" >&2 || true
	die "$side server did not answer PING on port $port within ${START_TIMEOUT}s"
}

redis_port=''
lw_port=''
# start_servers [lagwise-only]: pick two free ports, start both servers.
start_servers() {
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

# parse_csv FILE: print "TEST RPS P50 P99 MAX" for each row of redis-benchmark --csv output.
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
			mx = ("max_latency_ms" in col) ? $(col["max_latency_ms"]) : "n/a"
			print $1, $2, p50, p99, mx
		}' "$1"
}

# median: median of the numbers on stdin ("n/a" if none).
median() {
	{ grep -E '^-?[0-9.]+$' || true; } | sort -g | awk '
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

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

mib() { if [[ $1 == n/a ]]; then echo n/a; else awk -v x="$1" -v d="$2" 'BEGIN { printf "%.1f", x / d }'; fi; }

# write_header TITLE MODE REPORT: start the Markdown report with the title,
# the mode, the date, the commit and the host.
write_header() {
	local title=$1 mode=$2 report=$3 commit cpu
	commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ $commit != unknown && -n $(git -C "$repo_root" status --porcelain 2>/dev/null | head -n 1) ]]; then
		commit+='+dirty'
	fi
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	{
		echo "## $title"
		echo
		echo "- mode: \`$mode\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`"
		echo "- host: $(nproc 2>/dev/null || echo '?') CPUs${cpu:+, $cpu}; $("$REDIS_SERVER" --version | awk '{ print $1, $3 }'); client: redis-benchmark on the same host"
		if [[ $BENCH_AGAINST == redis ]]; then
			echo "- **BENCH_AGAINST=redis: the \"lagwise\" column is a second redis-server (script self-check, not a lagwise result)**"
		fi
	} >"$report"
}

# elapsed T0 T1: T1 - T0 in seconds, three decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# info_field PORT SECTION FIELD: one field of INFO SECTION ("n/a" if absent).
info_field() {
	local v
	v=$(cli "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2; exit }' || true)
	echo "${v:-n/a}"
}

# forget_pid PID: drop PID from cleanup_pids once it has been waited for.
forget_pid() {
	local -a keep=()
	local p
	for p in "${cleanup_pids[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	cleanup_pids=("${keep[@]}")
}

# load_keys SIDE: SET KEYS keys of DATA_SIZE bytes (globals), named as
# redis-benchmark -r names them (key:000000000000 ...), into SIDE with
# redis-cli --pipe, and check DBSIZE.
load_keys() {
	local side=$1 port out n
	port=$(side_port "$side")
	log "loading $KEYS keys of $DATA_SIZE bytes into $side"
	out=$(awk -v n="$KEYS" -v d="$DATA_SIZE" 'BEGIN {
			v = ""
			for (i = 0; i < d; i++) v = v "x"
			for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, d, v
		}' | run_timeout "$REDIS_CLI" -h 127.0.0.1 -p "$port" --pipe 2>&1) || die "redis-cli --pipe into $side failed: $out"
	[[ $out == *"errors: 0, replies: $KEYS"* ]] || die "loading $side: $(tail -n 1 <<<"$out")"
	n=$(cli "$port" dbsize | tr -d '\r')
	[[ $n == "$KEYS" ]] || die "$side has DBSIZE $n after the load, expected $KEYS"
}

# Per-round figures go to $raw (set by the sourcing script), one
# "round<TAB>side<TAB>metric<TAB>value" line each.
raw=''
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$raw"; }

# col SIDE METRIC -> median over the rounds.
col() { awk -F'\t' -v s="$1" -v m="$2" '$2 == s && $3 == m { print $4 }' "$raw" | median; }

# bar VALUE LIMIT: "ok" if VALUE <= LIMIT, "MISSED" otherwise.
bar() {
	if [[ $1 == n/a ]]; then
		echo n/a
	elif awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then
		echo ok
	else
		echo MISSED
	fi
}
