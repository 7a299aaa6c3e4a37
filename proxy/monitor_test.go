package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

// monFake is a fake backend: a listener that answers AUTH and INFO with
// what its info function says, for the monitor's loop tests.
type monFake struct {
	t    *testing.T
	ln   net.Listener
	addr string
	port int

	mu sync.Mutex
	// info returns the payload of INFO section; "" answers with an
	// empty bulk string.
	info func(section string) string
	// reply, when set, answers INFO with this raw RESP instead.
	reply    string
	hang     bool          // read requests, answer nothing
	paused   bool          // answer nothing until unpaused, then everything
	delay    time.Duration // wait this long before each answer
	password string        // AUTH needed when set
	auths    [][]string
	accepted int
	open     map[net.Conn]bool
}

func monStartFake(t *testing.T) *monFake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &monFake{t: t, ln: ln, addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, open: map[net.Conn]bool{}}
	f.info = func(string) string { return "" }
	go f.serve()
	t.Cleanup(f.stop)
	return f
}

func (f *monFake) stop() {
	f.ln.Close()
	f.dropConns()
}

// dropConns closes every open connection, as a backend restart would.
func (f *monFake) dropConns() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.open {
		c.Close()
	}
}

func (f *monFake) set(fn func(f *monFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *monFake) isPaused() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused
}

func (f *monFake) stats() (accepted, open int, auths [][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted, len(f.open), append([][]string(nil), f.auths...)
}

func (f *monFake) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.accepted++
		f.open[c] = true
		f.mu.Unlock()
		go f.handle(c)
	}
}

func (f *monFake) handle(c net.Conn) {
	defer func() {
		f.mu.Lock()
		delete(f.open, c)
		f.mu.Unlock()
		c.Close()
	}()
	rd := bufio.NewReader(c)
	authed := false
	for {
		args, err := monFakeReadCommand(rd)
		if err != nil {
			return
		}
		f.mu.Lock()
		hang, password, info, raw, delay := f.hang, f.password, f.info, f.reply, f.delay
		if strings.EqualFold(args[0], "AUTH") {
			f.auths = append(f.auths, args)
		}
		f.mu.Unlock()
		if hang {
			continue
		}
		for f.isPaused() {
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(delay)
		var out string
		switch {
		case strings.EqualFold(args[0], "AUTH"):
			if args[len(args)-1] == password {
				authed = true
				out = "+OK\r\n"
			} else {
				out = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
			}
		case password != "" && !authed:
			out = "-NOAUTH Authentication required.\r\n"
		case strings.EqualFold(args[0], "INFO") && raw != "":
			out = raw
		case strings.EqualFold(args[0], "INFO") && len(args) == 2:
			text := info(strings.ToLower(args[1]))
			out = "$" + strconv.Itoa(len(text)) + "\r\n" + text + "\r\n"
		default:
			out = "-ERR unknown command\r\n"
		}
		if _, err := io.WriteString(c, out); err != nil {
			return
		}
	}
}

func monFakeReadCommand(rd *bufio.Reader) ([]string, error) {
	r, err := monReadLine(rd)
	if err != nil {
		return nil, err
	}
	if len(r) < 2 || r[0] != '*' {
		return nil, fmt.Errorf("not an array: %q", r)
	}
	n, err := strconv.Atoi(string(r[1:]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("bad array: %q", r)
	}
	args := make([]string, n)
	for i := range args {
		rep, err := monReadReply(rd, 0)
		if err != nil {
			return nil, err
		}
		args[i] = rep.str
	}
	return args, nil
}

// monMasterText is a master's INFO replication at offset off with
// replication ID id and one slaveN line per replica port.
func monMasterText(id string, off int64, replicaPorts ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Replication\r\nrole:master\r\nconnected_slaves:%d\r\n", len(replicaPorts))
	for i, p := range replicaPorts {
		fmt.Fprintf(&b, "slave%d:ip=127.0.0.1,port=%d,state=online,offset=%d,lag=0\r\n", i, p, off)
	}
	fmt.Fprintf(&b, "master_failover_state:no-failover\r\nmaster_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:%d\r\nsecond_repl_offset:-1\r\n", id, off)
	return b.String()
}

// monReplicaText is a replica's INFO replication.
func monReplicaText(id string, off int64, link string, masterPort int) string {
	return fmt.Sprintf("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"+
		"master_last_io_seconds_ago:0\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:%d\r\nslave_repl_offset:%d\r\n"+
		"slave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\nmaster_replid:%s\r\nmaster_repl_offset:%d\r\n",
		masterPort, link, off, off, id, off)
}

const monTestID = "1111111111111111111111111111111111111111"

// monTopology is a fake master with fake replicas in sync at offset off.
type monTopology struct {
	master   *monFake
	replicas []*monFake
	masterOf atomic.Int64 // the master's offset
}

func monStartTopology(t *testing.T, n int, off int64) *monTopology {
	tp := &monTopology{master: monStartFake(t)}
	tp.masterOf.Store(off)
	var ports []int
	for i := 0; i < n; i++ {
		r := monStartFake(t)
		r.info = func(section string) string {
			if section == "persistence" {
				return "# Persistence\r\nloading:0\r\nasync_loading:0\r\n"
			}
			return monReplicaText(monTestID, off, "up", tp.master.port)
		}
		tp.replicas = append(tp.replicas, r)
		ports = append(ports, r.port)
	}
	tp.master.info = func(string) string { return monMasterText(monTestID, tp.masterOf.Load(), ports...) }
	return tp
}

func (tp *monTopology) config(interval, timeout time.Duration) MonitorConfig {
	cfg := MonitorConfig{Master: tp.master.addr, Policy: router.DefaultPolicy(), Interval: interval, Timeout: timeout}
	for _, r := range tp.replicas {
		cfg.Replicas = append(cfg.Replicas, config.Replica{Addr: r.addr, Weight: 1})
	}
	return cfg
}

// monRun runs m until the test ends, and waits for Run to return then.
func monRun(t *testing.T, m *Monitor) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return cancel
}

// monWaitFor waits up to d for a view that satisfies ok, and returns it.
func monWaitFor(t *testing.T, m *Monitor, d time.Duration, what string, ok func(*View) bool) *View {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	v := m.View()
	for !ok(v) {
		var err error
		if v, err = m.Wait(ctx, v.Seq); err != nil {
			t.Fatalf("no view where %s within %v; last: %s", what, d, monDescribe(m.View()))
		}
	}
	return v
}

func monDescribe(v *View) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seq %d master %+v", v.Seq, v.Master)
	for _, r := range v.Replicas {
		fmt.Fprintf(&b, "\n  %s up=%v health=%v offset=%d bytes=%d lag=%v ack=%d err=%q", r.Addr, r.Up, r.Health, r.Offset, r.ByteLag, r.TimeLag, r.AckOffset, r.Err)
	}
	return b.String()
}

func monLogf(t *testing.T) func(Level, string, ...any) {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	return func(lvl Level, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf(lvl.String()+" "+format, args...)
		}
	}
}

func TestMonitorPolls(t *testing.T) {
	tp := monStartTopology(t, 2, 5000)
	for _, f := range append([]*monFake{tp.master}, tp.replicas...) {
		f.password = "sesame"
	}
	cfg := tp.config(20*time.Millisecond, time.Second)
	cfg.Username, cfg.Password = "proxy", "sesame"
	cfg.Logf = monLogf(t)
	m := NewMonitor(cfg)

	// Before the first round: nothing known, no reads.
	v := m.View()
	if v == nil || v.Seq != 0 || v.Master.Offset != -1 || len(v.Replicas) != 2 {
		t.Fatalf("initial view: %+v", v)
	}
	for i, r := range v.Replicas {
		if r.Health != router.NoAnswer || v.Eligibility.Routable(i) {
			t.Errorf("initial replica %d: %+v", i, r)
		}
	}

	monRun(t, m)
	v = monWaitFor(t, m, 5*time.Second, "both replicas are known", func(v *View) bool {
		return v.Replicas[0].Health == router.Known && v.Replicas[1].Health == router.Known
	})
	if !v.Master.Up || v.Master.Role != "master" || v.Master.Offset != 5000 || v.Master.ReplID != monTestID || len(v.Master.Replicas) != 2 {
		t.Errorf("master: %+v", v.Master)
	}
	for i, r := range v.Replicas {
		if !r.Up || r.Role != "slave" || r.LinkStatus != "up" || r.Offset != 5000 || r.ByteLag != 0 || r.TimeLag != 0 || r.AckOffset != 5000 || r.LagSeconds != 0 {
			t.Errorf("replica %d: %+v", i, r)
		}
		if !v.Eligibility.Routable(i) {
			t.Errorf("replica %d not routable: %+v", i, v.Eligibility.Replicas[i])
		}
	}
	if s := m.Started(); s < v.Seq {
		t.Errorf("Started %d < view seq %d", s, v.Seq)
	}
	// One connection each, authenticated with the user and password.
	for _, f := range append([]*monFake{tp.master}, tp.replicas...) {
		accepted, _, auths := f.stats()
		if accepted != 1 || len(auths) != 1 || strings.Join(auths[0], " ") != "AUTH proxy sesame" {
			t.Errorf("%s: %d connections, AUTHs %q", f.addr, accepted, auths)
		}
	}
}

// A replica that stops answering is NoAnswer within poll_timeout, and a
// round with it does not take much longer than that.
func TestMonitorNoAnswer(t *testing.T) {
	tp := monStartTopology(t, 2, 100)
	const timeout = 150 * time.Millisecond
	m := NewMonitor(tp.config(20*time.Millisecond, timeout))
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "replica 0 is known", func(v *View) bool { return v.Replicas[0].Health == router.Known })

	tp.replicas[0].set(func(f *monFake) { f.hang = true })
	start := time.Now()
	after := m.Started()
	v := monWaitFor(t, m, 5*time.Second, "replica 0 does not answer", func(v *View) bool {
		return v.Seq > after && v.Replicas[0].Health == router.NoAnswer
	})
	took := time.Since(start)
	r := v.Replicas[0]
	if r.Up || !strings.Contains(r.Err, "no answer within poll_timeout 150ms") || v.Eligibility.Routable(0) {
		t.Errorf("hung replica: %+v", r)
	}
	if r.PollErrors == 0 {
		t.Errorf("no poll error counted")
	}
	// The other replica and the master answered in the same round.
	if v.Replicas[1].Health != router.Known || !v.Eligibility.Routable(1) || !v.Master.Up {
		t.Errorf("healthy backends in the same round: %s", monDescribe(v))
	}
	// One interval to start the round, the timeout; slack for a loaded
	// machine.
	if took > timeout+20*time.Millisecond+500*time.Millisecond {
		t.Errorf("NoAnswer took %v with poll_timeout %v", took, timeout)
	}

	// It answers again: it comes back, on a new connection (the requests
	// it dropped are never answered: after monMaxStall the monitor gives
	// up on the connection that owes them).
	tp.replicas[0].set(func(f *monFake) { f.hang = false })
	v = monWaitFor(t, m, 5*time.Second, "replica 0 is back", func(v *View) bool { return v.Replicas[0].Health == router.Known })
	if !v.Eligibility.Routable(0) {
		t.Errorf("back but not routable: %+v", v.Eligibility.Replicas[0])
	}
	if accepted, _, _ := tp.replicas[0].stats(); accepted < 2 {
		t.Errorf("no reconnection after a timeout: %d connections", accepted)
	}
}

func TestMonitorHealth(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	m := NewMonitor(tp.config(20*time.Millisecond, time.Second))
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is known", func(v *View) bool { return v.Replicas[0].Health == router.Known })
	r := tp.replicas[0]

	cases := []struct {
		name   string
		repl   string
		pers   string
		raw    string
		health router.Health
		err    string
	}{
		{"link down", monReplicaText(monTestID, 100, "down", tp.master.port), "loading:0\r\n", "", router.LinkDown, "master_link_status:down"},
		{"syncing", strings.Replace(monReplicaText(monTestID, 100, "down", tp.master.port), "master_sync_in_progress:0", "master_sync_in_progress:1", 1),
			"loading:0\r\n", "", router.Syncing, "full sync"},
		{"loading", monReplicaText(monTestID, 100, "down", tp.master.port), "loading:1\r\n", "", router.Loading, "loading"},
		{"-LOADING", "", "", "-LOADING Redis is loading the dataset in memory\r\n", router.Loading, "LOADING"},
		{"another master's", monReplicaText("2222222222222222222222222222222222222222", 100, "up", 1), "loading:0\r\n", "", router.NotReplica, "not the master's"},
		{"promoted", monMasterText(monTestID, 100), "loading:0\r\n", "", router.NotReplica, "role is master"},
		{"garbage", "", "", "*1\r\n:1\r\n", router.NoAnswer, "protocol error"},
		{"error", "", "", "-ERR unknown command 'INFO'\r\n", router.NoAnswer, "unknown command"},
		{"back", monReplicaText(monTestID, 100, "up", tp.master.port), "loading:0\r\n", "", router.Known, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.set(func(f *monFake) {
				f.reply = c.raw
				f.info = func(section string) string {
					if section == "persistence" {
						return c.pers
					}
					return c.repl
				}
			})
			after := m.Started()
			v := monWaitFor(t, m, 5*time.Second, "health is "+c.health.String(), func(v *View) bool {
				return v.Seq > after && v.Replicas[0].Health == c.health
			})
			st := v.Replicas[0]
			if !strings.Contains(st.Err, c.err) {
				t.Errorf("err %q, want %q", st.Err, c.err)
			}
			if v.Eligibility.Routable(0) != (c.health == router.Known) {
				t.Errorf("routable %v with health %v", v.Eligibility.Routable(0), c.health)
			}
		})
	}
}

// The time lag grows while the master moves on and the replica does not,
// the replica is cut off at max_lag, and returns once it catches up.
func TestMonitorLagGrows(t *testing.T) {
	tp := monStartTopology(t, 1, 1000)
	var replicaOff atomic.Int64
	replicaOff.Store(1000)
	tp.replicas[0].set(func(f *monFake) {
		f.info = func(section string) string {
			if section == "persistence" {
				return "loading:0\r\n"
			}
			return monReplicaText(monTestID, replicaOff.Load(), "up", tp.master.port)
		}
	})
	cfg := tp.config(10*time.Millisecond, time.Second)
	cfg.Policy.MaxLag = 200 * time.Millisecond
	m := NewMonitor(cfg)
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is routable", func(v *View) bool { return v.Eligibility.Routable(0) })

	// The master writes; the replica stalls at 1000.
	stalled := time.Now() // before: a poll sent just before may read 2000
	tp.masterOf.Store(2000)
	v := monWaitFor(t, m, 5*time.Second, "the replica is cut off", func(v *View) bool { return !v.Eligibility.Routable(0) })
	r := v.Replicas[0]
	if r.Health != router.Known || r.ByteLag != 1000 || r.TimeLag < cfg.Policy.MaxLag || r.TimeLag > time.Since(stalled) {
		t.Errorf("stalled replica: %+v (stalled %v ago)", r, time.Since(stalled))
	}
	if v.Eligibility.Replicas[0].Cause != router.TooFar {
		t.Errorf("cause %v", v.Eligibility.Replicas[0].Cause)
	}

	// It catches up.
	replicaOff.Store(2000)
	v = monWaitFor(t, m, 5*time.Second, "the replica is back", func(v *View) bool { return v.Eligibility.Routable(0) })
	if r := v.Replicas[0]; r.ByteLag != 0 || r.TimeLag != 0 {
		t.Errorf("caught-up replica: %+v", r)
	}
}

// Read-your-writes: a View with Seq > S holds a master offset read after
// Started() returned S. The fake master reports as its offset the value
// of Started() when it receives the INFO.
func TestMonitorSeqCoversWrites(t *testing.T) {
	tp := monStartTopology(t, 1, 0)
	var m *Monitor
	var ready atomic.Bool
	tp.master.set(func(f *monFake) {
		f.info = func(string) string {
			var s uint64
			if ready.Load() {
				s = m.Started()
			}
			return monMasterText(monTestID, int64(s), tp.replicas[0].port)
		}
	})
	m = NewMonitor(tp.config(5*time.Millisecond, time.Second))
	ready.Store(true)
	monRun(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 50; i++ {
		s := m.Started() // a write's reply arrives
		if i%2 == 0 {
			m.Kick()
		}
		v, err := m.Wait(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Master.Up {
			t.Fatalf("master down: %+v", v.Master)
		}
		if v.Master.Offset < int64(v.Seq) || uint64(v.Master.Offset) <= s {
			t.Fatalf("view seq %d after S=%d carries a master offset read when Started() was %d", v.Seq, s, v.Master.Offset)
		}
	}
}

// Update: a new replica gets no reads until polled; a removed one's
// connection is closed; the view is republished at once.
func TestMonitorUpdate(t *testing.T) {
	tp := monStartTopology(t, 3, 100)
	cfg := tp.config(20*time.Millisecond, time.Second)
	all := cfg.Replicas
	cfg.Replicas = all[:2]
	m := NewMonitor(cfg)
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "both replicas are known", func(v *View) bool {
		return v.Replicas[0].Health == router.Known && v.Replicas[1].Health == router.Known
	})

	// Drop replica 0, add replica 2.
	next := cfg
	next.Replicas = []config.Replica{all[1], {Addr: all[2].Addr, Weight: 5}}
	seq := m.View().Seq
	m.Update(next)
	v := m.View()
	if len(v.Replicas) != 2 || v.Replicas[0].Addr != all[1].Addr || v.Replicas[1].Addr != all[2].Addr {
		t.Fatalf("republished view: %s", monDescribe(v))
	}
	if v.Replicas[0].Health != router.Known || !v.Eligibility.Routable(0) {
		t.Errorf("kept replica lost its state: %+v", v.Replicas[0])
	}
	// Update kicks a round: on a busy machine it may already have polled
	// the new replica by now; only the republished view (same Seq) must
	// show it unpolled.
	if v.Seq == seq && (v.Replicas[1].Health != router.NoAnswer || v.Eligibility.Routable(1)) {
		t.Errorf("new replica before its first poll: %+v", v.Replicas[1])
	}
	if v.Replicas[1].Weight != 5 {
		t.Errorf("new replica's weight: %+v", v.Replicas[1])
	}
	monWaitFor(t, m, 5*time.Second, "the new replica is known", func(v *View) bool { return v.Replicas[1].Health == router.Known })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, open, _ := tp.replicas[0].stats(); open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the removed replica's connection is still open")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A new master: every replica unknown until it is polled.
	other := monStartFake(t)
	other.info = func(string) string { return monMasterText(monTestID, 100) }
	next.Master = other.addr
	m.Update(next)
	v = m.View()
	if v.Master.Addr != other.addr || v.Master.Up || v.Eligibility.Routable(0) || v.Eligibility.Routable(1) {
		t.Errorf("after a new master: %s", monDescribe(v))
	}
	monWaitFor(t, m, 5*time.Second, "the new master is polled", func(v *View) bool {
		return v.Master.Up && v.Master.Addr == other.addr && v.Replicas[0].Health == router.Known
	})
	// Closed at the start of the round that polled the new master.
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, open, _ := tp.master.stats(); open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old master's connection is still open")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The master does not answer: no offset in the view; replicas measured
// against its last answer, their lag growing.
func TestMonitorMasterDown(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	cfg := tp.config(20*time.Millisecond, 100*time.Millisecond)
	cfg.Policy.MaxLag = 300 * time.Millisecond
	m := NewMonitor(cfg)
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is routable", func(v *View) bool { return v.Eligibility.Routable(0) })
	tp.master.set(func(f *monFake) { f.hang = true })
	v := monWaitFor(t, m, 5*time.Second, "the master is down", func(v *View) bool { return !v.Master.Up })
	if v.Master.Offset != -1 || v.Master.Err == "" || v.Replicas[0].AckOffset != -1 {
		t.Errorf("master down: %+v", v.Master)
	}
	v = monWaitFor(t, m, 5*time.Second, "the replica is cut off", func(v *View) bool { return !v.Eligibility.Routable(0) })
	if r := v.Replicas[0]; r.Health != router.Known || r.TimeLag < cfg.Policy.MaxLag || !strings.Contains(r.Err, "master did not answer") {
		t.Errorf("replica with the master down: %+v", r)
	}
}

// A connection the backend closes is reopened at the next poll.
// A backend that stops answering and later answers everything it was
// sent (a stopped process, SIGSTOP then SIGCONT) is known again within
// a round of resuming, on the same connection: the monitor waits for the
// replies it owes instead of dialling again after a backoff.
func TestMonitorStalledBackendReturnsAtOnce(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	const interval, timeout = 20 * time.Millisecond, 100 * time.Millisecond
	m := NewMonitor(tp.config(interval, timeout))
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is known", func(v *View) bool { return v.Replicas[0].Health == router.Known })

	tp.replicas[0].set(func(f *monFake) { f.paused = true })
	after := m.Started()
	monWaitFor(t, m, 5*time.Second, "the paused replica does not answer", func(v *View) bool {
		return v.Seq > after && v.Replicas[0].Health == router.NoAnswer && !v.Eligibility.Routable(0)
	})
	// Long enough for a backoff (doubling from the interval) to have grown
	// to half a second; with what follows, shorter than monMaxStall.
	time.Sleep(time.Second)
	v := m.View()
	if v.Replicas[0].Health != router.NoAnswer || !v.Master.Up {
		t.Fatalf("while paused: %s", monDescribe(v))
	}
	// Rounds go on at about the interval: the silent backend does not
	// hold each of them for poll_timeout.
	seq := v.Seq
	time.Sleep(300 * time.Millisecond)
	if n := m.View().Seq - seq; n < 4 {
		t.Errorf("%d rounds in 300ms at a %v interval with one backend silent", n, interval)
	}

	tp.replicas[0].set(func(f *monFake) { f.paused = false })
	start := time.Now()
	v = monWaitFor(t, m, 5*time.Second, "the replica is back", func(v *View) bool {
		return v.Replicas[0].Health == router.Known && v.Eligibility.Routable(0)
	})
	// A round or two, with slack for a loaded machine; a backoff would be
	// up to monMaxBackoff.
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Errorf("known again %v after resuming", took)
	}
	if accepted, _, _ := tp.replicas[0].stats(); accepted != 1 {
		t.Errorf("%d connections to the paused replica, want the one", accepted)
	}
}

func TestMonitorReconnects(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	m := NewMonitor(tp.config(20*time.Millisecond, time.Second))
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is known", func(v *View) bool { return v.Replicas[0].Health == router.Known })
	tp.replicas[0].dropConns()
	tp.master.dropConns()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a1, _, _ := tp.replicas[0].stats()
		a2, _, _ := tp.master.stats()
		if a1 >= 2 && a2 >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reconnected: %d and %d connections", a1, a2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	monWaitFor(t, m, 5*time.Second, "the replica is known again", func(v *View) bool {
		return v.Replicas[0].Health == router.Known && v.Master.Up
	})
}

// A backend that refuses connections backs off: it is not redialed every
// round.
func TestMonitorBackoff(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	cfg := tp.config(10*time.Millisecond, time.Second)
	cfg.Replicas = append(cfg.Replicas, config.Replica{Addr: dead, Weight: 1})
	m := NewMonitor(cfg)
	monRun(t, m)
	v := monWaitFor(t, m, 5*time.Second, "30 rounds", func(v *View) bool { return v.Seq >= 30 })
	r := v.Replicas[1]
	if r.Health != router.NoAnswer || !strings.Contains(r.Err, "refused") {
		t.Errorf("dead replica: %+v", r)
	}
	// Redialed at rounds 1, 2, then after 10, 20, 40... ms: far fewer
	// than 30 times.
	if r.PollErrors >= 20 || r.PollErrors < 2 {
		t.Errorf("%d failed polls in %d rounds", r.PollErrors, v.Seq)
	}
	if v.Replicas[0].Health != router.Known {
		t.Errorf("healthy replica: %+v", v.Replicas[0])
	}
}

// Kicks start rounds at once, and coalesce: kicks during a round make
// one more round.
func TestMonitorKick(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	m := NewMonitor(tp.config(time.Hour, 5*time.Second))
	monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the first round", func(v *View) bool { return v.Seq >= 1 })
	const delay = 200 * time.Millisecond
	tp.master.set(func(f *monFake) { f.delay = delay })
	m.Kick()
	deadline := time.Now().Add(5 * time.Second)
	for m.Started() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a kick started no round")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		m.Kick()
	}
	monWaitFor(t, m, 5*time.Second, "the kicked rounds", func(v *View) bool { return v.Seq >= 3 })
	time.Sleep(2 * delay)
	if s := m.Started(); s != 3 {
		t.Errorf("1 kick and 100 during its round made %d rounds, want 2", s-1)
	}

	// Wait honours its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := m.Wait(ctx, m.Started()+10); err == nil {
		t.Error("Wait returned without a view")
	}
}

// Run closes its connections when its context ends.
func TestMonitorRunCloses(t *testing.T) {
	tp := monStartTopology(t, 1, 100)
	m := NewMonitor(tp.config(20*time.Millisecond, time.Second))
	cancel := monRun(t, m)
	monWaitFor(t, m, 5*time.Second, "the replica is known", func(v *View) bool { return v.Replicas[0].Health == router.Known })
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, o1, _ := tp.master.stats()
		_, o2, _ := tp.replicas[0].stats()
		if o1 == 0 && o2 == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections still open after Run: %d %d", o1, o2)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
