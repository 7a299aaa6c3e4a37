package router

// Target is where one request goes.
type Target uint8

const (
	// ToReplicas: a read for the lag-aware choice (Picker.Read), which may
	// still answer the master.
	ToReplicas Target = iota
	// ToMaster: the master, over the event loop's shared connection.
	ToMaster
	// ToPinned: the session's own master connection, opened on first use
	// and kept after the reply until a Route or Confirm says Release.
	ToPinned
	// ToOwnConn: a master connection of its own for this request only (a
	// blocking command outside a pinned session); the proxy gives it back,
	// or closes it, once the reply is in.
	ToOwnConn
	// ToProxy: the proxy answers it.
	ToProxy
	// Refuse: the proxy refuses it with Classifier.Refusal's error.
	Refuse
)

var targetNames = [...]string{
	ToReplicas: "replicas", ToMaster: "master", ToPinned: "pinned",
	ToOwnConn: "own connection", ToProxy: "proxy", Refuse: "refuse",
}

func (t Target) String() string {
	if int(t) < len(targetNames) {
		return targetNames[t]
	}
	return "Target(?)"
}

// Route is Session's decision for one request.
type Route struct {
	Class Class
	To    Target
	// Write says the request may change data: once its reply is in, a
	// read-your-writes session must learn a new master offset
	// (Writes.Sent). A command queued in a transaction takes effect at
	// EXEC, so the EXEC carries the Write of the commands it ran.
	Write bool
	// Release says the session needs its pinned connection no more once
	// this request is answered: the proxy returns the connection to a clean
	// state (or closes it) after the replies of everything sent on it.
	Release bool
	// Confirms says the request is answered by (un)subscribe
	// confirmations, one per channel (or, for an unsubscribe of all, until
	// none of its kind is left), which the proxy hands to Confirm; it is
	// answered when Confirm reports done. Otherwise one reply answers it.
	Confirms bool
}

// Session follows the state a client builds on its connection to the
// proxy and says where each request goes (Route). The state lives on a
// master connection of the session's own, the pinned connection; while any
// of it exists every request but the proxy's own goes there, since that
// connection is the only one that looks to the client like its own.
//
//   - A transaction, from MULTI to EXEC or DISCARD. A SELECT queued in it
//     takes effect at EXEC.
//   - WATCH, until UNWATCH, EXEC or DISCARD.
//   - Pub/sub, from the first (P|S)SUBSCRIBE until the server confirms that
//     no channel, pattern or shard channel is left and every
//     (un)subscription sent has been confirmed (Confirm).
//   - A database other than 0, until SELECT 0.
//
// A blocking command outside those states gets a connection for itself
// alone (ToOwnConn) and leaves no state. RESET ends everything.
//
// Invariants:
//
//	Pinned() == multi || watching || db != 0 || inPubSub()
//	inPubSub() == lost || len(owed) > head || channels+patterns > 0 || shards > 0
//	head <= len(owed); each owed[i] for i >= head is an (un)subscribe
//	  request sent on the pinned connection whose confirmations are not
//	  all in, oldest first
//
// When unsure, Session stays pinned: the pinned connection answers any
// request as the client's own connection to the master would, so staying
// pinned too long costs a connection, never a wrong answer.
type Session struct {
	multi    bool
	watching bool
	db       int64

	// txSelect and txDB: a SELECT queued in the open transaction.
	txSelect bool
	txDB     int64
	// txWrite: a command queued in the open transaction may write.
	txWrite bool

	// channels, patterns and shards are the subscriptions the server
	// has confirmed, as its confirmations count them.
	channels, patterns, shards int64
	owed                       []owed
	head                       int
	// lost: confirmations can no longer be matched with their requests (a
	// SUBSCRIBE queued in a transaction answers inside EXEC's reply, a
	// confirmation came that no request asked for). The session then stays
	// in pub/sub until RESET or the client goes.
	lost bool
}

// owed is an (un)subscribe request whose confirmations are not all in.
type owed struct {
	kind subKind
	// n is the number of confirmations still to come; 0 for an
	// unsubscribe of all channels of a kind, which ends when that kind's
	// count reaches zero.
	n int
}

// Pinned reports whether the session holds state on its pinned
// connection.
func (s *Session) Pinned() bool {
	return s.multi || s.watching || s.db != 0 || s.inPubSub()
}

func (s *Session) inPubSub() bool {
	return s.lost || len(s.owed) > s.head || s.channels+s.patterns > 0 || s.shards > 0
}

// DB returns the database the session has selected, as far as the proxy
// knows (a SELECT the server refused is counted too: the session then
// stays pinned, which is safe).
func (s *Session) DB() int64 { return s.db }

// Route classifies a request with c and says where it goes, updating the
// session's state as the request will change it once sent. It does not
// allocate, except to queue a pub/sub request's confirmations the first
// time.
func (s *Session) Route(c *Classifier, argv [][]byte) Route {
	r := c.classify(argv)
	rt := Route{Class: r.class, Write: r.write}
	was := s.Pinned()
	switch r.op {
	case opNone:
		switch {
		case r.class == Denied:
			rt.To = Refuse
		case was:
			rt.To = ToPinned
		case r.class == Read:
			rt.To = ToReplicas
		default:
			rt.To = ToMaster
		}
	case opSetup, opQuit:
		// Connection set-up is the proxy's in every state, in a
		// transaction too: its answer comes at once, not in EXEC's reply.
		rt.To = ToProxy
	case opReset:
		*s = Session{owed: s.owed[:0]}
		rt.To, rt.Release = ToProxy, was
	case opPing:
		// On a pinned connection the server answers: queued in a
		// transaction, in pub/sub form while subscribed.
		rt.To = ToProxy
		if was {
			rt.To = ToPinned
		}
	case opSelect:
		switch {
		case s.multi:
			s.txSelect, s.txDB = true, r.db
			rt.To = ToPinned
		case r.db == 0 && !was:
			rt.To = ToProxy // already in database 0
		default:
			s.db = r.db
			rt.To = ToPinned
		}
	case opMulti:
		if !s.multi { // a nested MULTI is refused and changes nothing
			s.multi, s.txSelect, s.txWrite = true, false, false
		}
		rt.To = ToPinned
	case opExec, opDiscard:
		switch {
		case s.multi:
			if r.op == opExec {
				rt.Write = s.txWrite
				// EXEC may abort (a watched key changed) and leave the
				// database as it was; stay pinned unless both say 0.
				if s.txSelect && s.txDB != 0 {
					s.db = s.txDB
				}
			}
			s.multi, s.watching, s.txSelect, s.txWrite = false, false, false, false
			rt.To = ToPinned
		case was:
			rt.To = ToPinned
		default:
			rt.To = ToMaster // the master's "without MULTI" error
		}
	case opWatch:
		if !s.multi { // WATCH in a transaction is refused
			s.watching = true
		}
		rt.To = ToPinned
	case opUnwatch:
		switch {
		case s.multi: // queued; EXEC unwatches anyway
			rt.To = ToPinned
		case was:
			s.watching = false
			rt.To = ToPinned
		default:
			rt.To = ToMaster // nothing to unwatch
		}
	case opSubscribe:
		rt.Confirms = s.sent(r)
		rt.To = ToPinned
	case opUnsubscribe:
		if !was {
			// Nothing to leave: the proxy confirms each channel with a
			// count of 0, as the server would.
			rt.To = ToProxy
			break
		}
		rt.Confirms = s.sent(r)
		rt.To = ToPinned
	case opBlocking:
		rt.To = ToOwnConn
		if was {
			rt.To = ToPinned
		}
	case opOwnConn:
		rt.To = ToOwnConn
		if s.multi {
			rt.To = ToPinned
		}
	}
	if s.multi && r.op != opMulti && rt.To == ToPinned {
		// Queued: it writes, if at all, at EXEC.
		s.txWrite = s.txWrite || rt.Write
		rt.Write = false
	}
	if was && !s.Pinned() {
		rt.Release = true
	}
	return rt
}

// sent records an (un)subscribe request sent on the pinned connection and
// reports whether its answer comes as confirmations for Confirm.
func (s *Session) sent(r request) bool {
	if s.multi || s.lost {
		// In a transaction its confirmations come inside EXEC's reply,
		// where Confirm never sees them; once lost, one reply answers it.
		if r.sub.subscribes() {
			s.lost = true
		}
		return false
	}
	if s.head == len(s.owed) {
		s.owed, s.head = s.owed[:0], 0
	}
	s.owed = append(s.owed, owed{kind: r.sub, n: r.subs})
	return true
}

// Confirm records a (un)subscribe confirmation the server sent on the
// pinned connection: kind is its first element ("subscribe",
// "punsubscribe"...) and count its last, the number of subscriptions the
// connection has left (channels and patterns together, or shard channels
// for the shard kinds). Other replies and pushes (message, pmessage,
// smessage, pong) are not confirmations; Confirm ignores them. It reports
// whether this confirmation was the last of the oldest (un)subscribe
// request still owed some (done: that request is answered), and whether
// the session left its pinned state with it, as Route.Release does. A
// confirmation that matches no owed request answers nothing.
func (s *Session) Confirm(kind []byte, count int64) (done, release bool) {
	k := subKindOfBytes(kind)
	if k == subNone {
		return false, false
	}
	if s.lost || s.head == len(s.owed) || s.owed[s.head].kind != k || count < 0 {
		// Confirmations no longer match requests: each one answers the
		// oldest request still waiting, so none waits for ever.
		s.lost = true
		return true, false
	}
	was := s.Pinned()
	left := count
	switch k.family() {
	case subChannel:
		s.channels = count - s.patterns
		left = s.channels
	case subPattern:
		s.patterns = count - s.channels
		left = s.patterns
	case subShard:
		s.shards = count
	}
	if s.channels < 0 || s.patterns < 0 {
		s.lost = true
		return true, false
	}
	o := &s.owed[s.head]
	switch {
	case o.n > 0:
		o.n--
		done = o.n == 0
	case left == 0: // an unsubscribe of all of its kind, now done
		done = true
	}
	if done {
		s.head++
	}
	return done, was && !s.Pinned()
}
