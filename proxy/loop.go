package proxy

import (
	"context"
	"slices"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"github.com/lagwise/lagwise/router"
)

// gnetLogger passes gnet's warnings and errors to the proxy's log, at
// those levels, and drops its chatter.
type gnetLogger struct{ log *Logger }

func (gnetLogger) Debugf(string, ...any)       {}
func (gnetLogger) Infof(string, ...any)        {}
func (g gnetLogger) Warnf(f string, a ...any)  { g.log.Warnf("gnet: "+f, a...) }
func (g gnetLogger) Errorf(f string, a ...any) { g.log.Errorf("gnet: "+f, a...) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.log.Errorf("gnet: "+f, a...) }
func useGnetLogger(lg *Logger) logging.Logger {
	l := gnetLogger{lg}
	logging.SetDefaultLoggerAndFlusher(l, nil)
	return l
}

// tickEvery is how often a loop checks its timers: replicas that do not
// answer reads, idle clients, backoffs.
const tickEvery = 20 * time.Millisecond

// loop is one event loop's state. Everything in it is touched only on that
// loop's goroutine (ticker excepted, which only asks the loop to tick).
type loop struct {
	p   *Proxy
	el  gnet.EventLoop
	idx int

	// topo is the topology this loop's connections follow.
	topo *topology
	// view is the monitor's view the picker was last reset from; conns
	// maps its replica indexes to this loop's shared connections.
	view   *View
	picker *router.Picker
	conns  []*bconn

	// master is the shared connection to the master; shared holds the
	// shared connection to each backend by address (the master's too).
	master *bconn
	shared map[string]*bconn
	// down holds, per backend address, when the last connection attempt
	// failed and until when no new one is made.
	down map[string]downState
	// masterHung: a master request waited past masterTimeout while the
	// master answered no poll; master requests get -MASTERDOWN at once
	// until a poll is answered.
	masterHung bool
	// idle are clean dedicated master connections for reuse.
	idle []*bconn

	clients map[*client]struct{}
	// waits are the clients with a WAIT pending; paused those holding a
	// master request while writes are paused.
	waits  []*client
	paused []*client

	// Work for the end of the turn: clients whose replies are to be
	// written or whose held requests can go on, backend connections with
	// requests to write.
	dirtyClients  []*client
	resumable     []*client
	dirtyBackends []*bconn
	flushQueued   bool
	flushTask     gnet.Runnable
	tickTask      gnet.Runnable

	now   time.Time
	stats loopStats
}

type downState struct {
	until time.Time
	err   error
	// backoff is the wait after the next failure.
	backoff time.Duration
}

func newLoop(p *Proxy, el gnet.EventLoop, idx int) *loop {
	l := &loop{
		p:       p,
		el:      el,
		idx:     idx,
		shared:  make(map[string]*bconn),
		down:    make(map[string]downState),
		clients: make(map[*client]struct{}),
		now:     time.Now(),
	}
	l.flushTask = gnet.RunnableFunc(func(context.Context) error { l.flush(); return nil })
	l.tickTask = gnet.RunnableFunc(func(context.Context) error { l.tick(); return nil })
	l.topo = p.topo.Load()
	l.refreshView()
	return l
}

// ticker asks the loop to tick until the proxy stops.
func (l *loop) ticker() {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for range t.C {
		if l.p.stopping.Load() {
			return
		}
		if err := l.el.Execute(context.Background(), l.tickTask); err != nil {
			return
		}
	}
}

// refreshView takes the monitor's latest view if it changed: the picker
// gets its weights, and conns is lined up with its replicas.
func (l *loop) refreshView() {
	v := l.p.lag.View()
	if v == l.view {
		return
	}
	l.view = v
	if l.picker == nil {
		l.picker = router.NewPicker(v.Eligibility)
	} else {
		l.picker.Reset(v.Eligibility)
	}
	l.conns = l.conns[:0]
	for _, r := range v.Replicas {
		var b *bconn
		if l.topo.hasReplica(r.Addr) {
			b = l.sharedConn(r.Addr)
		}
		l.conns = append(l.conns, b)
	}
}

// sharedConn returns the loop's shared connection to addr, dialling one
// when there is none (requests queue on it meanwhile); nil while addr is in
// its backoff after a failed connection.
func (l *loop) sharedConn(addr string) *bconn {
	b := l.shared[addr]
	if b == nil || b.state == connClosed {
		if _, down := l.isDown(addr); down {
			return nil
		}
		b = newBconn(l, addr, kindShared)
		l.shared[addr] = b
		if addr == l.topo.master {
			l.master = b
		}
	}
	return b
}

// masterConn returns the shared master connection, or nil and the error
// while the master is in its backoff after a failed connection.
func (l *loop) masterConn() (*bconn, error) {
	if l.masterHung {
		return nil, errMasterTimeout
	}
	if l.master == nil || l.master.state == connClosed || l.master.addr != l.topo.master {
		if err, down := l.isDown(l.topo.master); down {
			return nil, err
		}
		l.master = l.sharedConn(l.topo.master)
	}
	if l.master == nil || l.master.state == connClosed {
		err, _ := l.isDown(l.topo.master)
		return nil, err
	}
	return l.master, nil
}

// dedicated returns a master connection for one client alone: a clean idle
// one, or a new one; nil and the error while the master is in its backoff.
func (l *loop) dedicated() (*bconn, error) {
	if l.masterHung {
		return nil, errMasterTimeout
	}
	if err, down := l.isDown(l.topo.master); down {
		return nil, err
	}
	for len(l.idle) > 0 {
		b := l.idle[len(l.idle)-1]
		l.idle = l.idle[:len(l.idle)-1]
		if b.state != connClosed && b.addr == l.topo.master {
			b.idleSince = time.Time{}
			return b, nil
		}
		b.close()
	}
	b := newBconn(l, l.topo.master, kindDedicated)
	if b.state == connClosed {
		err, _ := l.isDown(l.topo.master)
		return nil, err
	}
	return b, nil
}

// giveBack returns a dedicated connection whose client is done with it and
// whose replies are all in.
func (l *loop) giveBack(b *bconn) {
	b.owner, b.release = nil, false
	if b.state == connClosed || b.addr != l.topo.master || len(l.idle) >= maxIdleDedicated {
		b.close()
		return
	}
	b.idleSince = l.now
	l.idle = append(l.idle, b)
}

// maxIdleDedicated is how many clean dedicated connections a loop keeps.
const maxIdleDedicated = 16

// isDown reports whether addr is in its backoff after a failed connection,
// and the error that put it there.
func (l *loop) isDown(addr string) (error, bool) {
	d, ok := l.down[addr]
	if !ok || !l.now.Before(d.until) {
		return nil, false
	}
	return d.err, true
}

// connFailed records a failed connection attempt to addr.
func (l *loop) connFailed(addr string, err error) {
	d := l.down[addr]
	switch {
	case d.backoff == 0:
		d.backoff = 50 * time.Millisecond
	case d.backoff < time.Second:
		d.backoff *= 2
	}
	d.until, d.err = l.now.Add(d.backoff), err
	l.down[addr] = d
}

// connUp forgets addr's failures.
func (l *loop) connUp(addr string) { delete(l.down, addr) }

func (l *loop) clientDirty(c *client) {
	if !c.dirty {
		c.dirty = true
		l.dirtyClients = append(l.dirtyClients, c)
		l.queueFlush()
	}
}

func (l *loop) backendDirty(b *bconn) {
	if !b.dirty {
		b.dirty = true
		l.dirtyBackends = append(l.dirtyBackends, b)
		l.queueFlush()
	}
}

func (l *loop) resume(c *client) {
	l.resumable = append(l.resumable, c)
	l.queueFlush()
}

// queueFlush asks for a flush at the end of this loop turn: the task runs
// after the events of the current batch, so every request the batch
// brought goes out in one write per backend connection.
func (l *loop) queueFlush() {
	if l.flushQueued {
		return
	}
	l.flushQueued = true
	if err := l.el.Execute(context.Background(), l.flushTask); err != nil {
		l.flushQueued = false
	}
}

// flush writes out what the turn gathered.
func (l *loop) flush() {
	l.flushQueued = false
	l.now = time.Now()
	// Held clients first: what they send joins this flush.
	for i := 0; i < len(l.resumable); i++ {
		l.resumable[i].resume()
	}
	clear(l.resumable)
	l.resumable = l.resumable[:0]
	for i := 0; i < len(l.dirtyBackends); i++ {
		b := l.dirtyBackends[i]
		b.dirty = false
		b.flush()
	}
	clear(l.dirtyBackends)
	l.dirtyBackends = l.dirtyBackends[:0]
	for i := 0; i < len(l.dirtyClients); i++ {
		c := l.dirtyClients[i]
		c.dirty = false
		c.flush()
	}
	clear(l.dirtyClients)
	l.dirtyClients = l.dirtyClients[:0]
}

// tick runs the loop's timers.
func (l *loop) tick() {
	l.now = time.Now()
	if t := l.p.topo.Load(); t != l.topo {
		l.topologyChanged()
	}
	l.refreshView()
	l.checkWaits()
	// Replicas that sit on reads past the read timeout are given up on.
	for _, b := range l.shared {
		if b.addr != l.topo.master && b.oldestWait(l.now) > l.topo.readTimeout {
			l.p.log.Warnf("replica %s did not answer a read within %v; its reads go elsewhere", b.addr, l.topo.readTimeout)
			l.connFailed(b.addr, errReplicaTimeout)
			b.fail(errReplicaTimeout)
		}
	}
	switch {
	case l.view.Master.Up:
		l.masterHung = false
	case l.view.Master.Addr == l.topo.master:
		l.masterSilent()
	}
	// Idle dedicated connections are closed after a while.
	keep := l.idle[:0]
	for _, b := range l.idle {
		if l.now.Sub(b.idleSince) > 30*time.Second {
			b.close()
			continue
		}
		keep = append(keep, b)
	}
	clear(l.idle[len(keep):])
	l.idle = keep
	if idle := l.topo.idle; idle > 0 {
		for c := range l.clients {
			if c.idleFor(l.now) > idle {
				c.conn.Close()
			}
		}
	}
}

// masterSilent runs while the master answers no poll of the lag monitor:
// the master connections whose oldest request has waited past
// masterTimeout are closed and their requests answered with -MASTERDOWN
// (a reply coming late would be out of step), and new master requests get
// -MASTERDOWN at once until the master answers a poll again. Every request gets a
// reply, even from a master that has stopped without closing anything.
func (l *loop) masterSilent() {
	var late []*bconn
	check := func(b *bconn) {
		if b != nil && b.addr == l.topo.master && b.oldestWait(l.now) > masterTimeout && !slices.Contains(late, b) {
			late = append(late, b)
		}
	}
	check(l.shared[l.topo.master])
	for c := range l.clients {
		check(c.pinned)
		check(c.own)
	}
	if len(late) == 0 {
		return
	}
	n := 0
	for _, b := range late {
		n += b.pending()
	}
	l.p.log.Warnf("master %s answered none of %d requests on %d connections within %v, nor the lag monitor's polls: they get -MASTERDOWN, as do master requests until it answers a poll", l.topo.master, n, len(late), masterTimeout)
	l.masterHung = true
	for _, b := range late {
		b.fail(errMasterTimeout)
	}
}

// topologyChanged follows a reload: shared connections to backends no
// longer named are drained and closed; new requests use the new topology.
func (l *loop) topologyChanged() {
	t := l.p.topo.Load()
	if t == l.topo {
		return
	}
	old := l.topo
	l.topo = t
	named := map[string]bool{t.master: true}
	for _, r := range t.replicas {
		named[r] = true
	}
	for addr, b := range l.shared {
		if !named[addr] {
			delete(l.shared, addr)
			b.drain()
		}
	}
	if old.master != t.master {
		l.masterHung = false
		// A new master: sessions pinned to the old one lose their state
		// with their connection (the client is closed, as a failover
		// would close it), so none of them writes to the old master
		// after the new one takes writes.
		for c := range l.clients {
			for _, b := range []*bconn{c.pinned, c.own} {
				if b != nil && b.addr != t.master {
					b.close()
				}
			}
		}
		for _, b := range l.idle {
			b.close()
		}
		l.idle = l.idle[:0]
	}
	l.master = nil
	l.view = nil
	l.refreshView()
}

// unpause lets the requests held by a write pause go on.
func (l *loop) unpause() {
	for _, c := range l.paused {
		l.resume(c)
	}
	clear(l.paused)
	l.paused = l.paused[:0]
}
