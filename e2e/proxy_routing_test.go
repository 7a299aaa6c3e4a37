package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// readBound is the longest a read through the proxy may take while a
// replica is stopped or the master is down: well past the proxy's
// poll_timeout, well short of the time the backend stays stopped.
const readBound = 2 * time.Second

// TestProxyReadDistribution: with healthy replicas of weights 1 and 3 and
// read_your_writes off, GETs through the proxy split about 1:3 between
// the replicas, as each backend's INFO commandstats counts them, and the
// master serves few. The same holds with read_your_writes on for sessions
// that only read.
func TestProxyReadDistribution(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		const keys = 100
		for i := 0; i < keys; i++ {
			c.master.do(t, "SET", fmt.Sprintf("dist:%d", i), fmt.Sprintf("v%d", i))
		}
		waitSynced(t, c.master, c.replicas...)
		for _, ryw := range []string{"false", "true"} {
			t.Run("read_your_writes="+ryw, func(t *testing.T) {
				cfg := configFor(c)
				cfg.weights = []int{1, 3}
				cfg.routing = [][2]string{{"read_your_writes", ryw}, {"max_lag", "2s"}}
				p := startProxy(t, cfg)
				waitReplicaReads(t, c, p.addr, "dist:0")
				checkDistribution(t, c, p, keys)
				p.alive(t)
				p.stop()
			})
		}
	})
}

// checkDistribution sends 4,000 GETs of the keys dist:0... through p from
// four sessions, and checks how the backends of c served them: replicas
// of weights 1 and 3 about 1:3, the master few.
func checkDistribution(t *testing.T, c *cluster, p *proxyProc, keys int) {
	t.Helper()
	const n, workers = 4000, 4
	before := cmdCalls(t, "get", c.nodes()...)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		cl := p.connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				k := i % keys
				r, err := cl.doStrings("GET", fmt.Sprintf("dist:%d", k))
				if err != nil || string(r.data) != fmt.Sprintf("v%d", k) {
					errs <- fmt.Errorf("GET dist:%d = %v, %v", k, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	d := deltas(before, cmdCalls(t, "get", c.nodes()...))
	t.Logf("%d GETs served: master %d, replica weight 1: %d, replica weight 3: %d", n, d[0], d[1], d[2])
	if total := d[0] + d[1] + d[2]; total != n {
		t.Errorf("the backends served %d GETs, the clients sent %d", total, n)
	}
	if d[0] > n/20 {
		t.Errorf("the master served %d of %d GETs with both replicas healthy; want at most 5%%", d[0], n)
	}
	if d[1] == 0 {
		t.Fatalf("the replica of weight 1 served no GET")
	}
	if ratio := float64(d[2]) / float64(d[1]); ratio < 2.3 || ratio > 3.9 {
		t.Errorf("replicas of weights 1 and 3 served %d and %d GETs: ratio %.2f, want about 3", d[1], d[2], ratio)
	}
}

// readerStats is what the continuous readers of TestProxyLaggingReplica
// saw.
type readerStats struct {
	mu     sync.Mutex
	reads  int
	errs   []string
	max    time.Duration
	slow   []string
	byCmd  map[string]int
	stopAt time.Time
}

func (s *readerStats) add(cmd string, took time.Duration, at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	s.byCmd[cmd]++
	if err != nil && len(s.errs) < 10 {
		s.errs = append(s.errs, fmt.Sprintf("%s at +%v: %v", cmd, at.Sub(s.stopAt).Round(time.Millisecond), err))
	}
	if took > s.max {
		s.max = took
	}
	if took > readBound && len(s.slow) < 10 {
		s.slow = append(s.slow, fmt.Sprintf("%s sent at +%v took %v", cmd, at.Sub(s.stopAt).Round(time.Millisecond), took.Round(time.Millisecond)))
	}
}

// TestProxyLaggingReplica: a replica stopped with SIGSTOP gets no new reads
// once the proxy has had a second to notice, and gets reads again after
// SIGCONT once it has caught up. Meanwhile clients that read without a
// pause see no error, and every read is answered within readBound.
//
// The readers send GET, then STRLEN from one second after the stop until
// just before the SIGCONT, then EXISTS: the stopped replica's
// cmdstat_strlen says whether it was sent reads while stopped, its
// cmdstat_exists whether it got reads back.
func TestProxyLaggingReplica(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		c.master.do(t, "SET", "lag:k", "v")
		for _, r := range c.replicas {
			waitGet(t, r, "lag:k", "v")
		}
		waitReplicaReads(t, c, p.addr, "lag:k")
		stopped := c.replicas[0]
		before := cmdCalls(t, "strlen", c.nodes()...)

		var phase atomic.Int32 // 0: GET, 1: STRLEN, 2: EXISTS
		stop := make(chan struct{})
		stats := &readerStats{byCmd: map[string]int{}, stopAt: time.Now()}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			cl := p.connect(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					var args []string
					var want string
					switch phase.Load() {
					case 0:
						args, want = []string{"GET", "lag:k"}, "$1\r\nv\r\n"
					case 1:
						args, want = []string{"STRLEN", "lag:k"}, ":1\r\n"
					default:
						args, want = []string{"EXISTS", "lag:k"}, ":1\r\n"
					}
					start := time.Now()
					r, err := cl.doStrings(args...)
					if err == nil && string(r.raw) != want {
						err = fmt.Errorf("reply %s, want %q", r, want)
					}
					stats.add(args[0], time.Since(start), start, err)
					if err != nil && r == nil {
						return // the connection is unusable
					}
				}
			}()
		}
		// A writer, so that the stopped replica falls behind.
		var writeErrs atomic.Int64
		wcl := p.connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if r, err := wcl.doStrings("SET", "lag:w:"+strconv.Itoa(i%100), strconv.Itoa(i)); err != nil || r.isError() {
					writeErrs.Add(1)
					if err != nil {
						return
					}
				}
			}
		}()
		finish := func() {
			select {
			case <-stop:
			default:
				close(stop)
				wg.Wait()
			}
		}
		defer finish()

		time.Sleep(300 * time.Millisecond)
		stats.mu.Lock()
		stats.stopAt = time.Now()
		stats.mu.Unlock()
		stopped.signal(t, syscall.SIGSTOP)
		time.Sleep(time.Second)
		phase.Store(1)
		time.Sleep(2 * time.Second)
		phase.Store(2)
		time.Sleep(time.Second) // let the STRLENs sent to a stopped replica, if any, take longer than readBound
		stopped.signal(t, syscall.SIGCONT)
		continued := time.Now()
		time.Sleep(300 * time.Millisecond) // the replica reads what waited in its sockets

		strlen := deltas(before, cmdCalls(t, "strlen", c.nodes()...))
		t.Logf("STRLENs from 1s to 3s after the SIGSTOP: master %d, stopped replica %d, healthy replica %d", strlen[0], strlen[1], strlen[2])
		if strlen[1] != 0 {
			t.Errorf("the stopped replica was sent %d reads (STRLEN) from 1s after its SIGSTOP on", strlen[1])
		}
		if strlen[2] == 0 {
			t.Errorf("the healthy replica served no read while the other was stopped (master served %d)", strlen[0])
		}
		waitFor(t, "the continued replica to get reads again", func() (bool, string) {
			n := commandStats(t, stopped)["exists"]
			return n > 0, fmt.Sprintf("cmdstat_exists calls=%d on %s", n, stopped.name)
		})
		t.Logf("the continued replica got reads again %v after SIGCONT", time.Since(continued).Round(time.Millisecond))
		finish()

		stats.mu.Lock()
		defer stats.mu.Unlock()
		t.Logf("reads: %d %v, slowest %v; writes that failed: %d", stats.reads, stats.byCmd, stats.max, writeErrs.Load())
		if len(stats.errs) > 0 {
			t.Errorf("reads failed while a replica was stopped:\n%s", strings.Join(stats.errs, "\n"))
		}
		if len(stats.slow) > 0 {
			t.Errorf("reads took longer than %v while a replica was stopped (times from the SIGSTOP):\n%s", readBound, strings.Join(stats.slow, "\n"))
		}
		if stats.byCmd["STRLEN"] == 0 {
			t.Errorf("no read was made between 1s and 3s after the stop")
		}
		if writeErrs.Load() > 0 {
			t.Errorf("%d writes failed while a replica was stopped", writeErrs.Load())
		}
		p.alive(t)
	})
}

// TestProxyReadYourWrites: in one session, 2,000 SET-then-GET pairs of one
// key all read their own write, with a replica stopped for part of them;
// then the same session, only reading, is served by the replicas again;
// and with both replicas stopped, another session reads a fresh write from
// the master.
func TestProxyReadYourWrites(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		waitReplicaReads(t, c, p.addr, "ryw:k")
		s := p.connect(t)
		r1, r2 := c.replicas[0], c.replicas[1]
		before := cmdCalls(t, "get", c.nodes()...)
		var stale []string
		staleN := 0
		for i := 0; i < 2000; i++ {
			switch i {
			case 600:
				r1.signal(t, syscall.SIGSTOP)
			case 1400:
				r1.signal(t, syscall.SIGCONT)
			}
			v := strconv.Itoa(i)
			must(t, s, "SET", "ryw:k", v)
			r, err := s.doStrings("GET", "ryw:k")
			if err != nil {
				t.Fatalf("pair %d: GET: %v (replica %s stopped: %v)", i, err, r1.name, i >= 600 && i < 1400)
			}
			if string(r.data) != v || r.isError() {
				staleN++
				if len(stale) < 10 {
					stale = append(stale, fmt.Sprintf("pair %d: GET = %s", i, r))
				}
			}
		}
		d := deltas(before, cmdCalls(t, "get", c.nodes()...))
		t.Logf("the GETs of the pairs were served: master %d, replicas %d and %d", d[0], d[1], d[2])
		if staleN > 0 {
			t.Errorf("%d of 2000 GETs did not read the session's own write just before:\n%s", staleN, strings.Join(stale, "\n"))
		}

		// The same session, now only reading: the replicas serve it again.
		time.Sleep(300 * time.Millisecond)
		before = cmdCalls(t, "get", c.nodes()...)
		const reads = 1000
		for i := 0; i < reads; i++ {
			wantRaw(t, s, "$4\r\n1999\r\n", "GET", "ryw:k")
		}
		d = deltas(before, cmdCalls(t, "get", c.nodes()...))
		t.Logf("read-only phase: master %d, replicas %d and %d", d[0], d[1], d[2])
		if d[1]+d[2] < reads*9/10 {
			t.Errorf("after its writes, a session that only reads got %d of %d reads from the replicas (master %d); want at least 90%%", d[1]+d[2], reads, d[0])
		}

		// Both replicas stopped: a fresh write is read from the master by
		// a session that never wrote.
		r1.signal(t, syscall.SIGSTOP)
		r2.signal(t, syscall.SIGSTOP)
		time.Sleep(time.Second)
		must(t, s, "SET", "ryw:fresh", "new")
		other := p.connect(t)
		for _, tc := range [][2]string{{"ryw:fresh", "$3\r\nnew\r\n"}, {"ryw:k", "$4\r\n1999\r\n"}} {
			start := time.Now()
			r, err := other.doStrings("GET", tc[0])
			took := time.Since(start)
			if err != nil || string(r.raw) != tc[1] {
				t.Errorf("with both replicas stopped, another session's GET %s = %v, %v; want %q", tc[0], r, err, tc[1])
			}
			if took > readBound {
				t.Errorf("with both replicas stopped, GET %s took %v", tc[0], took)
			}
		}
		r1.signal(t, syscall.SIGCONT)
		r2.signal(t, syscall.SIGCONT)
		p.alive(t)
	})
}

// TestProxyMasterDown: with the master killed, writes through the proxy
// fail fast with an error that says the master is down, and reads go on
// from the replicas; once the master is back, writes work again.
func TestProxyMasterDown(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		c.master.do(t, "SET", "md:k", "v")
		for _, r := range c.replicas {
			waitGet(t, r, "md:k", "v")
		}
		waitReplicaReads(t, c, p.addr, "md:k")
		reader, writer := p.connect(t), p.connect(t)
		wantRaw(t, writer, "+OK\r\n", "SET", "md:w", "1")

		c.master.s.stop() // SIGKILL
		killed := time.Now()
		for i := 0; i < 3; i++ {
			start := time.Now()
			r, err := writer.doStrings("SET", "md:w", strconv.Itoa(i))
			took := time.Since(start)
			if err != nil {
				t.Fatalf("write %d after the master was killed: %v (after %v)", i, err, took)
			}
			msg := strings.ToLower(string(r.data))
			if !r.isError() || !strings.Contains(msg, "masterdown") && !strings.Contains(msg, "master") {
				t.Errorf("write %d after the master was killed = %s; want an error saying the master is down", i, r)
			}
			if took > readBound {
				t.Errorf("write %d after the master was killed took %v to fail", i, took)
			}
			time.Sleep(300 * time.Millisecond)
		}
		// Reads, from the session that wrote and from others, go on.
		fresh := p.connect(t)
		reads, failed := 0, 0
		var first string
		for time.Since(killed) < 3*time.Second {
			for _, cl := range []*client{reader, fresh} {
				start := time.Now()
				r, err := cl.doStrings("GET", "md:k")
				if err != nil {
					t.Fatalf("GET %v after the master was killed: %v", time.Since(killed).Round(time.Millisecond), err)
				}
				reads++
				if took := time.Since(start); string(r.raw) != "$1\r\nv\r\n" || took > readBound {
					if failed++; first == "" {
						first = fmt.Sprintf("GET %v after the master was killed = %v after %v", time.Since(killed).Round(time.Millisecond), r, took)
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		if failed > 0 {
			t.Errorf("%d of %d reads failed with the master down, want \"v\" from a replica; the first: %s", failed, reads, first)
		}
		p.alive(t)

		// The master comes back (empty: it saves nothing): writes work again.
		c.master.restart(t)
		waitFor(t, "a write through the proxy to succeed after the master restarted", func() (bool, string) {
			r, err := writer.doStrings("SET", "md:back", "1")
			if err != nil {
				t.Fatalf("write after the master restarted: %v", err)
			}
			return !r.isError(), r.String()
		})
		p.alive(t)
	})
}

// TestProxyMasterStopped: a master stopped with SIGSTOP keeps its
// connections open and answers nothing. A write sent to it gets
// -MASTERDOWN once it has waited the proxy's master timeout (5 s) with the
// master answering no lag poll either; the writes after it fail at once;
// no request hangs. After SIGCONT, writes work again.
func TestProxyMasterStopped(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 1)
		p := startProxy(t, configFor(c))
		writer := p.connect(t)
		wantRaw(t, writer, "+OK\r\n", "SET", "ms:w", "1")

		c.master.signal(t, syscall.SIGSTOP)
		stopped := time.Now()
		t.Cleanup(func() { c.master.signal(t, syscall.SIGCONT) })
		const bound = 5*time.Second + readBound // the master timeout, and slack
		if err := writer.send([][]byte{[]byte("SET"), []byte("ms:w"), []byte("2")}); err != nil {
			t.Fatal(err)
		}
		writer.conn.SetReadDeadline(stopped.Add(bound + 5*time.Second))
		r, err := readReply(writer.r)
		took := time.Since(stopped)
		if err != nil {
			t.Fatalf("write to the stopped master: no reply after %v: %v", took.Round(time.Millisecond), err)
		}
		if !r.isError() || !strings.HasPrefix(string(r.data), "MASTERDOWN") {
			t.Fatalf("write to the stopped master = %s", r)
		}
		if took > bound {
			t.Errorf("write to the stopped master answered after %v, want within %v", took.Round(time.Millisecond), bound)
		}
		t.Logf("write to the stopped master: %s after %v", r, took.Round(time.Millisecond))
		for i := 0; i < 3; i++ {
			start := time.Now()
			r, err := writer.doStrings("SET", "ms:w", "3")
			if err != nil || !r.isError() || !strings.HasPrefix(string(r.data), "MASTERDOWN") || time.Since(start) > readBound {
				t.Fatalf("write %d while the master is stopped = %v, %v after %v", i, r, err, time.Since(start))
			}
		}
		// A read gets an answer too: the replica's value while its lag
		// is within max_lag, then -MASTERDOWN (no stale reads past it).
		start := time.Now()
		if r, err := p.connect(t).doStrings("GET", "ms:w"); err != nil || time.Since(start) > readBound {
			t.Fatalf("read while the master is stopped = %v, %v after %v", r, err, time.Since(start))
		}
		p.alive(t)

		c.master.signal(t, syscall.SIGCONT)
		waitFor(t, "a write through the proxy to succeed after SIGCONT", func() (bool, string) {
			r, err := writer.doStrings("SET", "ms:w", "4")
			if err != nil {
				t.Fatalf("write after SIGCONT: %v", err)
			}
			return !r.isError(), r.String()
		})
	})
}
