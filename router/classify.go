package router

import (
	"fmt"
	"strings"

	"github.com/lagwise/lagwise/backend/command"
)

// Class is what a request is, as far as routing goes. It depends on the
// request alone; what a session has done before (a transaction, a pinned
// connection) is Session's business.
type Class uint8

const (
	// Unknown is a command the table lacks, or an unknown subcommand of one
	// it has. It goes to the master ("a command missing from the table goes
	// to the master") and counts as a write, since nothing says it is not.
	Unknown Class = iota
	// Read is a read-only command a replica may serve: the table flags it
	// readonly and its answer does not depend on which server gives it.
	Read
	// Write changes data, or may: the table flags it write, or it is a
	// script that may write (EVAL, EVALSHA, FCALL). Master only.
	Write
	// MasterOnly writes nothing but must be answered by the master: server
	// and pub/sub commands the table flags neither readonly nor write
	// (TIME, COMMAND, PUBLISH, SCRIPT LOAD...), and reads whose answer is
	// only good on the server that gave the last one (SCAN cursors,
	// EVALSHA_RO; see the package's decisions in docs/architecture.md).
	// A malformed request the master will refuse without side effects
	// (SELECT with a bad index, a container with no subcommand) is also
	// MasterOnly.
	MasterOnly
	// Admin is an admin command let through to the master: CONFIG GET, and
	// whatever the allow list names.
	Admin
	// Pinned starts, continues or ends state on a master connection of the
	// session's own (MULTI/EXEC/DISCARD, WATCH/UNWATCH, SUBSCRIBE and
	// friends, SELECT of a non-zero database), or blocks the connection it
	// runs on (BLPOP, XREAD BLOCK, WAIT...).
	Pinned
	// Local is answered by the proxy and pins nothing: HELLO, AUTH, CLIENT
	// SETNAME/SETINFO/GETNAME/ID, PING, ECHO, QUIT, RESET, INFO, SELECT 0
	// and the LAGWISE family.
	Local
	// Denied is refused by the proxy: commands that make no sense through
	// it (replication, MONITOR, SHUTDOWN, DEBUG, CONFIG SET...), unless the
	// allow list names them, and commands that would change a connection
	// other clients share (CLIENT REPLY, CLIENT TRACKING...).
	Denied
)

var classNames = [...]string{
	Unknown: "unknown", Read: "read", Write: "write", MasterOnly: "master",
	Admin: "admin", Pinned: "pinned", Local: "local", Denied: "denied",
}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// op marks the commands Session treats specially.
type op uint8

const (
	opNone op = iota
	opSetup
	opPing
	opQuit
	opReset
	opSelect
	opMulti
	opExec
	opDiscard
	opWatch
	opUnwatch
	opSubscribe
	opUnsubscribe
	opBlocking
	opOwnConn
)

// denial says why a Denied request is refused.
type denial uint8

const (
	denyNone denial = iota
	// denyAdmin: an admin command the allow list does not name.
	denyAdmin
	// denyStream: the command turns the connection into a stream of
	// something other than replies (SYNC, PSYNC, REPLCONF, MONITOR); no
	// allow list lets it through.
	denyStream
	// denyShared: the command changes how a connection replies, and the
	// proxy's backend connections are shared (CLIENT REPLY, TRACKING...).
	denyShared
	// denyUnknownClient: an unknown CLIENT subcommand — a newer server's
	// connection setting, which a shared connection must not take.
	denyUnknownClient
)

// request is what classification learns about one request.
type request struct {
	class Class
	op    op
	// write: the request may change data (Write and Unknown, and the
	// commands of other classes that carry the write flag).
	write bool
	// db is the index of a well-formed SELECT.
	db int64
	// sub is the subscription kind of a (un)subscribe request, and subs
	// the number of channels it names (0: an UNSUBSCRIBE of all).
	sub  subKind
	subs int
	deny denial
	// cmd is the table's entry ((sub)command) when there is one.
	cmd *command.Command
}

// Classifier classifies requests with an allow list of admin commands. It
// is read-only once made and may be shared by every event loop.
type Classifier struct {
	// allowed holds the table entries (commands or subcommands) let
	// through; a container lets all its subcommands through.
	allowed map[*command.Command]bool
}

// defaultAllowed are the admin commands let through with an empty allow
// list: tools and client libraries send CONFIG GET on connect
// (redis-benchmark asks for "save" and "appendonly"), and it only reads.
var defaultAllowed = []string{"config|get"}

// neverAllowed cannot be let through, whatever the allow list says: each
// turns its connection into a stream of something other than replies.
var neverAllowed = map[string]bool{"sync": true, "psync": true, "replconf": true, "monitor": true}

// NewClassifier makes a Classifier that lets through the admin commands
// allow names (the config's allow_commands) besides CONFIG GET. An entry is
// a command ("CONFIG": all its admin subcommands) or a subcommand
// ("CONFIG SET" or "config|set"), in any letter case. It rejects names the
// table lacks, commands that are not admin commands (they need no
// allowing, and a typo should not pass silently), and SYNC, PSYNC,
// REPLCONF and MONITOR, which can never work through the proxy.
func NewClassifier(allow []string) (*Classifier, error) {
	c := &Classifier{allowed: map[*command.Command]bool{}}
	for _, name := range defaultAllowed {
		if err := c.allow(name); err != nil {
			panic(err)
		}
	}
	for _, name := range allow {
		if err := c.allow(name); err != nil {
			return nil, fmt.Errorf("allow_commands: %w", err)
		}
	}
	return c, nil
}

func (c *Classifier) allow(entry string) error {
	norm := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(entry, "|", " ")), " "))
	top, sub, isSub := strings.Cut(norm, " ")
	cmd := command.Lookup(top)
	if cmd == nil {
		return fmt.Errorf("%q: no such command", entry)
	}
	if neverAllowed[cmd.Name] {
		return fmt.Errorf("%q cannot work through the proxy: it turns the connection into a stream", entry)
	}
	if isSub {
		s := cmd.Sub([]byte(sub))
		if s == nil {
			return fmt.Errorf("%q: %s has no subcommand %q", entry, strings.ToUpper(top), sub)
		}
		cmd = s
	}
	if !adminAnywhere(cmd) {
		return fmt.Errorf("%q is not an admin command; it needs no allowing", entry)
	}
	c.allowed[cmd] = true
	return nil
}

// adminAnywhere reports whether c or one of its subcommands is an admin
// command.
func adminAnywhere(c *command.Command) bool {
	if c.Has(command.Admin) {
		return true
	}
	for _, s := range c.Subcommands {
		if s.Has(command.Admin) {
			return true
		}
	}
	return false
}

// Allowed returns the allow list in effect, as table names ("config|get"),
// in no particular order.
func (c *Classifier) Allowed() []string {
	out := make([]string, 0, len(c.allowed))
	for cmd := range c.allowed {
		out = append(out, cmd.Name)
	}
	return out
}

var defaultClassifier, _ = NewClassifier(nil)

// Classify classifies a request (argv[0] is the command name) with the
// default allow list: only CONFIG GET among the admin commands. It does not
// allocate.
func Classify(argv [][]byte) Class { return defaultClassifier.classify(argv).class }

// Classify classifies a request (argv[0] is the command name). It does not
// allocate.
func (c *Classifier) Classify(argv [][]byte) Class { return c.classify(argv).class }

func (c *Classifier) classify(argv [][]byte) request {
	if len(argv) == 0 {
		return request{class: Unknown, write: true}
	}
	if equalFold(argv[0], "lagwise") {
		return request{class: Local, op: opSetup}
	}
	cmd := command.LookupBytes(argv[0])
	if cmd == nil {
		return request{class: Unknown, write: true}
	}
	r := request{cmd: cmd}
	switch cmd.Name {
	case "hello", "auth", "info":
		r.class, r.op = Local, opSetup
		return r
	case "ping", "echo":
		r.class, r.op = Local, opPing
		return r
	case "quit":
		r.class, r.op = Local, opQuit
		return r
	case "reset":
		r.class, r.op = Local, opReset
		return r
	case "select":
		return classifySelect(r, argv)
	case "multi":
		r.class, r.op = Pinned, opMulti
		return r
	case "exec":
		r.class, r.op = Pinned, opExec
		return r
	case "discard":
		r.class, r.op = Pinned, opDiscard
		return r
	case "watch":
		r.class, r.op = Pinned, opWatch
		return r
	case "unwatch":
		r.class, r.op = Pinned, opUnwatch
		return r
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return classifySubscribe(r, argv)
	case "wait":
		r.class, r.op = Pinned, opBlocking
		return r
	case "eval", "evalsha", "fcall":
		r.class, r.write = Write, true
		return r
	case "evalsha_ro", "scan", "sscan", "hscan", "zscan":
		r.class = MasterOnly
		return r
	case "xread", "xreadgroup":
		// Flagged blocking, they block only with the BLOCK option.
		r.write = cmd.Has(command.Write)
		switch {
		case blocks(cmd.Name, argv):
			r.class, r.op = Pinned, opBlocking
		case r.write:
			r.class = Write
		default:
			r.class = Read
		}
		return r
	case "client":
		return c.classifyClient(r, argv)
	case "sync", "psync", "replconf", "monitor": // neverAllowed
		r.class, r.deny = Denied, denyStream
		return r
	}
	if cmd.Subcommands != nil {
		if len(argv) < 2 {
			r.class = MasterOnly // the master answers with its arity error
			return r
		}
		sub := cmd.Sub(argv[1])
		if sub == nil {
			return request{class: Unknown, write: true, cmd: cmd}
		}
		r.cmd = sub
		switch sub.Name {
		case "script|kill", "function|kill":
			// The busy script may hold up the very connection this would
			// queue behind.
			r.class, r.op = Pinned, opOwnConn
			return r
		}
	}
	return c.byFlags(r, cmd)
}

// byFlags classifies r.cmd (a command or subcommand of parent) by its
// table flags.
func (c *Classifier) byFlags(r request, parent *command.Command) request {
	cmd := r.cmd
	r.write = cmd.Has(command.Write)
	switch {
	case cmd.Has(command.Admin):
		if c.allowed[cmd] || c.allowed[parent] {
			r.class = Admin
		} else {
			r.class, r.deny, r.write = Denied, denyAdmin, false
		}
	case cmd.Has(command.Blocking):
		r.class, r.op = Pinned, opBlocking
	case r.write:
		r.class = Write
	case cmd.Has(command.ReadOnly):
		r.class = Read
	default:
		r.class = MasterOnly
	}
	return r
}

// classifyClient sorts the CLIENT subcommands: connection set-up is the
// proxy's, settings that change how a connection replies are refused
// (every backend connection but a pinned one is shared), the rest go by
// their flags.
func (c *Classifier) classifyClient(r request, argv [][]byte) request {
	if len(argv) < 2 {
		r.class = MasterOnly
		return r
	}
	sub := r.cmd.Sub(argv[1])
	if sub == nil {
		r.class, r.deny = Denied, denyUnknownClient
		return r
	}
	parent := r.cmd
	r.cmd = sub
	switch sub.Name {
	case "client|setname", "client|setinfo", "client|getname", "client|id":
		r.class, r.op = Local, opSetup
		return r
	case "client|reply", "client|tracking", "client|caching", "client|no-evict":
		r.class, r.deny = Denied, denyShared
		return r
	}
	return c.byFlags(r, parent)
}

// classifySelect: SELECT 0 is the proxy's to answer (a session starts in
// database 0), another index pins; a request the master will refuse
// without changing anything (wrong arity, not an integer, negative) goes to
// it as it is.
func classifySelect(r request, argv [][]byte) request {
	if len(argv) != 2 {
		r.class = MasterOnly
		return r
	}
	n, ok := parseInt(argv[1])
	switch {
	case !ok || n < 0:
		r.class = MasterOnly
	case n == 0:
		r.class, r.op = Local, opSelect
	default:
		r.class, r.op, r.db = Pinned, opSelect, n
	}
	return r
}

// classifySubscribe: every (un)subscription belongs to a pub/sub session.
// A SUBSCRIBE with no channel is an arity error the master gives without
// entering pub/sub.
func classifySubscribe(r request, argv [][]byte) request {
	r.sub = subKindOf(r.cmd.Name)
	r.subs = len(argv) - 1
	if r.sub.subscribes() {
		if r.subs == 0 {
			r.class = MasterOnly
			return r
		}
		r.class, r.op = Pinned, opSubscribe
		return r
	}
	r.class, r.op = Pinned, opUnsubscribe
	return r
}

// blocks reports whether an XREAD or XREADGROUP request has the BLOCK
// option. The options come before STREAMS; XREADGROUP's start after GROUP
// <group> <consumer>, which may be named anything, "block" and "streams"
// included.
func blocks(name string, argv [][]byte) bool {
	i := 1
	if name == "xreadgroup" {
		i = 4
	}
	for i < len(argv) {
		a := argv[i]
		switch {
		case equalFold(a, "block"):
			return true
		case equalFold(a, "count"):
			i += 2
		case equalFold(a, "noack"):
			i++
		default:
			// STREAMS, or a syntax error the server reports.
			return false
		}
	}
	return false
}

// equalFold reports whether b equals lower (all lower case ASCII) in any
// letter case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// parseInt parses a decimal integer with Redis's string2ll rules: an
// optional minus sign, no plus sign, no leading zeros, no spaces, no
// overflow.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 || b[0] < '0' || b[0] > '9' || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// Refusal returns the error line (without the leading '-' and the CRLF)
// the proxy answers a Denied request with, or "" if c does not deny it.
// Only the refusal path calls it; it may allocate.
func (c *Classifier) Refusal(argv [][]byte) string {
	r := c.classify(argv)
	if r.class != Denied {
		return ""
	}
	name := ""
	if r.cmd != nil {
		name = strings.ToUpper(strings.ReplaceAll(r.cmd.Name, "|", " "))
	}
	switch r.deny {
	case denyAdmin:
		return fmt.Sprintf("ERR '%s' is not allowed through the lagwise proxy (name it in allow_commands to let it through to the master)", name)
	case denyStream:
		return fmt.Sprintf("ERR '%s' cannot be used through the lagwise proxy", name)
	case denyShared:
		return fmt.Sprintf("ERR '%s' is not supported through the lagwise proxy: it would change a backend connection other clients share", name)
	case denyUnknownClient:
		return fmt.Sprintf("ERR unknown subcommand '%s'. Try CLIENT HELP.", printable(argv[1], 128))
	}
	return "ERR refused by the lagwise proxy"
}

// printable returns b, cut to at most max bytes, with anything outside
// printable ASCII replaced by '?', fit to quote in an error line.
func printable(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	out := []byte(string(b))
	for i, c := range out {
		if c < ' ' || c > '~' {
			out[i] = '?'
		}
	}
	return string(out)
}

// subKind is the kind of a (un)subscribe request, and of the confirmation
// the server sends for each channel it names.
type subKind uint8

const (
	subNone subKind = iota
	subChannel
	subPattern
	subShard
	unsubChannel
	unsubPattern
	unsubShard
)

var subKindNames = [...]string{
	subChannel: "subscribe", subPattern: "psubscribe", subShard: "ssubscribe",
	unsubChannel: "unsubscribe", unsubPattern: "punsubscribe", unsubShard: "sunsubscribe",
}

// subKindOf returns the kind named by a command, or by the first element
// of a confirmation; subNone for anything else.
func subKindOf(name string) subKind {
	for k, n := range subKindNames {
		if n != "" && n == name {
			return subKind(k)
		}
	}
	return subNone
}

// subKindOfBytes is subKindOf for a reply's bytes, in any letter case.
func subKindOfBytes(name []byte) subKind {
	for k, n := range subKindNames {
		if n != "" && equalFold(name, n) {
			return subKind(k)
		}
	}
	return subNone
}

// subscribes reports whether k adds subscriptions.
func (k subKind) subscribes() bool { return k == subChannel || k == subPattern || k == subShard }

// family returns the subscribe kind of the same family as k: channels,
// patterns or shard channels.
func (k subKind) family() subKind {
	if k >= unsubChannel {
		return k - unsubChannel + subChannel
	}
	return k
}
