// Package command is the one table of Redis 7.0 commands that the server and
// the proxy's router share: name, arity, flags and key positions of every
// command and subcommand, plus Redis's own COMMAND INFO and COMMAND DOCS
// replies for each, so that lagwise answers COMMAND exactly as Redis 7.0 does.
//
// The table (table_gen.go) is generated from a real Redis 7.0 by
// `go generate ./backend/command`; it is never edited by hand.
package command

import "strings"

//go:generate go run ./gen -out table_gen.go

// Flag is a command flag as COMMAND INFO lists it.
type Flag uint32

// Command flags, named as in COMMAND INFO.
const (
	Write Flag = 1 << iota
	ReadOnly
	DenyOOM
	Module
	Admin
	PubSub
	NoScript
	Blocking
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Asking
	Fast
	NoAuth
	MayReplicate
	Sentinel
	OnlySentinel
	NoMandatoryKeys
	NoPropagate
	AllowBusy
	MovableKeys
)

var flagNames = map[string]Flag{
	"write": Write, "readonly": ReadOnly, "denyoom": DenyOOM, "module": Module,
	"admin": Admin, "pubsub": PubSub, "noscript": NoScript, "blocking": Blocking,
	"loading": Loading, "stale": Stale, "skip_monitor": SkipMonitor,
	"skip_slowlog": SkipSlowlog, "asking": Asking, "fast": Fast, "no_auth": NoAuth,
	"may_replicate": MayReplicate, "sentinel": Sentinel, "only_sentinel": OnlySentinel,
	"no_mandatory_keys": NoMandatoryKeys, "no_propagate": NoPropagate,
	"allow_busy": AllowBusy, "movablekeys": MovableKeys,
}

// ParseFlag returns the Flag named by a COMMAND INFO flag word.
func ParseFlag(name string) (Flag, bool) {
	f, ok := flagNames[name]
	return f, ok
}

// Command describes one command or subcommand.
type Command struct {
	// Name is lower case; a subcommand is "container|sub", as in COMMAND INFO.
	Name string
	// Arity is Redis's: n means exactly n arguments counting the name,
	// -n means at least n.
	Arity int
	Flags Flag
	// FirstKey, LastKey and Step give the key positions (legacy key spec);
	// 0 when the command takes no keys. LastKey -1 means the last argument.
	FirstKey, LastKey, Step int
	// ACLCategories as listed by COMMAND INFO, without the '@'.
	ACLCategories []string
	// Subcommands of a container command, keyed by lower-case name.
	Subcommands map[string]*Command
	// Info is Redis 7.0's COMMAND INFO entry for the command, as RESP2.
	Info string
	// Docs is Redis 7.0's COMMAND DOCS reply element for the command (its
	// doc map, without the name), as RESP2.
	Docs string

	// implemented marks the commands lagwise server executes. The server's
	// handler tables are the one list of them; linking the server package
	// marks its commands here (see MarkImplemented).
	implemented bool
}

// Implemented reports whether lagwise server executes c. It is meaningful
// in a program that links the server (package backend), as the lagwise
// binary does; the marks are set during package initialisation and only
// read afterwards.
func (c *Command) Implemented() bool { return c.implemented }

// MarkImplemented marks a command ("get") or subcommand ("config|get") as
// executed by lagwise server; it reports false for a name the table lacks.
// Only package initialisation may call it.
func MarkImplemented(name string) bool {
	top, sub, isSub := strings.Cut(strings.ToLower(name), "|")
	c := table[top]
	if c == nil {
		return false
	}
	if isSub {
		if c = c.Subcommands[sub]; c == nil {
			return false
		}
	}
	c.implemented = true
	return true
}

// Has reports whether c carries every flag in f.
func (c *Command) Has(f Flag) bool { return c.Flags&f == f }

// CheckArity reports whether argc arguments (counting the name) suit c.
func (c *Command) CheckArity(argc int) bool {
	if c.Arity >= 0 {
		return argc == c.Arity
	}
	return argc >= -c.Arity
}

// Lookup finds a top-level command by name, in any letter case.
func Lookup(name string) *Command {
	if c, ok := table[name]; ok {
		return c
	}
	return table[strings.ToLower(name)]
}

// LookupBytes is Lookup for a request's first argument; it does not allocate
// for names up to 32 bytes (longer than any command name, so a longer one is
// simply not found).
func LookupBytes(name []byte) *Command {
	var buf [32]byte
	low, ok := lowerASCII(&buf, name)
	if !ok {
		return nil
	}
	// The conversion in a map index does not allocate.
	return table[string(low)]
}

// Sub finds a subcommand of c by name, in any letter case; nil if c has none
// of that name. It does not allocate.
func (c *Command) Sub(name []byte) *Command {
	if c.Subcommands == nil {
		return nil
	}
	var buf [32]byte
	low, ok := lowerASCII(&buf, name)
	if !ok {
		return nil
	}
	return c.Subcommands[string(low)]
}

// lowerASCII copies name into buf with ASCII letters in lower case and
// returns the copy; ok is false if name does not fit, which no command or
// subcommand name comes close to (the longest is 20 bytes).
func lowerASCII(buf *[32]byte, name []byte) (low []byte, ok bool) {
	if len(name) > len(buf) {
		return nil, false
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(name)], true
}

// All returns every top-level command, in no particular order.
func All() []*Command {
	out := make([]*Command, 0, len(table))
	for _, c := range table {
		out = append(out, c)
	}
	return out
}

// Count is the number of top-level commands (what COMMAND COUNT answers on
// Redis 7.0).
func Count() int { return len(table) }

// Keys returns the indexes of the key arguments of a request by the legacy
// key positions (first, last, step). Commands whose keys move (MovableKeys)
// need their own rule; see MovableKeys.
func (c *Command) Keys(argc int) (first, last, step int) {
	if c.FirstKey <= 0 || argc <= c.FirstKey {
		return 0, -1, 1
	}
	last = c.LastKey
	if last < 0 {
		last = argc + last
	}
	if last >= argc {
		last = argc - 1
	}
	step = c.Step
	if step <= 0 {
		step = 1
	}
	return c.FirstKey, last, step
}

// flags turns the flag words of COMMAND INFO into a Flag set; the generated
// table calls it with Redis's own words.
func flags(names ...string) Flag {
	var f Flag
	for _, n := range names {
		if v, ok := flagNames[n]; ok {
			f |= v
		}
	}
	return f
}
