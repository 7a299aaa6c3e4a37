package router

// Read-your-writes: after a session's write, its reads go only to
// backends known to hold that write. The master always does. A replica
// does once its processed offset reaches the master's replication offset
// observed after the write's reply: the replication stream is the
// execution order (design.md, invariant 1), so a replica at that offset
// has applied the write and everything before it.

// Need is what read-your-writes asks of a backend before it serves a
// session's read.
type Need struct {
	// Wrote: the session has written (else any backend will do).
	Wrote bool
	// Known: the master offset after its last write is known; until it
	// is, only the master will do.
	Known bool
	// Offset is that offset: a replica must have processed this far.
	Offset int64
}

// Writes is a session's record of its writes, for read-your-writes.
// Writes are numbered as they are sent; an offset observed after write n's
// reply covers writes 1..n and no later one.
//
// Invariants:
//
//	0 <= observed <= sent
//	offset is the largest master offset observed after a write's reply
//	Need() is Known only when observed == sent: a write still without an
//	  offset sends the session's reads to the master
type Writes struct {
	sent, observed uint64
	offset         int64
}

// Sent records a write sent to the master (Route.Write) and returns its
// number.
func (w *Writes) Sent() uint64 {
	w.sent++
	return w.sent
}

// Observed records masterOffset, the master's replication offset read at
// a moment after the reply to write n arrived: from a poll that started
// after it, or from a ROLE or INFO pipelined behind the write on the same
// connection. Numbers never sent, and offsets for writes older than one
// already observed, change nothing but the offset's maximum.
func (w *Writes) Observed(n uint64, masterOffset int64) {
	if n == 0 || n > w.sent {
		return
	}
	w.observed = max(w.observed, n)
	w.offset = max(w.offset, masterOffset)
}

// Need returns what the session's next read needs.
func (w *Writes) Need() Need {
	switch {
	case w.sent == 0:
		return Need{}
	case w.observed < w.sent:
		return Need{Wrote: true}
	}
	return Need{Wrote: true, Known: true, Offset: w.offset}
}

// Fresh returns the replicas that meet need: all of them when the session
// has not written; none while its write's offset is unknown; otherwise
// those whose lag is known and whose processed offset has reached it. The
// master, which always meets it, is not in the set. A replica whose lag is
// unknown is never fresh: its offset is old news.
func Fresh(need Need, samples []Sample) Set {
	if !need.Wrote {
		return AllReplicas
	}
	var s Set
	if !need.Known {
		return s
	}
	for i := range samples {
		if i >= MaxReplicas {
			break
		}
		if samples[i].Health == Known && samples[i].Offset >= need.Offset {
			s = s.With(i)
		}
	}
	return s
}

// Read chooses the backend for one read of a session whose read-your-
// writes requirement is need (Need{} with read_your_writes off):
//
//   - read_from master: the master.
//   - Otherwise a weighted pick among the pool's backends that meet need.
//   - If the pool has backends but none meets need: the master (NotFresh).
//     The session returns to replicas on the first read after one has
//     caught up.
//   - If the pool is empty (every replica lags): the Eligibility's
//     fallback — the master, the least-lagged replica (if it meets need;
//     else the master), or a refusal.
//
// It does not allocate.
func (p *Picker) Read(need Need) Choice {
	if p.e.Policy.ReadFrom == FromMaster {
		return Choice{Backend: Master, Why: ReadFromMaster}
	}
	fresh := Fresh(need, p.e.Samples) | MasterBit
	if i, ok := p.PickFrom(fresh); ok {
		return Choice{Backend: i, Why: Weighted}
	}
	if need.Wrote && p.poolHasWeight() {
		return Choice{Backend: Master, Why: NotFresh}
	}
	fb := p.e.Fallback
	if fb.Why == LagLeastLagged && !fresh.Has(fb.Backend) {
		return Choice{Backend: Master, Why: NotFresh}
	}
	return fb
}

// poolHasWeight reports whether any backend of the pool has weight.
func (p *Picker) poolHasWeight() bool {
	last := len(p.weights) - 1
	for i, w := range p.weights {
		b := i
		if i == last {
			b = Master
		}
		if w > 0 && p.pool.Has(b) {
			return true
		}
	}
	return false
}
