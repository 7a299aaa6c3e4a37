// Package proxy is lagwise's single endpoint for applications: a Redis
// protocol proxy on gnet event loops that sends writes to the master and
// spreads reads over the replicas by their measured lag.
//
// The data path, in the order a request meets it:
//
//   - A client connection belongs to one event loop (client.go). Its
//     requests are parsed straight from the bytes gnet read, routed by the
//     client's router.Session, and either answered by the proxy itself
//     (local.go) or appended to a backend connection's output.
//   - Each event loop has its own connections to every backend, on the
//     same loop (backend.go), so a request and its reply never cross
//     goroutines. The requests of all the loop's clients are gathered into
//     one write per backend connection per loop turn (loop.go), and the
//     replies are handed back through each connection's FIFO of waiters.
//   - A client's replies leave in the order of its requests whichever
//     backend answered each: every request takes a slot in the client's
//     queue, and a reply that arrives before its elders waits in its slot.
//   - The lag monitor (monitor.go) polls the backends off the data path and
//     publishes a View; each loop turns a new View into its router.Picker.
//
// Nothing in the data path blocks: dialling and the monitor's polls run
// on goroutines of their own and come back to a loop through
// gnet.EventLoop.Execute.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/metrics"
	"github.com/lagwise/lagwise/router"
)

// reconcileEvery is how often, with reconcile on, the backends' roles are
// checked against the file between reloads.
const reconcileEvery = 2 * time.Second

// Version is what HELLO and INFO report as the server's version: the Redis
// version whose protocol and commands the proxy speaks.
const Version = "7.0.0"

// topology is one valid config as the data path uses it. It is immutable;
// a reload publishes a new one.
type topology struct {
	cfg        *config.Config
	master     string
	replicas   []string
	classifier *router.Classifier
	ryw        bool
	password   string
	// backendSetup is sent first on every backend connection (AUTH when
	// backend_auth has a password), and setupReplies is the number of
	// replies it draws.
	backendSetup []byte
	setupReplies int
	// readTimeout: a replica that has not answered a read by then is
	// given up on, and its reads go elsewhere.
	readTimeout time.Duration
	queryLimit  int64
	outputLimit int64
	idle        time.Duration
	maxClients  int
}

func newTopology(cfg *config.Config) (*topology, error) {
	cl, err := router.NewClassifier(cfg.AllowCommands)
	if err != nil {
		return nil, err
	}
	t := &topology{
		cfg:         cfg,
		master:      cfg.Master,
		classifier:  cl,
		ryw:         cfg.Routing.ReadYourWrites,
		password:    string(cfg.Auth.Password),
		readTimeout: cfg.Routing.PollTimeout + cfg.Routing.LagPollInterval,
		queryLimit:  int64(cfg.Limits.ClientQueryBuffer),
		outputLimit: int64(cfg.Limits.ClientOutputBuffer),
		idle:        cfg.Limits.IdleTimeout,
		maxClients:  cfg.Limits.MaxClients,
	}
	if t.readTimeout < 200*time.Millisecond {
		t.readTimeout = 200 * time.Millisecond
	}
	for _, r := range cfg.Replicas {
		t.replicas = append(t.replicas, r.Addr)
	}
	if pw := string(cfg.BackendAuth.Password); pw != "" {
		if u := cfg.BackendAuth.Username; u != "" {
			t.backendSetup = resp.AppendCommand(nil, []byte("AUTH"), []byte(u), []byte(pw))
		} else {
			t.backendSetup = resp.AppendCommand(nil, []byte("AUTH"), []byte(pw))
		}
		t.setupReplies = 1
	}
	return t, nil
}

// hasReplica reports whether addr is one of the topology's replicas.
func (t *topology) hasReplica(addr string) bool {
	for _, r := range t.replicas {
		if r == addr {
			return true
		}
	}
	return false
}

func (t *topology) monitorConfig(logf func(Level, string, ...any)) MonitorConfig {
	c := t.cfg
	return MonitorConfig{
		Master:   c.Master,
		Replicas: c.Replicas,
		Policy:   c.Routing.Policy(),
		Interval: c.Routing.LagPollInterval,
		Timeout:  c.Routing.PollTimeout,
		Username: c.BackendAuth.Username,
		Password: string(c.BackendAuth.Password),
		Logf:     logf,
	}
}

// lagSource is what the data path needs of the lag monitor.
type lagSource interface {
	// View is the latest view; never nil.
	View() *View
	// Started counts the poll rounds begun.
	Started() uint64
	// Kick asks for a round now.
	Kick()
}

// Proxy is one running proxy. Make it with New, start it with Run.
type Proxy struct {
	gnet.BuiltinEventEngine

	topo    atomic.Pointer[topology]
	monitor *Monitor
	// lag is where the data path reads the monitor's view: the monitor,
	// or a test's stand-in.
	lag lagSource
	// log is the proxy's log, at config.yaml's log_level.
	log *Logger
	// dial connects a backend connection and startTicker starts a loop's
	// timer; tests replace them.
	dial        func(*bconn)
	startTicker func(*loop)

	engine  gnet.Engine
	started chan struct{}
	addr    string
	// listen and metricsListen are the addresses the proxy serves on,
	// the config's at New: a reload does not move them.
	listen, metricsListen string

	loopsMu sync.Mutex
	loops   map[gnet.EventLoop]*loop
	// loopList is every loop made so far, for the counters.
	loopList atomic.Pointer[[]*loop]

	backends backendRegistry
	clients  atomic.Int64
	nextID   atomic.Int64
	reloads  [2]atomic.Uint64 // ok, error
	lastErr  atomic.Pointer[string]
	startAt  time.Time
	stopping atomic.Bool
	// writesPaused holds master-bound requests in the loops (a planned
	// switch of masters); ResumeWrites lets them go.
	writesPaused atomic.Bool

	// rec reconciles backends' roles with the file; reconcileMu keeps
	// one pass at a time.
	rec              *reconciler
	reconcileMu      sync.Mutex
	reconcileActions atomic.Uint64
	// lastGap is the offset gap of the last promotion without the old
	// master: bytes of writes that may be lost.
	lastGap atomic.Int64
	// restartNote names the listen addresses of the config last
	// applied that differ from the ones served on; nil if none.
	restartNote atomic.Pointer[string]
}

// New makes a proxy for cfg, which must be valid (config.Load validates).
// It logs to lg (nil: a Logger on log.Printf) and sets lg's level to
// cfg's log_level, and to that of each config it takes later.
func New(cfg *config.Config, lg *Logger) (*Proxy, error) {
	if lg == nil {
		lg = NewLogger(nil)
	}
	t, err := newTopology(cfg)
	if err != nil {
		return nil, err
	}
	setLogLevel(lg, cfg)
	p := &Proxy{
		log:           lg,
		started:       make(chan struct{}),
		loops:         make(map[gnet.EventLoop]*loop),
		startAt:       time.Now(),
		listen:        cfg.Listen,
		metricsListen: cfg.MetricsListen,
	}
	p.topo.Store(t)
	p.monitor = NewMonitor(t.monitorConfig(lg.Logf))
	p.lag = p.monitor
	p.rec = &reconciler{p: p, admin: netAdmin{p}, switchTimeout: 5 * time.Second, logf: lg.Logf, now: time.Now, sleep: time.Sleep}
	p.dial = (*bconn).dial
	p.startTicker = func(l *loop) { go l.ticker() }
	empty := []*loop{}
	p.loopList.Store(&empty)
	return p, nil
}

// setLogLevel sets lg to cfg's log_level; Validate has checked it.
func setLogLevel(lg *Logger, cfg *config.Config) {
	if lvl, err := ParseLevel(cfg.LogLevel); err == nil {
		lg.SetLevel(lvl)
	}
}

// Log returns the proxy's log.
func (p *Proxy) Log() *Logger { return p.log }

// Monitor returns the proxy's lag monitor.
func (p *Proxy) Monitor() *Monitor { return p.monitor }

// Config returns the config the proxy runs on. Its listen and
// metrics_listen are the addresses served on, whatever a reload's file
// says.
func (p *Proxy) Config() *config.Config { return p.topo.Load().cfg }

// Run serves until ctx is done, then stops the event loops and closes
// every connection. It returns an error if the listen address cannot be
// bound.
func (p *Proxy) Run(ctx context.Context) error {
	host, port, err := net.SplitHostPort(p.listen)
	if err != nil {
		return fmt.Errorf("listen %q: %v", p.listen, err)
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if addr := p.metricsListen; addr != "" {
		ln, err := metrics.Listen(addr)
		if err != nil {
			return err
		}
		h := metrics.HandlerWithReason(metrics.NewProxyRegistry(p), p.readyReason)
		go func() {
			if err := metrics.ServeListener(mctx, ln, h); err != nil {
				p.log.Errorf("metrics: %v", err)
			}
		}()
	}
	go p.monitor.Run(mctx)
	go p.reconcileLoop(mctx, reconcileEvery)

	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(p, "tcp://"+net.JoinHostPort(host, port),
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(eventLoops(runtime.GOMAXPROCS(0))),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReusePort(false),
			gnet.WithLogger(useGnetLogger(p.log)),
		)
	}()
	select {
	case err := <-errc:
		if err == nil {
			err = errors.New("the event loops stopped at start")
		}
		return fmt.Errorf("listen %s: %w", p.listen, err)
	case <-p.started:
	}
	t := p.topo.Load()
	p.log.Infof("proxy listening on %s (master %s, %d replicas)", p.addr, t.master, len(t.replicas))
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	p.stopping.Store(true)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = p.engine.Stop(sctx)
	<-errc
	return nil
}

// eventLoops is the number of event loops for n usable cores: half of
// them, at least one. A proxy shares its machine with what it talks to
// (the clients, often the backends), and every loop that runs costs
// scheduler wake-ups besides its syscalls; more loops also mean smaller
// batches per backend write. On two cores shared with Redis and
// redis-benchmark, one loop served GET -P 1 at 0.94–1.02× of Redis direct
// where two loops reached 0.65× (docs/architecture.md).
func eventLoops(n int) int { return max(1, n/2) }

// Addr returns the address the proxy listens on, once Run has started it.
func (p *Proxy) Addr() string { return p.addr }

// Started is closed once the proxy accepts connections.
func (p *Proxy) Started() <-chan struct{} { return p.started }

// Reload swaps in a new config: new connections and requests use it at
// once, backends that left the topology are drained and closed by each
// loop, the monitor polls the new set, and the log keeps the lines at
// cfg's log_level and above. cfg must be valid.
//
// listen and metrics_listen take a restart: a cfg that changes them is
// applied with the addresses served on kept (Config shows those), and the
// change is logged and shown by LAGWISE CONFIG as needing a restart.
func (p *Proxy) Reload(cfg *config.Config) error {
	var notes []string
	if config.NeedsRestart(p.Config(), cfg) {
		notes = p.restartNotes(cfg)
		running := *cfg
		running.Listen, running.MetricsListen = p.listen, p.metricsListen
		cfg = &running
	}
	t, err := newTopology(cfg)
	if err != nil {
		p.reloads[1].Add(1)
		msg := err.Error()
		p.lastErr.Store(&msg)
		return err
	}
	p.topo.Store(t)
	setLogLevel(p.log, cfg)
	p.monitor.Update(t.monitorConfig(p.log.Logf))
	p.reloads[0].Add(1)
	p.lastErr.Store(nil)
	if len(notes) == 0 {
		p.restartNote.Store(nil)
	} else {
		note := strings.Join(notes, "; ")
		p.restartNote.Store(&note)
		p.log.Warnf("config %s: %s; the rest of the file is applied", orDash(cfg.File()), note)
	}
	p.forEachLoop(func(l *loop) { l.topologyChanged() })
	return nil
}

// restartNotes names each listen address of cfg that differs from the one
// the proxy serves on (config.Diff marks them "(needs restart)"), and says
// that the running one is kept.
func (p *Proxy) restartNotes(cfg *config.Config) []string {
	var notes []string
	if cfg.Listen != p.listen {
		notes = append(notes, fmt.Sprintf("listen %s needs a restart: the proxy keeps listening on %s until then", cfg.Listen, p.listen))
	}
	if cfg.MetricsListen != p.metricsListen {
		notes = append(notes, fmt.Sprintf("metrics_listen %s needs a restart: the proxy keeps serving metrics on %s until then", cfg.MetricsListen, p.metricsListen))
	}
	return notes
}

// PauseWrites holds every request for the master, from the next one on,
// until ResumeWrites; reads go on. Requests already sent are not recalled.
func (p *Proxy) PauseWrites() { p.writesPaused.Store(true) }

// ResumeWrites ends a PauseWrites: the held requests are routed again,
// under the topology of that moment.
func (p *Proxy) ResumeWrites() {
	p.writesPaused.Store(false)
	p.forEachLoop(func(l *loop) { l.unpause() })
}

// ReloadFailed records a config file that could not replace the running
// one.
func (p *Proxy) ReloadFailed(err error) {
	p.reloads[1].Add(1)
	msg := err.Error()
	p.lastErr.Store(&msg)
}

// forEachLoop runs f on every loop, each on its own event loop.
func (p *Proxy) forEachLoop(f func(*loop)) {
	for _, l := range *p.loopList.Load() {
		l := l
		_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			f(l)
			return nil
		}))
	}
}

// OnBoot implements gnet.EventHandler.
func (p *Proxy) OnBoot(eng gnet.Engine) gnet.Action {
	p.engine = eng
	p.addr = p.listen
	close(p.started)
	return gnet.None
}

// loopOf returns the loop state of el, making it on first use.
func (p *Proxy) loopOf(el gnet.EventLoop) *loop {
	p.loopsMu.Lock()
	defer p.loopsMu.Unlock()
	l := p.loops[el]
	if l == nil {
		l = newLoop(p, el, len(p.loops))
		p.loops[el] = l
		list := append(append([]*loop(nil), *p.loopList.Load()...), l)
		p.loopList.Store(&list)
		p.startTicker(l)
	}
	return l
}

// OnOpen implements gnet.EventHandler: a client connected, or a backend
// connection a loop dialled is now registered on it.
func (p *Proxy) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if b, ok := c.Context().(*bconn); ok {
		b.opened(c)
		return nil, gnet.None
	}
	t := p.topo.Load()
	if p.stopping.Load() {
		return nil, gnet.Close
	}
	if t.maxClients > 0 && p.clients.Load() >= int64(t.maxClients) {
		return []byte("-ERR max number of clients reached\r\n"), gnet.Close
	}
	l := p.loopOf(c.EventLoop())
	cl := newClient(l, c, p.nextID.Add(1))
	c.SetContext(cl)
	p.clients.Add(1)
	return nil, gnet.None
}

// OnClose implements gnet.EventHandler.
func (p *Proxy) OnClose(c gnet.Conn, err error) gnet.Action {
	switch x := c.Context().(type) {
	case *client:
		p.clients.Add(-1)
		x.closed()
	case *bconn:
		x.lost(err)
	}
	return gnet.None
}

// OnTraffic implements gnet.EventHandler.
func (p *Proxy) OnTraffic(c gnet.Conn) gnet.Action {
	switch x := c.Context().(type) {
	case *client:
		return x.traffic()
	case *bconn:
		return x.traffic()
	}
	return gnet.Close
}
