package router

import (
	"strings"
	"testing"

	"github.com/lagwise/lagwise/backend/command"
)

// args splits a request written as one line ("SET k v") into argv.
func args(line string) [][]byte {
	var argv [][]byte
	for _, f := range strings.Fields(line) {
		argv = append(argv, []byte(f))
	}
	return argv
}

func TestClassify(t *testing.T) {
	cases := []struct {
		what string
		req  string
		want Class
	}{
		// Reads and writes, by the table's flags.
		{"a plain read", "GET k", Read},
		{"a read in lower case", "get k", Read},
		{"a read in mixed case", "zRangeByScore z 0 1", Read},
		{"a plain write", "SET k v", Write},
		{"a write the server lacks but the table has", "PFADD hll a", Write},
		{"a stream write the server lacks", "XADD s * f v", Write},
		{"a read-only subcommand", "OBJECT ENCODING k", Read},
		{"a read-only subcommand of XINFO", "xinfo stream s", Read},
		{"a read-only subcommand of MEMORY", "MEMORY USAGE k", Read},
		{"a write subcommand", "XGROUP CREATE s g $", Write},
		{"SORT may store, so it writes", "SORT l", Write},
		{"SORT_RO only reads", "SORT_RO l", Read},
		{"GEORADIUS may store, so it writes", "GEORADIUS g 0 0 1 km", Write},
		{"GEORADIUS_RO only reads", "GEORADIUS_RO g 0 0 1 km", Read},
		{"DBSIZE reads", "DBSIZE", Read},

		// Scripts.
		{"EVAL may write", "EVAL return 1 0", Write},
		{"EVALSHA may write", "EVALSHA abc 0", Write},
		{"FCALL may write", "FCALL f 0", Write},
		{"EVAL_RO carries its script, a replica can run it", "EVAL_RO return 1 0", Read},
		{"FCALL_RO calls a replicated function, a replica can run it", "FCALL_RO f 0", Read},
		{"EVALSHA_RO needs the master's script cache (SCRIPT LOAD is not replicated)", "EVALSHA_RO abc 0", MasterOnly},
		{"SCRIPT LOAD goes to the master", "SCRIPT LOAD return", MasterOnly},
		{"FUNCTION LOAD writes (it is replicated)", "FUNCTION LOAD code", Write},

		// Cursors belong to one server.
		{"SCAN", "SCAN 0", MasterOnly},
		{"HSCAN", "HSCAN h 0", MasterOnly},
		{"SSCAN", "SSCAN s 17", MasterOnly},
		{"ZSCAN", "ZSCAN z 0 COUNT 10", MasterOnly},

		// Neither read nor write: the master answers.
		{"TIME", "TIME", MasterOnly},
		{"COMMAND", "COMMAND COUNT", MasterOnly},
		{"PUBLISH reaches subscribers, who are all on the master", "PUBLISH ch m", MasterOnly},
		{"PUBSUB NUMSUB counts the master's subscribers", "PUBSUB NUMSUB ch", MasterOnly},
		{"a container with no subcommand is an arity error", "OBJECT", MasterOnly},
		{"CLIENT INFO", "CLIENT INFO", MasterOnly},
		{"ROLE", "ROLE", MasterOnly},

		// Unknown.
		{"a command the table lacks", "NOSUCH a b", Unknown},
		{"a subcommand the table lacks", "OBJECT NOSUCH k", Unknown},
		{"an empty request", "", Unknown},

		// Answered by the proxy.
		{"HELLO", "HELLO 3", Local},
		{"AUTH", "AUTH pw", Local},
		{"CLIENT SETNAME", "CLIENT SETNAME app", Local},
		{"CLIENT SETINFO (7.2, sent by go-redis v9)", "client setinfo LIB-NAME go-redis", Local},
		{"CLIENT GETNAME", "CLIENT GETNAME", Local},
		{"CLIENT ID", "CLIENT ID", Local},
		{"PING", "PING", Local},
		{"ECHO", "ECHO hi", Local},
		{"QUIT", "QUIT", Local},
		{"RESET", "RESET", Local},
		{"INFO", "INFO replication", Local},
		{"SELECT 0 is where a session starts", "SELECT 0", Local},
		{"the LAGWISE family", "LAGWISE MAXLAG 100", Local},
		{"the LAGWISE family in lower case", "lagwise topology", Local},

		// Pinned.
		{"MULTI", "MULTI", Pinned},
		{"EXEC", "EXEC", Pinned},
		{"DISCARD", "DISCARD", Pinned},
		{"WATCH", "WATCH k", Pinned},
		{"UNWATCH", "UNWATCH", Pinned},
		{"SUBSCRIBE", "SUBSCRIBE ch", Pinned},
		{"PSUBSCRIBE", "PSUBSCRIBE ch*", Pinned},
		{"SSUBSCRIBE", "SSUBSCRIBE ch", Pinned},
		{"UNSUBSCRIBE", "UNSUBSCRIBE", Pinned},
		{"SUBSCRIBE with no channel is the master's arity error", "SUBSCRIBE", MasterOnly},
		{"SELECT of another database", "SELECT 3", Pinned},
		{"SELECT of a database the server may lack still pins", "SELECT 99999", Pinned},
		{"BLPOP", "BLPOP l 0", Pinned},
		{"BRPOP", "BRPOP l 1", Pinned},
		{"BLMOVE", "BLMOVE a b LEFT RIGHT 0", Pinned},
		{"BZPOPMIN", "BZPOPMIN z 0", Pinned},
		{"BLMPOP", "BLMPOP 0 1 l LEFT", Pinned},
		{"WAIT", "WAIT 1 100", Pinned},
		{"XREAD BLOCK", "XREAD BLOCK 0 STREAMS s $", Pinned},
		{"XREAD COUNT then BLOCK", "XREAD COUNT 10 block 100 STREAMS s $", Pinned},
		{"XREAD without BLOCK reads", "XREAD COUNT 10 STREAMS s 0", Read},
		{"XREAD with a stream named block does not block", "XREAD STREAMS block 0", Read},
		{"XREADGROUP BLOCK", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", Pinned},
		{"XREADGROUP without BLOCK writes", "XREADGROUP GROUP g c COUNT 1 STREAMS s >", Write},
		{"XREADGROUP with a consumer named block", "XREADGROUP GROUP g block STREAMS s >", Write},
		{"XREADGROUP with a group named streams, blocking", "XREADGROUP GROUP streams c BLOCK 5 STREAMS s >", Pinned},
		{"SCRIPT KILL must not queue behind the busy script", "SCRIPT KILL", Pinned},
		{"FUNCTION KILL likewise", "FUNCTION KILL", Pinned},

		// Malformed SELECTs the master refuses without changing anything.
		{"SELECT of a negative index", "SELECT -1", MasterOnly},
		{"SELECT of a word", "SELECT one", MasterOnly},
		{"SELECT with a leading zero", "SELECT 01", MasterOnly},
		{"SELECT with a plus sign", "SELECT +1", MasterOnly},
		{"SELECT of an index past int64", "SELECT 9223372036854775808", MasterOnly},
		{"SELECT with no index", "SELECT", MasterOnly},
		{"SELECT with two indexes", "SELECT 1 2", MasterOnly},

		// Admin.
		{"CONFIG GET is let through by default", "CONFIG GET save", Admin},
		{"CONFIG SET", "CONFIG SET maxmemory 1", Denied},
		{"CONFIG REWRITE", "CONFIG REWRITE", Denied},
		{"CONFIG RESETSTAT", "CONFIG RESETSTAT", Denied},
		{"CONFIG HELP is no admin command", "CONFIG HELP", MasterOnly},
		{"REPLICAOF", "REPLICAOF NO ONE", Denied},
		{"SLAVEOF", "SLAVEOF 127.0.0.1 6380", Denied},
		{"SYNC", "SYNC", Denied},
		{"PSYNC", "PSYNC ? -1", Denied},
		{"REPLCONF", "REPLCONF ACK 0", Denied},
		{"SHUTDOWN", "SHUTDOWN NOSAVE", Denied},
		{"DEBUG", "DEBUG SLEEP 0", Denied},
		{"MONITOR", "MONITOR", Denied},
		{"FLUSHALL writes and is no admin command", "FLUSHALL", Write},
		{"BGSAVE", "BGSAVE", Denied},
		{"CLIENT KILL", "CLIENT KILL ID 3", Denied},
		{"CLIENT LIST", "CLIENT LIST", Denied},
		{"SLOWLOG GET", "SLOWLOG GET", Denied},
		{"ACL SETUSER", "ACL SETUSER u on", Denied},
		{"ACL WHOAMI is no admin command", "ACL WHOAMI", MasterOnly},

		// Settings of a shared connection.
		{"CLIENT REPLY", "CLIENT REPLY OFF", Denied},
		{"CLIENT TRACKING", "CLIENT TRACKING ON", Denied},
		{"CLIENT CACHING", "CLIENT CACHING YES", Denied},
		{"CLIENT NO-EVICT", "CLIENT NO-EVICT ON", Denied},
		{"a CLIENT subcommand the table lacks (7.2's NO-TOUCH)", "CLIENT NO-TOUCH ON", Denied},
	}
	for _, tc := range cases {
		if got := Classify(args(tc.req)); got != tc.want {
			t.Errorf("%s: Classify(%q) = %v, want %v", tc.what, tc.req, got, tc.want)
		}
	}
}

// Every command of the table gets a class, and none that the table flags
// as a write may reach a replica.
func TestClassifyWholeTable(t *testing.T) {
	for _, cmd := range command.All() {
		reqs := [][][]byte{{[]byte(cmd.Name), []byte("x"), []byte("y"), []byte("z")}}
		for name := range cmd.Subcommands {
			reqs = append(reqs, [][]byte{[]byte(cmd.Name), []byte(name), []byte("x"), []byte("y")})
		}
		for _, argv := range reqs {
			r := defaultClassifier.classify(argv)
			if r.cmd == nil {
				t.Errorf("%q: no table entry found", argv[:2])
				continue
			}
			if r.cmd.Has(command.Write) && r.class == Read {
				t.Errorf("%q: the table flags it write, but it is classified %v", argv[:2], r.class)
			}
			if r.class == Read && !r.cmd.Has(command.ReadOnly) {
				t.Errorf("%q: classified a read, but the table does not flag it readonly", argv[:2])
			}
			if r.cmd.Has(command.Write) && !r.write && r.class != Denied {
				t.Errorf("%q: the table flags it write, but it does not count as one", argv[:2])
			}
		}
	}
}

func TestAllowList(t *testing.T) {
	cases := []struct {
		what  string
		allow []string
		req   string
		want  Class
	}{
		{"a container lets all its admin subcommands through", []string{"CONFIG"}, "CONFIG SET maxmemory 1", Admin},
		{"a container named in lower case", []string{"config"}, "CONFIG REWRITE", Admin},
		{"a subcommand named with a space", []string{"CONFIG SET"}, "CONFIG SET a b", Admin},
		{"a subcommand named with a bar", []string{"config|set"}, "config set a b", Admin},
		{"a subcommand lets only itself through", []string{"CONFIG SET"}, "CONFIG REWRITE", Denied},
		{"a plain admin command", []string{"shutdown"}, "SHUTDOWN", Admin},
		{"one command does not let another through", []string{"DEBUG"}, "SHUTDOWN", Denied},
		{"CONFIG GET stays allowed with a list", []string{"DEBUG"}, "CONFIG GET x", Admin},
		{"CLIENT lets its admin subcommands through", []string{"CLIENT"}, "CLIENT LIST", Admin},
		{"but never the settings of a shared connection", []string{"CLIENT"}, "CLIENT NO-EVICT ON", Denied},
	}
	for _, tc := range cases {
		c, err := NewClassifier(tc.allow)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if got := c.Classify(args(tc.req)); got != tc.want {
			t.Errorf("%s: allow %q, Classify(%q) = %v, want %v", tc.what, tc.allow, tc.req, got, tc.want)
		}
	}
}

func TestAllowListRejects(t *testing.T) {
	cases := []struct {
		what  string
		entry string
		want  string // in the error
	}{
		{"a command the table lacks", "NOSUCH", "no such command"},
		{"a subcommand the table lacks", "CONFIG NOSUCH", "no subcommand"},
		{"a command that is no admin command", "GET", "not an admin command"},
		{"a subcommand that is no admin command", "CONFIG HELP", "not an admin command"},
		{"MONITOR", "MONITOR", "cannot work through the proxy"},
		{"SYNC", "sync", "cannot work through the proxy"},
		{"PSYNC", "PSYNC", "cannot work through the proxy"},
		{"REPLCONF", "REPLCONF", "cannot work through the proxy"},
	}
	for _, tc := range cases {
		_, err := NewClassifier([]string{tc.entry})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "allow_commands: ") {
			t.Errorf("%s: NewClassifier(%q) error = %v, want one naming allow_commands and saying %q", tc.what, tc.entry, err, tc.want)
		}
	}
}

func TestRefusal(t *testing.T) {
	cases := []struct {
		what string
		req  string
		want string // "" when not refused
	}{
		{"an admin command names itself and the allow list", "config set a b",
			"ERR 'CONFIG SET' is not allowed through the lagwise proxy (name it in allow_commands to let it through to the master)"},
		{"a stream command cannot be allowed", "MONITOR", "ERR 'MONITOR' cannot be used through the lagwise proxy"},
		{"a shared connection's setting", "CLIENT REPLY OFF",
			"ERR 'CLIENT REPLY' is not supported through the lagwise proxy: it would change a backend connection other clients share"},
		{"an unknown CLIENT subcommand is quoted printably", "CLIENT no-touch\x01 on", "ERR unknown subcommand 'no-touch?'. Try CLIENT HELP."},
		{"a command that is not refused", "GET k", ""},
	}
	for _, tc := range cases {
		if got := defaultClassifier.Refusal(args(tc.req)); got != tc.want {
			t.Errorf("%s: Refusal(%q) = %q, want %q", tc.what, tc.req, got, tc.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	cases := []struct {
		in   string
		n    int64
		ok   bool
		what string
	}{
		{"0", 0, true, "zero"},
		{"15", 15, true, "a small index"},
		{"-3", -3, true, "a negative number"},
		{"9223372036854775807", 1<<63 - 1, true, "the largest int64"},
		{"-9223372036854775808", -1 << 63, true, "the smallest int64"},
		{"9223372036854775808", 0, false, "one past the largest"},
		{"99999999999999999999", 0, false, "twenty digits"},
		{"", 0, false, "nothing"},
		{"-", 0, false, "a lone minus"},
		{"-0", 0, false, "minus zero (string2ll refuses it)"},
		{"00", 0, false, "a leading zero"},
		{"+1", 0, false, "a plus sign"},
		{" 1", 0, false, "a space"},
		{"1a", 0, false, "a letter"},
	}
	for _, tc := range cases {
		n, ok := parseInt([]byte(tc.in))
		if n != tc.n || ok != tc.ok {
			t.Errorf("%s: parseInt(%q) = %d, %v, want %d, %v", tc.what, tc.in, n, ok, tc.n, tc.ok)
		}
	}
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	for _, req := range []string{"GET k", "zrangebyscore z 0 1", "CONFIG GET save", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", "SELECT 3", "NOSUCH", "lagwise lag"} {
		argv := args(req)
		if n := testing.AllocsPerRun(100, func() { Classify(argv) }); n != 0 {
			t.Errorf("Classify(%q): %v allocations, want 0", req, n)
		}
	}
}
