package proxy

import (
	"time"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/router"
)

// WAIT through the proxy. The client's writes went over a connection other
// clients share, so the master's own WAIT (which counts the replicas that
// acknowledged that connection's last write) cannot answer it. The proxy
// answers it from the lag monitor instead: the session's last write is
// covered by the master offset of the first poll begun after the write's
// reply, and a replica whose processed offset has reached that offset holds
// the write (the stream is the execution order). WAIT returns once
// numreplicas replicas have, or at the timeout, with how many have.

// pendingWait is a WAIT the proxy has not answered yet.
type pendingWait struct {
	seq      uint64
	want     int64
	deadline time.Time // zero: no timeout
}

// wait starts a WAIT numreplicas timeout; it reports false when the
// request is not a WAIT the proxy answers.
func (c *client) wait(argv [][]byte) bool {
	if !equalFold(argv[0], "wait") || c.sess.Pinned() {
		return false
	}
	c.requestSlot(router.Route{Class: router.Pinned})
	if len(argv) != 3 {
		c.errorReply("ERR wrong number of arguments for 'wait' command")
		return true
	}
	n, ok := resp.ParseInt(argv[1])
	if !ok {
		c.errorReply("ERR value is not an integer or out of range")
		return true
	}
	ms, ok := resp.ParseInt(argv[2])
	if !ok {
		c.errorReply("ERR timeout is not an integer or out of range")
		return true
	}
	if ms < 0 {
		c.errorReply("ERR timeout is negative")
		return true
	}
	w := &pendingWait{seq: c.lastSeq(), want: n}
	if ms > 0 {
		w.deadline = c.l.now.Add(time.Duration(ms) * time.Millisecond)
	}
	c.pendingWait = w
	c.l.waits = append(c.l.waits, c)
	c.checkWait()
	return true
}

// checkWait answers the pending WAIT if enough replicas hold the
// session's writes, or its time is up.
func (c *client) checkWait() bool {
	w := c.pendingWait
	if w == nil || c.gone {
		return true
	}
	l := c.l
	if c.masterInflight > 0 {
		// A write before the WAIT still has no reply.
		if w.deadline.IsZero() || l.now.Before(w.deadline) {
			return false
		}
	}
	acked := c.replicasWithWrites()
	if acked < w.want && (w.deadline.IsZero() || l.now.Before(w.deadline)) {
		return false
	}
	c.pendingWait = nil
	c.deliver(w.seq, resp.AppendInt(nil, acked), nil)
	if c.held {
		l.resume(c)
	}
	return true
}

// replicasWithWrites counts the replicas known to hold every write of the
// session answered so far (all replicas whose lag is known, if it wrote
// nothing).
func (c *client) replicasWithWrites() int64 {
	l := c.l
	need := c.writes.Need()
	if need.Wrote && !need.Known && c.lastWriteN > 0 && l.view.Seq > c.lastWriteSeq && l.view.Master.Up {
		c.writes.Observed(c.lastWriteN, l.view.Master.Offset)
		need = c.writes.Need()
	}
	if need.Wrote && !need.Known {
		return 0
	}
	var n int64
	for _, r := range l.view.Replicas {
		if r.Health == router.Known && r.Offset >= need.Offset {
			n++
		}
	}
	return n
}

// checkWaits runs on every tick for the loop's pending WAITs.
func (l *loop) checkWaits() {
	keep := l.waits[:0]
	for _, c := range l.waits {
		if !c.checkWait() {
			keep = append(keep, c)
		}
	}
	clear(l.waits[len(keep):])
	l.waits = keep
}
