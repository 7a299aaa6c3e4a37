package backend

import (
	"strconv"

	"github.com/lagwise/lagwise/backend/command"
	"github.com/lagwise/lagwise/backend/resp"
)

// The write stream. Every change to the dataset leaves the executor as a
// command, in execution order, in a form that gives the same result when
// replayed anywhere at any time: relative expiries become absolute ones,
// random choices (SPOP) become the members they chose, blocking pops their
// non-blocking forms, and keys that expire or are evicted become DELs. The
// AOF appends the stream to its incremental file; replicas (and their
// backlog) receive it byte for byte.
//
// A write command propagates its own argv unless it says otherwise
// (Client.propagateAs, Client.noPropagate); anything else that changes the
// dataset calls Server.propagate. The ops of one top-level command are
// gathered and emitted when it returns: one op travels bare, two or more
// inside MULTI ... EXEC, as Redis 7.0 does, so a replica or an AOF load
// never sees half of a command's effect.

// streamSink receives the write stream.
type streamSink interface {
	// feed receives one command, a RESP array, to be applied in database
	// db. MULTI carries the db of the first op it wraps and EXEC that of the
	// last, so a sink that writes SELECT when the db changes (the AOF, a
	// replica link) puts it before MULTI, as Redis 7.0 does. The bytes are
	// valid only during the call.
	feed(db int, cmd []byte)
}

type propagation struct {
	sinks []streamSink
	depth int // nesting of Server.call; ops are emitted when it is back to 0
	buf   []byte
	ops   []pendingOp
}

// pendingOp is an encoded command in propagation.buf.
type pendingOp struct{ db, start, end int }

var (
	streamMulti = resp.AppendCommand(nil, []byte("MULTI"))
	streamExec  = resp.AppendCommand(nil, []byte("EXEC"))
)

// The words of rewritten commands, spelled as Redis 7.0's shared objects
// spell them (the stream is compared with Redis's byte for byte). Never
// modified.
var (
	argDel       = []byte("DEL")
	argSet       = []byte("SET")
	argPXAT      = []byte("PXAT")
	argKeepTTL   = []byte("KEEPTTL")
	argPExpireAt = []byte("PEXPIREAT")
	argPersist   = []byte("PERSIST")
	argHSet      = []byte("HSET")
	argSRem      = []byte("SREM")
	argLPop      = []byte("LPOP")
	argRPop      = []byte("RPOP")
	argLMove     = []byte("LMOVE")
	argRPopLPush = []byte("RPOPLPUSH")
	argZPopMin   = []byte("ZPOPMIN")
	argZPopMax   = []byte("ZPOPMAX")
	argLeft      = []byte("left")
	argRight     = []byte("right")
)

// propagating reports whether anything consumes the write stream; when
// nothing does, commands skip encoding it.
func (s *Server) propagating() bool { return len(s.prop.sinks) > 0 }

// addSink starts feeding the write stream to k.
func (s *Server) addSink(k streamSink) { s.prop.sinks = append(s.prop.sinks, k) }

// removeSink stops feeding k.
func (s *Server) removeSink(k streamSink) {
	for i, x := range s.prop.sinks {
		if x == k {
			s.prop.sinks = append(s.prop.sinks[:i:i], s.prop.sinks[i+1:]...)
			return
		}
	}
}

// propagate adds a command to the write stream, to be applied in database
// db. Inside a command it is emitted with the command's other ops when the
// command returns; outside one (active expiry, eviction before a command) at
// once.
func (s *Server) propagate(db int, argv ...[]byte) {
	if !s.propagating() {
		return
	}
	start := len(s.prop.buf)
	s.prop.buf = resp.AppendCommand(s.prop.buf, argv...)
	s.prop.ops = append(s.prop.ops, pendingOp{db, start, len(s.prop.buf)})
	if s.prop.depth == 0 {
		s.emitPending()
	}
}

// propagateDel propagates the removal of a key that expired or was evicted.
func (s *Server) propagateDel(db int, key string) {
	if !s.propagating() {
		return
	}
	s.propagate(db, argDel, []byte(key))
}

// emitPending hands the gathered ops to every sink.
func (s *Server) emitPending() {
	ops := s.prop.ops
	if len(ops) == 0 {
		return
	}
	wrap := len(ops) > 1
	for _, k := range s.prop.sinks {
		if wrap {
			k.feed(ops[0].db, streamMulti)
		}
		for _, op := range ops {
			k.feed(op.db, s.prop.buf[op.start:op.end])
		}
		if wrap {
			k.feed(ops[len(ops)-1].db, streamExec)
		}
	}
	s.prop.ops = ops[:0]
	if cap(s.prop.buf) > 1<<20 {
		s.prop.buf = nil // do not keep a huge command's buffer forever
	} else {
		s.prop.buf = s.prop.buf[:0]
	}
}

// beginCall and endCall bracket one command's execution. A write command
// that changed the dataset propagates its argv, or what it chose instead.
func (s *Server) beginCall(c *Client) int64 {
	s.prop.depth++
	c.propArgv, c.propSkip, c.propForce = nil, false, false
	return s.dirty
}

func (s *Server) endCall(c *Client, e *cmdEntry, dirtyBefore int64) {
	if s.propagating() && (s.dirty != dirtyBefore || c.propForce) && !c.propSkip && e.meta.Has(command.Write) {
		argv := c.propArgv
		if argv == nil {
			argv = c.argv
		}
		s.propagate(c.db.id, argv...) // joins the pending ops: depth > 0
	}
	c.propArgv, c.propSkip, c.propForce = nil, false, false
	s.prop.depth--
	if s.prop.depth == 0 && len(s.prop.ops) > 0 {
		s.emitPending()
		// WAIT waits for the replicas to reach the end of this client's
		// last write; commands that propagate nothing leave it alone.
		c.woff = s.repl.m.Offset
	}
}

// beginUnit and endUnit bracket work done outside any command whose ops
// must still travel together (serving one blocked client: a lazily expired
// key's DEL and the pop), as Redis's afterCommand does for each client it
// serves.
func (s *Server) beginUnit() { s.prop.depth++ }

func (s *Server) endUnit() {
	s.prop.depth--
	if s.prop.depth == 0 {
		s.emitPending()
	}
}

// propagateAs makes the running command propagate argv instead of its own
// arguments (SET EX as SET PXAT, INCRBYFLOAT as SET...), if it changes the
// dataset. The slices must stay unchanged until the command returns.
// Building argv costs allocations: callers check Server.propagating first.
func (c *Client) propagateAs(argv ...[]byte) { c.propArgv = argv }

// noPropagate stops the running command from propagating its arguments; it
// propagates what it did itself, with Server.propagate, or nothing.
func (c *Client) noPropagate() { c.propSkip = true }

// forcePropagate makes the running command propagate even if it changed
// nothing (FLUSHALL on an empty server still reaches replicas and the AOF).
func (c *Client) forcePropagate() { c.propForce = true }

// propagateOp is Server.propagate in the client's current database.
func (c *Client) propagateOp(argv ...[]byte) { c.srv.propagate(c.db.id, argv...) }

// msArg formats a unix-ms time (or any integer) as an argument.
func msArg(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// popArg is LPOP or RPOP, zpopArg ZPOPMIN or ZPOPMAX, endArg left or right.
func popArg(head bool) []byte {
	if head {
		return argLPop
	}
	return argRPop
}

func zpopArg(max bool) []byte {
	if max {
		return argZPopMax
	}
	return argZPopMin
}

func endArg(head bool) []byte {
	if head {
		return argLeft
	}
	return argRight
}
