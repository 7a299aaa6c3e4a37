package proxy

import (
	"errors"
	"fmt"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/router"
)

// maxInflight bounds the requests of one client waiting for replies; past
// it the client's further requests wait in its input buffer (and its
// query buffer limit bounds that).
const maxInflight = 1 << 16

// slot is one request of a client, in order, until its reply is written.
type slot struct {
	done bool
	// reply holds the reply when it came before an elder's, and pub/sub
	// messages the server sent ahead of it.
	reply []byte
	// req is a read's request, kept to retry it once on another backend.
	req     []byte
	retried bool
	class   router.Class
	route   router.Target
	// writeN is the request's number among the session's writes (0: not
	// a write).
	writeN uint64
	// master: the request went to a master connection (counted in
	// masterInflight until answered).
	master bool
	start  time.Time
}

// client is one application connection. It lives on its loop.
type client struct {
	l    *loop
	conn gnet.Conn
	id   int64

	// in holds request bytes kept between events: the start of a
	// request not fully arrived, or requests held back.
	in   []byte
	argv [][]byte
	out  []byte

	// slots is a ring of the requests not yet answered and written, in
	// order: the oldest, with sequence number base, at index first.
	slots []slot
	first int
	count int
	base  uint64

	sess   router.Session
	writes router.Writes
	// lastWriteN is the newest write answered and lastWriteSeq the
	// monitor's round count when its reply came: a round begun after it
	// saw the master at or past the write.
	lastWriteN   uint64
	lastWriteSeq uint64

	// pinned is the session's own master connection; masterConn is the
	// master connection its unanswered master requests went to, and
	// masterInflight their number. A request for another master
	// connection waits until they are answered, so the master runs the
	// client's requests in the order sent.
	pinned         *bconn
	own            *bconn
	masterConn     *bconn
	masterInflight int
	held           bool

	pendingWait *pendingWait

	authed   bool
	name     []byte
	override *override

	lastActive time.Time
	dirty      bool
	quitting   bool
	gone       bool
}

// override is a session's LAGWISE MAXLAG / READFROM: its own policy and
// the read pool computed with it from the loop's view.
type override struct {
	maxLag   time.Duration
	readFrom router.ReadFrom
	view     *View
	picker   *router.Picker
}

func newClient(l *loop, c gnet.Conn, id int64) *client {
	cl := &client{l: l, conn: c, id: id, lastActive: l.now}
	cl.authed = l.topo.password == ""
	l.clients[cl] = struct{}{}
	return cl
}

func (c *client) idleFor(now time.Time) time.Duration {
	if c.count > 0 || c.sess.Pinned() {
		return 0
	}
	return now.Sub(c.lastActive)
}

// traffic reads what the client sent.
func (c *client) traffic() gnet.Action {
	l := c.l
	l.now = time.Now()
	c.lastActive = l.now
	data, _ := c.conn.Next(-1)
	if c.quitting || c.gone {
		return gnet.None
	}
	if len(c.in) > 0 || c.held {
		c.in = append(c.in, data...)
		if int64(len(c.in)) > c.l.topo.queryLimit && c.l.topo.queryLimit > 0 {
			l.p.log.Warnf("closing client %d: query buffer over limits.client_query_buffer", c.id)
			return gnet.Close
		}
		if c.held {
			return gnet.None
		}
		return c.process(true)
	}
	c.in = append(c.in[:0], data...)
	return c.process(true)
}

// process routes the complete requests in c.in. fromEvent says it runs in
// the client's OnTraffic (a close is returned as the action rather than
// done).
func (c *client) process(fromEvent bool) gnet.Action {
	l := c.l
	l.refreshView()
	buf := c.in
	off := 0
	for off < len(buf) && !c.quitting {
		if c.count >= maxInflight {
			c.hold()
			break
		}
		argv, n, _, err := resp.ParseCommand(buf[off:], c.argv[:0], resp.Limits{MaxBulk: 512 << 20})
		c.argv = argv
		if err != nil {
			// Redis's answer to a malformed request, then the connection
			// closes, as Redis closes it.
			c.newSlot()
			c.errorReply("ERR " + err.Error())
			c.quitting = true
			break
		}
		if n == 0 {
			break
		}
		raw := buf[off : off+n]
		if len(argv) == 0 {
			off += n
			continue
		}
		if !c.request(argv, raw) {
			break // held: the request stays in c.in
		}
		off += n
	}
	// Keep what was not consumed.
	rest := copy(buf, buf[off:])
	c.in = buf[:rest]
	if cap(c.in) > 1<<20 && rest < 1<<16 {
		c.in = append([]byte(nil), c.in...)
	}
	if c.queryOver() {
		l.p.log.Warnf("closing client %d: query buffer over limits.client_query_buffer", c.id)
		if fromEvent {
			return gnet.Close
		}
		c.conn.Close()
	}
	if c.quitting && c.count == 0 {
		c.flush()
		if fromEvent {
			return gnet.Close
		}
		c.conn.Close()
	}
	return gnet.None
}

func (c *client) queryOver() bool {
	lim := c.l.topo.queryLimit
	return lim > 0 && int64(len(c.in)) > lim
}

// hold stops processing until resume.
func (c *client) hold() { c.held = true }

// resume processes requests held back.
func (c *client) resume() {
	if c.gone || !c.held {
		return
	}
	c.held = false
	c.process(false)
}

// request routes one request; it reports false if the request must wait
// (it is then not consumed).
func (c *client) request(argv [][]byte, raw []byte) bool {
	l := c.l
	t := l.topo
	if !c.authed && !preAuth(argv[0]) {
		c.newSlot()
		c.errorReply("NOAUTH Authentication required.")
		return true
	}
	if c.pendingWait != nil {
		// WAIT blocks the session, as it blocks a Redis connection.
		c.hold()
		return false
	}
	if c.wait(argv) {
		l.stats.count(router.Pinned)
		return true
	}
	// A request for the master after the client's requests on another
	// master connection waits until those are answered.
	if paused := l.p.writesPaused.Load(); c.masterInflight > 0 || paused {
		peek := c.sess
		prt := peek.Route(t.classifier, argv)
		if c.masterInflight > 0 && c.mustWait(prt) {
			c.hold()
			return false
		}
		if paused && masterBound(prt.To) {
			// A switch of masters is under way: the request waits for
			// the new one (Proxy.PauseWrites).
			c.hold()
			l.paused = append(l.paused, c)
			return false
		}
	}
	rt := c.sess.Route(t.classifier, argv)
	l.stats.count(rt.Class)
	switch rt.To {
	case router.ToProxy:
		c.local(argv, rt)
	case router.Refuse:
		c.requestSlot(rt)
		c.errorReply(t.classifier.Refusal(argv))
	case router.ToReplicas:
		c.read(argv, raw, rt)
	case router.ToMaster:
		b, err := l.masterConn()
		c.toMaster(b, err, raw, rt)
	case router.ToPinned:
		if c.pinned == nil {
			b, err := l.dedicated()
			if b == nil {
				c.toMaster(nil, err, raw, rt)
				// The session's state never reached the master.
				c.sess = router.Session{}
				return true
			}
			c.pinned = b
			c.pinned.owner = c
		}
		if rt.Confirms {
			c.pinned.subscribed = true
		}
		c.toMaster(c.pinned, nil, raw, rt)
		if rt.Release {
			c.releasePinned()
		}
	case router.ToOwnConn:
		b, err := l.dedicated()
		if b != nil {
			b.owner, b.release = c, true
			c.own = b
		}
		c.toMaster(b, err, raw, rt)
	}
	return true
}

// mustWait reports whether a request routed by rt must wait for the
// client's unanswered master requests: it would reach the master over
// another connection and could overtake them. A read for the replicas
// waits too when those went over a dedicated connection (a transaction
// just ended, say): its read-your-writes fallback is the shared one.
func (c *client) mustWait(rt router.Route) bool {
	switch rt.To {
	case router.ToMaster:
		return c.masterConn != c.l.master || c.l.master == nil
	case router.ToPinned:
		return c.pinned == nil || c.masterConn != c.pinned
	case router.ToOwnConn:
		return true
	case router.ToReplicas:
		return c.masterConn != nil && c.masterConn.kind == kindDedicated
	}
	return false
}

// masterBound: the target is a master connection.
func masterBound(t router.Target) bool {
	return t == router.ToMaster || t == router.ToPinned || t == router.ToOwnConn
}

// preAuth: what a client may send before AUTH.
func preAuth(name []byte) bool {
	return equalFold(name, "auth") || equalFold(name, "hello") || equalFold(name, "quit") || equalFold(name, "reset")
}

// read sends a read where the router picks.
func (c *client) read(argv [][]byte, raw []byte, rt router.Route) {
	l := c.l
	choice := c.pick()
	if choice.Err != "" {
		c.requestSlot(rt)
		c.errorReply(choice.Err)
		return
	}
	if choice.Why == router.NotFresh {
		l.stats.rywMaster.Add(1)
	}
	b := c.backendFor(choice.Backend, "")
	// A replica whose connection is in its backoff: pick again, the
	// round-robin moves on.
	for tries := 1; b == nil && choice.Backend != router.Master && tries < len(l.conns); tries++ {
		if choice = c.pick(); choice.Err != "" {
			break
		}
		b = c.backendFor(choice.Backend, "")
	}
	if b == nil || b.addr == l.topo.master {
		m, err := l.masterConn()
		c.toMaster(m, err, raw, rt)
		return
	}
	s := c.requestSlot(rt)
	s.req = append(s.req[:0], raw...)
	b.send(raw, waiter{c: c, seq: c.lastSeq(), at: l.now})
	b.stats.reads.Add(1)
}

// pick chooses the backend of a read.
func (c *client) pick() router.Choice {
	l := c.l
	var need router.Need
	if l.topo.ryw {
		need = c.writes.Need()
		if need.Wrote && !need.Known && c.lastWriteN > 0 && l.view.Seq > c.lastWriteSeq && l.view.Master.Up {
			c.writes.Observed(c.lastWriteN, l.view.Master.Offset)
			need = c.writes.Need()
		}
	}
	if o := c.override; o != nil {
		return o.pickerFor(l.view).Read(need)
	}
	return l.picker.Read(need)
}

// backendFor returns the loop's shared connection to backend i of the
// view (a replica index, or router.Master), or nil for the master or a
// backend that cannot take requests now; skip is a backend address not to
// use.
func (c *client) backendFor(i int, skip string) *bconn {
	l := c.l
	if i == router.Master || i < 0 || i >= len(l.conns) {
		return nil
	}
	b := l.conns[i]
	if b == nil || b.state == connClosed {
		addr := l.view.Replicas[i].Addr
		if !l.topo.hasReplica(addr) {
			return nil // a view older than the topology
		}
		if b = l.sharedConn(addr); b == nil {
			return nil
		}
		l.conns[i] = b
	}
	if b.addr == skip || b.draining {
		return nil
	}
	if _, down := l.isDown(b.addr); down {
		return nil
	}
	return b
}

// toMaster sends a request on master connection b; a nil b means the
// master is in its backoff after a failed connection (err says why), and
// the request is answered at once rather than queued behind a dial.
func (c *client) toMaster(b *bconn, err error, raw []byte, rt router.Route) {
	l := c.l
	s := c.requestSlot(rt)
	if b == nil {
		c.answerError(c.lastSeq(), masterDown(l.topo.master, err))
		return
	}
	if rt.Write {
		s.writeN = c.writes.Sent()
	}
	s.master = true
	c.masterConn = b
	c.masterInflight++
	b.send(raw, waiter{c: c, seq: c.lastSeq(), confirms: rt.Confirms, at: l.now})
	if rt.Class == router.Read {
		b.stats.reads.Add(1)
	}
}

// newSlot adds a slot for the next request.
func (c *client) newSlot() *slot {
	if c.count == len(c.slots) {
		n := max(8, 2*len(c.slots))
		ring := make([]slot, n)
		for i := 0; i < c.count; i++ {
			ring[i] = c.slots[(c.first+i)&(len(c.slots)-1)]
		}
		c.slots, c.first = ring, 0
	}
	s := &c.slots[(c.first+c.count)&(len(c.slots)-1)]
	c.count++
	req, reply := s.req[:0], s.reply[:0]
	*s = slot{req: req, reply: reply}
	return s
}

// requestSlot adds the slot of a request routed by rt: its reply, from a
// backend or the proxy, is timed from now under rt's class when it is
// delivered (lagwise_request_duration_seconds).
func (c *client) requestSlot(rt router.Route) *slot {
	s := c.newSlot()
	s.class, s.route, s.start = rt.Class, rt.To, c.l.now
	return s
}

// lastSeq is the sequence number of the newest slot.
func (c *client) lastSeq() uint64 { return c.base + uint64(c.count) - 1 }

func (c *client) slotAt(seq uint64) *slot {
	if seq < c.base || seq-c.base >= uint64(c.count) {
		return nil
	}
	return &c.slots[(c.first+int(seq-c.base))&(len(c.slots)-1)]
}

// errorReply answers the newest slot with an error line (no '-', no CRLF).
func (c *client) errorReply(msg string) {
	c.answerError(c.lastSeq(), msg)
}

func (c *client) answerError(seq uint64, msg string) {
	c.deliver(seq, resp.AppendError(make([]byte, 0, len(msg)+3), msg), nil)
}

// answer is a backend's reply to the request in slot seq.
func (c *client) answer(seq uint64, r []byte, b *bconn) {
	if c.gone {
		return
	}
	s := c.slotAt(seq)
	if s == nil {
		return
	}
	if s.master && len(r) > 0 && r[0] == '-' && hasPrefix(r[1:], "READONLY") && b.addr == c.l.topo.master {
		// The configured master is a replica now: look again at once.
		c.l.p.lag.Kick()
	}
	c.deliver(seq, r, b)
}

// deliver completes slot seq with reply r (copied as needed) and writes
// out every completed slot at the head of the queue.
func (c *client) deliver(seq uint64, r []byte, b *bconn) {
	s := c.slotAt(seq)
	if s == nil || s.done {
		return
	}
	l := c.l
	s.done = true
	if s.master {
		s.master = false
		c.masterInflight--
		if c.masterInflight == 0 && c.held {
			l.resume(c)
		}
	}
	if s.writeN > 0 {
		c.lastWriteN, c.lastWriteSeq = s.writeN, l.p.lag.Started()
	}
	if !s.start.IsZero() {
		l.stats.observe(s.class, l.now.Sub(s.start))
	}
	if seq != c.base {
		s.reply = append(s.reply, r...)
		return
	}
	c.out = append(c.out, s.reply...)
	c.out = append(c.out, r...)
	c.popDone()
	l.clientDirty(c)
}

// popDone moves completed slots at the head to the output; the head's
// own reply is already there.
func (c *client) popDone() {
	mask := len(c.slots) - 1
	for i := 0; c.count > 0; i++ {
		s := &c.slots[c.first]
		if !s.done {
			break
		}
		if i > 0 {
			c.out = append(c.out, s.reply...)
		}
		s.reply = s.reply[:0]
		c.first = (c.first + 1) & mask
		c.count--
		c.base++
	}
	if c.held && c.count < maxInflight/2 && c.masterInflight == 0 {
		c.l.resume(c)
	}
	if c.quitting && c.count == 0 {
		c.l.clientDirty(c)
	}
}

// push delivers a pub/sub message (or a confirmation no request waits
// for) after everything queued so far.
func (c *client) push(r []byte) {
	if c.count == 0 {
		c.out = append(c.out, r...)
		c.l.clientDirty(c)
		return
	}
	s := c.newSlot()
	s.done = true
	s.reply = append(s.reply, r...)
}

// pushBefore delivers a message ahead of the reply of slot seq.
func (c *client) pushBefore(seq uint64, r []byte) {
	s := c.slotAt(seq)
	if s == nil {
		c.push(r)
		return
	}
	if seq == c.base {
		c.out = append(c.out, r...)
		c.l.clientDirty(c)
		return
	}
	s.reply = append(s.reply, r...)
}

// releasePinned ends the session's use of its pinned connection: it is
// given back once the replies of everything sent on it are in.
func (c *client) releasePinned() {
	b := c.pinned
	if b == nil {
		return
	}
	c.pinned = nil
	b.subscribed = false
	b.release = true
	b.afterReplies()
}

// dedicatedLost: a dedicated connection of the client's closed.
func (c *client) dedicatedLost(b *bconn, err error) {
	if c.pinned == b {
		c.pinned = nil
		if c.sess.Pinned() && !c.gone {
			// The session's state (transaction, subscriptions, database)
			// died with the connection; the client must know.
			c.l.p.log.Debugf("client %d: pinned master connection lost: %v", c.id, err)
			c.quitting = true
			if c.count == 0 {
				c.flush()
				c.conn.Close()
			}
		}
	}
	if c.own == b {
		c.own = nil
	}
}

// backendFailed answers slot seq after its backend connection failed: a
// read not yet retried goes to another backend, anything else gets an
// error.
func (c *client) backendFailed(seq uint64, b *bconn, err error) {
	if c.gone {
		return
	}
	s := c.slotAt(seq)
	if s == nil || s.done {
		return
	}
	l := c.l
	b.stats.errors.Add(1)
	if s.route == router.ToReplicas && !s.retried && len(s.req) > 0 {
		s.retried = true
		choice := c.pick()
		nb := c.backendFor(choice.Backend, b.addr)
		if nb == nil {
			m, merr := l.masterConn()
			if m == nil {
				c.answerError(seq, masterDown(l.topo.master, merr))
				return
			}
			nb = m
		}
		nb.send(s.req, waiter{c: c, seq: seq, at: l.now})
		return
	}
	switch {
	case b.addr == l.topo.master && s.route != router.ToReplicas:
		if errors.Is(err, errDrained) {
			c.answerError(seq, "ERR lagwise: the master connection closed before the reply (the command may or may not have run)")
			return
		}
		if errors.Is(err, errMasterTimeout) {
			c.answerError(seq, masterDown(b.addr, err)+" (the command may or may not have run)")
			return
		}
		c.answerError(seq, masterDown(b.addr, err))
	default:
		c.answerError(seq, fmt.Sprintf("ERR lagwise: backend %s failed: %v", b.addr, err))
	}
}

func masterDown(addr string, err error) string {
	if errors.Is(err, errMasterTimeout) {
		return fmt.Sprintf("MASTERDOWN lagwise: the master %s %v", addr, err)
	}
	if err == nil {
		err = errors.New("no connection")
	}
	return fmt.Sprintf("MASTERDOWN lagwise: the master %s is unreachable (%v)", addr, err)
}

// flush writes the client's replies.
func (c *client) flush() {
	if c.gone {
		return
	}
	if len(c.out) > 0 {
		out := c.out
		c.out = c.out[:0]
		_, _ = c.conn.Write(out)
	}
	if cap(c.out) > 1<<20 {
		c.out = nil
	}
	if c.quitting && c.count == 0 {
		c.conn.Close()
		return
	}
	if lim := c.l.topo.outputLimit; lim > 0 && int64(c.conn.OutboundBuffered()) > lim {
		c.l.p.log.Warnf("closing client %d: output buffer over limits.client_output_buffer (%d bytes)", c.id, c.conn.OutboundBuffered())
		c.conn.Close()
	}
}

// closed runs when the connection is gone: its dedicated connections go
// too (their state was the client's), its slots are forgotten.
func (c *client) closed() {
	c.gone = true
	delete(c.l.clients, c)
	if c.pinned != nil {
		b := c.pinned
		c.pinned = nil
		b.owner = nil
		b.close()
	}
	if c.own != nil {
		b := c.own
		c.own = nil
		b.owner = nil
		b.close()
	}
	c.slots, c.count = nil, 0
}

func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}
