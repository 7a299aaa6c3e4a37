package backend

import (
	"fmt"
	"math"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Config holds the server's directives, with redis.conf's names. The fields
// are read by the server under its lock; CONFIG SET changes them under the
// same lock.
type Config struct {
	Port                 int
	Bind                 []string
	RequirePass          string
	Dir                  string
	DBFilename           string
	AppendOnly           bool
	Save                 string
	Databases            int
	MaxMemory            int64
	MaxMemoryPolicy      string
	MaxMemorySamples     int
	MaxClients           int
	Timeout              int // seconds; 0: never
	ProtectedMode        bool
	ProtoMaxBulkLen      int64
	ClientQueryBufLimit  int64
	OutputLimits         [3]outputLimit // normal, replica, pubsub
	EnableDebugCommand   string         // no | yes | local
	LogLevel             string
	LogFile              string
	Hz                   int
	HashMaxListpackEntr  int
	HashMaxListpackValue int
	SetMaxIntsetEntries  int
	ZSetMaxListpackEntr  int
	ZSetMaxListpackValue int
	ListMaxListpackSize  int
	ActiveExpireEffort   int
	Daemonize            bool
	PidFile              string
	TCPKeepalive         int
	IOThreads            int // threads running client I/O (GOMAXPROCS)
	// Persistence (persist.go, aof.go).
	RDBCompression          bool
	RDBChecksum             bool
	StopWritesOnBgsaveError bool
	AppendFsync             string // always | everysec | no
	AppendFilename          string
	AppendDirname           string
	AOFUseRDBPreamble       bool
	AOFLoadTruncated        bool
	AutoAOFRewritePct       int
	AutoAOFRewriteMinSize   int64
	// RDBLoadPartial (lagwise's own directive, rdb-load-partial) lets a
	// server start from the keys before the damage in a torn or corrupt
	// dump instead of refusing to start.
	RDBLoadPartial bool
	// Replication (repl.go).
	ReplicaOf             string // "host port", or "" for a master
	ReplicaServeStaleData bool
	ReplicaReadOnly       bool
	ReplDisklessSync      bool
	ReplDisklessSyncDelay int
	ReplPingPeriod        int
	ReplTimeout           int
	ReplBacklogSize       int64
	ReplBacklogTTL        int
	ReplicaPriority       int
	MinReplicasToWrite    int
	MinReplicasMaxLag     int
	MasterAuth            string
	MasterUser            string
	ReplicaAnnounceIP     string
	ReplicaAnnouncePort   int
	ReplAckInterval       int // ms between REPLCONF ACKs (lagwise's repl-ack-interval)
	// MetricsListen (lagwise's own directive, metrics-listen) is the
	// host:port of the Prometheus endpoint (metrics.go); "": none.
	MetricsListen string
	// Other directives are accepted and kept as text so that CONFIG GET
	// shows them; see directives.
	other map[string]string
}

type outputLimit struct {
	hard, soft int64
	softSecs   int
}

// clientClass indexes Config.OutputLimits.
const (
	classNormal = iota
	classReplica
	classPubSub
)

// directive describes one config parameter.
type directive struct {
	name    string
	alias   string
	def     string
	mutable bool
	// get formats the current value as CONFIG GET shows it.
	get func(c *Config) string
	// set parses and stores a value; it returns Redis's error text.
	set func(c *Config, v string) error
}

var (
	directivesOnce sync.Once
	directiveTable map[string]*directive
	directiveNames []string
)

func boolDir(name, def string, mutable bool, p func(*Config) *bool) *directive {
	return &directive{name: name, def: def, mutable: mutable,
		get: func(c *Config) string { return yesno(*p(c)) },
		set: func(c *Config, v string) error {
			b, err := parseYesNo(v)
			if err != nil {
				return err
			}
			*p(c) = b
			return nil
		}}
}

func intDir(name, def string, mutable bool, lo, hi int64, p func(*Config) *int) *directive {
	return &directive{name: name, def: def, mutable: mutable,
		get: func(c *Config) string { return strconv.Itoa(*p(c)) },
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("argument couldn't be parsed into an integer")
			}
			if n < lo || n > hi {
				return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
			}
			*p(c) = int(n)
			return nil
		}}
}

func memDir(name, def string, mutable bool, lo, hi int64, p func(*Config) *int64) *directive {
	return &directive{name: name, def: def, mutable: mutable,
		get: func(c *Config) string { return strconv.FormatInt(*p(c), 10) },
		set: func(c *Config, v string) error {
			n, ok := parseMemory(v)
			if !ok {
				return fmt.Errorf("argument must be a memory value")
			}
			if n < lo || n > hi {
				return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
			}
			*p(c) = n
			return nil
		}}
}

func enumDir(name, def string, mutable bool, vals []string, p func(*Config) *string) *directive {
	return &directive{name: name, def: def, mutable: mutable,
		get: func(c *Config) string { return *p(c) },
		set: func(c *Config, v string) error {
			lv := strings.ToLower(v)
			for _, x := range vals {
				if x == lv {
					*p(c) = lv
					return nil
				}
			}
			return fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(vals, ", "))
		}}
}

// fileNameDir is a directive naming a file or directory inside dir, which
// may not be a path (appendfilename, appenddirname); like Redis, it can be
// set only at start.
func fileNameDir(name, def, what string, p func(*Config) *string) *directive {
	return &directive{name: name, def: def, mutable: false,
		get: func(c *Config) string { return *p(c) },
		set: func(c *Config, v string) error {
			if v == "" || path.Base(v) != v || strings.ContainsAny(v, "/\\") || v == "." || v == ".." {
				return fmt.Errorf("%s can't be a path, just a filename", what)
			}
			*p(c) = v
			return nil
		}}
}

func strDir(name, def string, mutable bool, p func(*Config) *string) *directive {
	return &directive{name: name, def: def, mutable: mutable,
		get: func(c *Config) string { return *p(c) },
		set: func(c *Config, v string) error { *p(c) = v; return nil }}
}

// otherDir is a directive lagwise accepts and shows but whose value does not
// change its behaviour (yet, or by nature, like tuning knobs of Redis's C
// allocator).
func otherDir(name, def string) *directive {
	return &directive{name: name, def: def, mutable: true,
		get: func(c *Config) string { return c.other[name] },
		set: func(c *Config, v string) error { c.other[name] = v; return nil }}
}

func directives() map[string]*directive {
	directivesOnce.Do(func() {
		list := []*directive{
			intDir("port", "6379", false, 0, 65535, func(c *Config) *int { return &c.Port }),
			{name: "bind", def: "127.0.0.1 -::1", mutable: true,
				get: func(c *Config) string { return strings.Join(c.Bind, " ") },
				set: func(c *Config, v string) error { c.Bind = strings.Fields(v); return nil }},
			strDir("requirepass", "", true, func(c *Config) *string { return &c.RequirePass }),
			{name: "dir", def: ".", mutable: true,
				get: func(c *Config) string {
					if d, err := os.Getwd(); err == nil {
						return d
					}
					return c.Dir
				},
				set: func(c *Config, v string) error {
					if err := os.Chdir(v); err != nil {
						return fmt.Errorf("%s", err.(*os.PathError).Err.Error())
					}
					c.Dir = v
					if abs, err := os.Getwd(); err == nil {
						c.Dir = abs
					}
					return nil
				}},
			{name: "dbfilename", def: "dump.rdb", mutable: true,
				get: func(c *Config) string { return c.DBFilename },
				set: func(c *Config, v string) error {
					if path.Base(v) != v || strings.ContainsRune(v, '/') {
						return fmt.Errorf("dbfilename can't be a path, just a filename")
					}
					c.DBFilename = v
					return nil
				}},
			boolDir("appendonly", "no", true, func(c *Config) *bool { return &c.AppendOnly }),
			{name: "save", def: "3600 1 300 100 60 10000", mutable: true,
				get: func(c *Config) string { return c.Save },
				set: func(c *Config, v string) error {
					f := strings.Fields(v)
					if len(f)%2 != 0 {
						return fmt.Errorf("Invalid save parameters")
					}
					for _, x := range f {
						if n, err := strconv.Atoi(x); err != nil || n < 0 {
							return fmt.Errorf("Invalid save parameters")
						}
					}
					c.Save = strings.Join(f, " ")
					return nil
				}},
			intDir("databases", "16", false, 1, math.MaxInt32, func(c *Config) *int { return &c.Databases }),
			memDir("maxmemory", "0", true, 0, math.MaxInt64, func(c *Config) *int64 { return &c.MaxMemory }),
			enumDir("maxmemory-policy", "noeviction", true, []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}, func(c *Config) *string { return &c.MaxMemoryPolicy }),
			intDir("maxmemory-samples", "5", true, 1, 64, func(c *Config) *int { return &c.MaxMemorySamples }),
			intDir("maxclients", "10000", true, 1, math.MaxInt32, func(c *Config) *int { return &c.MaxClients }),
			intDir("timeout", "0", true, 0, math.MaxInt32, func(c *Config) *int { return &c.Timeout }),
			boolDir("protected-mode", "yes", true, func(c *Config) *bool { return &c.ProtectedMode }),
			memDir("proto-max-bulk-len", "536870912", true, 1024*1024, math.MaxInt64, func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
			memDir("client-query-buffer-limit", "1073741824", true, 1024*1024, math.MaxInt64, func(c *Config) *int64 { return &c.ClientQueryBufLimit }),
			{name: "client-output-buffer-limit", def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", mutable: true,
				get: formatOutputLimits, set: parseOutputLimits},
			enumDir("enable-debug-command", "no", false, []string{"no", "yes", "local"}, func(c *Config) *string { return &c.EnableDebugCommand }),
			enumDir("loglevel", "notice", true, []string{"debug", "verbose", "notice", "warning", "nothing"}, func(c *Config) *string { return &c.LogLevel }),
			strDir("logfile", "", false, func(c *Config) *string { return &c.LogFile }),
			intDir("hz", "10", true, 1, 500, func(c *Config) *int { return &c.Hz }),
			intDir("hash-max-listpack-entries", "512", true, 0, math.MaxInt64, func(c *Config) *int { return &c.HashMaxListpackEntr }),
			intDir("hash-max-listpack-value", "64", true, 0, math.MaxInt64, func(c *Config) *int { return &c.HashMaxListpackValue }),
			intDir("set-max-intset-entries", "512", true, 0, math.MaxInt64, func(c *Config) *int { return &c.SetMaxIntsetEntries }),
			intDir("zset-max-listpack-entries", "128", true, 0, math.MaxInt64, func(c *Config) *int { return &c.ZSetMaxListpackEntr }),
			intDir("zset-max-listpack-value", "64", true, 0, math.MaxInt64, func(c *Config) *int { return &c.ZSetMaxListpackValue }),
			intDir("list-max-listpack-size", "-2", true, math.MinInt32, math.MaxInt32, func(c *Config) *int { return &c.ListMaxListpackSize }),
			intDir("active-expire-effort", "1", true, 1, 10, func(c *Config) *int { return &c.ActiveExpireEffort }),
			boolDir("daemonize", "no", false, func(c *Config) *bool { return &c.Daemonize }),
			strDir("pidfile", "", false, func(c *Config) *string { return &c.PidFile }),
			intDir("tcp-keepalive", "300", true, 0, math.MaxInt32, func(c *Config) *int { return &c.TCPKeepalive }),
			intDir("io-threads", "1", false, 1, 128, func(c *Config) *int { return &c.IOThreads }),
			boolDir("rdbcompression", "yes", true, func(c *Config) *bool { return &c.RDBCompression }),
			boolDir("rdbchecksum", "yes", false, func(c *Config) *bool { return &c.RDBChecksum }),
			boolDir("stop-writes-on-bgsave-error", "yes", true, func(c *Config) *bool { return &c.StopWritesOnBgsaveError }),
			enumDir("appendfsync", "everysec", true, []string{"always", "everysec", "no"}, func(c *Config) *string { return &c.AppendFsync }),
			fileNameDir("appendfilename", "appendonly.aof", "appendfilename", func(c *Config) *string { return &c.AppendFilename }),
			fileNameDir("appenddirname", "appendonlydir", "appenddirname", func(c *Config) *string { return &c.AppendDirname }),
			boolDir("replica-serve-stale-data", "yes", true, func(c *Config) *bool { return &c.ReplicaServeStaleData }),
			boolDir("replica-read-only", "yes", true, func(c *Config) *bool { return &c.ReplicaReadOnly }),
			boolDir("repl-diskless-sync", "yes", true, func(c *Config) *bool { return &c.ReplDisklessSync }),
			intDir("repl-diskless-sync-delay", "5", true, 0, math.MaxInt32, func(c *Config) *int { return &c.ReplDisklessSyncDelay }),
			intDir("repl-ping-replica-period", "10", true, 1, math.MaxInt32, func(c *Config) *int { return &c.ReplPingPeriod }),
			intDir("repl-timeout", "60", true, 1, math.MaxInt32, func(c *Config) *int { return &c.ReplTimeout }),
			memDir("repl-backlog-size", "1048576", true, 1, math.MaxInt32, func(c *Config) *int64 { return &c.ReplBacklogSize }),
			intDir("repl-backlog-ttl", "3600", true, 0, math.MaxInt32, func(c *Config) *int { return &c.ReplBacklogTTL }),
			intDir("replica-priority", "100", true, 0, math.MaxInt32, func(c *Config) *int { return &c.ReplicaPriority }),
			intDir("min-replicas-to-write", "0", true, 0, math.MaxInt32, func(c *Config) *int { return &c.MinReplicasToWrite }),
			intDir("min-replicas-max-lag", "10", true, 0, math.MaxInt32, func(c *Config) *int { return &c.MinReplicasMaxLag }),
			strDir("masterauth", "", true, func(c *Config) *string { return &c.MasterAuth }),
			strDir("masteruser", "", true, func(c *Config) *string { return &c.MasterUser }),
			strDir("replica-announce-ip", "", true, func(c *Config) *string { return &c.ReplicaAnnounceIP }),
			intDir("replica-announce-port", "0", true, 0, 65535, func(c *Config) *int { return &c.ReplicaAnnouncePort }),
			intDir("repl-ack-interval", "1000", true, 1, math.MaxInt32, func(c *Config) *int { return &c.ReplAckInterval }),
			{name: "replicaof", def: "", mutable: false,
				get: func(c *Config) string { return c.ReplicaOf },
				set: func(c *Config, v string) error {
					f := strings.Fields(v)
					if len(f) == 0 {
						c.ReplicaOf = ""
						return nil
					}
					if len(f) != 2 {
						return fmt.Errorf("wrong number of arguments")
					}
					if strings.EqualFold(f[0], "no") && strings.EqualFold(f[1], "one") {
						c.ReplicaOf = ""
						return nil
					}
					if p, err := strconv.Atoi(f[1]); err != nil || p < 0 || p > 65535 {
						return fmt.Errorf("Invalid master port")
					}
					c.ReplicaOf = f[0] + " " + f[1]
					return nil
				}},
			boolDir("rdb-load-partial", "no", true, func(c *Config) *bool { return &c.RDBLoadPartial }),
			{name: "metrics-listen", def: "", mutable: false,
				get: func(c *Config) string { return c.MetricsListen },
				set: func(c *Config, v string) error {
					if v != "" {
						_, port, err := net.SplitHostPort(v)
						if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
							return fmt.Errorf("argument must be host:port, or \"\" for none")
						}
					}
					c.MetricsListen = v
					return nil
				}},
			boolDir("aof-use-rdb-preamble", "yes", true, func(c *Config) *bool { return &c.AOFUseRDBPreamble }),
			boolDir("aof-load-truncated", "yes", true, func(c *Config) *bool { return &c.AOFLoadTruncated }),
			intDir("auto-aof-rewrite-percentage", "100", true, 0, math.MaxInt32, func(c *Config) *int { return &c.AutoAOFRewritePct }),
			memDir("auto-aof-rewrite-min-size", "67108864", true, 0, math.MaxInt64, func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
		}
		// Aliases Redis keeps for the listpack settings.
		aliases := map[string]string{
			"hash-max-ziplist-entries": "hash-max-listpack-entries",
			"hash-max-ziplist-value":   "hash-max-listpack-value",
			"zset-max-ziplist-entries": "zset-max-listpack-entries",
			"zset-max-ziplist-value":   "zset-max-listpack-value",
			"list-max-ziplist-size":    "list-max-listpack-size",
			"slaveof":                  "replicaof",
			"slave-serve-stale-data":   "replica-serve-stale-data",
			"slave-read-only":          "replica-read-only",
			"slave-priority":           "replica-priority",
			"min-slaves-to-write":      "min-replicas-to-write",
			"min-slaves-max-lag":       "min-replicas-max-lag",
			"slave-announce-ip":        "replica-announce-ip",
			"slave-announce-port":      "replica-announce-port",
		}
		// Directives accepted for compatibility; the later parts of the
		// server (persistence, replication) give them their meaning.
		for _, o := range [][2]string{
			{"tcp-backlog", "511"}, {"unixsocket", ""}, {"unixsocketperm", "0"},
			{"lazyfree-lazy-eviction", "no"}, {"lazyfree-lazy-expire", "no"}, {"lazyfree-lazy-server-del", "no"},
			{"lazyfree-lazy-user-del", "no"}, {"lazyfree-lazy-user-flush", "no"}, {"replica-lazy-flush", "no"},
			{"list-compress-depth", "0"}, {"activerehashing", "yes"}, {"latency-monitor-threshold", "0"},
			{"slowlog-log-slower-than", "10000"}, {"slowlog-max-len", "128"}, {"notify-keyspace-events", ""},
			{"io-threads-do-reads", "no"}, {"supervised", "no"}, {"always-show-logo", "no"},
			{"set-proc-title", "yes"}, {"syslog-enabled", "no"}, {"lfu-log-factor", "10"}, {"lfu-decay-time", "1"},
			{"no-appendfsync-on-rewrite", "no"}, {"aof-rewrite-incremental-fsync", "yes"},
			{"rdb-save-incremental-fsync", "yes"}, {"jemalloc-bg-thread", "yes"}, {"dynamic-hz", "yes"},
			{"stream-node-max-bytes", "4096"}, {"stream-node-max-entries", "100"}, {"hll-sparse-max-bytes", "3000"},
			{"activedefrag", "no"}, {"lua-time-limit", "5000"}, {"busy-reply-threshold", "5000"},
			{"crash-log-enabled", "yes"}, {"crash-memcheck-enabled", "yes"}, {"oom-score-adj", "no"},
			{"disable-thp", "yes"}, {"enable-protected-configs", "no"}, {"enable-module-command", "no"},
			{"latency-tracking", "yes"}, {"acllog-max-len", "128"}, {"sanitize-dump-payload", "no"},
			{"repl-diskless-load", "disabled"}, {"maxmemory-clients", "0"}, {"maxmemory-eviction-tenacity", "10"},
			{"repl-disable-tcp-nodelay", "no"}, {"rdb-del-sync-files", "no"}, {"shutdown-timeout", "10"},
		} {
			list = append(list, otherDir(o[0], o[1]))
		}
		directiveTable = map[string]*directive{}
		for _, d := range list {
			directiveTable[d.name] = d
			directiveNames = append(directiveNames, d.name)
		}
		for a, n := range aliases {
			directiveTable[a] = directiveTable[n]
		}
		sort.Strings(directiveNames)
	})
	return directiveTable
}

// DefaultConfig returns a config with every directive at its default.
func DefaultConfig() *Config {
	c := &Config{other: map[string]string{}}
	for _, name := range directiveNamesSorted() {
		d := directives()[name]
		if d.name == "dir" {
			c.Dir = "."
			continue
		}
		if err := d.set(c, d.def); err != nil {
			panic("default of " + name + ": " + err.Error())
		}
	}
	return c
}

func directiveNamesSorted() []string { directives(); return directiveNames }

// Set applies one directive by name, as the config file, the command line
// and CONFIG SET do. It returns Redis's error text for a bad value.
func (c *Config) Set(name, value string) error {
	d, ok := directives()[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("Bad directive or wrong number of arguments")
	}
	return d.set(c, value)
}

// Get returns the value of a directive as CONFIG GET shows it.
func (c *Config) Get(name string) (string, bool) {
	d, ok := directives()[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return d.get(c), true
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("argument must be 'yes' or 'no'")
}

// parseMemory parses a memory size as redis.conf does: 1k = 1000,
// 1kb = 1024, and so on for m/mb and g/gb; case-insensitive.
func parseMemory(v string) (int64, bool) {
	v = strings.ToLower(v)
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024 * 1024 * 1024}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(v, u.suf) {
			mul = u.m
			v = strings.TrimSuffix(v, u.suf)
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 && mul != 1 {
		return 0, false
	}
	if mul > 1 && n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

func formatOutputLimits(c *Config) string {
	names := []string{"normal", "slave", "pubsub"}
	var parts []string
	for i, l := range c.OutputLimits {
		parts = append(parts, fmt.Sprintf("%s %d %d %d", names[i], l.hard, l.soft, l.softSecs))
	}
	return strings.Join(parts, " ")
}

func parseOutputLimits(c *Config, v string) error {
	f := strings.Fields(v)
	if len(f)%4 != 0 || len(f) == 0 {
		return fmt.Errorf("Wrong number of arguments in buffer limit configuration.")
	}
	limits := c.OutputLimits
	for i := 0; i < len(f); i += 4 {
		var class int
		switch strings.ToLower(f[i]) {
		case "normal":
			class = classNormal
		case "slave", "replica":
			class = classReplica
		case "pubsub":
			class = classPubSub
		default:
			return fmt.Errorf("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(f[i+1])
		soft, ok2 := parseMemory(f[i+2])
		secs, err := strconv.Atoi(f[i+3])
		if !ok1 || !ok2 || err != nil || hard < 0 || soft < 0 || secs < 0 {
			return fmt.Errorf("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		limits[class] = outputLimit{hard, soft, secs}
	}
	c.OutputLimits = limits
	return nil
}
