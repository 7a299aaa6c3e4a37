package backend

import (
	"fmt"
	"strings"
	"time"

	"github.com/lagwise/lagwise/backend/command"
	"github.com/lagwise/lagwise/backend/resp"
)

// handler executes one command for c, with c.argv set, holding Server.mu.
// It appends exactly one reply to c.out (or blocks the client).
type handler func(c *Client)

// cmdEntry binds a command of the shared table to its handler and counts
// its calls for INFO commandstats.
type cmdEntry struct {
	meta    *command.Command
	fn      handler
	subs    map[string]*cmdEntry
	calls   int64
	usec    int64
	reject  int64
	failed  int64
	fullUp  string // upper-case name, for "Try X HELP."
	isMulti bool   // MULTI/EXEC/DISCARD/WATCH/QUIT/RESET run even inside MULTI
}

// spec registers a handler. Subcommand handlers are named "container|sub".
type spec struct {
	name string
	fn   handler
}

// commandGroups lists the handler tables of the command families; each
// family's file opens with its table.
var commandGroups = [][]spec{
	connectionCommands,
	serverCommands,
	stringCommands,
	keyCommands,
	hashCommands,
	listCommands,
	setCommands,
	zsetCommands,
	pubsubCommands,
	txCommands,
}

// Mark the shared table with what this server implements.
func init() {
	for _, g := range commandGroups {
		for _, sp := range g {
			if !command.MarkImplemented(sp.name) {
				panic("command " + sp.name + " is not in the Redis 7.0 command table")
			}
			if top, _, isSub := strings.Cut(sp.name, "|"); isSub {
				command.MarkImplemented(top)
			}
		}
	}
}

// buildCommandTable joins the handler tables with the shared command table.
func buildCommandTable() map[string]*cmdEntry {
	t := map[string]*cmdEntry{}
	for _, g := range commandGroups {
		for _, sp := range g {
			name, sub, isSub := strings.Cut(sp.name, "|")
			parent := t[name]
			if parent == nil {
				parent = &cmdEntry{meta: commandMeta(name), fullUp: strings.ToUpper(name)}
				t[name] = parent
			}
			if !isSub {
				parent.fn = sp.fn
				continue
			}
			meta := parent.meta.Subcommands[sub]
			if meta == nil {
				panic("subcommand " + sp.name + " is not in the Redis 7.0 command table")
			}
			if parent.subs == nil {
				parent.subs = map[string]*cmdEntry{}
			}
			parent.subs[sub] = &cmdEntry{meta: meta, fn: sp.fn, fullUp: strings.ToUpper(name)}
		}
	}
	for _, n := range []string{"multi", "exec", "discard", "watch", "quit", "reset"} {
		if e := t[n]; e != nil {
			e.isMulti = true
		}
	}
	return t
}

// Implemented reports whether lagwise server executes the named command
// ("get", "config|get").
func (s *Server) Implemented(name string) bool {
	name = strings.ToLower(name)
	top, sub, isSub := strings.Cut(name, "|")
	e := s.cmds[top]
	if e == nil {
		return false
	}
	if !isSub {
		return e.fn != nil || len(e.subs) > 0
	}
	return e.subs[sub] != nil
}

// lookup finds the entry for a request, resolving subcommands. It returns a
// nil entry and the reply error when the command is unknown.
func (s *Server) lookup(argv [][]byte) (*cmdEntry, string) {
	var low [32]byte
	name := argv[0]
	var e *cmdEntry
	if len(name) <= len(low) {
		for i, ch := range name {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			low[i] = ch
		}
		e = s.cmds[string(low[:len(name)])]
	}
	if e == nil {
		return nil, unknownCommand(argv)
	}
	if e.subs == nil {
		return e, ""
	}
	if len(argv) < 2 {
		if e.fn != nil {
			return e, ""
		}
		return nil, fmt.Sprintf("ERR wrong number of arguments for '%s' command", e.meta.Name)
	}
	sub := e.subs[strings.ToLower(string(argv[1]))]
	if sub == nil {
		if e.fn != nil {
			return e, ""
		}
		return nil, fmt.Sprintf(msgUnknownSub, sanitize(string(argv[1])), e.fullUp)
	}
	return sub, ""
}

func unknownCommand(argv [][]byte) string {
	var b strings.Builder
	for i := 1; i < len(argv) && b.Len() < 128; i++ {
		a := argv[i]
		if max := 128 - b.Len(); len(a) > max {
			a = a[:max]
		}
		b.WriteString("'")
		b.Write(a)
		b.WriteString("' ")
	}
	name := argv[0]
	if len(name) > 128 {
		name = name[:128]
	}
	return sanitize(fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", name, b.String()))
}

// sanitize replaces CR and LF so an error stays one line, as Redis does.
func sanitize(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// process runs one request for c (holding Server.mu): lookup, the checks
// Redis makes before a call (arity, auth, MULTI queueing, pub/sub context,
// memory), then the call itself.
func (s *Server) process(c *Client) {
	if c.killed {
		// CLIENT KILL'ed while its requests were still buffered.
		c.closeAfter = true
		return
	}
	s.processCommand(c)
	if c.async {
		c.moveToAsync()
	}
}

func (s *Server) processCommand(c *Client) {
	if s.closing.Load() {
		// The server is exiting after SHUTDOWN's final save: a command
		// that ran now could be acknowledged and then lost.
		c.closeAfter = true
		return
	}
	s.now = time.Now().UnixMilli()
	e, errMsg := s.lookup(c.argv)
	if e == nil {
		s.rejectCall(c, nil, errMsg)
		return
	}
	if !e.meta.CheckArity(len(c.argv)) {
		s.rejectCall(c, e, fmt.Sprintf("ERR wrong number of arguments for '%s' command", e.meta.Name))
		return
	}
	if !c.authed && !e.meta.Has(command.NoAuth) {
		s.rejectCall(c, e, msgNoAuth)
		return
	}
	// Memory is checked before queueing too: a transaction that would
	// need memory over the limit fails at once, as in Redis.
	if s.cfg.MaxMemory > 0 && s.repl.link == nil && (e.meta.Has(command.DenyOOM) || (c.multi != nil && !e.isMulti)) && !s.performEvictions() {
		s.rejectCall(c, e, msgOOM)
		return
	}
	if s.repl.link != nil && !c.isMaster {
		if !s.cfg.ReplicaServeStaleData && !s.repl.link.up() && !e.meta.Has(command.Stale) {
			s.rejectCall(c, e, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
			return
		}
		if s.cfg.ReplicaReadOnly && e.meta.Has(command.Write) {
			s.rejectCall(c, e, "READONLY You can't write against a read only replica.")
			return
		}
	}
	if e.meta.Has(command.Write) && !c.isMaster && !s.enoughReplicas() {
		s.rejectCall(c, e, msgNoReplicas)
		return
	}
	if (e.meta.Has(command.Write) || e.meta.Name == "ping") && !c.isMaster {
		if msg := s.writesDeniedByDiskError(); msg != "" {
			s.rejectCall(c, e, msg)
			return
		}
	}
	if c.multi != nil && !e.isMulti {
		c.queue(e)
		return
	}
	if (len(c.subs) > 0 || len(c.psubs) > 0) && c.protoVer == 2 && !allowedInPubSub(e.meta.Name) {
		s.rejectCall(c, e, fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", e.meta.Name))
		return
	}
	s.call(c, e)
}

// rejectCall replies an error for a command that did not run (Redis's
// rejected_calls); inside MULTI it also dooms the transaction.
func (s *Server) rejectCall(c *Client, e *cmdEntry, msg string) {
	if e != nil {
		e.reject++
	}
	if e != nil && e.meta.Name == "exec" {
		// A rejected EXEC ends the transaction it was meant to run, and
		// says so even outside MULTI, as Redis's execCommandAbort does.
		c.multi = nil
		c.unwatchAll()
		c.errorReply("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	if c.multi != nil {
		c.multi.aborted = true
	}
	c.errorReply(msg)
}

// call executes e for c, times it, and then serves clients blocked on keys
// that the command filled.
func (s *Server) call(c *Client, e *cmdEntry) {
	start := time.Now()
	before := s.stats.totalErrorReplies
	c.curCmd = e
	dirty := s.beginCall(c)
	e.fn(c)
	s.endCall(c, e, dirty)
	c.curCmd = nil
	e.calls++
	e.usec += int64(time.Since(start) / time.Microsecond)
	if s.stats.totalErrorReplies > before {
		e.failed++
	}
	s.stats.commandsProcessed++
	c.lastCmd = e.meta.Name
	c.lastActive = time.Now()
	// Inside EXEC, blocked clients wait for the whole transaction.
	if len(s.readyKeys) > 0 && !c.inExec {
		s.serveBlocked()
	}
}

func allowedInPubSub(name string) bool {
	switch name {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}

// Reply helpers. Each appends one RESP2 element to c.out.

func (c *Client) ok()                 { c.out = resp.AppendOK(c.out) }
func (c *Client) simple(s string)     { c.out = resp.AppendSimple(c.out, s) }
func (c *Client) integer(n int64)     { c.out = resp.AppendInt(c.out, n) }
func (c *Client) bulk(b []byte)       { c.out = resp.AppendBulk(c.out, b) }
func (c *Client) bulkStr(s string)    { c.out = resp.AppendBulkString(c.out, s) }
func (c *Client) bulkInt(n int64)     { c.out = resp.AppendBulkInt(c.out, n) }
func (c *Client) bulkFloat(f float64) { c.out = resp.AppendBulkFloat(c.out, f) }
func (c *Client) null()               { c.out = resp.AppendNull(c.out) }
func (c *Client) nullArray()          { c.out = resp.AppendNullArray(c.out) }
func (c *Client) array(n int)         { c.out = resp.AppendArray(c.out, n) }
func (c *Client) raw(b string)        { c.out = append(c.out, b...) }

// errorReply appends an error and counts it for INFO errorstats.
func (c *Client) errorReply(msg string) {
	c.out = resp.AppendError(c.out, msg)
	s := c.srv
	s.stats.totalErrorReplies++
	code := msg
	if i := strings.IndexByte(msg, ' '); i > 0 {
		code = msg[:i]
	}
	s.stats.errorCounts[code]++
}

// errorf is errorReply with formatting.
func (c *Client) errorf(format string, args ...any) { c.errorReply(fmt.Sprintf(format, args...)) }

// wrongType replies the WRONGTYPE error.
func (c *Client) wrongType() { c.errorReply(msgWrongType) }

// syntaxErr replies ERR syntax error.
func (c *Client) syntaxErr() { c.errorReply(msgSyntax) }

// strs appends an array of bulk strings.
func (c *Client) strs(items []string) {
	c.array(len(items))
	for _, it := range items {
		c.bulkStr(it)
	}
}
