package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

// The harness runs the data path in one goroutine with no sockets: gnet's
// event loop and connections are stood in for, backends are small
// in-memory servers, and the test decides when each backend answers.

type fakeLoop struct {
	tasks, running []gnet.Runnable
}

func (f *fakeLoop) Register(context.Context, net.Addr) (<-chan gnet.RegisteredResult, error) {
	return nil, errors.New("fake loop: no Register")
}

func (f *fakeLoop) Enroll(context.Context, net.Conn) (<-chan gnet.RegisteredResult, error) {
	return nil, errors.New("fake loop: no Enroll")
}

func (f *fakeLoop) Execute(_ context.Context, r gnet.Runnable) error {
	f.tasks = append(f.tasks, r)
	return nil
}

func (f *fakeLoop) Schedule(context.Context, gnet.Runnable, time.Duration) error {
	return errors.New("fake loop: no Schedule")
}

func (f *fakeLoop) Close(c gnet.Conn) error {
	fc := c.(*fakeConn)
	if !fc.closed {
		fc.closed = true
		fc.p.OnClose(fc, nil)
	}
	return nil
}

// runTasks runs queued tasks (flushes) until none is left.
func (f *fakeLoop) runTasks() bool {
	ran := false
	for len(f.tasks) > 0 {
		f.running, f.tasks = f.tasks, f.running[:0]
		for _, t := range f.running {
			_ = t.Run(context.Background())
		}
		ran = true
	}
	return ran
}

// fakeConn is a connection: in is what the peer sent and the proxy has not
// read, out what the proxy wrote.
type fakeConn struct {
	gnet.Conn
	p      *Proxy
	el     *fakeLoop
	ctx    any
	in     []byte
	next   []byte
	out    []byte
	closed bool
	// buffered is what OutboundBuffered reports: bytes written that the
	// peer has not read.
	buffered int
}

func (c *fakeConn) Next(int) ([]byte, error) {
	c.next = append(c.next[:0], c.in...)
	c.in = c.in[:0]
	return c.next, nil
}
func (c *fakeConn) Write(b []byte) (int, error) {
	if c.closed {
		return 0, errors.New("closed")
	}
	c.out = append(c.out, b...)
	return len(b), nil
}
func (c *fakeConn) Context() any              { return c.ctx }
func (c *fakeConn) SetContext(v any)          { c.ctx = v }
func (c *fakeConn) OutboundBuffered() int     { return c.buffered }
func (c *fakeConn) EventLoop() gnet.EventLoop { return c.el }
func (c *fakeConn) Close() error              { return c.el.Close(c) }

// fakeBackend is an in-memory server: GET, SET, INCR, PING and
// INFO-free basics, enough to see where requests went.
type fakeBackend struct {
	addr  string
	data  map[string]string
	conns []*fakeConn
	// hold: requests are not answered until released.
	hold bool
	// refuse: connections to it fail.
	refuse bool
	// served counts the commands it ran, by name.
	served map[string]int
	// canned, when set, answers every GET with these bytes without
	// parsing anything (for benchmarks).
	canned []byte
}

type fakeLag struct {
	v       *View
	started uint64
	kicks   int
}

func (f *fakeLag) View() *View     { return f.v }
func (f *fakeLag) Started() uint64 { return f.started }
func (f *fakeLag) Kick()           { f.kicks++ }

type harness struct {
	t        testing.TB
	p        *Proxy
	el       *fakeLoop
	lag      *fakeLag
	backends map[string]*fakeBackend
	master   string
	replicas []string
	// logs holds the lines the proxy wrote to its log.
	logsMu sync.Mutex
	logs   []string
}

// logLines returns the lines the proxy logged so far.
func (h *harness) logLines() []string {
	h.logsMu.Lock()
	defer h.logsMu.Unlock()
	return append([]string(nil), h.logs...)
}

// newHarness makes a proxy in front of a master and n replicas, all
// healthy with no lag; edit may change the config first.
func newHarness(t testing.TB, n int, edit func(*config.Config)) *harness {
	cfg := config.Default()
	cfg.Master = "m:1"
	h := &harness{t: t, el: &fakeLoop{}, backends: map[string]*fakeBackend{}, master: cfg.Master}
	h.backends[cfg.Master] = &fakeBackend{addr: cfg.Master, data: map[string]string{}, served: map[string]int{}}
	for i := 0; i < n; i++ {
		addr := "r:" + strconv.Itoa(i+1)
		cfg.Replicas = append(cfg.Replicas, config.Replica{Addr: addr, Weight: 1})
		h.replicas = append(h.replicas, addr)
		h.backends[addr] = &fakeBackend{addr: addr, data: map[string]string{}, served: map[string]int{}}
	}
	if edit != nil {
		edit(cfg)
	}
	p, err := New(cfg, NewLogger(func(format string, args ...any) {
		h.logsMu.Lock()
		h.logs = append(h.logs, fmt.Sprintf(format, args...))
		h.logsMu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	h.lag = &fakeLag{}
	p.lag = h.lag
	p.startTicker = func(*loop) {}
	h.setLag(0, make([]int64, n))
	p.dial = func(b *bconn) {
		fb := h.backends[b.addr]
		if fb == nil || fb.refuse {
			b.l.connFailed(b.addr, errors.New("connection refused"))
			b.fail(errors.New("connection refused"))
			return
		}
		fc := &fakeConn{p: p, el: h.el, ctx: b}
		fb.conns = append(fb.conns, fc)
		p.OnOpen(fc)
	}
	return h
}

// setLag publishes a view: the master at masterOffset, replica i at
// masterOffset - lags[i] bytes (a negative lag: unknown), time lag 1 ms per
// 1000 bytes.
func (h *harness) setLag(masterOffset int64, lags []int64) {
	h.lag.started++
	v := &View{Seq: h.lag.started, Master: MasterState{Addr: h.master, Up: true, Role: "master", Offset: masterOffset, LastOffset: masterOffset}}
	var samples []router.Sample
	for i, addr := range h.replicas {
		s := router.Sample{Addr: addr, Weight: 1, Health: router.Known, Offset: masterOffset - lags[i], ByteLag: lags[i], TimeLag: time.Duration(lags[i]) * time.Microsecond}
		if lags[i] < 0 {
			s = router.Sample{Addr: addr, Weight: 1, Health: router.NoAnswer}
		}
		samples = append(samples, s)
		v.Replicas = append(v.Replicas, ReplicaState{Addr: addr, Weight: 1, Up: lags[i] >= 0, Health: s.Health, Offset: s.Offset, ByteLag: s.ByteLag, TimeLag: s.TimeLag})
	}
	var prev *router.Eligibility
	if h.lag.v != nil {
		prev = h.lag.v.Eligibility
	}
	v.Eligibility = router.Eligible(samples, h.p.Config().Routing.Policy(), prev)
	h.lag.v = v
}

// connect opens a client connection.
func (h *harness) connect() *fakeConn {
	fc := &fakeConn{p: h.p, el: h.el}
	if out, action := h.p.OnOpen(fc); action != gnet.None {
		h.t.Fatalf("client refused: %q", out)
	}
	return fc
}

// send writes requests (inline, one per line, or raw RESP) and runs the
// loop until nothing moves.
func (h *harness) send(c *fakeConn, raw string) {
	c.in = append(c.in, raw...)
	if h.p.OnTraffic(c) == gnet.Close {
		h.el.Close(c)
	}
	h.settle()
}

// command sends one command given as words.
func (h *harness) command(c *fakeConn, words ...string) {
	args := make([][]byte, len(words))
	for i, w := range words {
		args[i] = []byte(w)
	}
	h.send(c, string(resp.AppendCommand(nil, args...)))
}

// settle runs flushes and lets every backend not on hold answer, until
// nothing moves.
func (h *harness) settle() {
	for i := 0; i < 1000; i++ {
		moved := h.el.runTasks()
		for _, fb := range h.backends {
			if fb.hold {
				continue
			}
			for _, fc := range fb.conns {
				if h.serve(fb, fc) {
					moved = true
				}
			}
		}
		if !moved {
			return
		}
	}
	h.t.Fatal("the harness did not settle")
}

// serve answers what the proxy wrote on fc.
func (h *harness) serve(fb *fakeBackend, fc *fakeConn) bool {
	if fc.closed || len(fc.out) == 0 {
		return false
	}
	if fb.canned != nil {
		n := bytes.Count(fc.out, []byte("$3\r\nGET\r\n"))
		for i := 0; i < n; i++ {
			fc.in = append(fc.in, fb.canned...)
		}
		fc.out = fc.out[:0]
		h.p.OnTraffic(fc)
		return true
	}
	var replies []byte
	buf := fc.out
	for len(buf) > 0 {
		argv, n, _, err := resp.ParseCommand(buf, nil, resp.Limits{})
		if err != nil || n == 0 {
			h.t.Fatalf("backend %s got a bad request %q: %v", fb.addr, buf, err)
		}
		buf = buf[n:]
		replies = fb.run(replies, argv)
	}
	fc.out = fc.out[:0]
	fc.in = append(fc.in, replies...)
	if h.p.OnTraffic(fc) == gnet.Close {
		h.el.Close(fc)
	}
	return true
}

func (fb *fakeBackend) run(r []byte, argv [][]byte) []byte {
	name := strings.ToLower(string(argv[0]))
	fb.served[name]++
	arity := map[string]int{"get": 2, "set": 3, "incr": 2}
	if n, ok := arity[name]; ok && len(argv) != n {
		return resp.AppendError(r, "ERR wrong number of arguments for '"+name+"' command")
	}
	switch name {
	case "get":
		v, ok := fb.data[string(argv[1])]
		if !ok {
			return resp.AppendNull(r)
		}
		return resp.AppendBulkString(r, v)
	case "set":
		fb.data[string(argv[1])] = string(argv[2])
		return resp.AppendOK(r)
	case "incr":
		n, _ := strconv.ParseInt(fb.data[string(argv[1])], 10, 64)
		n++
		fb.data[string(argv[1])] = strconv.FormatInt(n, 10)
		return resp.AppendInt(r, n)
	case "ping":
		return append(r, "+PONG\r\n"...)
	}
	return resp.AppendOK(r)
}

// release answers what a held backend has queued and takes it off hold.
func (h *harness) release(addr string) {
	fb := h.backends[addr]
	fb.hold = false
	h.settle()
}

// kill closes every connection to a backend, as a crash would.
func (h *harness) kill(addr string) {
	fb := h.backends[addr]
	for _, fc := range fb.conns {
		if !fc.closed {
			fc.closed = true
			h.p.OnClose(fc, errors.New("connection reset by peer"))
		}
	}
	fb.conns = nil
	h.settle()
}

// replies parses what the client has been sent so far and clears it.
func (h *harness) replies(c *fakeConn) []string {
	var out []string
	buf := c.out
	var s replyScanner
	for len(buf) > 0 {
		n, err := s.next(buf)
		if err != nil || n == 0 {
			h.t.Fatalf("client got a bad or partial reply %q (%v)", buf, err)
		}
		out = append(out, string(buf[:n]))
		buf = buf[n:]
	}
	c.out = c.out[:0]
	return out
}

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }
