// Package metrics is the proxy's Prometheus exposition: a registry of its
// own (never the global one) whose collector reads a Snapshot of the
// proxy's state at scrape time, and the HTTP endpoint that serves
// /metrics, /healthz and /readyz.
//
// Nothing here sits on the request path. The proxy keeps its counters
// where its event loops can bump them without locks (per-loop atomics);
// when Prometheus scrapes, the collector calls Source.Snapshot once, and
// the Source adds those counters up and reads the lag monitor's latest
// view. The only request-path helper is BucketIndex, which picks a
// duration's histogram bucket without allocating.
//
// The package does not import the proxy: the proxy implements Source.
//
// Metric names are a contract (docs: design, "Interfaces"): extend them,
// never rename them. A backend is named by the label backend="host:port",
// as config.yaml names it.
package metrics

import (
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Request classes, the values of lagwise_requests_total's and
// lagwise_request_duration_seconds's class label. Their series are
// exported from the start, at zero; a Snapshot may add other classes.
const (
	ClassRead   = "read"
	ClassWrite  = "write"
	ClassAdmin  = "admin"
	ClassPinned = "pinned"
)

// Classes are the request classes always exported.
var Classes = []string{ClassRead, ClassWrite, ClassAdmin, ClassPinned}

// Config reload results, the values of lagwise_config_reloads_total's
// result label; both are exported from the start.
const (
	ReloadOK    = "ok"
	ReloadError = "error"
)

// Backend is one backend's state in a Snapshot.
type Backend struct {
	// Addr is host:port as config.yaml names it: the backend label.
	Addr string
	// Role is what the backend says it is: "master", "slave", or ""
	// when unknown (it did not answer).
	Role string
	// Up: the backend answered the lag monitor's last poll.
	Up bool
	// IsReplica: config.yaml names it as a replica (else it is the
	// configured master). The lag and routable metrics are exported
	// for replicas only.
	IsReplica bool
	// Offset is a replica's processed replication offset; negative when
	// unknown (not exported then).
	Offset int64
	// LagBytes is the master's offset minus the replica's; negative
	// when unknown (exported as +Inf: an unknown lag counts as
	// infinite).
	LagBytes int64
	// LagSeconds is the replica's time lag; math.Inf(1) when unknown.
	LagSeconds float64
	// Routable: the replica gets reads now.
	Routable bool
}

// Snapshot is the proxy's state at one scrape, as plain values. The
// Source builds a new one for every scrape; the collector only reads it.
type Snapshot struct {
	// Backends are the master and the replicas, in any order.
	Backends []Backend
	// MasterOffset is the master's master_repl_offset; negative when
	// unknown (not exported then).
	MasterOffset int64
	// Reads counts the reads each backend served, by address (the
	// master's included); an address here that is not in Backends still
	// gets its series.
	Reads map[string]uint64
	// Requests counts requests by class (ClassRead ...).
	Requests map[string]uint64
	// Durations are the request durations by class.
	Durations map[string]Histogram
	// RYWMasterReads counts reads sent to the master because no replica
	// had reached the session's last write (read-your-writes).
	RYWMasterReads uint64
	// ClientConnections is the number of open client connections.
	ClientConnections int64
	// ConfigReloads counts config reloads by result (ReloadOK,
	// ReloadError).
	ConfigReloads map[string]uint64
	// ReconcileActions counts REPLICAOF commands sent to make backends'
	// roles match config.yaml.
	ReconcileActions uint64
	// BackendErrors counts errors talking to each backend (connection
	// failures, timeouts, protocol errors), by address.
	BackendErrors map[string]uint64
	// Ready: the proxy serves requests (lagwise_ready).
	Ready bool
}

// Source gives the collector a Snapshot. Snapshot is called once per
// scrape, from the HTTP server's goroutines, possibly by several scrapes
// at once: it must be safe for concurrent use, and it must not block on
// the request path (read atomics and the monitor's published view; take
// no lock an event loop takes).
type Source interface {
	Snapshot() Snapshot
}

// SourceFunc adapts a function to Source.
type SourceFunc func() Snapshot

// Snapshot calls f.
func (f SourceFunc) Snapshot() Snapshot { return f() }

// NewProxyRegistry returns a new registry (not the global one) holding
// the proxy's collector over src and the Go runtime and process
// collectors. Each registry has its own collectors, so a test may make
// as many as it likes. Gathering is safe for concurrent use.
func NewProxyRegistry(src Source) *prometheus.Registry { return newRegistry(NewCollector(src)) }

// newRegistry returns a new registry with c and the Go runtime and process
// collectors.
func newRegistry(c prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// The proxy's metrics.
var (
	descLagBytes = prometheus.NewDesc("lagwise_replica_lag_bytes",
		"Replication lag of a replica in bytes: the master's replication offset minus the replica's processed offset (+Inf while unknown).",
		[]string{"backend"}, nil)
	descLagSeconds = prometheus.NewDesc("lagwise_replica_lag_seconds",
		"Replication lag of a replica in seconds: how long ago the master was at the replica's processed offset (+Inf while unknown).",
		[]string{"backend"}, nil)
	descRoutable = prometheus.NewDesc("lagwise_replica_routable",
		"1 if the replica gets reads now, else 0.",
		[]string{"backend"}, nil)
	descUp = prometheus.NewDesc("lagwise_backend_up",
		"1 if the backend answered the lag monitor's last poll, else 0.",
		[]string{"backend"}, nil)
	descRole = prometheus.NewDesc("lagwise_backend_role",
		"1 for the role the backend reports (master or slave), 0 for the other; both 0 while unknown.",
		[]string{"backend", "role"}, nil)
	descMasterOffset = prometheus.NewDesc("lagwise_master_repl_offset_bytes",
		"The master's replication offset (master_repl_offset).",
		nil, nil)
	descReplicaOffset = prometheus.NewDesc("lagwise_replica_offset_bytes",
		"A replica's processed replication offset.",
		[]string{"backend"}, nil)
	descReads = prometheus.NewDesc("lagwise_reads_total",
		"Reads served, by backend.",
		[]string{"backend"}, nil)
	descRequests = prometheus.NewDesc("lagwise_requests_total",
		"Requests, by class: read, write, admin, pinned.",
		[]string{"class"}, nil)
	descDuration = prometheus.NewDesc("lagwise_request_duration_seconds",
		"Time from a request's arrival to its reply, by class.",
		[]string{"class"}, nil)
	descRYW = prometheus.NewDesc("lagwise_ryw_master_reads_total",
		"Reads sent to the master because no replica had reached the session's last write (read-your-writes).",
		nil, nil)
	descClients = prometheus.NewDesc("lagwise_client_connections",
		"Open client connections.",
		nil, nil)
	descReloads = prometheus.NewDesc("lagwise_config_reloads_total",
		"Config reloads, by result: ok, error.",
		[]string{"result"}, nil)
	descReconcile = prometheus.NewDesc("lagwise_reconcile_actions_total",
		"REPLICAOF commands sent to make the backends' roles match config.yaml.",
		nil, nil)
	descBackendErrors = prometheus.NewDesc("lagwise_backend_errors_total",
		"Errors talking to a backend: connection failures, timeouts, protocol errors.",
		[]string{"backend"}, nil)
	descReady = prometheus.NewDesc("lagwise_ready",
		"1 if the proxy serves requests (as /readyz says), else 0.",
		nil, nil)
)

var allDescs = []*prometheus.Desc{
	descLagBytes, descLagSeconds, descRoutable, descUp, descRole, descMasterOffset,
	descReplicaOffset, descReads, descRequests, descDuration, descRYW, descClients,
	descReloads, descReconcile, descBackendErrors, descReady,
}

// roles are the roles lagwise_backend_role always has a series for.
var roles = []string{"master", "slave"}

// Collector is the proxy's prometheus.Collector: every Collect takes one
// Snapshot from its Source and turns it into constant metrics. It holds
// no state of its own and is safe for concurrent use.
type Collector struct {
	src Source
}

// NewCollector returns a Collector over src.
func NewCollector(src Source) *Collector { return &Collector{src: src} }

// Describe sends the descriptions of every metric Collect may send.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect sends the metrics of one Snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	// One series per backend and metric: a backend named twice (which
	// a valid config does not do) is reported once, or the scrape would
	// fail.
	seen := make(map[string]bool, len(s.Backends))
	for _, b := range s.Backends {
		if seen[b.Addr] {
			continue
		}
		seen[b.Addr] = true
		gauge(descUp, b2f(b.Up), b.Addr)
		for _, r := range roles {
			gauge(descRole, b2f(b.Role == r), b.Addr, r)
		}
		if b.Role != "" && b.Role != "master" && b.Role != "slave" {
			gauge(descRole, 1, b.Addr, b.Role)
		}
		if !b.IsReplica {
			continue
		}
		lagBytes := math.Inf(1)
		if b.LagBytes >= 0 {
			lagBytes = float64(b.LagBytes)
		}
		gauge(descLagBytes, lagBytes, b.Addr)
		lagSeconds := b.LagSeconds
		if math.IsNaN(lagSeconds) || lagSeconds < 0 {
			lagSeconds = math.Inf(1)
		}
		gauge(descLagSeconds, lagSeconds, b.Addr)
		gauge(descRoutable, b2f(b.Routable), b.Addr)
		if b.Offset >= 0 {
			gauge(descReplicaOffset, float64(b.Offset), b.Addr)
		}
	}
	if s.MasterOffset >= 0 {
		gauge(descMasterOffset, float64(s.MasterOffset))
	}

	// Per-backend counters: every backend of the Snapshot has a series
	// (at 0 until it counts), and so does every address a counter names.
	// The Source decides how long a backend removed from config.yaml
	// keeps its counts: the proxy reports them until its last connection
	// to it is closed, then drops them.
	perBackend := func(d *prometheus.Desc, m map[string]uint64) {
		for _, addr := range slices.Sorted(maps.Keys(seen)) {
			if _, ok := m[addr]; !ok {
				counter(d, 0, addr)
			}
		}
		for _, addr := range slices.Sorted(maps.Keys(m)) {
			counter(d, m[addr], addr)
		}
	}
	perBackend(descReads, s.Reads)
	perBackend(descBackendErrors, s.BackendErrors)

	for _, class := range withKeys(Classes, s.Requests) {
		counter(descRequests, s.Requests[class], class)
	}
	for _, class := range withKeys(Classes, s.Durations) {
		h := s.Durations[class]
		buckets := make(map[float64]uint64, len(DurationBuckets))
		for i, le := range DurationBuckets {
			var n uint64
			if i < len(h.Counts) {
				n = h.Counts[i]
			} else if len(h.Counts) > 0 {
				n = h.Counts[len(h.Counts)-1]
			}
			buckets[le] = n
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, h.Count, h.Sum, buckets, class)
	}
	counter(descRYW, s.RYWMasterReads)
	gauge(descClients, float64(s.ClientConnections))
	for _, result := range withKeys([]string{ReloadOK, ReloadError}, s.ConfigReloads) {
		counter(descReloads, s.ConfigReloads[result], result)
	}
	counter(descReconcile, s.ReconcileActions)
	gauge(descReady, b2f(s.Ready))
}

// withKeys returns fixed followed by the other keys of m, sorted.
func withKeys[V any](fixed []string, m map[string]V) []string {
	out := append([]string(nil), fixed...)
	var extra []string
	for k := range m {
		if !contains(fixed, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
