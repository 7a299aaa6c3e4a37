package backend

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// INFO, with Redis 7.0's sections, field names and formats.

// Version is lagwise's version, reported by INFO as lagwise_version.
var Version = "0.1.0"

// Instantaneous metrics, sampled like Redis's trackInstantaneousMetric:
// every 100 ms the rate since the previous sample goes into a ring of 16,
// and INFO reports the ring's mean.
const (
	metricCommands = iota
	metricNetInput
	metricNetOutput
	numMetrics

	metricSamples = 16
	metricPeriod  = 100 // ms
)

type instMetric struct {
	lastTime  int64 // unix ms
	lastCount int64
	samples   [metricSamples]int64
	idx       int
}

func (m *instMetric) track(now, count int64) {
	t := now - m.lastTime
	var rate int64
	if t > 0 {
		rate = (count - m.lastCount) * 1000 / t
	}
	m.samples[m.idx] = rate
	m.idx = (m.idx + 1) % metricSamples
	m.lastTime = now
	m.lastCount = count
}

func (m *instMetric) value() int64 {
	var sum int64
	for _, v := range m.samples {
		sum += v
	}
	return sum / metricSamples
}

// statsTick samples the instantaneous metrics and the memory peak. The cron
// calls it on every run, holding the executor lock; it samples at most once
// per 100 ms whatever hz is.
func (s *Server) statsTick() {
	a := s.admin()
	now := time.Now().UnixMilli()
	if now-a.metrics[metricCommands].lastTime < metricPeriod {
		return
	}
	a.metrics[metricCommands].track(now, s.stats.commandsProcessed)
	a.metrics[metricNetInput].track(now, s.stats.netInput.Load())
	a.metrics[metricNetOutput].track(now, s.stats.netOutput.Load())
	s.updatePeakMemory(s.infoUsedMemory())
}

func (s *Server) updatePeakMemory(used int64) {
	if a := s.admin(); used > a.peakMemory {
		a.peakMemory = used
	}
}

// heapBytes is the memory held by live Go objects (the analogue of what
// Redis's allocator reports as used), read from the runtime's metrics.
func heapBytes() int64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64())
}

// runtimeMemory returns the bytes the Go runtime has mapped and the bytes
// of heap spans in use.
func runtimeMemory() (total, active int64) {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		total = int64(sample[0].Value.Uint64())
	}
	for _, x := range sample[1:] {
		if x.Value.Kind() == metrics.KindUint64 {
			active += int64(x.Value.Uint64())
		}
	}
	return total, active
}

// infoUsedMemory is INFO's used_memory: the figure maxmemory is enforced
// against.
func (s *Server) infoUsedMemory() int64 { return s.usedMemory() }

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

// bytesToHuman formats a byte count as Redis's bytesToHuman does.
func bytesToHuman(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	case n < 1<<60:
		return fmt.Sprintf("%.2fP", d/(1<<50))
	}
	return strconv.FormatInt(n, 10) + "B"
}

// osName is INFO's os field: kernel name, release and machine, as uname.
func osName() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS
	}
	str := func(a [65]int8) string {
		b := make([]byte, 0, len(a))
		for _, ch := range a {
			if ch == 0 {
				break
			}
			b = append(b, byte(ch))
		}
		return string(b)
	}
	return str(u.Sysname) + " " + str(u.Release) + " " + str(u.Machine)
}

func cpuTimes(who int) (sys, user string) {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	f := func(tv syscall.Timeval) string { return fmt.Sprintf("%d.%06d", tv.Sec, tv.Usec) }
	return f(ru.Stime), f(ru.Utime)
}

func cmdInfo(c *Client) {
	c.bulkStr(c.srv.infoString(c.argv[1:]))
}

// infoSections are the sections of INFO in output order; "modules" stands
// for the module list, which is empty.
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
	"modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"}

var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication",
	"cpu", "module_list", "errorstats", "cluster", "keyspace"}

// infoString builds INFO's reply for the requested sections.
func (s *Server) infoString(args [][]byte) string {
	want := map[string]bool{}
	all := false
	if len(args) == 0 {
		for _, n := range defaultInfoSections {
			want[n] = true
		}
	}
	for _, a := range args {
		name := strings.ToLower(string(a))
		switch name {
		case "all", "everything":
			all = true
		case "default":
			for _, n := range defaultInfoSections {
				want[n] = true
			}
		default:
			want[name] = true
		}
	}
	var b bytes.Buffer
	sections := 0
	for _, sec := range infoSections {
		if !all && !want[sec] && !(sec == "modules" && want["module_list"]) {
			continue
		}
		if sections > 0 {
			b.WriteString("\r\n")
		}
		sections++
		s.infoSection(&b, sec)
	}
	return b.String()
}

func (s *Server) infoSection(b *bytes.Buffer, sec string) {
	line := func(format string, args ...any) {
		fmt.Fprintf(b, format, args...)
		b.WriteString("\r\n")
	}
	a := s.admin()
	now := time.Now()
	switch sec {
	case "server":
		exe, _ := os.Executable()
		port := s.cfg.Port
		if ln := s.Addr(); port == 0 && ln != nil {
			if _, p, err := splitHostPort(ln.String()); err == nil {
				port = p
			}
		}
		uptime := int64(now.Sub(s.startTime) / time.Second)
		b.WriteString("# Server\r\n")
		line("redis_version:%s", redisCompatVersion)
		line("lagwise_version:%s", Version)
		line("redis_git_sha1:00000000")
		line("redis_git_dirty:0")
		line("redis_build_id:0")
		line("redis_mode:standalone")
		line("os:%s", osName())
		line("arch_bits:%d", strconv.IntSize)
		line("monotonic_clock:POSIX clock_gettime")
		line("multiplexing_api:%s", multiplexingAPI())
		line("atomicvar_api:c11-builtin")
		line("gcc_version:0.0.0")
		line("process_id:%d", os.Getpid())
		line("process_supervised:no")
		line("run_id:%s", s.runID)
		line("tcp_port:%d", port)
		line("server_time_usec:%d", now.UnixMicro())
		line("uptime_in_seconds:%d", uptime)
		line("uptime_in_days:%d", uptime/86400)
		line("hz:%d", s.cfg.Hz)
		line("configured_hz:%d", s.cfg.Hz)
		line("lru_clock:%d", s.lruClockNow())
		line("executable:%s", exe)
		line("config_file:%s", s.configFile)
		line("io_threads_active:0")
	case "clients":
		blocked, timeouts := 0, 0
		for _, cl := range s.clients {
			if cl.block != nil {
				blocked++
				if !cl.block.deadline.IsZero() {
					timeouts++
				}
			}
		}
		b.WriteString("# Clients\r\n")
		line("connected_clients:%d", len(s.clients))
		line("cluster_connections:0")
		line("maxclients:%d", s.cfg.MaxClients)
		line("client_recent_max_input_buffer:0")
		line("client_recent_max_output_buffer:0")
		line("blocked_clients:%d", blocked)
		line("tracking_clients:0")
		line("clients_in_timeout_table:%d", timeouts)
	case "memory":
		used := s.infoUsedMemory()
		s.updatePeakMemory(used)
		peak := a.peakMemory
		rss := rssBytes()
		total, active := runtimeMemory()
		startup := a.startupMemory
		if startup > used {
			startup = used
		}
		overhead := startup
		dataset := used - overhead
		net := used - startup
		if net <= 0 {
			net = 1
		}
		sysMem := totalSystemMemory()
		ratio := func(x, y int64) float64 {
			if y == 0 {
				return 0
			}
			return float64(x) / float64(y)
		}
		b.WriteString("# Memory\r\n")
		line("used_memory:%d", used)
		line("used_memory_human:%s", bytesToHuman(used))
		line("used_memory_rss:%d", rss)
		line("used_memory_rss_human:%s", bytesToHuman(rss))
		line("used_memory_peak:%d", peak)
		line("used_memory_peak_human:%s", bytesToHuman(peak))
		line("used_memory_peak_perc:%.2f%%", float32(ratio(used, peak)*100))
		line("used_memory_overhead:%d", overhead)
		line("used_memory_startup:%d", startup)
		line("used_memory_dataset:%d", dataset)
		line("used_memory_dataset_perc:%.2f%%", float32(float64(dataset)*100/float64(net)))
		line("allocator_allocated:%d", used)
		line("allocator_active:%d", active)
		line("allocator_resident:%d", total)
		line("total_system_memory:%d", sysMem)
		line("total_system_memory_human:%s", bytesToHuman(sysMem))
		line("used_memory_lua:0")
		line("used_memory_vm_eval:0")
		line("used_memory_lua_human:0B")
		line("used_memory_scripts_eval:0")
		line("number_of_cached_scripts:0")
		line("number_of_functions:0")
		line("number_of_libraries:0")
		line("used_memory_vm_functions:0")
		line("used_memory_vm_total:0")
		line("used_memory_vm_total_human:0B")
		line("used_memory_functions:0")
		line("used_memory_scripts:0")
		line("used_memory_scripts_human:0B")
		line("maxmemory:%d", s.cfg.MaxMemory)
		line("maxmemory_human:%s", bytesToHuman(s.cfg.MaxMemory))
		line("maxmemory_policy:%s", s.cfg.MaxMemoryPolicy)
		line("allocator_frag_ratio:%.2f", ratio(active, used))
		line("allocator_frag_bytes:%d", active-used)
		line("allocator_rss_ratio:%.2f", ratio(total, active))
		line("allocator_rss_bytes:%d", total-active)
		line("rss_overhead_ratio:%.2f", ratio(rss, total))
		line("rss_overhead_bytes:%d", rss-total)
		line("mem_fragmentation_ratio:%.2f", ratio(rss, used))
		line("mem_fragmentation_bytes:%d", rss-used)
		line("mem_not_counted_for_evict:0")
		line("mem_replication_backlog:0")
		line("mem_total_replication_buffers:0")
		line("mem_clients_slaves:0")
		line("mem_clients_normal:0")
		line("mem_cluster_links:0")
		line("mem_aof_buffer:0")
		line("mem_allocator:%s", runtime.Version())
		line("active_defrag_running:0")
		line("lazyfree_pending_objects:0")
		line("lazyfreed_objects:0")
	case "persistence":
		b.WriteString("# Persistence\r\n")
		s.infoPersistence(line)
	case "stats":
		st := &s.stats
		b.WriteString("# Stats\r\n")
		line("total_connections_received:%d", st.connectionsReceived)
		line("total_commands_processed:%d", st.commandsProcessed)
		line("instantaneous_ops_per_sec:%d", a.metrics[metricCommands].value())
		line("total_net_input_bytes:%d", st.netInput.Load())
		line("total_net_output_bytes:%d", st.netOutput.Load())
		line("total_net_repl_input_bytes:%d", st.netReplInput.Load())
		line("total_net_repl_output_bytes:%d", st.netReplOutput.Load())
		line("instantaneous_input_kbps:%.2f", float32(a.metrics[metricNetInput].value())/1024)
		line("instantaneous_output_kbps:%.2f", float32(a.metrics[metricNetOutput].value())/1024)
		line("instantaneous_input_repl_kbps:0.00")
		line("instantaneous_output_repl_kbps:0.00")
		line("rejected_connections:%d", st.rejectedConns)
		line("sync_full:%d", s.repl.syncFull)
		line("sync_partial_ok:%d", s.repl.syncPartialOK)
		line("sync_partial_err:%d", s.repl.syncPartialErr)
		line("expired_keys:%d", st.expiredKeys)
		line("expired_stale_perc:0.00")
		line("expired_time_cap_reached_count:0")
		line("expire_cycle_cpu_milliseconds:0")
		line("evicted_keys:%d", st.evictedKeys)
		line("evicted_clients:0")
		line("total_eviction_exceeded_time:0")
		line("current_eviction_exceeded_time:0")
		line("keyspace_hits:%d", st.keyspaceHits)
		line("keyspace_misses:%d", st.keyspaceMisses)
		line("pubsub_channels:%d", len(s.pubsub.channels))
		line("pubsub_patterns:%d", len(s.pubsub.patterns))
		line("pubsubshard_channels:0")
		line("latest_fork_usec:0")
		line("total_forks:0")
		line("migrate_cached_sockets:0")
		line("slave_expires_tracked_keys:0")
		line("active_defrag_hits:0")
		line("active_defrag_misses:0")
		line("active_defrag_key_hits:0")
		line("active_defrag_key_misses:0")
		line("total_active_defrag_time:0")
		line("current_active_defrag_time:0")
		line("tracking_total_keys:0")
		line("tracking_total_items:0")
		line("tracking_total_prefixes:0")
		line("unexpected_error_replies:0")
		line("total_error_replies:%d", st.totalErrorReplies)
		line("dump_payload_sanitizations:0")
		line("total_reads_processed:0")
		line("total_writes_processed:0")
		line("io_threaded_reads_processed:0")
		line("io_threaded_writes_processed:0")
		line("reply_buffer_shrinks:0")
		line("reply_buffer_expands:0")
	case "replication":
		b.WriteString("# Replication\r\n")
		s.infoReplication(line)
	case "cpu":
		sys, user := cpuTimes(syscall.RUSAGE_SELF)
		csys, cuser := cpuTimes(syscall.RUSAGE_CHILDREN)
		b.WriteString("# CPU\r\n")
		line("used_cpu_sys:%s", sys)
		line("used_cpu_user:%s", user)
		line("used_cpu_sys_children:%s", csys)
		line("used_cpu_user_children:%s", cuser)
		line("used_cpu_sys_main_thread:%s", sys)
		line("used_cpu_user_main_thread:%s", user)
	case "modules":
		b.WriteString("# Modules\r\n")
	case "commandstats":
		b.WriteString("# Commandstats\r\n")
		names := make([]string, 0, len(s.cmds))
		for n := range s.cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		stat := func(name string, e *cmdEntry) {
			if e.calls == 0 && e.failed == 0 && e.reject == 0 {
				return
			}
			var per float32
			if e.calls != 0 {
				per = float32(e.usec) / float32(e.calls)
			}
			line("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				name, e.calls, e.usec, per, e.reject, e.failed)
		}
		for _, n := range names {
			e := s.cmds[n]
			stat(n, e)
			subs := make([]string, 0, len(e.subs))
			for sub := range e.subs {
				subs = append(subs, sub)
			}
			sort.Strings(subs)
			for _, sub := range subs {
				stat(n+"|"+sub, e.subs[sub])
			}
		}
	case "errorstats":
		b.WriteString("# Errorstats\r\n")
		codes := make([]string, 0, len(s.stats.errorCounts))
		for code := range s.stats.errorCounts {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			line("errorstat_%s:count=%d", code, s.stats.errorCounts[code])
		}
	case "latencystats":
		b.WriteString("# Latencystats\r\n")
	case "cluster":
		b.WriteString("# Cluster\r\n")
		line("cluster_enabled:0")
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		for _, db := range s.dbs {
			if n := db.Size(); n > 0 {
				line("db%d:keys=%d,expires=%d,avg_ttl=%d", db.id, n, len(db.expires), db.avgTTL)
			}
		}
	}
}

func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	}
	return runtime.GOOS
}

// splitHostPort splits "host:port" and parses the port.
func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("missing port in %q", addr)
	}
	p, err := strconv.Atoi(addr[i+1:])
	return strings.Trim(addr[:i], "[]"), p, err
}
