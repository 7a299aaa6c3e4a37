package backend

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/backend/command"

	"github.com/lagwise/lagwise/internal/serverproc"
)

// Tests of the server and administration commands. Expected replies are
// Redis 7.0.15's exact bytes; svRedisCases run against a real redis-server
// too when one is installed, to keep the expectations honest.

// svStart starts an in-process server that does not save.
func svStart(t *testing.T, mutate func(*Config)) *Server {
	t.Helper()
	return startTestServer(t, func(cfg *Config) {
		cfg.Save = ""
		if mutate != nil {
			mutate(cfg)
		}
	})
}

// svDial connects to addr; its command lines are split by svSplit.
func svDial(t *testing.T, addr string) *testConn {
	t.Helper()
	c := dialTest(t, addr)
	c.split = svSplit
	return c
}

// svSplit splits a command line on spaces; a word in single quotes may hold
// spaces, and ” is the empty argument.
func svSplit(line string) []string {
	var out []string
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		if line == "" {
			break
		}
		if line[0] == '\'' {
			end := strings.IndexByte(line[1:], '\'') + 1
			out = append(out, line[1:end])
			line = line[end+1:]
			continue
		}
		end := strings.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
	return out
}

// svRealRedis starts a redis-server 7.0 for comparison, or returns "".
func svRealRedis(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	if out, err := exec.Command(path, "--version").Output(); err != nil || !strings.Contains(string(out), "v=7.0.") {
		return ""
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--enable-debug-command", "local", "--dir", t.TempDir(), "--logfile", "")
	if err := cmd.Start(); err != nil {
		return ""
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 100; i++ {
		if serverproc.Is(addr, cmd.Process.Pid, "") {
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}

// svRedisCases are exact Redis 7.0 replies that involve only server
// commands, on a fresh server. Each group runs on its own connection.
var svRedisCases = [][][2]string{
	{ // COMMAND
		{"command foo", "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"},
		{"command info nosuch", "*1\r\n$-1\r\n"},
		{"command docs nosuch", "*0\r\n"},
		{"command getkeys get", "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{"command getkeys nosuch a", "-ERR Invalid command specified\r\n"},
		{"command getkeys set a b", "*1\r\n$1\r\na\r\n"},
		{"command getkeys GET a", "*1\r\n$1\r\na\r\n"},
		{"command getkeys get a b", "-ERR Invalid number of arguments specified for command\r\n"},
		{"command getkeys mset a 1 b", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"command getkeys mset a 1 b 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"command getkeys config get", "-ERR The command has no key arguments\r\n"},
		{"command getkeys client kill", "-ERR The command has no key arguments\r\n"},
		{"command getkeys config nosuch", "-ERR Invalid command specified\r\n"},
		{"command list filterby foo bar", "-ERR syntax error\r\n"},
		{"command list filterby aclcat nosuchcat", "*0\r\n"},
		{"command list filterby module x", "*0\r\n"},
		{"command list foo", "-ERR syntax error\r\n"},
		{"command list filterby pattern a b c", "-ERR syntax error\r\n"},
		{"command list filterby pattern", "-ERR syntax error\r\n"},
		{"command list filterby pattern nosuch*", "*0\r\n"},
		{"command count x", "-ERR wrong number of arguments for 'command|count' command\r\n"},
		{"command help", "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n+    Return details about all Redis commands.\r\n+COUNT\r\n+    Return the total number of commands in this Redis server.\r\n+LIST\r\n+    Return a list of all commands in this Redis server.\r\n+INFO [<command-name> ...]\r\n+    Return details about multiple Redis commands.\r\n+    If no command names are given, documentation details for all\r\n+    commands are returned.\r\n+DOCS [<command-name> ...]\r\n+    Return documentation details about multiple Redis commands.\r\n+    If no command names are given, documentation details for all\r\n+    commands are returned.\r\n+GETKEYS <full-command>\r\n+    Return the keys from a full Redis command.\r\n+GETKEYSANDFLAGS <full-command>\r\n+    Return the keys and the access flags from a full Redis command.\r\n+HELP\r\n+    Prints this help.\r\n"},
	},
	{ // CONFIG
		{"config get", "-ERR wrong number of arguments for 'config|get' command\r\n"},
		{"config get maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{"config get MAXMEMORY", "*2\r\n$9\r\nMAXMEMORY\r\n$1\r\n0\r\n"},
		{"config get MaxMemory maxmemory", "*2\r\n$9\r\nMaxMemory\r\n$1\r\n0\r\n"},
		{"config get nosuch", "*0\r\n"},
		{"config get nosuch*", "*0\r\n"},
		{"config set", "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{"config set maxmemory", "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{"config set a b c", "-ERR syntax error\r\n"},
		{"config set maxmemory abc", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"},
		{"config set nosuch 1", "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"},
		{"config set maxmemory 10 maxmemory 20", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"},
		{"config set maxmemory 10mb hz 10 nosuch 1", "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"},
		{"config set nosuch 1 daemonize yes", "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"},
		{"config set maxmemory 5 daemonize yes nosuch 1", "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"},
		{"config set DAEMONIZE yes", "-ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config\r\n"},
		{"config set enable-debug-command yes", "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"},
		{"config set dbfilename x.rdb", "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n"},
		{"config set dir /tmp", "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"},
		{"config set hash-max-ziplist-entries abc", "-ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer\r\n"},
		{"config set HZ abc", "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n"},
		{"config set save 'x y'", "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"},
		{"config set maxmemory-policy foo", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n"},
		{"config set appendonly maybe", "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n"},
		// All or nothing: maxmemory stays 0 when a later value is bad.
		{"config set maxmemory 1mb maxmemory-policy bad", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n"},
		{"config get maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{"config set maxmemory 10mb maxmemory-samples 7", "+OK\r\n"},
		{"config get maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n"},
		{"config get maxmemory-samples", "*2\r\n$17\r\nmaxmemory-samples\r\n$1\r\n7\r\n"},
		{"config set maxmemory 0 maxmemory-samples 5", "+OK\r\n"},
		{"config set maxmemory-policy ALLKEYS-LRU", "+OK\r\n"},
		{"config get maxmemory-policy", "*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n"},
		{"config set maxmemory-policy noeviction", "+OK\r\n"},
		{"config set save ''", "+OK\r\n"},
		{"config get save", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"},
		{"config set save '100 10'", "+OK\r\n"},
		{"config get save", "*2\r\n$4\r\nsave\r\n$6\r\n100 10\r\n"},
		{"config set save ''", "+OK\r\n"},
		{"config resetstat x", "-ERR wrong number of arguments for 'config|resetstat' command\r\n"},
		{"config rewrite", "-ERR The server is running without a config file\r\n"},
		{"config foo", "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"},
		{"config help", "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n+    Return parameters matching the glob-like <pattern> and their values.\r\n+SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n+REWRITE\r\n+    Rewrite the configuration file.\r\n+HELP\r\n+    Prints this help.\r\n"},
	},
	{ // CLIENT
		{"client id x", "-ERR wrong number of arguments for 'client|id' command\r\n"},
		{"client getname", "$-1\r\n"},
		{"client getname x", "-ERR wrong number of arguments for 'client|getname' command\r\n"},
		{"client setname", "-ERR wrong number of arguments for 'client|setname' command\r\n"},
		{"client setname 'a b'", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{"client setname foo", "+OK\r\n"},
		{"client getname", "$3\r\nfoo\r\n"},
		{"client setname ''", "+OK\r\n"},
		{"client getname", "$-1\r\n"},
		{"client info x", "-ERR wrong number of arguments for 'client|info' command\r\n"},
		{"client list type foo", "-ERR Unknown client type 'foo'\r\n"},
		{"client list type", "-ERR syntax error\r\n"},
		{"client list id", "-ERR syntax error\r\n"},
		{"client list id x", "-ERR Invalid client ID\r\n"},
		{"client list id 5 x", "-ERR Invalid client ID\r\n"},
		{"client list id 0", "$0\r\n\r\n"},
		{"client list id 99999 99998", "$0\r\n\r\n"},
		{"client list type normal id 5", "-ERR syntax error\r\n"},
		{"client list foo", "-ERR syntax error\r\n"},
		{"client list type master", "$0\r\n\r\n"},
		{"client list type replica", "$0\r\n\r\n"},
		{"client list type pubsub", "$0\r\n\r\n"},
		{"client unblock 1 foo", "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"},
		{"client unblock x", "-ERR value is not an integer or out of range\r\n"},
		{"client unblock x foo", "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"},
		{"client unblock 99999", ":0\r\n"},
		{"client unblock 99999 error", ":0\r\n"},
		{"client unblock 1 timeout x", "-ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.\r\n"},
		{"client kill 1.2.3.4:5", "-ERR No such client\r\n"},
		{"client kill id 0", "-ERR client-id should be greater than 0\r\n"},
		{"client kill id x", "-ERR client-id should be greater than 0\r\n"},
		{"client kill id -1", "-ERR client-id should be greater than 0\r\n"},
		{"client kill id 9999999999999999999", "-ERR client-id should be greater than 0\r\n"},
		{"client kill user foo", "-ERR No such user 'foo'\r\n"},
		{"client kill user default skipme x", "-ERR syntax error\r\n"},
		{"client kill skipme x", "-ERR syntax error\r\n"},
		{"client kill type foo", "-ERR Unknown client type 'foo'\r\n"},
		{"client kill type master", ":0\r\n"},
		{"client kill type slave", ":0\r\n"},
		{"client kill type pubsub", ":0\r\n"},
		{"client kill id 99999", ":0\r\n"},
		{"client kill addr 1.1.1.1:1 laddr 1:1", ":0\r\n"},
		{"client kill addr 1.1.1.1:1 foo", "-ERR syntax error\r\n"},
		{"client kill foo bar baz", "-ERR syntax error\r\n"},
		{"client kill a b c d e", "-ERR syntax error\r\n"},
		{"client kill maxage 5", "-ERR syntax error\r\n"},
		{"client no-evict x", "-ERR syntax error\r\n"},
		{"client no-evict on", "+OK\r\n"},
		{"client no-evict OFF", "+OK\r\n"},
		{"client help", "*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CACHING (YES|NO)\r\n+    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.\r\n+GETREDIR\r\n+    Return the client ID we are redirecting to when tracking is enabled.\r\n+GETNAME\r\n+    Return the name of the current connection.\r\n+ID\r\n+    Return the ID of the current connection.\r\n+INFO\r\n+    Return information about the current client connection.\r\n+KILL <ip:port>\r\n+    Kill connection made from <ip:port>.\r\n+KILL <option> <value> [<option> <value> [...]]\r\n+    Kill connections. Options are:\r\n+    * ADDR (<ip:port>|<unixsocket>:0)\r\n+      Kill connections made from the specified address\r\n+    * LADDR (<ip:port>|<unixsocket>:0)\r\n+      Kill connections made to specified local address\r\n+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n+      Kill connections by type.\r\n+    * USER <username>\r\n+      Kill connections authenticated by <username>.\r\n+    * SKIPME (YES|NO)\r\n+      Skip killing current connection (default: yes).\r\n+LIST [options ...]\r\n+    Return information about client connections. Options:\r\n+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n+      Return clients of specified type.\r\n+UNPAUSE\r\n+    Stop the current client pause, resuming traffic.\r\n+PAUSE <timeout> [WRITE|ALL]\r\n+    Suspend all, or just write, clients for <timeout> milliseconds.\r\n+REPLY (ON|OFF|SKIP)\r\n+    Control the replies sent to the current connection.\r\n+SETNAME <name>\r\n+    Assign the name <name> to the current connection.\r\n+UNBLOCK <clientid> [TIMEOUT|ERROR]\r\n+    Unblock the specified blocked client.\r\n+TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]\r\n+         [OPTIN] [OPTOUT] [NOLOOP]\r\n+    Control server assisted client side caching.\r\n+TRACKINGINFO\r\n+    Report tracking status for the current connection.\r\n+NO-EVICT (ON|OFF)\r\n+    Protect current client connection from eviction.\r\n+HELP\r\n+    Prints this help.\r\n"},
	},
	{ // INFO, TIME, SHUTDOWN, DEBUG
		{"info foo", "$0\r\n\r\n"},
		{"info keyspace", "$12\r\n# Keyspace\r\n\r\n"},
		{"info modules", "$11\r\n# Modules\r\n\r\n"},
		{"info module_list", "$11\r\n# Modules\r\n\r\n"},
		{"info cluster", "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"},
		{"info cluster keyspace", "$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"},
		{"info keyspace cluster", "$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"},
		{"info CLUSTER foo", "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"},
		{"time x", "-ERR wrong number of arguments for 'time' command\r\n"},
		{"lastsave x", "-ERR wrong number of arguments for 'lastsave' command\r\n"},
		{"shutdown foo", "-ERR syntax error\r\n"},
		{"shutdown abort", "-ERR No shutdown in progress.\r\n"},
		{"shutdown save nosave", "-ERR syntax error\r\n"},
		{"shutdown abort now", "-ERR syntax error\r\n"},
		{"debug", "-ERR wrong number of arguments for 'debug' command\r\n"},
		{"debug digest", "+0000000000000000000000000000000000000000\r\n"},
		{"debug digest-value", "*0\r\n"},
		{"debug digest-value nosuch", "*1\r\n+0000000000000000000000000000000000000000\r\n"},
		{"debug digest x", "-ERR unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP.\r\n"},
		{"debug foo", "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.\r\n"},
		{"Debug Foo", "-ERR unknown subcommand or wrong number of arguments for 'Foo'. Try DEBUG HELP.\r\n"},
		{"debug object", "-ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.\r\n"},
		{"debug object nosuch", "-ERR no such key\r\n"},
		{"debug sleep 0", "+OK\r\n"},
		{"debug sleep abc", "+OK\r\n"},
		{"debug sleep 0.01", "+OK\r\n"},
		{"debug set-active-expire 0", "+OK\r\n"},
		{"debug set-active-expire 1", "+OK\r\n"},
		{"debug error 'FOO bar'", "-FOO bar\r\n"},
		{"debug populate -1", "-ERR value is out of range, must be positive\r\n"},
		{"debug populate x", "-ERR value is out of range, must be positive\r\n"},
		{"debug populate 2 q -1", "-ERR value is out of range, must be positive\r\n"},
		{"debug populate 3", "+OK\r\n"},
		{"debug populate 2 q 3", "+OK\r\n"},
		{"debug populate 2 r 0", "+OK\r\n"},
		{"debug object key:0", ""}, // varies; checked by svCheckDebugObject
		{"debug digest", "+9e5ad6931f0e97453ae0bdb5d93a59b5b2ecd844\r\n"},
		{"debug digest-value key:0 q:1 r:1", "*3\r\n+c15f34c747bf411833c10208c03e1da1bb7da7cf\r\n+4a8156b2e3f4fc42eb91f9785367646ff5ffb5ec\r\n+ec4b7bec343ec862c8bd5dd8feab05ec1e9e6703\r\n"},
	},
}

var svDebugObjectRE = regexp.MustCompile(`^\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:8 lru:\d+ lru_seconds_idle:\d+\r\n$`)

func svRunCases(t *testing.T, addr string) {
	for _, group := range svRedisCases {
		c := svDial(t, addr)
		for _, tc := range group {
			got := c.cmd(tc[0])
			if tc[0] == "debug object key:0" {
				if !svDebugObjectRE.MatchString(got) {
					t.Errorf("%s: got %q", tc[0], got)
				}
				continue
			}
			if got != tc[1] {
				t.Errorf("%s:\n got  %q\n want %q", tc[0], got, tc[1])
			}
		}
	}
}

func TestServerCommandsExactReplies(t *testing.T) {
	s := svStart(t, nil)
	svRunCases(t, s.Addr().String())
}

// TestServerCommandsExactRepliesRealRedis checks the expectations against a
// real Redis 7.0 when one is installed.
func TestServerCommandsExactRepliesRealRedis(t *testing.T) {
	addr := svRealRedis(t)
	if addr == "" {
		t.Skip("redis-server 7.0 not installed")
	}
	svRunCases(t, addr)
}

func TestCommandInfoDocsList(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	get := command.Lookup("get")
	cfgGet := command.Lookup("config").Subcommands["get"]
	c.expect("command info get nosuch", "*2\r\n"+get.Info+"$-1\r\n")
	c.expect("command info GET", "*1\r\n"+get.Info)
	c.expect("command info config|get", "*1\r\n"+cfgGet.Info)
	c.expect("command docs nosuch get", "*2\r\n$3\r\nget\r\n"+get.Docs)
	c.expect("command docs config|get", "*2\r\n$10\r\nconfig|get\r\n"+cfgGet.Docs)

	n := len(s.implementedTop())
	c.expect("command count", ":"+strconv.Itoa(n)+"\r\n")
	if n < 10 {
		t.Fatalf("only %d commands implemented", n)
	}
	all := c.cmd("command info")
	if !strings.HasPrefix(all, "*"+strconv.Itoa(n)+"\r\n") || !strings.Contains(all, get.Info) {
		t.Errorf("command info: %.200q", all)
	}
	docs := c.cmd("command docs")
	if !strings.HasPrefix(docs, "*"+strconv.Itoa(2*n)+"\r\n") {
		t.Errorf("command docs: %.200q", docs)
	}
	// COMMAND with no argument: the same array as COMMAND INFO.
	if e, _ := s.lookup([][]byte{[]byte("command")}); e == nil {
		t.Log("COMMAND without arguments needs the lookup change in exec.go")
	} else if got := c.cmd("command"); got != all {
		t.Errorf("command: %.200q", got)
	}

	// COMMAND LIST lists subcommands after their container, as Redis 7.0.
	list := c.cmd("command list")
	for _, name := range []string{"get", "client", "client|list", "config|get", "command|docs"} {
		if !strings.Contains(list, "$"+strconv.Itoa(len(name))+"\r\n"+name+"\r\n") {
			t.Errorf("command list lacks %s", name)
		}
	}
	c.expect("command list filterby pattern config|g*", "*1\r\n$10\r\nconfig|get\r\n")
	c.expect("command list filterby pattern CONFIG|G*", "*1\r\n$10\r\nconfig|get\r\n")
	pubsub := c.cmd("command list filterby aclcat pubsub")
	if !strings.Contains(pubsub, "\r\nsubscribe\r\n") || strings.Contains(pubsub, "\r\nget\r\n") {
		t.Errorf("aclcat pubsub: %q", pubsub)
	}
}

func TestClientSetInfo(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	// Redis 7.2's replies.
	c.expect("client setinfo lib-name redis-py", "+OK\r\n")
	c.expect("client setinfo LIB-VER 5.0.1", "+OK\r\n")
	c.expect("client setinfo lib-name 'a b'", "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n")
	c.expect("client setinfo foo bar", "-ERR Unrecognized option 'foo'\r\n")
	c.expect("client setinfo lib-name", "-ERR wrong number of arguments for 'client|setinfo' command\r\n")
	info := command.Lookup("client").Subcommands["setinfo"]
	c.expect("command info client|setinfo", "*1\r\n"+info.Info)
	if !strings.Contains(command.Lookup("client").Info, "$14\r\nclient|setinfo\r\n") {
		t.Error("client's COMMAND INFO does not list client|setinfo")
	}
	s.mu.Lock()
	var cl *Client
	for _, x := range s.clients {
		cl = x
	}
	if cl.libName != "redis-py" || cl.libVer != "5.0.1" {
		t.Errorf("lib %q %q", cl.libName, cl.libVer)
	}
	s.mu.Unlock()
}

var svClientLineRE = regexp.MustCompile(`^id=(\d+) addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=(\S*) age=\d+ idle=\d+ flags=(\w+) db=(\d+) sub=(\d+) psub=(\d+) ssub=0 multi=(-?\d+) qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=(\S+) user=default redir=-1 resp=2$`)

func svBulk(t *testing.T, reply string) string {
	t.Helper()
	i := strings.Index(reply, "\r\n")
	if i < 0 || reply[0] != '$' {
		t.Fatalf("not a bulk: %q", reply)
	}
	return strings.TrimSuffix(reply[i+2:], "\r\n")
}

func TestClientListInfoKill(t *testing.T) {
	s := svStart(t, nil)
	a := svDial(t, s.Addr().String())
	b := svDial(t, s.Addr().String())
	a.expect("client setname alpha", "+OK\r\n")
	b.expect("select 2", "+OK\r\n")
	idA := strings.Trim(a.cmd("client id"), ":\r\n")
	idB := strings.Trim(b.cmd("client id"), ":\r\n")

	list := svBulk(t, a.cmd("client list"))
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("client list: %q", list)
	}
	if !strings.HasPrefix(lines[0], "id="+idA+" ") {
		lines[0], lines[1] = lines[1], lines[0]
	}
	ma := svClientLineRE.FindStringSubmatch(lines[0])
	mb := svClientLineRE.FindStringSubmatch(lines[1])
	if ma == nil || mb == nil {
		t.Fatalf("client list format: %q", list)
	}
	if ma[1] != idA || ma[2] != "alpha" || ma[3] != "N" || ma[8] != "client|list" || ma[7] != "-1" {
		t.Errorf("line a: %q", lines[0])
	}
	if mb[1] != idB || mb[4] != "2" || mb[8] != "client|id" {
		t.Errorf("line b: %q", lines[1])
	}
	info := svBulk(t, b.cmd("client info"))
	if m := svClientLineRE.FindStringSubmatch(strings.TrimSuffix(info, "\n")); m == nil || m[1] != idB || m[8] != "client|info" || !strings.HasSuffix(info, "\n") {
		t.Errorf("client info: %q", info)
	}
	// Filters.
	one := svBulk(t, a.cmd("client list id "+idB+" 99999"))
	if m := svClientLineRE.FindStringSubmatch(strings.TrimSuffix(one, "\n")); m == nil || m[1] != idB {
		t.Errorf("client list id: %q", one)
	}
	// MULTI shows as flags=x with the queued count.
	b.expect("multi", "+OK\r\n")
	b.expect("ping", "+QUEUED\r\n")
	m := svClientLineRE.FindStringSubmatch(strings.TrimSuffix(svBulk(t, a.cmd("client list id "+idB)), "\n"))
	if m == nil || m[3] != "x" || m[7] != "1" {
		t.Errorf("multi client: %v", m)
	}
	b.expect("discard", "+OK\r\n")

	// Pub/sub clients: type pubsub and flag P.
	p := svDial(t, s.Addr().String())
	p.send("subscribe", "ch")
	p.read()
	ps := svBulk(t, a.cmd("client list type pubsub"))
	if m := svClientLineRE.FindStringSubmatch(strings.TrimSuffix(ps, "\n")); m == nil || m[3] != "P" || m[5] != "1" {
		t.Errorf("pubsub list: %q", ps)
	}
	a.expect("client kill type pubsub", ":1\r\n")
	svExpectClosed(t, p)

	// Old form: by address; new form: by id; the killed connection closes.
	addrB := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(info)[1]
	a.expect("client kill "+addrB, "+OK\r\n")
	svExpectClosed(t, b)
	a.expect("client kill "+addrB, "-ERR No such client\r\n")
	c := svDial(t, s.Addr().String())
	idC := strings.Trim(c.cmd("client id"), ":\r\n")
	a.expect("client kill id "+idC, ":1\r\n")
	svExpectClosed(t, c)
	// SKIPME: the default spares the caller.
	a.expect("client kill type normal", ":0\r\n")
	a.expect("client kill id "+idA, ":0\r\n")
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("%d clients left", n)
	}
	// Killing yourself: the reply, then the connection closes.
	a.expect("client kill id "+idA+" skipme no", ":1\r\n")
	svExpectClosed(t, a)
}

func svExpectClosed(t *testing.T, c *testConn) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := c.r.ReadByte(); err == nil {
		t.Errorf("connection still open (read %q)", b)
	}
}

func TestClientUnblock(t *testing.T) {
	s := svStart(t, nil)
	a := svDial(t, s.Addr().String())
	b := svDial(t, s.Addr().String())
	idB := strings.Trim(b.cmd("client id"), ":\r\n")
	wait := func() {
		for i := 0; i < 500; i++ {
			s.mu.Lock()
			blocked := false
			for _, cl := range s.clients {
				blocked = blocked || cl.block != nil
			}
			s.mu.Unlock()
			if blocked {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Fatal("client did not block")
	}
	b.send("blpop", "nolist", "0")
	wait()
	m := svClientLineRE.FindStringSubmatch(strings.TrimSuffix(svBulk(t, a.cmd("client list id "+idB)), "\n"))
	if m == nil || m[3] != "b" || m[8] != "blpop" {
		t.Errorf("blocked client: %v", m)
	}
	if got := svBulk(t, a.cmd("info clients")); !strings.Contains(got, "\r\nblocked_clients:1\r\n") {
		t.Errorf("info clients: %q", got)
	}
	a.expect("client unblock "+idB, ":1\r\n")
	if got := b.read(); got != "*-1\r\n" {
		t.Errorf("unblocked with timeout: %q", got)
	}
	a.expect("client unblock "+idB, ":0\r\n")
	b.send("blpop", "nolist", "0")
	wait()
	a.expect("client unblock "+idB+" error", ":1\r\n")
	if got := b.read(); got != "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n" {
		t.Errorf("unblocked with error: %q", got)
	}
	b.expect("ping", "+PONG\r\n")
	if got := svBulk(t, a.cmd("info errorstats")); !strings.Contains(got, "errorstat_UNBLOCKED:count=1\r\n") {
		t.Errorf("errorstats: %q", got)
	}
}

func TestInfoSections(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	headers := func(info string) []string {
		var h []string
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, "# ") {
				h = append(h, l[2:])
			}
		}
		return h
	}
	def := svBulk(t, c.cmd("info"))
	want := "Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace"
	if got := strings.Join(headers(def), " "); got != want {
		t.Errorf("info sections: %s", got)
	}
	if svBulk(t, c.cmd("info default")) == "" || strings.Contains(def, "\n\n") || strings.Contains(strings.ReplaceAll(def, "\r\n", ""), "\n") {
		t.Error("info lines must end in CRLF")
	}
	wantAll := "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace"
	for _, arg := range []string{"all", "everything", "ALL"} {
		if got := strings.Join(headers(svBulk(t, c.cmd("info "+arg))), " "); got != wantAll {
			t.Errorf("info %s sections: %s", arg, got)
		}
	}
	// Field names of each section, in Redis 7.0's order.
	fields := map[string]string{
		"server":      "redis_version lagwise_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version process_id process_supervised run_id tcp_port server_time_usec uptime_in_seconds uptime_in_days hz configured_hz lru_clock executable config_file io_threads_active",
		"clients":     "connected_clients cluster_connections maxclients client_recent_max_input_buffer client_recent_max_output_buffer blocked_clients tracking_clients clients_in_timeout_table",
		"memory":      "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup used_memory_dataset used_memory_dataset_perc allocator_allocated allocator_active allocator_resident total_system_memory total_system_memory_human used_memory_lua used_memory_vm_eval used_memory_lua_human used_memory_scripts_eval number_of_cached_scripts number_of_functions number_of_libraries used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory maxmemory_human maxmemory_policy allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers mem_clients_slaves mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator active_defrag_running lazyfree_pending_objects lazyfreed_objects",
		"persistence": "loading async_loading current_cow_peak current_cow_size current_cow_size_age current_fork_perc current_save_keys_processed current_save_keys_total rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_save_time rdb_last_bgsave_status rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec rdb_saves rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size module_fork_in_progress module_fork_last_cow_size",
		"stats":       "total_connections_received total_commands_processed instantaneous_ops_per_sec total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands",
		"replication": "role connected_slaves master_failover_state master_replid master_replid2 master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen",
		"cpu":         "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children used_cpu_sys_main_thread used_cpu_user_main_thread",
	}
	for sec, want := range fields {
		body := svBulk(t, c.cmd("info "+sec))
		var names []string
		for _, l := range strings.Split(body, "\r\n")[1:] {
			if name, _, ok := strings.Cut(l, ":"); ok {
				names = append(names, name)
			}
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("info %s fields:\n got  %s\n want %s", sec, got, want)
		}
	}
	srv := svBulk(t, c.cmd("info server"))
	port := s.Addr().(*net.TCPAddr).Port
	for _, want := range []string{"redis_version:7.0.15\r\n", "redis_mode:standalone\r\n", "run_id:" + s.runID + "\r\n",
		"tcp_port:" + strconv.Itoa(port) + "\r\n", "process_id:" + strconv.Itoa(os.Getpid()) + "\r\n", "hz:10\r\n"} {
		if !strings.Contains(srv, want) {
			t.Errorf("info server lacks %q", want)
		}
	}
	repl := svBulk(t, c.cmd("info replication"))
	if !regexp.MustCompile(`\r\nmaster_replid:[0-9a-f]{40}\r\nmaster_replid2:0{40}\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\n`).MatchString(repl) {
		t.Errorf("info replication: %q", repl)
	}
	if !regexp.MustCompile(`\r\nused_cpu_sys:\d+\.\d{6}\r\n`).MatchString(svBulk(t, c.cmd("info cpu"))) {
		t.Error("info cpu format")
	}
	mem := svBulk(t, c.cmd("info memory"))
	if !regexp.MustCompile(`\r\nused_memory:[1-9]\d*\r\nused_memory_human:\d+\.\d\dM|K\r\n`).MatchString(mem) ||
		!strings.Contains(mem, "\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n") {
		t.Errorf("info memory: %q", mem)
	}

	// Stats, keyspace, commandstats and errorstats follow the commands.
	c.expect("set k v", "+OK\r\n")
	c.expect("set t v px 100000", "+OK\r\n")
	c.expect("get k", "$1\r\nv\r\n")
	c.expect("get nosuch", "$-1\r\n")
	c.cmd("get")
	c.cmd("config set nosuch 1")
	c.cmd("nosuchcommand")
	c.cmd("select 3")
	c.cmd("set x y")
	c.cmd("select 0")
	if got := svBulk(t, c.cmd("info keyspace")); got != "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n" {
		t.Errorf("info keyspace: %q", got)
	}
	st := svBulk(t, c.cmd("info stats"))
	for _, want := range []string{"\r\nkeyspace_hits:1\r\n", "\r\nkeyspace_misses:1\r\n", "\r\ntotal_error_replies:3\r\n", "\r\ntotal_connections_received:1\r\n"} {
		if !strings.Contains(st, want) {
			t.Errorf("info stats lacks %q", want)
		}
	}
	if got := svBulk(t, c.cmd("info errorstats")); got != "# Errorstats\r\nerrorstat_ERR:count=3\r\n" {
		t.Errorf("info errorstats: %q", got)
	}
	cs := svBulk(t, c.cmd("info commandstats"))
	for _, re := range []string{
		`\r\ncmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r\n`,
		`\r\ncmdstat_config\|set:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1\r\n`,
		`\r\ncmdstat_info:calls=\d+,`,
	} {
		if !regexp.MustCompile(re).MatchString(cs) {
			t.Errorf("info commandstats lacks %s: %q", re, cs)
		}
	}
	if strings.Contains(cs, "cmdstat_config|get") {
		t.Error("commands never called must not be listed")
	}
	c.expect("config resetstat", "+OK\r\n")
	if got := svBulk(t, c.cmd("info errorstats")); got != "# Errorstats\r\n" {
		t.Errorf("after resetstat: %q", got)
	}
	cs = svBulk(t, c.cmd("info commandstats"))
	if !regexp.MustCompile(`^# Commandstats\r\ncmdstat_config\|resetstat:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=\d\r\ncmdstat_info:calls=1,`).MatchString(cs) {
		t.Errorf("after resetstat: %q", cs)
	}
	if !strings.Contains(svBulk(t, c.cmd("info stats")), "\r\ntotal_commands_processed:3\r\n") {
		t.Error("total_commands_processed not reset")
	}
}

func TestInstantaneousOps(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	for i := 0; i < 3; i++ {
		s.mu.Lock()
		s.admin().metrics[metricCommands].lastTime -= 1000
		s.stats.commandsProcessed += 1600
		s.statsTick()
		s.mu.Unlock()
	}
	info := svBulk(t, c.cmd("info stats"))
	m := regexp.MustCompile(`instantaneous_ops_per_sec:(\d+)`).FindStringSubmatch(info)
	if m == nil || m[1] == "0" {
		t.Errorf("instantaneous_ops_per_sec: %v", m)
	}
}

func TestTimeLastSave(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	m := regexp.MustCompile(`^\*2\r\n\$10\r\n(\d{10})\r\n\$\d\r\n(\d{1,6})\r\n$`).FindStringSubmatch(c.cmd("time"))
	if m == nil {
		t.Fatal("time format")
	}
	if sec, _ := strconv.ParseInt(m[1], 10, 64); sec < time.Now().Unix()-5 || sec > time.Now().Unix()+5 {
		t.Errorf("time %s", m[1])
	}
	c.expect("lastsave", ":"+strconv.FormatInt(s.startTime.Unix(), 10)+"\r\n")
	if !strings.Contains(svBulk(t, c.cmd("info persistence")), "\r\nrdb_last_save_time:"+strconv.FormatInt(s.startTime.Unix(), 10)+"\r\n") {
		t.Error("rdb_last_save_time")
	}
}

func TestShutdown(t *testing.T) {
	// A save that fails (its dir is gone) keeps the server up.
	gone := filepath.Join(t.TempDir(), "gone")
	s := svStart(t, func(c *Config) { c.Dir = gone })
	c := svDial(t, s.Addr().String())
	c.expect("shutdown save", "-ERR Errors trying to SHUTDOWN. Check logs.\r\n")
	c.expect("ping", "+PONG\r\n")
	c.send("shutdown", "nosave")
	svExpectClosed(t, c)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
	}
}

// TestNothingRunsAfterShutdownSave: between SHUTDOWN's final save and the
// end of the process (Redis exits at once) no command executes and the
// cron neither expires keys nor feeds anything: a write then could be
// acknowledged and lost, and an expired key's DEL would reach replicas
// past the dump's offset, so they could not continue partially from the
// restarted server.
func TestNothingRunsAfterShutdownSave(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	c.expect("debug set-active-expire 0", "+OK\r\n")
	c.expect("set gone v px 1", "+OK\r\n")
	time.Sleep(10 * time.Millisecond)

	s.mu.Lock()
	s.admin().activeExpireOff = false
	run := func(args ...string) *Client {
		f := s.newFakeClient()
		for _, a := range args {
			f.argv = append(f.argv, []byte(a))
		}
		s.processCommand(f)
		return f
	}
	run("SHUTDOWN", "NOSAVE") // its Shutdown waits for the lock
	dirty := s.dirty
	if f := run("SET", "late", "1"); !f.closeAfter || len(f.out) != 0 {
		t.Errorf("SET after SHUTDOWN: replied %q, closeAfter %v", f.out, f.closeAfter)
	}
	s.cronStep()
	_, late := s.dbs[0].dict.Get("late")
	_, gone := s.dbs[0].dict.Get("gone")
	if s.dirty != dirty || late || !gone {
		t.Errorf("after SHUTDOWN's save: dirty %d -> %d, late written %v, expired key still there %v", dirty, s.dirty, late, gone)
	}
	s.unlock()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
	}
}

func TestDebugAccess(t *testing.T) {
	const notAllowed = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n"
	s := svStart(t, func(c *Config) { c.EnableDebugCommand = "no" })
	svDial(t, s.Addr().String()).expect("debug digest", notAllowed)
	s = svStart(t, func(c *Config) { c.EnableDebugCommand = "yes" })
	svDial(t, s.Addr().String()).expect("debug digest", "+0000000000000000000000000000000000000000\r\n")
}

func TestDebugSleepHoldsServer(t *testing.T) {
	s := svStart(t, nil)
	a := svDial(t, s.Addr().String())
	b := svDial(t, s.Addr().String())
	a.send("debug", "sleep", "0.3")
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	b.expect("ping", "+PONG\r\n")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("ping answered after %v during DEBUG SLEEP", d)
	}
	if got := a.read(); got != "+OK\r\n" {
		t.Errorf("debug sleep: %q", got)
	}
	a.expect("debug set-active-expire 0", "+OK\r\n")
	if s.activeExpireEnabled() {
		t.Error("active expire still on")
	}
	a.expect("debug set-active-expire 1", "+OK\r\n")
	if !s.activeExpireEnabled() {
		t.Error("active expire still off")
	}
}

func TestConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.conf")
	orig := "# my comment\nport 0\nmaxmemory 100mb\n\n# another\nhash-max-ziplist-entries 100\nhz 20\nhz 30\nsave 900 1\ninclude /dev/null\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Save = ""
	cfg.MaxMemoryPolicy = "allkeys-lru"
	cfg.MaxMemory = 100 << 20
	cfg.HashMaxListpackEntr = 100
	cfg.Hz = 30
	s := New(cfg)
	s.SetConfigFile(path)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown()
	c := svDial(t, s.Addr().String())
	c.expect("config set maxmemory 12345", "+OK\r\n")
	c.expect("config set requirepass foo", "+OK\r\n")
	c.expect("config rewrite", "+OK\r\n")
	wd, _ := os.Getwd()
	want := "# my comment\nport 0\nmaxmemory 12345\n\n# another\nhash-max-listpack-entries 100\nhz 30\n\nsave \"\"\ninclude /dev/null\n\n" +
		"# Generated by CONFIG REWRITE\nbind 127.0.0.1\ndir " + quoteConf(wd) + "\nmaxmemory-policy allkeys-lru\nrequirepass \"foo\"\n"
	got, _ := os.ReadFile(path)
	if string(got) != want {
		t.Errorf("rewrite:\n%s\nwant:\n%s", got, want)
	}
	c.expect("config set save '100 2 300 4'", "+OK\r\n")
	c.expect("config set client-output-buffer-limit 'normal 1mb 0 0 replica 256mb 64mb 60'", "+OK\r\n")
	c.expect("config set maxmemory 2gb", "+OK\r\n")
	c.expect("config rewrite", "+OK\r\n")
	want = "# my comment\nport 0\nmaxmemory 2gb\n\n# another\nhash-max-listpack-entries 100\nhz 30\n\nsave 100 2\ninclude /dev/null\n\n" +
		"# Generated by CONFIG REWRITE\nbind 127.0.0.1\ndir " + quoteConf(wd) + "\nmaxmemory-policy allkeys-lru\nrequirepass \"foo\"\n\n" +
		"client-output-buffer-limit normal 1mb 0 0\nsave 300 4\n"
	got, _ = os.ReadFile(path)
	if string(got) != want {
		t.Errorf("second rewrite:\n%s\nwant:\n%s", got, want)
	}
	// The rewritten file loads back to the same settings.
	back, _, err := LoadConfig([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"maxmemory", "save", "hz", "client-output-buffer-limit", "requirepass", "hash-max-listpack-entries"} {
		a, _ := back.Get(name)
		b, _ := cfg.Get(name)
		if a != b {
			t.Errorf("%s: reloaded %q, running %q", name, a, b)
		}
	}
}

func TestQuoteConf(t *testing.T) {
	for in, want := range map[string]string{"": `""`, "a b": `"a b"`, "q\"\\\n\x01é": `"q\"\\\n\x01\xc3\xa9"`} {
		if got := quoteConf(in); got != want {
			t.Errorf("quoteConf(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"0": "0", "1024": "1kb", "1048576": "1mb", "3221225472": "3gb", "1000": "1000"} {
		if got := formatMemoryConf(in); got != want {
			t.Errorf("formatMemoryConf(%s) = %s, want %s", in, got, want)
		}
	}
}
