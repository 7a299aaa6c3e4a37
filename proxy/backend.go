package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// dialTimeout bounds a connection attempt to a backend.
const dialTimeout = time.Second

var (
	errReplicaTimeout = errors.New("did not answer in time")
	errDrained        = errors.New("left the topology")
	errMasterTimeout  = fmt.Errorf("did not answer within %v, nor the lag monitor's polls", masterTimeout)
)

// masterTimeout is how long a request waits on a master that answers
// nothing, not even the lag monitor's polls (a stopped process, a network
// that drops its packets), before it gets -MASTERDOWN: Redis's own
// busy-reply-threshold, after which a busy Redis answers -BUSY. A master
// that answers polls is waited for as long as it takes (a slow command, a
// blocking pop).
const masterTimeout = 5 * time.Second

type connState uint8

const (
	connDialling connState = iota
	connReady
	connClosed
)

type connKind uint8

const (
	// kindShared: one per backend per loop; every client of the loop
	// pipelines its stateless requests on it.
	kindShared connKind = iota
	// kindDedicated: a master connection of one client's own, for a
	// pinned session or one blocking command.
	kindDedicated
)

// waiter is a request sent on a backend connection whose reply has not
// come: the client and the sequence number of its slot, or a set-up
// request of the proxy's own (c == nil).
type waiter struct {
	c   *client
	seq uint64
	// confirms: answered by (un)subscribe confirmations, not one reply.
	confirms bool
	at       time.Time
}

// bconn is one connection from a loop to a backend.
//
// Requests are appended to out as clients send them and written at the end
// of the loop turn; their waiters join the FIFO in the same order, and each
// reply that comes back answers the oldest waiter. A reply is matched by
// position only, so once anything goes wrong on the connection (an error,
// a reply that is not RESP, a timeout) it is closed and every waiter is
// answered with an error, or retried if it is a read.
type bconn struct {
	l     *loop
	addr  string
	kind  connKind
	state connState
	conn  gnet.Conn

	out     []byte
	waiters []waiter
	head    int
	// in holds the start of a reply that has not fully arrived.
	in   []byte
	scan replyScanner

	// owner is the client a dedicated connection serves; release: give
	// the connection back once its waiters are answered.
	owner   *client
	release bool
	// subscribed: the owner subscribed on it, so replies are looked at
	// for pub/sub messages.
	subscribed bool
	// draining: its backend left the topology; it closes once its
	// waiters are answered.
	draining bool

	dirty     bool
	idleSince time.Time
	stats     *backendStats
}

func newBconn(l *loop, addr string, kind connKind) *bconn {
	b := &bconn{l: l, addr: addr, kind: kind, stats: l.p.backends.open(addr)}
	if t := l.topo; len(t.backendSetup) > 0 {
		b.out = append(b.out, t.backendSetup...)
		for i := 0; i < t.setupReplies; i++ {
			b.waiters = append(b.waiters, waiter{})
		}
	}
	l.p.dial(b)
	return b
}

// dial starts connecting off the loop; the connection is handed to the
// loop, or a failure comes back through Execute.
func (b *bconn) dial() { go b.connect() }

func (b *bconn) connect() {
	nc, err := net.DialTimeout("tcp", b.addr, dialTimeout)
	if err == nil {
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		var ch <-chan gnet.RegisteredResult
		ch, err = b.l.el.Enroll(gnet.NewContext(context.Background(), b), nc)
		if err == nil {
			if r := <-ch; r.Err != nil {
				err = r.Err
			}
		} else {
			nc.Close()
		}
	}
	if err != nil {
		_ = b.l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			b.l.now = time.Now()
			b.l.connFailed(b.addr, err)
			b.fail(err)
			return nil
		}))
	}
}

// opened runs on the loop when the dialled connection is registered.
func (b *bconn) opened(c gnet.Conn) {
	if b.state == connClosed {
		// Given up on while dialling.
		_ = b.l.el.Close(c)
		return
	}
	b.conn, b.state = c, connReady
	b.l.connUp(b.addr)
	if len(b.out) > 0 {
		b.l.backendDirty(b)
	}
}

// send queues a request for the end of the turn.
func (b *bconn) send(req []byte, w waiter) {
	if b.state == connClosed {
		w.c.backendFailed(w.seq, b, errors.New("connection closed"))
		return
	}
	b.out = append(b.out, req...)
	b.waiters = append(b.waiters, w)
	b.l.backendDirty(b)
}

// pending is the number of requests still waiting for replies.
func (b *bconn) pending() int { return len(b.waiters) - b.head }

// oldestWait is how long the oldest waiter has waited (0 if none).
func (b *bconn) oldestWait(now time.Time) time.Duration {
	if b.head == len(b.waiters) || b.state == connClosed {
		return 0
	}
	at := b.waiters[b.head].at
	if at.IsZero() {
		return 0
	}
	return now.Sub(at)
}

// flush writes the requests gathered this turn.
func (b *bconn) flush() {
	if b.state != connReady || len(b.out) == 0 {
		return
	}
	out := b.out
	b.out = b.out[:0]
	if _, err := b.conn.Write(out); err != nil {
		b.fail(err)
	}
	if cap(b.out) > 1<<20 {
		b.out = nil
	}
}

// traffic handles replies.
func (b *bconn) traffic() gnet.Action {
	if b.state == connClosed {
		return gnet.Close
	}
	b.l.now = time.Now()
	data, _ := b.conn.Next(-1)
	buf := data
	if len(b.in) > 0 {
		b.in = append(b.in, data...)
		buf = b.in
	}
	off := 0
	for off < len(buf) {
		n, err := b.scan.next(buf[off:])
		if err != nil {
			b.fail(fmt.Errorf("%w from %s", err, b.addr))
			return gnet.Close
		}
		if n == 0 {
			break
		}
		b.reply(buf[off : off+n])
		off += n
		if b.state == connClosed {
			return gnet.Close
		}
	}
	switch {
	case off == len(buf):
		b.in = b.in[:0]
		if cap(b.in) > 1<<20 {
			b.in = nil
		}
	case len(b.in) > 0:
		b.in = append(b.in[:0], b.in[off:]...)
	default:
		b.in = append(b.in[:0], buf[off:]...)
	}
	b.afterReplies()
	return gnet.None
}

// reply hands one complete reply to its waiter.
func (b *bconn) reply(r []byte) {
	if b.subscribed && b.owner != nil {
		if b.pubsubReply(r) {
			return
		}
	}
	if b.head == len(b.waiters) {
		// A reply nobody asked for: the connection can no longer be
		// trusted to match replies with requests.
		b.fail(fmt.Errorf("unexpected reply from %s", b.addr))
		return
	}
	w := b.waiters[b.head]
	b.pop()
	if w.c == nil {
		if len(r) > 0 && r[0] == '-' {
			b.l.p.log.Errorf("backend %s refused the proxy's authentication: %s", b.addr, trimCRLF(r[1:]))
			b.fail(fmt.Errorf("%s refused the proxy's authentication: %s", b.addr, trimCRLF(r[1:])))
		}
		return
	}
	w.c.answer(w.seq, r, b)
}

// pubsubReply handles a reply on a subscribed connection: a message goes
// to the client ahead of the oldest waiter's reply (as the server sent
// it), a confirmation answers the (un)subscribe request it belongs to.
// It reports whether it took the reply.
func (b *bconn) pubsubReply(r []byte) bool {
	c := b.owner
	what, kind, count := inspectPubsub(r)
	switch what {
	case pushMessage:
		if b.head < len(b.waiters) {
			c.pushBefore(b.waiters[b.head].seq, r)
		} else {
			c.push(r)
		}
		return true
	case confirmation:
		done, release := c.sess.Confirm(kind, count)
		if b.head == len(b.waiters) || !b.waiters[b.head].confirms {
			// A confirmation no request waits for: deliver it in place.
			if b.head < len(b.waiters) {
				c.pushBefore(b.waiters[b.head].seq, r)
			} else {
				c.push(r)
			}
		} else if done {
			w := b.waiters[b.head]
			b.pop()
			c.answer(w.seq, r, b)
		} else {
			c.pushBefore(b.waiters[b.head].seq, r)
		}
		if release {
			c.releasePinned()
		}
		return true
	}
	return false
}

func (b *bconn) pop() {
	b.waiters[b.head] = waiter{}
	b.head++
	if b.head == len(b.waiters) {
		b.waiters, b.head = b.waiters[:0], 0
	}
}

// afterReplies gives back or closes a connection whose work is done.
func (b *bconn) afterReplies() {
	if b.pending() > 0 || b.state == connClosed {
		return
	}
	switch {
	case b.draining:
		b.close()
	case b.kind == kindDedicated && b.release:
		b.l.giveBack(b)
	}
}

// drain closes the connection once its waiters are answered.
func (b *bconn) drain() {
	b.draining = true
	if b.pending() == 0 {
		b.close()
	}
}

// close closes the connection; waiters still pending are failed.
func (b *bconn) close() {
	b.fail(errDrained)
}

// lost runs when gnet closed the connection.
func (b *bconn) lost(err error) {
	if err == nil {
		err = errors.New("connection closed")
	}
	b.fail(fmt.Errorf("connection to %s lost: %v", b.addr, err))
}

// fail closes the connection and answers every waiter: reads are retried
// elsewhere once, everything else gets an error naming the backend.
func (b *bconn) fail(err error) {
	if b.state == connClosed {
		return
	}
	b.state = connClosed
	if b.conn != nil {
		_ = b.l.el.Close(b.conn)
	}
	if b.l.shared[b.addr] == b {
		delete(b.l.shared, b.addr)
	}
	if b.l.master == b {
		b.l.master = nil
	}
	ws := b.waiters[b.head:]
	b.waiters, b.head, b.out, b.in = nil, 0, nil, nil
	for _, w := range ws {
		if w.c != nil {
			w.c.backendFailed(w.seq, b, err)
		}
	}
	if b.owner != nil {
		b.owner.dedicatedLost(b, err)
	}
	// Last: the waiters' errors above are counted while the backend's
	// counters are still kept.
	b.l.p.backends.closed(b.stats)
}

func trimCRLF(b []byte) string {
	if n := len(b); n >= 2 && b[n-2] == '\r' {
		b = b[:n-2]
	}
	return string(b)
}
