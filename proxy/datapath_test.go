package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/lagwise/lagwise/config"
)

func TestLocalCommands(t *testing.T) {
	h := newHarness(t, 2, nil)
	c := h.connect()
	h.send(c, "PING\r\nECHO hi\r\nHELLO 3\r\nCLIENT SETNAME app\r\nCLIENT GETNAME\r\nSELECT 0\r\nUNSUBSCRIBE a\r\nHELLO 2\r\n")
	got := h.replies(c)
	want := []string{"+PONG\r\n", "$2\r\nhi\r\n", "-NOPROTO sorry, this protocol version is not supported\r\n", "+OK\r\n", "$3\r\napp\r\n", "+OK\r\n",
		"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"}
	if len(got) != len(want)+1 {
		t.Fatalf("got %d replies %q, want %d", len(got), got, len(want)+1)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d = %q, want %q", i, got[i], want[i])
		}
	}
	if !strings.HasPrefix(got[len(want)], "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n") {
		t.Errorf("HELLO 2 = %q", got[len(want)])
	}
	for _, fb := range h.backends {
		if len(fb.served) > 0 {
			t.Errorf("backend %s served %v; set-up commands must not reach backends", fb.addr, fb.served)
		}
	}
}

// Requests the proxy answers itself are timed as well as counted: the
// duration histogram of class local counts every one of them.
func TestLocalCommandsTimed(t *testing.T) {
	h := newHarness(t, 1, nil)
	c := h.connect()
	reqs := []string{"PING", "ECHO hi", "HELLO 2", "CLIENT SETNAME app", "INFO replication", "LAGWISE LAG", "SELECT 0", "PING x"}
	for i := 0; i < 3; i++ {
		h.send(c, strings.Join(reqs, "\r\n")+"\r\n")
	}
	h.send(c, "GET a\r\n")
	n := uint64(3 * len(reqs))
	if got := len(h.replies(c)); got != int(n)+1 {
		t.Fatalf("%d replies, want %d", got, n+1)
	}
	cs := h.p.Counters()
	if cs.Requests["local"] != n {
		t.Errorf("lagwise_requests_total{class=local} = %d, want %d", cs.Requests["local"], n)
	}
	if d := cs.Durations["local"]; d.Count != n || d.Counts[len(d.Counts)-1] != n {
		t.Errorf("lagwise_request_duration_seconds{class=local}: count %d (last bucket %d), want %d", d.Count, d.Counts[len(d.Counts)-1], n)
	}
	// The read beside them is timed under its own class only.
	if cs.Requests["read"] != 1 || cs.Durations["read"].Count != 1 {
		t.Errorf("read: %d requests, %d timed; want 1 and 1", cs.Requests["read"], cs.Durations["read"].Count)
	}
}

// Every request counted in lagwise_requests_total is timed in
// lagwise_request_duration_seconds under the same class: refusals, WAIT,
// -MASTERDOWN at once, a read with no replica to take it.
func TestEveryCountedRequestTimed(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) {
		c.Routing.ReadYourWrites = false
		c.Routing.WhenReplicasLag = "error"
	})
	c := h.connect()
	h.send(c, "GET a\r\nWAIT 0 0\r\nWAIT 1\r\nSET a 1\r\nDEBUG SLEEP 0\r\nMULTI\r\nINCR n\r\nEXEC\r\nPING\r\n")
	h.setLag(0, []int64{-1}) // the replica's lag unknown: reads get an error
	h.send(c, "GET a\r\n")
	h.backends["m:1"].refuse = true
	h.kill("m:1")
	h.send(c, "SET a 2\r\n")
	if got := h.replies(c); len(got) != 11 {
		t.Fatalf("%d replies, want 11: %q", len(got), got)
	}
	cs := h.p.Counters()
	total := uint64(0)
	for class, n := range cs.Requests {
		total += n
		if d := cs.Durations[class]; d.Count != n {
			t.Errorf("class %s: %d requests counted, %d timed", class, n, d.Count)
		}
	}
	if total != 11 {
		t.Errorf("%d requests counted, want 11: %v", total, cs.Requests)
	}
}

func TestAuth(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) { c.Auth.Password = "sesame" })
	c := h.connect()
	h.send(c, "GET a\r\nAUTH wrong\r\nAUTH sesame\r\nGET a\r\n")
	got := h.replies(c)
	want := []string{"-NOAUTH Authentication required.\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n", "+OK\r\n", "$-1\r\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// Replies leave in request order even when a later request's backend
// answers first.
func TestRepliesInOrderAcrossBackends(t *testing.T) {
	h := newHarness(t, 2, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	for _, fb := range h.backends {
		fb.data["k"] = fb.addr
	}
	c := h.connect()
	h.backends["r:1"].hold = true
	var req strings.Builder
	for i := 0; i < 10; i++ {
		req.WriteString("GET k\r\n")
	}
	h.send(c, req.String())
	if got := h.replies(c); len(got) != 0 {
		t.Fatalf("replies before the held replica answered: %q", got)
	}
	h.release("r:1")
	got := h.replies(c)
	if len(got) != 10 {
		t.Fatalf("got %d replies, want 10: %q", len(got), got)
	}
	// Smooth round-robin over equal weights alternates.
	for i, r := range got {
		want := "$3\r\nr:1\r\n"
		if i%2 == 1 {
			want = "$3\r\nr:2\r\n"
		}
		if r != want {
			t.Errorf("reply %d = %q, want %q", i, r, want)
		}
	}
	if n := h.backends["m:1"].served["get"]; n != 0 {
		t.Errorf("the master served %d reads", n)
	}
}

// At a few reads a second every read comes after a new view from the lag
// monitor (one per lag_poll_interval); two equal replicas still take turns,
// for a session on the proxy's policy and for one with its own (LAGWISE
// MAXLAG).
func TestReadsTakeTurnsAcrossViews(t *testing.T) {
	h := newHarness(t, 2, nil)
	for _, fb := range h.backends {
		fb.data["k"] = fb.addr
	}
	plain, own := h.connect(), h.connect()
	h.send(own, "LAGWISE MAXLAG 400\r\n")
	h.replies(own)
	for _, c := range []*fakeConn{plain, own} {
		var got []string
		for range 6 {
			h.setLag(100, []int64{0, 0})
			h.command(c, "GET", "k")
			got = append(got, h.replies(c)...)
		}
		for i, r := range got {
			if (r != "$3\r\nr:1\r\n" && r != "$3\r\nr:2\r\n") || (i > 0 && r == got[i-1]) {
				t.Errorf("replies %q: want r:1 and r:2 in turn", got)
				break
			}
		}
	}
}

// After a write, a session reads from the master until a poll that began
// after the write shows a replica at the master's offset; then from
// replicas again.
func TestReadYourWrites(t *testing.T) {
	h := newHarness(t, 2, nil)
	c := h.connect()
	h.command(c, "SET", "k", "v")
	h.command(c, "GET", "k")
	if got := h.replies(c); len(got) != 2 || got[1] != "$1\r\nv\r\n" {
		t.Fatalf("write then read: %q", got)
	}
	if n := h.backends["m:1"].served["get"]; n != 1 {
		t.Fatalf("the read after the write went to the master %d times, want 1", n)
	}
	// A poll after the write: master at 100, replica 1 there, replica 2
	// behind.
	h.setLag(100, []int64{0, 40})
	for i := 0; i < 4; i++ {
		h.command(c, "GET", "k")
	}
	h.replies(c)
	if n := h.backends["r:1"].served["get"]; n != 4 {
		t.Errorf("replica 1 (caught up) served %d of 4 reads", n)
	}
	if n := h.backends["r:2"].served["get"]; n != 0 {
		t.Errorf("replica 2 (behind the write) served %d reads", n)
	}
	// Another session that never wrote reads from both.
	c2 := h.connect()
	for i := 0; i < 4; i++ {
		h.command(c2, "GET", "k")
	}
	h.replies(c2)
	if n := h.backends["r:2"].served["get"]; n == 0 {
		t.Errorf("a session without writes never read from replica 2")
	}
}

// A replica that fails with reads in flight: they are retried once
// elsewhere; the client sees answers, in order.
func TestReadRetriedWhenReplicaDies(t *testing.T) {
	h := newHarness(t, 2, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	for _, fb := range h.backends {
		fb.data["k"] = "v"
	}
	c := h.connect()
	h.backends["r:1"].hold = true
	h.send(c, "GET k\r\nGET k\r\nGET k\r\nGET k\r\n")
	h.kill("r:1")
	got := h.replies(c)
	if len(got) != 4 {
		t.Fatalf("got %d replies: %q", len(got), got)
	}
	for i, r := range got {
		if r != "$1\r\nv\r\n" {
			t.Errorf("reply %d = %q", i, r)
		}
	}
}

// Writes are never retried: a master that dies with a write in flight
// answers it with an error.
func TestWriteNotRetried(t *testing.T) {
	h := newHarness(t, 1, nil)
	c := h.connect()
	h.backends["m:1"].hold = true
	h.command(c, "INCR", "n")
	h.kill("m:1")
	got := h.replies(c)
	if len(got) != 1 || !strings.HasPrefix(got[0], "-MASTERDOWN") {
		t.Fatalf("in-flight write after the master died: %q", got)
	}
	if n := h.backends["r:1"].served["incr"]; n != 0 {
		t.Fatalf("a write reached a replica")
	}
}

// With the master unreachable, writes fail at once and reads go on.
func TestMasterDown(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	h.backends["m:1"].refuse = true
	h.backends["r:1"].data["k"] = "v"
	c := h.connect()
	h.send(c, "SET k x\r\nGET k\r\nSET k y\r\n")
	got := h.replies(c)
	if len(got) != 3 || !strings.HasPrefix(got[0], "-MASTERDOWN") || got[1] != "$1\r\nv\r\n" || !strings.HasPrefix(got[2], "-MASTERDOWN") {
		t.Fatalf("got %q", got)
	}
}

// A malformed request closes that client only.
func TestProtocolErrorClosesOnlyThatClient(t *testing.T) {
	h := newHarness(t, 1, nil)
	bad, good := h.connect(), h.connect()
	h.send(bad, "PING\r\n*2\r\n$abc\r\n")
	got := h.replies(bad)
	if len(got) != 2 || got[1] != "-ERR Protocol error: invalid bulk length\r\n" || !bad.closed {
		t.Fatalf("bad client: replies %q, closed %v", got, bad.closed)
	}
	h.send(good, "PING\r\n")
	if got := h.replies(good); len(got) != 1 || good.closed {
		t.Fatalf("good client: %q closed=%v", got, good.closed)
	}
}

// A transaction runs on a connection of the session's own, and the
// session's next request waits until EXEC is answered, so it cannot
// overtake it.
func TestTransactionPinsAndOrders(t *testing.T) {
	h := newHarness(t, 1, nil)
	c := h.connect()
	h.send(c, "MULTI\r\nINCR n\r\nEXEC\r\nGET n\r\n")
	got := h.replies(c)
	if len(got) != 4 {
		t.Fatalf("got %q", got)
	}
	m := h.backends["m:1"]
	if len(m.conns) != 2 {
		t.Fatalf("the master has %d connections, want 2 (shared and pinned)", len(m.conns))
	}
	if got[3] != "$1\r\n1\r\n" {
		t.Fatalf("GET after EXEC = %q", got[3])
	}
}

// WAIT is answered from the lag monitor: it returns once enough replicas
// have processed the master offset seen after the session's write.
func TestWait(t *testing.T) {
	h := newHarness(t, 2, nil)
	// The fake backends do not replicate: the replicas hold the value
	// already.
	h.backends["r:1"].data["k"] = "v"
	h.backends["r:2"].data["k"] = "v"
	c := h.connect()
	h.send(c, "SET k v\r\nWAIT 2 0\r\nGET k\r\n")
	if got := h.replies(c); len(got) != 1 || got[0] != "+OK\r\n" {
		t.Fatalf("before any poll: %q", got)
	}
	l := h.p.loopOf(h.el)
	// A poll after the write: master at 500, one replica there.
	h.setLag(500, []int64{0, 100})
	l.tick()
	h.settle()
	if got := h.replies(c); len(got) != 0 {
		t.Fatalf("WAIT 2 answered with one replica there: %q", got)
	}
	h.setLag(520, []int64{0, 20})
	l.tick()
	h.settle()
	got := h.replies(c)
	if len(got) != 2 || got[0] != ":2\r\n" || got[1] != "$1\r\nv\r\n" {
		t.Fatalf("after both replicas caught up: %q", got)
	}
	h.send(c, "WAIT 1 x\r\nWAIT 1 -1\r\n")
	if got := h.replies(c); len(got) != 2 || !strings.HasPrefix(got[0], "-ERR timeout is not an integer") || got[1] != "-ERR timeout is negative\r\n" {
		t.Fatalf("bad WAITs: %q", got)
	}
}

// FuzzClientInput: whatever a client sends, the proxy answers with
// well-formed replies or closes that client, and never panics; another
// client is unaffected.
func FuzzClientInput(f *testing.F) {
	for _, seed := range []string{
		"PING\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "*2\r\n$abc\r\n", "SET k v\r\nGET k\r\nMULTI\r\nINCR n\r\nEXEC\r\n",
		"SUBSCRIBE a\r\nPING\r\nUNSUBSCRIBE\r\n", "\"unbalanced\r\n", "*-1\r\n*0\r\n\r\n", "WAIT 1 1\r\nLAGWISE LAG\r\nSELECT 3\r\nGET k\r\n",
	} {
		f.Add([]byte(seed), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		h := newHarness(t, 2, nil)
		c, other := h.connect(), h.connect()
		at := int(cut) % (len(data) + 1)
		h.send(c, string(data[:at]))
		if !c.closed {
			h.send(c, string(data[at:]))
		}
		var s replyScanner
		buf := c.out
		for len(buf) > 0 {
			n, err := s.next(buf)
			if err != nil || n == 0 {
				t.Fatalf("malformed or partial reply to %q: %q", data, buf)
			}
			buf = buf[n:]
		}
		h.send(other, "PING\r\n")
		if got := h.replies(other); len(got) != 1 || got[0] != "+PONG\r\n" || other.closed {
			t.Fatalf("another client after %q: %q (closed %v)", data, got, other.closed)
		}
	})
}

// A planned switch of masters: writes held while paused go to the new
// master once writes resume; reads go on meanwhile; a session pinned to
// the old master is closed.
func TestPauseAndSwitchMaster(t *testing.T) {
	h := newHarness(t, 2, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	h.backends["r:1"].data["k"] = "old"
	h.backends["r:2"].data["k"] = "old"
	c, pinned := h.connect(), h.connect()
	h.send(pinned, "MULTI\r\n")
	if got := h.replies(pinned); len(got) != 1 {
		t.Fatalf("MULTI: %q", got)
	}
	h.p.PauseWrites()
	h.send(c, "SET k new\r\n")
	if got := h.replies(c); len(got) != 0 {
		t.Fatalf("a write answered during the pause: %q", got)
	}
	c2 := h.connect()
	h.send(c2, "GET k\r\n")
	if got := h.replies(c2); len(got) != 1 || got[0] != "$3\r\nold\r\n" {
		t.Fatalf("a read during the pause: %q", got)
	}
	// r:1 becomes the master, m:1 a replica.
	cfg := *h.p.Config()
	cfg.Master = "r:1"
	cfg.Replicas = []config.Replica{{Addr: "m:1", Weight: 1}, {Addr: "r:2", Weight: 1}}
	if err := h.p.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	h.replicas = []string{"m:1", "r:2"}
	h.master = "r:1"
	h.setLag(0, []int64{0, 0})
	h.p.ResumeWrites()
	h.settle()
	if got := h.replies(c); len(got) != 1 || got[0] != "+OK\r\n" {
		t.Fatalf("the held write after the switch: %q", got)
	}
	if h.backends["r:1"].data["k"] != "new" || h.backends["m:1"].served["set"] != 0 {
		t.Fatalf("the held write went to the old master")
	}
	if !pinned.closed {
		t.Fatalf("a session pinned to the old master stayed open")
	}
}

// Limits: a client whose unread replies pass client_output_buffer is cut
// off; one whose unparsed input passes client_query_buffer too; past
// max_clients a new client is refused with Redis's error.
func TestClientLimits(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) {
		c.Limits.ClientOutputBuffer = 1 << 20
		c.Limits.ClientQueryBuffer = 2 << 20
		c.Limits.MaxClients = 3
	})
	slow := h.connect()
	slow.buffered = 2 << 20 // it stopped reading
	h.send(slow, "PING\r\n")
	if !slow.closed {
		t.Errorf("a client with 2 MiB of unread replies stayed open (limit 1 MiB)")
	}
	big := h.connect()
	h.send(big, "*2\r\n$3\r\nGET\r\n$4000000\r\n"+strings.Repeat("x", 3<<20))
	if !big.closed {
		t.Errorf("a client with 3 MiB of unparsed input stayed open (limit 2 MiB)")
	}
	// slow and big are gone: three more fill max_clients.
	h.connect()
	h.connect()
	h.connect()
	fc := &fakeConn{p: h.p, el: h.el}
	out, action := h.p.OnOpen(fc)
	if action != gnet.Close || string(out) != "-ERR max number of clients reached\r\n" {
		t.Errorf("a client past max_clients: %q, %v", out, action)
	}
}

// LAGWISE READFROM and MAXLAG change where one session's reads go, and
// nobody else's.
func TestSessionOverrides(t *testing.T) {
	h := newHarness(t, 2, nil)
	h.setLag(100000, []int64{5000, 5000}) // both replicas 5 ms behind
	strict, other := h.connect(), h.connect()
	h.send(strict, "LAGWISE MAXLAG 2\r\nGET k\r\nGET k\r\n")
	if got := h.replies(strict); len(got) != 3 || got[0] != "+OK\r\n" {
		t.Fatalf("MAXLAG: %q", got)
	}
	if n := h.backends["m:1"].served["get"]; n != 2 {
		t.Errorf("with MAXLAG 2 and replicas 5 ms behind, the master served %d of 2 reads", n)
	}
	h.send(other, "GET k\r\nGET k\r\n")
	h.replies(other)
	if n := h.backends["m:1"].served["get"]; n != 2 {
		t.Errorf("another session's reads reached the master (%d in all)", n)
	}
	h.send(strict, "LAGWISE MAXLAG DEFAULT\r\nLAGWISE READFROM master\r\nGET k\r\nLAGWISE READFROM DEFAULT\r\nGET k\r\nLAGWISE READFROM sideways\r\n")
	got := h.replies(strict)
	if len(got) != 6 || !strings.HasPrefix(got[5], "-ERR LAGWISE READFROM wants") {
		t.Fatalf("READFROM: %q", got)
	}
	if n := h.backends["m:1"].served["get"]; n != 3 {
		t.Errorf("READFROM master then DEFAULT: the master served %d reads in all, want 3", n)
	}
	h.send(strict, "LAGWISE LAG\r\nLAGWISE NOPE\r\n")
	got = h.replies(strict)
	if len(got) != 2 || !strings.Contains(got[0], "r:1 lag_bytes=5000 lag_ms=5.0 routable=1") || !strings.HasPrefix(got[1], "-ERR unknown subcommand 'NOPE'") {
		t.Fatalf("LAGWISE LAG / NOPE: %q", got)
	}
}

// A master that stops answering everything, the lag monitor's polls too
// (a stopped process: its connections stay open), gets no request stuck
// on it for good: past masterTimeout the waiting requests, on shared and
// dedicated connections, get -MASTERDOWN, and so do new master requests
// until it answers a poll; reads go on from the replica. A master that
// answers polls is waited for however long a request takes.
func TestMasterSilent(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	h.backends["r:1"].data["k"] = "v"
	l := h.p.loopOf(h.el)
	m := h.backends["m:1"]
	m.hold = true
	c1, c2 := h.connect(), h.connect()
	h.send(c1, "SET k x\r\n")
	h.send(c2, "BLPOP q 0\r\n")
	age := func() { // the requests on the master have waited past masterTimeout
		for _, b := range []*bconn{l.shared["m:1"], c2.ctx.(*client).own} {
			if b == nil {
				t.Fatal("no master connection")
			}
			for i := range b.waiters {
				b.waiters[i].at = b.waiters[i].at.Add(-masterTimeout - time.Second)
			}
		}
	}
	age()
	l.tick()
	h.settle()
	if got := append(h.replies(c1), h.replies(c2)...); len(got) != 0 {
		t.Fatalf("answered while the master answers polls: %q", got)
	}

	h.setLag(0, []int64{0})
	h.lag.v.Master.Up, h.lag.v.Master.Err = false, "INFO: no answer within poll_timeout 250ms"
	l.tick()
	h.settle()
	for _, c := range []*fakeConn{c1, c2} {
		got := h.replies(c)
		if len(got) != 1 || !strings.HasPrefix(got[0], "-MASTERDOWN") || !strings.Contains(got[0], "may or may not have run") {
			t.Fatalf("request stuck on a silent master: %q", got)
		}
	}
	h.send(c1, "SET k y\r\nGET k\r\nMULTI\r\n")
	got := h.replies(c1)
	if len(got) != 3 || !strings.HasPrefix(got[0], "-MASTERDOWN") || got[1] != "$1\r\nv\r\n" || !strings.HasPrefix(got[2], "-MASTERDOWN") {
		t.Fatalf("while the master is silent: %q", got)
	}

	// It answers a poll again: master requests go to it again.
	m.hold = false
	h.setLag(0, []int64{0})
	l.tick()
	h.send(c1, "SET k z\r\n")
	if got := h.replies(c1); len(got) != 1 || got[0] != "+OK\r\n" {
		t.Fatalf("after the master answered a poll: %q", got)
	}
}

// The proxy is ready while the master answers, and while it does not but
// a replica takes reads (saying so); with neither, it is not.
func TestReady(t *testing.T) {
	h := newHarness(t, 1, nil)
	close(h.p.started)
	if ok, why := h.p.readyReason(); !ok || why != "" {
		t.Errorf("all up: %v %q", ok, why)
	}
	h.setLag(0, []int64{0})
	h.lag.v.Master.Up = false
	if ok, why := h.p.readyReason(); !ok || !strings.HasPrefix(why, "reads only: the master m:1 has not answered") {
		t.Errorf("master down, replica serving: %v %q", ok, why)
	}
	h.setLag(0, []int64{-1})
	h.lag.v.Master.Up = false
	if ok, why := h.p.readyReason(); ok || !strings.Contains(why, "no replica takes reads") || h.p.Ready() {
		t.Errorf("master down, no replica: %v %q", ok, why)
	}
}
