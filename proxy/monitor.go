package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

// The lag monitor (this file and monitor_*.go) measures how far each
// replica is behind the master and publishes what it finds as an
// immutable View. It runs on goroutines of its own, with plain net.Conns
// to the backends — never on the event loops, never on the request path.
// The event loops read its views; they never wait for it.
//
// Every lag_poll_interval a round sends INFO replication to the master
// and INFO replication plus INFO persistence to every replica, at once,
// each on a persistent connection of its own (AUTH first when
// backend_auth is set). From the master it takes its replication offset
// and replication ID, which go into a History of (time, offset), and its
// view of each replica's acknowledged offset; from each replica, its role,
// its link to its master, whether it is syncing or loading, its processed
// offset and its master's replication ID. A replica's byte lag is the
// master's offset minus its own; its time lag is how long ago the master
// was first seen past its offset (router.History). router.Eligible then
// turns the round's samples into the read pool, and the View carrying
// both is published with one atomic store.
//
// Why two INFO sections and not INFO: loading is in the persistence
// section. Pipelined, the two cost one round trip and about 1.2 KB; the
// default INFO is about 5 KB and, measured with redis-benchmark on this
// project's 2-core machines, costs Redis 7.0 as much server time as the
// two sections together and lagwise server about twice as much.

// Defaults for a MonitorConfig that leaves them out (config.yaml's).
const (
	MonitorDefaultInterval = 100 * time.Millisecond
	MonitorDefaultTimeout  = 250 * time.Millisecond
)

// MonitorConfig is what the lag monitor polls and how.
type MonitorConfig struct {
	// Master is the master's host:port.
	Master string
	// Replicas are the replicas, in config.yaml's order; a View lists
	// them in the same order.
	Replicas []config.Replica
	// Policy is config.Routing.Policy(): max_lag, hysteresis,
	// when_replicas_lag, read_from, master_weight. It must be valid
	// (config.Validate checks it).
	Policy router.Policy
	// Interval is routing.lag_poll_interval (default 100 ms).
	Interval time.Duration
	// Timeout is routing.poll_timeout (default 250 ms): a backend that
	// has not answered a poll by then, connecting included, counts as
	// not answering, and a replica that does not answer gets no reads.
	Timeout time.Duration
	// Username and Password are backend_auth's (the password already
	// read from its environment variable); both empty: no AUTH.
	Username, Password string
	// Logf logs the monitor's news: a backend going down or coming
	// back, a replica's health changing, the master's replication ID
	// changing, each at its level (Logger.Logf). It is called from the
	// monitor's goroutine. May be nil.
	Logf func(level Level, format string, args ...any)
}

// withDefaults fills in the defaults and copies the replica list, so the
// caller may reuse its slice.
func (c MonitorConfig) withDefaults() MonitorConfig {
	if c.Interval <= 0 {
		c.Interval = MonitorDefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = MonitorDefaultTimeout
	}
	c.Replicas = append([]config.Replica(nil), c.Replicas...)
	return c
}

// View is what the lag monitor knows after one round of polls. A View is
// immutable once published: every event loop may read it at once, and
// nobody may modify it or the slices it holds.
//
// # Read-your-writes
//
// Seq is the value Started() took when the round began, and every
// request of the round — the master's INFO included — is sent after
// that. So if a write's reply arrived when Started() returned S, any
// View with Seq > S comes from a round whose master INFO was sent after
// the write completed: its Master.Offset (when Master.Up) covers the
// write, and a replica whose processed offset has reached it holds the
// write (router.Writes.Observed, router.Fresh). A View without a master
// answer (Master.Up false, Master.Offset -1) covers nothing: wait for a
// later one.
type View struct {
	// Seq is the Started() value of the round this view came from; 0
	// before the first round. Views are published in Seq order. A
	// config change (Monitor.Update) republishes the latest view for the
	// new topology under the same Seq.
	Seq uint64
	// At is when the round began.
	At time.Time
	// Master is the master as this round found it.
	Master MasterState
	// Replicas are the configured replicas, in config order.
	Replicas []ReplicaState
	// Eligibility is the read pool computed from this round:
	// Eligibility.Samples are in the same order as Replicas. Event
	// loops point their router.Picker at it.
	Eligibility *router.Eligibility
}

// MasterState is the configured master as one round found it.
type MasterState struct {
	// Addr is the master's host:port as configured.
	Addr string
	// Up: it answered this round's poll.
	Up bool
	// Role is what it says it is: "master", "slave" (it has been made a
	// replica: writes sent to it will fail), or "" when it did not
	// answer.
	Role string
	// Offset is its master_repl_offset, read in this round; -1 when it
	// did not answer.
	Offset int64
	// ReplID is its master_replid, from this round; "" when it did not
	// answer.
	ReplID string
	// Err says why it is not Up (or why its answer could not be used).
	Err string
	// PollErrors counts its failed polls since the monitor began
	// polling it (for lagwise_backend_errors_total).
	PollErrors uint64
	// LastOffset is its offset at its last answer, this round's or an
	// earlier one's (-1 if it never answered); kept when it stops
	// answering, for the writes a failover may lose.
	LastOffset int64
	// Replicas is its own view of its replicas (its slaveN lines), in
	// its order; nil when it did not answer.
	Replicas []MasterReplica
}

// MasterReplica is one line of the master's view of its replicas.
type MasterReplica struct {
	// Addr is ip:port as the master reports it.
	Addr string
	// State is its replication state: wait_bgsave, send_bulk, online...
	State string
	// AckOffset is the offset of the replica's last REPLCONF ACK.
	AckOffset int64
	// LagSeconds is the seconds since that ACK, as Redis counts them.
	LagSeconds int64
}

// ReplicaState is one configured replica as one round found it.
type ReplicaState struct {
	// Addr and Weight are as configured.
	Addr   string
	Weight int
	// Up: it answered this round's poll.
	Up bool
	// Role is what it says it is: "slave", "master", or "" when it did
	// not answer.
	Role string
	// Health says whether its lag is known, and if not, why not.
	Health router.Health
	// Offset is its processed replication offset (slave_repl_offset),
	// -1 when unknown.
	Offset int64
	// ByteLag is the master's offset minus Offset (at least 0), -1 when
	// unknown. TimeLag is how long ago the master was at Offset.
	// Meaningful only when Health is router.Known.
	ByteLag int64
	TimeLag time.Duration
	// LagSeconds is the time lag for metrics
	// (lagwise_replica_lag_seconds): TimeLag in seconds, or +Inf while
	// the lag is unknown. It can be +Inf while Health is Known: a
	// replica behind the start of the offset history has a lag the
	// monitor cannot tell; its sample then carries TimeLag = max_lag,
	// so it gets no reads.
	LagSeconds float64
	// LinkStatus is its master_link_status: "up", "down", or "".
	LinkStatus string
	// Err says why its lag is not known (or what is odd about it).
	Err string
	// AckOffset is the master's view of it: the offset of its last
	// REPLCONF ACK, -1 when unknown (the master did not answer, or
	// lists no replica at this address).
	AckOffset int64
	// PollErrors counts its failed polls since the monitor began
	// polling it (for lagwise_backend_errors_total).
	PollErrors uint64
}

// Sample returns the replica's routing sample.
func (r *ReplicaState) Sample() router.Sample {
	return router.Sample{
		Addr: r.Addr, Weight: r.Weight, Health: r.Health,
		Offset: r.Offset, ByteLag: r.ByteLag, TimeLag: r.TimeLag,
	}
}

// Monitor is the lag monitor. Run polls; View, Started, Kick, Wait and
// Update are safe for concurrent use from any goroutine, and View and
// Started take no lock (an atomic load each): the event loops may call
// them on every request.
type Monitor struct {
	started atomic.Uint64
	view    atomic.Pointer[View]
	kick    chan struct{}

	mu sync.Mutex
	// cfg is the configuration in force; gen counts its changes.
	cfg MonitorConfig
	gen uint64
	// changed is closed (and replaced) when a view is published.
	changed chan struct{}

	// The rest belongs to Run's goroutine.
	running    atomic.Bool
	appliedGen uint64
	applied    MonitorConfig
	backends   map[monKey]*monBackend
	resolved   map[string][]string // replica host -> its addresses
	hist       *router.History
	histSize   int
	ref        monMasterRef
}

// monKey names a polled backend: the master and a replica at the same
// address are polled apart (a valid config has no such thing).
type monKey struct {
	replica bool
	addr    string
}

// monMasterRef is what the replicas are measured against: the master as
// last seen.
type monMasterRef struct {
	// known: the master has answered with an offset since the history
	// began (since the start, or the last change of master or of its
	// replication ID).
	known bool
	// answered: it answered in the round being built.
	answered bool
	// offset and replID are from its last answer; seenAt is when that
	// poll was sent: a replica that has reached offset holds the
	// master's data as of that moment at least.
	offset int64
	replID string
	seenAt time.Time
}

// NewMonitor returns a monitor for cfg. Its View, until the first round
// completes, has every replica NoAnswer and the master unknown. It polls
// nothing until Run.
func NewMonitor(cfg MonitorConfig) *Monitor {
	cfg = cfg.withDefaults()
	m := &Monitor{
		kick:     make(chan struct{}, 1),
		cfg:      cfg,
		gen:      1,
		changed:  make(chan struct{}),
		backends: map[monKey]*monBackend{},
	}
	m.view.Store(monInitialView(cfg))
	return m
}

// View returns the latest view; never nil. It is an atomic load.
func (m *Monitor) View() *View { return m.view.Load() }

// Started returns the number of rounds begun. A round's requests,
// the master's INFO included, are sent after it has raised the count:
// see View for what read-your-writes makes of it. It is an atomic load.
func (m *Monitor) Started() uint64 { return m.started.Load() }

// Kick asks for a round now instead of at the next interval. It does
// not block; kicks before the round starts make one round, and a kick
// during a round makes one more right after it.
func (m *Monitor) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Wait returns a view with Seq > after as soon as one is published (the
// latest when it looks), or ctx's error. It is meant for tests and tools (a session waiting for its
// write's offset reads View on its own loop instead). It does not kick.
func (m *Monitor) Wait(ctx context.Context, after uint64) (*View, error) {
	for {
		m.mu.Lock()
		v, ch := m.view.Load(), m.changed
		m.mu.Unlock()
		if v.Seq > after {
			return v, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Update replaces the topology and policy, as at a config reload. It
// publishes at once a view for the new topology, made from what the
// monitor already knows: replicas it polled keep their state (scored
// under the new policy), a new replica is NoAnswer — no reads — until its
// first good poll, and a new master starts unknown, with every replica
// NoAnswer until it is polled. Then it kicks a round. Connections to
// backends no longer named are closed at the start of that round; a
// change of backend credentials reconnects them all.
func (m *Monitor) Update(cfg MonitorConfig) {
	cfg = cfg.withDefaults()
	m.mu.Lock()
	old := m.cfg
	m.cfg = cfg
	m.gen++
	m.storeLocked(monRepublish(m.view.Load(), old, cfg))
	m.mu.Unlock()
	m.Kick()
}

// storeLocked publishes v. m.mu must be held.
func (m *Monitor) storeLocked(v *View) {
	m.view.Store(v)
	close(m.changed)
	m.changed = make(chan struct{})
}

// Run polls until ctx is done, then closes its connections and returns
// (within poll_timeout of ctx's end). The first round starts at once.
// Run must be called once.
func (m *Monitor) Run(ctx context.Context) {
	if !m.running.CompareAndSwap(false, true) {
		panic("proxy: Monitor.Run called twice")
	}
	defer m.closeAll()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-m.kick:
		}
		start := time.Now()
		m.round(ctx)
		if ctx.Err() != nil {
			return
		}
		m.mu.Lock()
		interval := m.cfg.Interval
		m.mu.Unlock()
		timer.Reset(max(interval-time.Since(start), 0))
	}
}

// round polls every backend once and publishes the view.
func (m *Monitor) round(ctx context.Context) {
	m.mu.Lock()
	cfg, gen := m.cfg, m.gen
	m.mu.Unlock()
	if gen != m.appliedGen {
		m.apply(ctx, cfg)
		m.appliedGen = gen
	}

	at := time.Now()
	seq := m.started.Add(1)
	// Every request of this round is sent from here on: a write that
	// completed before Started() returned seq-1 is in the master offset
	// this round reads (see View).

	var wg sync.WaitGroup
	var mp monPoll
	mb := m.backend(monKey{addr: cfg.Master})
	wg.Go(func() { mp = mb.poll(ctx, cfg, false) })
	polls := make(map[string]*monPoll, len(cfg.Replicas))
	for _, r := range cfg.Replicas {
		if _, dup := polls[r.Addr]; dup {
			continue
		}
		p := new(monPoll)
		polls[r.Addr] = p
		b := m.backend(monKey{replica: true, addr: r.Addr})
		wg.Go(func() { *p = b.poll(ctx, cfg, true) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // polls cut short by the end of Run: no view from them
	}
	errs := map[string]uint64{}
	for k, b := range m.backends {
		if k.replica {
			errs[k.addr] = b.errors
		}
	}
	m.publish(seq, at, cfg, &mp, mb.errors, polls, errs)
}

// apply makes the monitor's connections and history fit cfg: it closes
// the connections of backends cfg no longer names (all of them when the
// credentials changed), resolves the replicas' host names (to match them
// with the master's view of its replicas), and starts a new offset
// history when the master changed or the history is too short for the
// new interval and max_lag.
func (m *Monitor) apply(ctx context.Context, cfg MonitorConfig) {
	old := m.applied
	first := m.appliedGen == 0
	m.applied = cfg
	want := map[monKey]bool{{addr: cfg.Master}: true}
	for _, r := range cfg.Replicas {
		want[monKey{replica: true, addr: r.Addr}] = true
	}
	authChanged := !first && (old.Username != cfg.Username || old.Password != cfg.Password)
	for k, b := range m.backends {
		if !want[k] {
			b.closeConn()
			delete(m.backends, k)
		} else if authChanged {
			b.closeConn()
		}
	}

	m.resolved = monResolve(ctx, cfg)

	size := min(router.HistorySize(max(time.Minute, 20*cfg.Policy.MaxLag), cfg.Interval), 1<<16)
	switch {
	case m.hist == nil:
		m.hist, m.histSize = router.NewHistory(size), size
	case old.Master != cfg.Master:
		m.hist, m.histSize = router.NewHistory(size), size
		m.ref = monMasterRef{}
	case size > m.histSize:
		// Lags older than the new history are unknown for a while.
		m.hist, m.histSize = router.NewHistory(size), size
		m.ref.known = false
	}
}

// monResolve returns the addresses of each replica host that is not an
// IP literal, looked up within the poll timeout; a failed lookup leaves
// the host out (matched by name only).
func monResolve(ctx context.Context, cfg MonitorConfig) map[string][]string {
	out := map[string][]string{}
	for _, r := range cfg.Replicas {
		host, _, err := net.SplitHostPort(r.Addr)
		if err != nil || net.ParseIP(host) != nil {
			continue
		}
		if _, done := out[host]; done {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		addrs, err := net.DefaultResolver.LookupHost(lctx, host)
		cancel()
		if err == nil {
			out[host] = addrs
		}
	}
	return out
}

func (m *Monitor) backend(k monKey) *monBackend {
	b := m.backends[k]
	if b == nil {
		b = &monBackend{addr: k.addr}
		m.backends[k] = b
	}
	return b
}

func (m *Monitor) closeAll() {
	for _, b := range m.backends {
		b.closeConn()
	}
}

// publish makes the round's view and publishes it, unless the master
// changed while the round ran (its answers are of the old master; the
// kicked next round measures the new one).
func (m *Monitor) publish(seq uint64, at time.Time, cfg MonitorConfig, mp *monPoll, masterErrs uint64, polls map[string]*monPoll, errs map[string]uint64) {
	m.mu.Lock()
	cur := m.cfg
	if cur.Master != cfg.Master {
		m.mu.Unlock()
		return
	}
	prev := m.view.Load()
	var news []monNote
	m.ref.answered = false
	if mp.answered && mp.info.HasMasterReplOffset {
		info := &mp.info
		if m.ref.known && info.ReplID != m.ref.replID && info.ReplID2 != m.ref.replID {
			// A different dataset (a restart without persistence, another
			// server): offsets of the old one mean nothing now.
			news = append(news, monNote{LevelWarn, fmt.Sprintf("master %s: replication ID changed from %s to %s: offset history restarted", cfg.Master, m.ref.replID, info.ReplID)})
			m.hist = router.NewHistory(m.histSize)
		}
		m.hist.Add(mp.sent, info.MasterReplOffset)
		m.ref = monMasterRef{known: true, answered: true, offset: info.MasterReplOffset, replID: info.ReplID, seenAt: mp.sent}
	}
	v := monBuildView(seq, at, cur, mp, polls, m.ref, m.hist, m.resolved, prev)
	v.Master.PollErrors = masterErrs
	for i := range v.Replicas {
		v.Replicas[i].PollErrors = errs[v.Replicas[i].Addr]
	}
	news = append(news, monNews(prev, v)...)
	m.storeLocked(v)
	m.mu.Unlock()
	if cur.Logf != nil {
		for _, n := range news {
			cur.Logf(n.level, "lag monitor: %s", n.text)
		}
	}
}

// monBackend is the monitor's connection to one backend and its
// reconnection state. It belongs to Run's goroutine, and during a round
// to that backend's poll.
type monBackend struct {
	addr    string
	conn    *monConn
	fails   int       // failed polls in a row
	retryAt time.Time // no reconnecting before
	lastErr string
	errors  uint64 // failed polls, all told
	// owed is how many replies to earlier polls conn still owes, none of
	// them begun: the backend did not answer within poll_timeout (stopped,
	// busy, or cut off) since stalled.
	owed    int
	stalled time.Time
}

// monPoll is one backend's answer to one round.
type monPoll struct {
	// answered: it answered in time with replies the monitor could read.
	answered bool
	// err says why not.
	err string
	// loadingReply: it answered -LOADING.
	loadingReply bool
	info         InfoReplication
	// sent is when the INFO went out, recv when its answer was read.
	sent, recv time.Time
}

// monMaxBackoff bounds the wait before reconnecting to a backend that
// keeps failing (at least one interval).
const monMaxBackoff = 2 * time.Second

// monMaxStall is how long the monitor waits on one connection for the
// replies a backend owes before it gives up on that connection and dials
// another (one that stays silent may be cut off, or its server gone
// behind a silent network).
const monMaxStall = 2 * time.Second

// poll sends INFO replication (and for a replica INFO persistence) and
// reads the answers, connecting first if need be; all within
// cfg.Timeout. A failure closes the connection: the next poll reconnects
// at once the first time, then after a backoff that doubles from one
// interval up to monMaxBackoff; until then polls fail without trying.
//
// A backend that has not begun to answer by the deadline (a stopped
// process, a long command) keeps its connection: the next polls wait a
// moment for the replies it owes, and once they come it is polled again
// as usual. A server that resumes answers at once, so it is known again
// within a round, rather than after a backoff; and no connection piles
// up in its accept queue meanwhile.
func (b *monBackend) poll(ctx context.Context, cfg MonitorConfig, replica bool) (p monPoll) {
	start := time.Now()
	deadline := start.Add(cfg.Timeout)
	p.sent = start
	if b.conn == nil {
		if start.Before(b.retryAt) {
			p.err = fmt.Sprintf("%s (reconnecting in %v)", b.lastErr, b.retryAt.Sub(start).Round(time.Millisecond))
			return p
		}
		c, err := monDial(ctx, b.addr, deadline, cfg.Username, cfg.Password)
		if err != nil {
			p.err = b.fail(err, cfg, "connect")
			return p
		}
		b.conn = c
	}
	conn := b.conn
	stop := context.AfterFunc(ctx, func() { conn.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if b.owed > 0 {
		// Still silent: a short wait (the round waits for every poll),
		// then the rest of the deadline once it answers.
		_, err := conn.read(start.Add(min(cfg.Timeout, cfg.Interval)/4), make([]monReply, 1))
		switch {
		case errors.Is(err, errMonNoReply) && start.Sub(b.stalled) < monMaxStall:
			p.err = b.silent(cfg)
			return p
		case errors.Is(err, errMonNoReply):
			// Silent too long on this connection: the next poll dials
			// another, at once (it is not a refused connection).
			p.err = b.silent(cfg)
			b.closeConn()
			return p
		case err != nil:
			p.err = b.fail(err, cfg, "INFO")
			return p
		}
		if _, err := conn.read(deadline, make([]monReply, b.owed-1)); err != nil {
			p.err = b.fail(err, cfg, "INFO")
			return p
		}
		b.owed = 0
	}
	cmds := [][]string{{"INFO", "replication"}}
	if replica {
		cmds = append(cmds, []string{"INFO", "persistence"})
	}
	p.sent = time.Now()
	if err := conn.send(deadline, cmds...); err != nil {
		p.err = b.fail(err, cfg, "INFO")
		return p
	}
	replies := make([]monReply, len(cmds))
	n, err := conn.read(deadline, replies)
	p.recv = time.Now()
	if err != nil {
		if errors.Is(err, errMonNoReply) && n == 0 {
			b.owed, b.stalled = len(cmds), start
			p.err = b.silent(cfg)
			return p
		}
		p.err = b.fail(err, cfg, "INFO")
		return p
	}
	for _, r := range replies {
		switch {
		case r.kind == '-' && len(r.str) >= 7 && r.str[:7] == "LOADING":
			p.loadingReply = true
			p.err = r.str
		case r.kind == '-':
			p.err = b.fail(fmt.Errorf("-%s", r.str), cfg, "INFO")
			return p
		case r.kind != '$' || r.null:
			p.err = b.fail(fmt.Errorf("%w: INFO answered with a %q reply", errMonProtocol, r.kind), cfg, "INFO")
			return p
		default:
			if err := ParseInfoReplication(r.str, &p.info); err != nil {
				p.err = b.fail(err, cfg, "INFO")
				return p
			}
		}
	}
	b.fails, b.retryAt, b.lastErr = 0, time.Time{}, ""
	p.answered = true
	return p
}

// silent counts a poll the backend has not begun to answer; its
// connection stays, owing the replies.
func (b *monBackend) silent(cfg MonitorConfig) string {
	b.errors++
	b.lastErr = fmt.Sprintf("INFO: no answer within poll_timeout %v", cfg.Timeout)
	return b.lastErr
}

// fail closes the connection after a failed poll, sets the backoff, and
// returns the message for the view.
func (b *monBackend) fail(err error, cfg MonitorConfig, what string) string {
	b.closeConn()
	b.errors++
	b.fails++
	now := time.Now()
	if b.fails > 1 {
		wait := cfg.Interval << min(b.fails-2, 16)
		b.retryAt = now.Add(min(wait, max(monMaxBackoff, cfg.Interval)))
	} else {
		b.retryAt = now
	}
	var msg string
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		msg = fmt.Sprintf("%s: no answer within poll_timeout %v", what, cfg.Timeout)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("%s: connection closed by the backend", what)
	default:
		msg = fmt.Sprintf("%s: %v", what, err)
	}
	b.lastErr = msg
	return msg
}

func (b *monBackend) closeConn() {
	if b.conn != nil {
		b.conn.close()
		b.conn = nil
	}
	b.owed, b.stalled = 0, time.Time{}
}
