package metrics

import (
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The storage server's exposition (`lagwise server --metrics-listen`).
// Like the proxy's, it is a registry of its own whose collector turns one
// ServerSnapshot, taken at scrape time, into constant metrics; the server
// fills the snapshot from the state INFO reports, under its lock, once
// per scrape. Every name starts with lagwise_server_; they are a contract
// like the proxy's.

// ServerSnapshot is a storage server's state at one scrape, as plain
// values. The collector only reads it.
type ServerSnapshot struct {
	// Starting: the server is still loading its dataset at start-up and
	// could not be asked for anything else; only the metrics that need
	// no dataset (up, loading, ready, build info) are exported.
	Starting bool
	// Loading: the server is loading a dataset (INFO loading).
	Loading bool

	Version      string // lagwise's version
	RedisVersion string // the Redis version it is compatible with
	// UptimeSeconds is the time since the server started.
	UptimeSeconds float64

	ConnectedClients    int64
	BlockedClients      int64
	MaxClients          int64
	ConnectionsReceived int64
	RejectedConnections int64

	CommandsProcessed int64
	// Commands are INFO commandstats: the commands (and subcommands, as
	// "config|get") called at least once, in any order.
	Commands []CommandStat
	// ErrorReplies counts error replies (total_error_replies); Errors
	// counts them by their first word (INFO errorstats).
	ErrorReplies int64
	Errors       map[string]int64

	// Keyspace holds the databases with keys; database 0 is always
	// exported, at 0 when it is not here.
	Keyspace       []DBKeys
	ExpiredKeys    int64
	EvictedKeys    int64
	KeyspaceHits   int64
	KeyspaceMisses int64

	NetInputBytes      int64
	NetOutputBytes     int64
	NetReplInputBytes  int64
	NetReplOutputBytes int64

	UsedMemory     int64
	UsedMemoryPeak int64
	MaxMemory      int64 // 0: no limit

	// Role is "master" or "slave", as INFO says it.
	Role             string
	MasterReplOffset int64
	// ReplBacklogActive, ReplBacklogSize and ReplBacklogHistlen describe
	// the replication backlog.
	ReplBacklogActive  bool
	ReplBacklogSize    int64
	ReplBacklogHistlen int64

	// A replica's side of its link; meaningful only when Role is "slave".
	MasterLinkUp bool
	// MasterLinkState is the link's state as ROLE names it: connect,
	// connecting, sync or connected.
	MasterLinkState      string
	MasterSyncInProgress bool
	// MasterLastIOSeconds is the time since the replica last heard from
	// its master; negative while the link is down (not exported then).
	MasterLastIOSeconds float64
	// ReplicaOffset is the replica's processed replication offset
	// (slave_repl_offset); negative before its first sync (not exported
	// then).
	ReplicaOffset int64

	// Replicas are the replicas connected to this server (a replica may
	// have replicas of its own).
	Replicas []ServerReplica

	RDBChangesSinceLastSave int64
	RDBLastSaveTime         int64 // unix seconds
	RDBBgsaveInProgress     bool
	RDBLastBgsaveOK         bool
	RDBSaves                int64
	AOFEnabled              bool
	AOFRewriteInProgress    bool
	AOFLastWriteOK          bool

	SyncFull       int64
	SyncPartialOK  int64
	SyncPartialErr int64
}

// CommandStat is one line of INFO commandstats.
type CommandStat struct {
	Name     string // lower case; a subcommand is "container|sub"
	Calls    int64
	Usec     int64 // time spent running it, in microseconds
	Failed   int64 // calls that replied an error
	Rejected int64 // calls refused before running (arity, OOM, ...)
}

// DBKeys is one line of INFO keyspace.
type DBKeys struct {
	DB      int
	Keys    int64
	Expires int64 // keys with a TTL
}

// ServerReplica is one replica as its master sees it.
type ServerReplica struct {
	// Addr is ip:port: the address the replica connected from (or
	// announced) and its listening port, the replica label.
	Addr string
	// Online: the replica streams (it has its snapshot).
	Online bool
	// AckOffset is the offset of its last REPLCONF ACK.
	AckOffset int64
	// AckLagSeconds is the time since that ACK; +Inf while unknown (a
	// replica not online yet).
	AckLagSeconds float64
}

// Ready says whether the server serves its dataset: not while it loads
// one, and, on a replica, only while its link to its master is up (a
// replica whose link is down serves stale data or none). The reason says
// why not.
func (s *ServerSnapshot) Ready() (ok bool, reason string) {
	switch {
	case s.Starting || s.Loading:
		return false, "loading the dataset"
	case s.Role == "slave" && !s.MasterLinkUp:
		st := s.MasterLinkState
		if st == "" {
			st = "down"
		}
		return false, "master link down (" + st + ")"
	}
	return true, ""
}

// ServerSource gives the server collector a ServerSnapshot. Snapshot is
// called once per scrape, from the HTTP server's goroutines, possibly by
// several scrapes at once.
type ServerSource interface {
	ServerSnapshot() ServerSnapshot
}

// ServerSourceFunc adapts a function to ServerSource.
type ServerSourceFunc func() ServerSnapshot

// ServerSnapshot calls f.
func (f ServerSourceFunc) ServerSnapshot() ServerSnapshot { return f() }

// NewServerRegistry returns a new registry (not the global one) holding
// the server's collector over src and the Go runtime and process
// collectors.
func NewServerRegistry(src ServerSource) *prometheus.Registry {
	return newRegistry(NewServerCollector(src))
}

// ServerHandler serves the server's metrics endpoint: /metrics, /healthz,
// and /readyz, which answers 503 with the reason ready gives while the
// server is not ready (see ServerSnapshot.Ready). ready may be nil
// (always ready).
func ServerHandler(reg *prometheus.Registry, ready func() (bool, string)) http.Handler {
	h := HandlerWithReason(reg, ready)
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	mux.Handle("/healthz", h)
	mux.Handle("/readyz", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "lagwise server: /metrics /healthz /readyz\n")
	})
	return mux
}

func serverDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("lagwise_server_"+name, help, labels, nil)
}

// The server's metrics.
var (
	sdUp        = serverDesc("up", "1: the server answers (a scrape of it succeeded).")
	sdReady     = serverDesc("ready", "1 if the server serves its dataset (as /readyz says): not loading and, on a replica, its master link up.")
	sdLoading   = serverDesc("loading", "1 while the server loads a dataset.")
	sdBuildInfo = serverDesc("build_info", "Always 1; the labels say lagwise's version and the Redis version it is compatible with.", "version", "redis_version")
	sdUptime    = serverDesc("uptime_seconds", "Time since the server started.")

	sdClients        = serverDesc("connected_clients", "Client connections, replicas' included (INFO connected_clients).")
	sdBlockedClients = serverDesc("blocked_clients", "Clients blocked in a blocking command.")
	sdMaxClients     = serverDesc("maxclients", "The maxclients limit.")
	sdConnsReceived  = serverDesc("connections_received_total", "Connections accepted.")
	sdConnsRejected  = serverDesc("rejected_connections_total", "Connections refused because of maxclients.")

	sdCommandsProcessed = serverDesc("commands_processed_total", "Commands run (INFO total_commands_processed).")
	sdCommands          = serverDesc("commands_total", "Calls of a command, by command (INFO commandstats; a subcommand is container|sub).", "cmd")
	sdCommandsDuration  = serverDesc("commands_duration_seconds_total", "Time spent running a command, by command.", "cmd")
	sdCommandsFailed    = serverDesc("commands_failed_total", "Calls of a command that replied an error, by command.", "cmd")
	sdCommandsRejected  = serverDesc("commands_rejected_total", "Calls of a command refused before it ran (arity, OOM, ...), by command.", "cmd")
	sdErrorReplies      = serverDesc("error_replies_total", "Error replies sent (INFO total_error_replies).")
	sdErrors            = serverDesc("errors_total", "Error replies by error code, their first word (INFO errorstats).", "error")

	sdKeys           = serverDesc("keys", "Keys in a database.", "db")
	sdExpiringKeys   = serverDesc("expiring_keys", "Keys with a TTL in a database.", "db")
	sdExpiredKeys    = serverDesc("expired_keys_total", "Keys deleted because their TTL passed.")
	sdEvictedKeys    = serverDesc("evicted_keys_total", "Keys evicted because of maxmemory.")
	sdKeyspaceHits   = serverDesc("keyspace_hits_total", "Key lookups that found the key.")
	sdKeyspaceMisses = serverDesc("keyspace_misses_total", "Key lookups that did not find the key.")

	sdNetInput      = serverDesc("net_input_bytes_total", "Bytes read from clients.")
	sdNetOutput     = serverDesc("net_output_bytes_total", "Bytes written to clients.")
	sdNetReplInput  = serverDesc("net_repl_input_bytes_total", "Bytes read from this server's master.")
	sdNetReplOutput = serverDesc("net_repl_output_bytes_total", "Bytes sent to replicas: snapshots and the stream.")

	sdUsedMemory     = serverDesc("used_memory_bytes", "Memory used by the dataset and the server, the figure maxmemory is enforced against (INFO used_memory).")
	sdUsedMemoryPeak = serverDesc("used_memory_peak_bytes", "The largest used_memory seen.")
	sdMaxMemory      = serverDesc("maxmemory_bytes", "The maxmemory limit; 0: none.")

	sdRole              = serverDesc("role", "1 for the server's role (master or slave), 0 for the other.", "role")
	sdMasterOffset      = serverDesc("master_repl_offset_bytes", "The replication offset of the stream this server holds (INFO master_repl_offset).")
	sdBacklogActive     = serverDesc("repl_backlog_active", "1 if the server keeps a replication backlog.")
	sdBacklogSize       = serverDesc("repl_backlog_size_bytes", "The replication backlog's size (repl-backlog-size).")
	sdBacklogHistlen    = serverDesc("repl_backlog_history_bytes", "Bytes of stream history the backlog holds.")
	sdMasterLinkUp      = serverDesc("master_link_up", "On a replica: 1 if the link to its master is up (streaming), else 0.")
	sdMasterSync        = serverDesc("master_sync_in_progress", "On a replica: 1 while it receives a snapshot from its master.")
	sdMasterLastIO      = serverDesc("master_last_io_age_seconds", "On a replica whose link is up: time since it last heard from its master.")
	sdReplicaOffset     = serverDesc("replica_offset_bytes", "On a replica: the replication offset it has processed (INFO slave_repl_offset).")
	sdConnectedReplicas = serverDesc("connected_replicas", "Replicas connected to this server (INFO connected_slaves).")
	sdReplicaOnline     = serverDesc("replica_online", "1 if the replica streams (it has its snapshot), else 0.", "replica")
	sdReplicaAckOffset  = serverDesc("replica_ack_offset_bytes", "The offset of a replica's last REPLCONF ACK.", "replica")
	sdReplicaAckLag     = serverDesc("replica_ack_lag_seconds", "Time since a replica's last REPLCONF ACK (+Inf while it is not online).", "replica")
	sdRDBChanges        = serverDesc("rdb_changes_since_last_save", "Changes to the dataset since the last save.")
	sdRDBLastSave       = serverDesc("rdb_last_save_timestamp_seconds", "Unix time of the last successful save.")
	sdRDBBgsave         = serverDesc("rdb_bgsave_in_progress", "1 while a background save runs.")
	sdRDBLastBgsaveOK   = serverDesc("rdb_last_bgsave_ok", "1 if the last background save succeeded.")
	sdRDBSaves          = serverDesc("rdb_saves_total", "Saves of the dataset to the dump file.")
	sdAOFEnabled        = serverDesc("aof_enabled", "1 if the append-only file is on.")
	sdAOFRewrite        = serverDesc("aof_rewrite_in_progress", "1 while the append-only file is rewritten.")
	sdAOFLastWriteOK    = serverDesc("aof_last_write_ok", "1 if the last write to the append-only file succeeded.")
	sdSyncFull          = serverDesc("sync_full_total", "Full resyncs served to replicas.")
	sdSyncPartialOK     = serverDesc("sync_partial_ok_total", "Partial resyncs (PSYNC continued from the backlog) served to replicas.")
	sdSyncPartialErr    = serverDesc("sync_partial_err_total", "PSYNC requests that could not continue and got a full resync.")
	serverDescs         = []*prometheus.Desc{
		sdUp, sdReady, sdLoading, sdBuildInfo, sdUptime,
		sdClients, sdBlockedClients, sdMaxClients, sdConnsReceived, sdConnsRejected,
		sdCommandsProcessed, sdCommands, sdCommandsDuration, sdCommandsFailed, sdCommandsRejected,
		sdErrorReplies, sdErrors,
		sdKeys, sdExpiringKeys, sdExpiredKeys, sdEvictedKeys, sdKeyspaceHits, sdKeyspaceMisses,
		sdNetInput, sdNetOutput, sdNetReplInput, sdNetReplOutput,
		sdUsedMemory, sdUsedMemoryPeak, sdMaxMemory,
		sdRole, sdMasterOffset, sdBacklogActive, sdBacklogSize, sdBacklogHistlen,
		sdMasterLinkUp, sdMasterSync, sdMasterLastIO, sdReplicaOffset,
		sdConnectedReplicas, sdReplicaOnline, sdReplicaAckOffset, sdReplicaAckLag,
		sdRDBChanges, sdRDBLastSave, sdRDBBgsave, sdRDBLastBgsaveOK, sdRDBSaves,
		sdAOFEnabled, sdAOFRewrite, sdAOFLastWriteOK,
		sdSyncFull, sdSyncPartialOK, sdSyncPartialErr,
	}
)

// maxErrorCodes bounds the error label's values, as Redis bounds
// errorstats (128 codes).
const maxErrorCodes = 128

// ServerCollector is the server's prometheus.Collector: every Collect
// takes one ServerSnapshot and turns it into constant metrics.
type ServerCollector struct {
	src ServerSource
}

// NewServerCollector returns a ServerCollector over src.
func NewServerCollector(src ServerSource) *ServerCollector { return &ServerCollector{src: src} }

// Describe sends the descriptions of every metric Collect may send.
func (c *ServerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range serverDescs {
		ch <- d
	}
}

// Collect sends the metrics of one ServerSnapshot.
func (c *ServerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.ServerSnapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(max(v, 0)), labels...)
	}
	flag := func(d *prometheus.Desc, b bool, labels ...string) { gauge(d, b2f(b), labels...) }

	gauge(sdUp, 1)
	ready, _ := s.Ready()
	flag(sdReady, ready)
	flag(sdLoading, s.Starting || s.Loading)
	gauge(sdBuildInfo, 1, s.Version, s.RedisVersion)
	gauge(sdUptime, s.UptimeSeconds)
	if s.Starting {
		return
	}

	gauge(sdClients, float64(s.ConnectedClients))
	gauge(sdBlockedClients, float64(s.BlockedClients))
	gauge(sdMaxClients, float64(s.MaxClients))
	counter(sdConnsReceived, s.ConnectionsReceived)
	counter(sdConnsRejected, s.RejectedConnections)

	counter(sdCommandsProcessed, s.CommandsProcessed)
	seenCmd := make(map[string]bool, len(s.Commands))
	for _, cs := range s.Commands {
		if seenCmd[cs.Name] {
			continue
		}
		seenCmd[cs.Name] = true
		counter(sdCommands, cs.Calls, cs.Name)
		ch <- prometheus.MustNewConstMetric(sdCommandsDuration, prometheus.CounterValue, float64(max(cs.Usec, 0))/1e6, cs.Name)
		counter(sdCommandsFailed, cs.Failed, cs.Name)
		counter(sdCommandsRejected, cs.Rejected, cs.Name)
	}
	counter(sdErrorReplies, s.ErrorReplies)
	for i, code := range slices.Sorted(maps.Keys(s.Errors)) {
		if i == maxErrorCodes {
			break
		}
		counter(sdErrors, s.Errors[code], code)
	}

	seenDB := map[int]bool{}
	for _, db := range s.Keyspace {
		if seenDB[db.DB] {
			continue
		}
		seenDB[db.DB] = true
		gauge(sdKeys, float64(db.Keys), strconv.Itoa(db.DB))
		gauge(sdExpiringKeys, float64(db.Expires), strconv.Itoa(db.DB))
	}
	if !seenDB[0] {
		gauge(sdKeys, 0, "0")
		gauge(sdExpiringKeys, 0, "0")
	}
	counter(sdExpiredKeys, s.ExpiredKeys)
	counter(sdEvictedKeys, s.EvictedKeys)
	counter(sdKeyspaceHits, s.KeyspaceHits)
	counter(sdKeyspaceMisses, s.KeyspaceMisses)

	counter(sdNetInput, s.NetInputBytes)
	counter(sdNetOutput, s.NetOutputBytes)
	counter(sdNetReplInput, s.NetReplInputBytes)
	counter(sdNetReplOutput, s.NetReplOutputBytes)

	gauge(sdUsedMemory, float64(s.UsedMemory))
	gauge(sdUsedMemoryPeak, float64(s.UsedMemoryPeak))
	gauge(sdMaxMemory, float64(s.MaxMemory))

	for _, r := range roles {
		flag(sdRole, s.Role == r, r)
	}
	if s.Role != "" && s.Role != "master" && s.Role != "slave" {
		gauge(sdRole, 1, s.Role)
	}
	gauge(sdMasterOffset, float64(s.MasterReplOffset))
	flag(sdBacklogActive, s.ReplBacklogActive)
	gauge(sdBacklogSize, float64(s.ReplBacklogSize))
	gauge(sdBacklogHistlen, float64(s.ReplBacklogHistlen))
	if s.Role == "slave" {
		flag(sdMasterLinkUp, s.MasterLinkUp)
		flag(sdMasterSync, s.MasterSyncInProgress)
		if s.MasterLinkUp && s.MasterLastIOSeconds >= 0 {
			gauge(sdMasterLastIO, s.MasterLastIOSeconds)
		}
		if s.ReplicaOffset >= 0 {
			gauge(sdReplicaOffset, float64(s.ReplicaOffset))
		}
	}
	gauge(sdConnectedReplicas, float64(len(s.Replicas)))
	// One series per replica address: two replicas announcing the same
	// address (which a sane setup does not do) are reported once, or the
	// scrape would fail.
	seenReplica := make(map[string]bool, len(s.Replicas))
	for _, r := range s.Replicas {
		if seenReplica[r.Addr] {
			continue
		}
		seenReplica[r.Addr] = true
		flag(sdReplicaOnline, r.Online, r.Addr)
		gauge(sdReplicaAckOffset, float64(r.AckOffset), r.Addr)
		lag := r.AckLagSeconds
		if !r.Online || math.IsNaN(lag) || lag < 0 {
			lag = math.Inf(1)
		}
		gauge(sdReplicaAckLag, lag, r.Addr)
	}

	gauge(sdRDBChanges, float64(s.RDBChangesSinceLastSave))
	gauge(sdRDBLastSave, float64(s.RDBLastSaveTime))
	flag(sdRDBBgsave, s.RDBBgsaveInProgress)
	flag(sdRDBLastBgsaveOK, s.RDBLastBgsaveOK)
	counter(sdRDBSaves, s.RDBSaves)
	flag(sdAOFEnabled, s.AOFEnabled)
	flag(sdAOFRewrite, s.AOFRewriteInProgress)
	flag(sdAOFLastWriteOK, s.AOFLastWriteOK)

	counter(sdSyncFull, s.SyncFull)
	counter(sdSyncPartialOK, s.SyncPartialOK)
	counter(sdSyncPartialErr, s.SyncPartialErr)
}
