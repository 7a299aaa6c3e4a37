package backend

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	lwmetrics "github.com/lagwise/lagwise/metrics"
	"github.com/lagwise/lagwise/replication"
)

// The metrics endpoint (metrics-listen): /metrics in Prometheus's text
// format, /healthz and /readyz, on an address of its own. A scrape takes
// the executor lock once, briefly, to copy what INFO would report into a
// metrics.ServerSnapshot; nothing is counted on the command path for it.

// mxState is the metrics endpoint's state.
type mxState struct {
	// starting is set until Start has loaded the dataset (holding the
	// executor lock for as long as that takes) and taken its role: scrapes
	// and /readyz meanwhile answer without the lock.
	starting atomic.Bool
	ln       net.Listener
	cancel   context.CancelFunc
	done     chan struct{} // closed when the endpoint has stopped
}

// MetricsHandler returns the handler of the server's metrics endpoint:
// /metrics (a registry of its own, read at scrape time), /healthz, and
// /readyz, which says "ready" unless the server is loading its dataset
// or is a replica whose link to its master is down.
func (s *Server) MetricsHandler() http.Handler {
	reg := lwmetrics.NewServerRegistry(lwmetrics.ServerSourceFunc(func() lwmetrics.ServerSnapshot {
		return s.metricsSnapshot(true)
	}))
	return lwmetrics.ServerHandler(reg, func() (bool, string) {
		snap := s.metricsSnapshot(false)
		return snap.Ready()
	})
}

// MetricsAddr returns the address the metrics endpoint listens on, or nil
// when it is off.
func (s *Server) MetricsAddr() net.Addr {
	if s.mx.ln == nil {
		return nil
	}
	return s.mx.ln.Addr()
}

// startMetrics opens the metrics endpoint when metrics-listen is set. An
// address that cannot be bound is an error, which stops the start as a
// port that cannot be bound does. The endpoint stops when the server
// shuts down.
func (s *Server) startMetrics() error {
	addr := s.cfg.MetricsListen
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("Could not create metrics listening socket %s (metrics-listen): %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mx.ln, s.mx.cancel, s.mx.done = ln, cancel, make(chan struct{})
	h := s.MetricsHandler()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.mx.done)
		if err := lwmetrics.ServeListener(ctx, ln, h); err != nil {
			s.logf("metrics endpoint: %v", err)
		}
	}()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.logf("Metrics on http://%s/metrics", ln.Addr())
	return nil
}

// stopMetrics stops the metrics endpoint and waits until it has; Start
// calls it when the start fails after the endpoint opened.
func (s *Server) stopMetrics() {
	if s.mx.cancel == nil {
		return
	}
	s.mx.cancel()
	<-s.mx.done
}

// metricsSnapshot copies the server's state for one scrape under the
// executor lock; without full, only what readiness needs.
func (s *Server) metricsSnapshot(full bool) lwmetrics.ServerSnapshot {
	snap := lwmetrics.ServerSnapshot{
		Version:       Version,
		RedisVersion:  redisCompatVersion,
		UptimeSeconds: time.Since(s.startTime).Seconds(),
	}
	if s.mx.starting.Load() {
		snap.Starting = true
		return snap
	}
	s.mu.Lock()
	defer s.unlock()
	now := time.Now()
	m := s.repl.m
	snap.Loading = s.loading
	snap.Role = "master"
	snap.ReplicaOffset = -1
	snap.MasterLastIOSeconds = -1
	if l := s.repl.link; l != nil {
		snap.Role = "slave"
		snap.MasterLinkUp = l.up()
		snap.MasterLinkState = l.state.String()
		snap.MasterSyncInProgress = l.state == linkSync
		if l.up() {
			snap.MasterLastIOSeconds = now.Sub(l.lastIO).Seconds()
		}
		if l.everSynced || l.up() {
			snap.ReplicaOffset = m.Offset
		}
	}
	if !full {
		return snap
	}

	st := &s.stats
	snap.ConnectedClients = int64(len(s.clients))
	for _, cl := range s.clients {
		if cl.block != nil {
			snap.BlockedClients++
		}
	}
	snap.MaxClients = int64(s.cfg.MaxClients)
	snap.ConnectionsReceived = st.connectionsReceived
	snap.RejectedConnections = st.rejectedConns

	snap.CommandsProcessed = st.commandsProcessed
	stat := func(name string, e *cmdEntry) {
		if e.calls != 0 || e.failed != 0 || e.reject != 0 {
			snap.Commands = append(snap.Commands, lwmetrics.CommandStat{
				Name: name, Calls: e.calls, Usec: e.usec, Failed: e.failed, Rejected: e.reject})
		}
	}
	for name, e := range s.cmds {
		stat(name, e)
		for sub, se := range e.subs {
			stat(name+"|"+sub, se)
		}
	}
	snap.ErrorReplies = st.totalErrorReplies
	snap.Errors = make(map[string]int64, len(st.errorCounts))
	for code, n := range st.errorCounts {
		snap.Errors[code] = n
	}

	for _, db := range s.dbs {
		if n := db.Size(); n > 0 {
			snap.Keyspace = append(snap.Keyspace, lwmetrics.DBKeys{DB: db.id, Keys: int64(n), Expires: int64(len(db.expires))})
		}
	}
	snap.ExpiredKeys = st.expiredKeys
	snap.EvictedKeys = st.evictedKeys
	snap.KeyspaceHits = st.keyspaceHits
	snap.KeyspaceMisses = st.keyspaceMisses

	snap.NetInputBytes = st.netInput.Load()
	snap.NetOutputBytes = st.netOutput.Load()
	snap.NetReplInputBytes = st.netReplInput.Load()
	snap.NetReplOutputBytes = st.netReplOutput.Load()

	snap.UsedMemory = s.infoUsedMemory()
	s.updatePeakMemory(snap.UsedMemory)
	snap.UsedMemoryPeak = s.admin().peakMemory
	snap.MaxMemory = s.cfg.MaxMemory

	snap.MasterReplOffset = m.Offset
	snap.ReplBacklogSize = int64(m.BacklogSize)
	if b := m.Backlog; b != nil {
		snap.ReplBacklogActive = true
		snap.ReplBacklogHistlen = b.HistLen()
	}
	for _, r := range m.Replicas {
		online := r.State == replication.Online
		lag := -1.0
		if online && !r.AckTime.IsZero() {
			lag = max(now.Sub(r.AckTime).Seconds(), 0)
		}
		snap.Replicas = append(snap.Replicas, lwmetrics.ServerReplica{
			Addr:          net.JoinHostPort(r.IP, strconv.Itoa(r.ListeningPort)),
			Online:        online,
			AckOffset:     r.AckOffset,
			AckLagSeconds: lag,
		})
	}

	p := &s.persist
	snap.RDBChangesSinceLastSave = s.dirty
	snap.RDBLastSaveTime = p.lastSave
	snap.RDBBgsaveInProgress = p.snapKind == childRDB
	snap.RDBLastBgsaveOK = p.lastBgsaveOK
	snap.RDBSaves = p.saves
	snap.AOFEnabled = s.aof.f != nil
	snap.AOFRewriteInProgress = p.snapKind == childAOF
	snap.AOFLastWriteOK = s.aof.f == nil || s.aof.f.WriteErr() == nil

	snap.SyncFull = s.repl.syncFull
	snap.SyncPartialOK = s.repl.syncPartialOK
	snap.SyncPartialErr = s.repl.syncPartialErr
	return snap
}
