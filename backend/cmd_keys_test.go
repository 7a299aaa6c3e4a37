package backend

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The expected replies below are the bytes Redis 7.0 sends. Setting
// BACKEND_TEST_REDIS runs the reply tables against a reference server
// instead (see testutil_test.go).

type ktStep struct {
	cmd  string // arguments separated by single spaces; {} is an empty argument, \s a space
	want string // raw RESP reply
}

// ktSplit splits a table command on single spaces.
func ktSplit(cmd string) []string {
	args := strings.Split(cmd, " ")
	for i, a := range args {
		if a == "{}" {
			a = ""
		}
		args[i] = strings.ReplaceAll(a, `\s`, " ")
	}
	return args
}

// ktRun runs table steps on k; a "SLEEP ms" step pauses instead.
func ktRun(k *testConn, steps []ktStep) {
	k.t.Helper()
	for _, st := range steps {
		if strings.HasPrefix(st.cmd, "SLEEP ") {
			ms, _ := strconv.Atoi(st.cmd[6:])
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		}
		if got := k.do(ktSplit(st.cmd)...); got != st.want {
			k.t.Errorf("%s: got %q, want %q", st.cmd, got, st.want)
		}
	}
}

const (
	ktOK      = "+OK\r\n"
	ktZero    = ":0\r\n"
	ktOne     = ":1\r\n"
	ktNull    = "$-1\r\n"
	ktNoKey   = "-ERR no such key\r\n"
	ktSyntax  = "-ERR syntax error\r\n"
	ktNotInt  = "-ERR value is not an integer or out of range\r\n"
	ktDBRange = "-ERR DB index is out of range\r\n"
	ktSame    = "-ERR source and destination objects are the same\r\n"
	ktIntMax  = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
	ktEmpty   = "*0\r\n"
	ktNoLFU   = "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
	ktLFUIdle = "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
)

func ktInt(n int64) string { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func ktBulk(s string) string {
	return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
}
func ktArr(items ...string) string {
	return "*" + strconv.Itoa(len(items)) + "\r\n" + strings.Join(items, "")
}
func ktScanReply(cursor string, keys ...string) string {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = ktBulk(k)
	}
	return ktArr(ktBulk(cursor), ktArr(ks...))
}

func TestKeysCommandsReplies(t *testing.T) {
	addr := testTarget(t)
	cases := []struct {
		name  string
		steps []ktStep
	}{
		{"del unlink exists", []ktStep{
			{"set a 1", ktOK}, {"set b 2", ktOK},
			{"exists a a b zz", ktInt(3)},
			{"exists zz", ktZero},
			{"del a a zz", ktOne},
			{"exists a", ktZero},
			{"unlink b zz", ktOne},
			{"unlink b", ktZero},
			{"del", "-ERR wrong number of arguments for 'del' command\r\n"},
			{"exists", "-ERR wrong number of arguments for 'exists' command\r\n"},
		}},
		{"expire option errors", []ktStep{
			{"set a 1", ktOK},
			{"expire a 10 nx xx", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"expire a 10 nx gt", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"pexpire a 10 NX LT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"expire a 10 gt lt", "-ERR GT and LT options at the same time are not compatible\r\n"},
			{"expire a 10 xx gt lt", "-ERR GT and LT options at the same time are not compatible\r\n"},
			{"expire a 10 foo", "-ERR Unsupported option foo\r\n"},
			{"expire a 10 xx foo", "-ERR Unsupported option foo\r\n"},
			{"expire a abc foo", "-ERR Unsupported option foo\r\n"},
			{"expire a abc", ktNotInt},
			{"expire a 1.5", ktNotInt},
			{"expire a 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
			{"expire a -9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
			{"expire a 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
			{"pexpire a 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
			{"expireat a 9223372036854775807", "-ERR invalid expire time in 'expireat' command\r\n"},
			{"pexpireat a 9223372036854775807", ktOne},
			{"pexpiretime a", ktInt(9223372036854775807)},
			{"expiretime a", ktInt(9223372036854776)},
			{"expire zz 10", ktZero},
			{"expire zz 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"},
		}},
		{"expire conditions", []ktStep{
			{"set a 1", ktOK},
			{"expire a 100 xx", ktZero},
			{"expire a 100 gt", ktZero},
			{"expire a 100 lt", ktOne},
			{"ttl a", ktInt(100)},
			{"expire a 50 nx", ktZero},
			{"expire a 200 lt", ktZero},
			{"expire a 200 gt", ktOne},
			{"expire a 100 gt", ktZero},
			{"expire a 300 xx", ktOne},
			{"ttl a", ktInt(300)},
			{"persist a", ktOne},
			{"persist a", ktZero},
			{"persist zz", ktZero},
			{"ttl a", ktInt(-1)},
			{"expire a 100 nx", ktOne},
			{"pexpireat a 99999999999499", ktOne},
			{"pexpiretime a", ktInt(99999999999499)},
			{"expiretime a", ktInt(99999999999)},
			{"pexpireat a 99999999999500", ktOne},
			{"expiretime a", ktInt(100000000000)},
			{"expireat a 99999999999", ktOne},
			{"pexpiretime a", ktInt(99999999999000)},
		}},
		{"expire in the past deletes", []ktStep{
			{"set a 1", ktOK},
			{"expire a -1", ktOne},
			{"exists a", ktZero},
			{"set a 1", ktOK},
			{"pexpireat a 1", ktOne},
			{"exists a", ktZero},
			{"set a 1", ktOK},
			{"expire a 0 nx", ktOne},
			{"exists a", ktZero},
			{"set a 1", ktOK},
			{"expire a 100", ktOne},
			{"expire a -5 gt", ktZero},
			{"expire a -5 lt", ktOne},
			{"exists a", ktZero},
		}},
		{"ttl family", []ktStep{
			{"ttl zz", ktInt(-2)}, {"pttl zz", ktInt(-2)},
			{"expiretime zz", ktInt(-2)}, {"pexpiretime zz", ktInt(-2)},
			{"set a 1", ktOK},
			{"ttl a", ktInt(-1)}, {"pttl a", ktInt(-1)},
			{"expiretime a", ktInt(-1)}, {"pexpiretime a", ktInt(-1)},
			{"expire a 1000", ktOne},
			{"ttl a", ktInt(1000)},
			{"set a 1 px 100", ktOK},
			{"SLEEP 150", ""},
			{"ttl a", ktInt(-2)},
		}},
		{"type", []ktStep{
			{"set s 1", ktOK}, {"rpush l a", ktOne},
			{"type s", "+string\r\n"},
			{"type l", "+list\r\n"},
			{"type zz", "+none\r\n"},
		}},
		{"collections", []ktStep{
			{"hset h f v", ktOne}, {"sadd s 1 2", ktInt(2)}, {"sadd t a", ktOne},
			{"zadd z 1 m", ktOne}, {"rpush l a b", ktInt(2)},
			{"type h", "+hash\r\n"}, {"type s", "+set\r\n"}, {"type z", "+zset\r\n"}, {"type l", "+list\r\n"},
			{"object encoding h", ktBulk("listpack")},
			{"object encoding s", ktBulk("intset")},
			{"object encoding t", ktBulk("hashtable")},
			{"object encoding z", ktBulk("listpack")},
			{"object encoding l", ktBulk("quicklist")},
			{"object refcount h", ktOne},
			{"copy h h2", ktOne}, {"hset h f w", ktZero}, {"hget h2 f", ktBulk("v")},
			{"object encoding h2", ktBulk("listpack")},
			{"copy s s2", ktOne}, {"sadd s 3", ktOne}, {"scard s2", ktInt(2)},
			{"object encoding s2", ktBulk("intset")},
			{"copy z z2", ktOne}, {"zadd z 2 n", ktOne}, {"zcard z2", ktOne},
			{"copy l l2", ktOne}, {"rpush l c", ktInt(3)}, {"llen l2", ktInt(2)},
			{"sadd t " + strings.Repeat("x", 65), ktOne},
			{"copy t t2", ktOne}, {"object encoding t2", ktBulk("hashtable")},
			{"hset big f " + strings.Repeat("x", 65), ktOne},
			{"copy big big2 db 3", ktOne},
			{"select 3", ktOK},
			{"object encoding big2", ktBulk("hashtable")},
			{"hget big2 f", ktBulk(strings.Repeat("x", 65))},
			{"flushdb", ktOK},
			{"select 0", ktOK},
			{"scan 0 type hash match big count 1000", ktScanReply("0", "big")},
			{"scan 0 type zset match z count 1000", ktScanReply("0", "z")},
		}},
		{"rename", []ktStep{
			{"rename zz b", ktNoKey},
			{"rename zz zz", ktNoKey},
			{"renamenx zz zz", ktNoKey},
			{"set a 1", ktOK},
			{"rename a a", ktOK},
			{"renamenx a a", ktZero},
			{"expire a 100", ktOne},
			{"rename a b", ktOK},
			{"exists a", ktZero},
			{"ttl b", ktInt(100)},
			{"get b", ktBulk("1")},
			{"set c 3", ktOK},
			{"renamenx b c", ktZero},
			{"rename b c", ktOK},
			{"get c", ktBulk("1")},
			{"ttl c", ktInt(100)},
			{"set d 4", ktOK},
			{"rename d c", ktOK},
			{"ttl c", ktInt(-1)},
			{"renamenx c e", ktOne},
			{"exists c e", ktOne},
			{"rpush l x y", ktInt(2)},
			{"rename l l2", ktOK},
			{"lrange l2 0 -1", ktArr(ktBulk("x"), ktBulk("y"))},
		}},
		{"copy", []ktStep{
			{"set a hello", ktOK},
			{"copy a a", ktSame},
			{"copy a b db 16", ktDBRange},
			{"copy a b db -1", ktDBRange},
			{"copy a b db x", ktNotInt},
			{"copy a b db 99999999999", ktIntMax},
			{"copy a b db", ktSyntax},
			{"copy a b foo", ktSyntax},
			{"copy a b db 0 db 16", ktDBRange},
			{"copy zz b", ktZero},
			{"copy a b", ktOne},
			{"copy a b", ktZero},
			{"set a other", ktOK},
			{"copy a b replace replace", ktOne},
			{"get b", ktBulk("other")},
			{"expire a 100", ktOne},
			{"copy a c", ktOne},
			{"ttl c", ktInt(100)},
			{"copy a a db 1", ktOne},
			{"select 1", ktOK},
			{"get a", ktBulk("other")},
			{"ttl a", ktInt(100)},
			{"flushdb", ktOK},
			{"select 0", ktOK},
			{"rpush l x y", ktInt(2)},
			{"copy l l2", ktOne},
			{"rpush l z", ktInt(3)},
			{"lrange l2 0 -1", ktArr(ktBulk("x"), ktBulk("y"))},
			{"append a x", ktInt(6)},
			{"copy a raw", ktOne},
			{"object encoding raw", ktBulk("raw")},
			{"append a y", ktInt(7)},
			{"get raw", ktBulk("otherx")},
			{"set n 12", ktOK},
			{"copy n n2", ktOne},
			{"object encoding n2", ktBulk("int")},
		}},
		{"move", []ktStep{
			{"set a 1", ktOK},
			{"move a 0", ktSame},
			{"move a 16", ktDBRange},
			{"move a -1", ktDBRange},
			{"move a x", ktNotInt},
			{"move a 99999999999", ktIntMax},
			{"move zz 1", ktZero},
			{"move zz 0", ktSame},
			{"expire a 100", ktOne},
			{"move a 1", ktOne},
			{"exists a", ktZero},
			{"set a 2", ktOK},
			{"select 1", ktOK},
			{"ttl a", ktInt(100)},
			{"move a 0", ktZero},
			{"get a", ktBulk("1")},
			{"flushdb", ktOK},
			{"select 0", ktOK},
		}},
		{"swapdb", []ktStep{
			{"swapdb 0 16", ktDBRange},
			{"swapdb -1 0", ktDBRange},
			{"swapdb x 0", "-ERR invalid first DB index\r\n"},
			{"swapdb 0 x", "-ERR invalid second DB index\r\n"},
			{"swapdb 0 99999999999", "-ERR invalid second DB index\r\n"},
			{"swapdb 99999999999 x", "-ERR invalid first DB index\r\n"},
			{"swapdb 0 0", ktOK},
			{"set a 0", ktOK},
			{"expire a 100", ktOne},
			{"swapdb 0 1", ktOK},
			{"exists a", ktZero},
			{"dbsize", ktZero},
			{"select 1", ktOK},
			{"get a", ktBulk("0")},
			{"ttl a", ktInt(100)},
			{"swapdb 1 0", ktOK},
			{"dbsize", ktZero},
			{"select 0", ktOK},
			{"dbsize", ktOne},
		}},
		{"flush and dbsize", []ktStep{
			{"dbsize", ktZero},
			{"set a 1", ktOK}, {"set b 1", ktOK},
			{"dbsize", ktInt(2)},
			{"flushdb x", ktSyntax},
			{"flushdb sync x", ktSyntax},
			{"flushall x y", ktSyntax},
			{"flushall foo", ktSyntax},
			{"flushdb ASYNC", ktOK},
			{"dbsize", ktZero},
			{"set a 1", ktOK},
			{"flushdb SYNC", ktOK},
			{"dbsize", ktZero},
			{"set a 1", ktOK},
			{"select 1", ktOK},
			{"set a 1", ktOK},
			{"flushall async", ktOK},
			{"dbsize", ktZero},
			{"select 0", ktOK},
			{"dbsize", ktZero},
			{"flushall", ktOK},
		}},
		{"object", []ktStep{
			{"set i 12345", ktOK},
			{"set neg -12", ktOK},
			{"set z -0", ktOK},
			{"set e 12345678901234567890", ktOK},
			{"set big 9223372036854775808", ktOK},
			{"set s hello", ktOK},
			{"set s44 12345678901234567890123456789012345678901234", ktOK},
			{"set s45 123456789012345678901234567890123456789012345", ktOK},
			{"append ap x", ktOne},
			{"append s hi", ktInt(7)},
			{"setrange sr 0 x", ktOne},
			{"incr cnt", ktOne},
			{"object encoding i", ktBulk("int")},
			{"object encoding neg", ktBulk("int")},
			{"object encoding z", ktBulk("embstr")},
			{"object encoding e", ktBulk("embstr")},
			{"object encoding big", ktBulk("embstr")},
			{"object encoding s44", ktBulk("embstr")},
			{"object encoding s45", ktBulk("raw")},
			{"object encoding ap", ktBulk("embstr")},
			{"object encoding s", ktBulk("raw")},
			{"object encoding sr", ktBulk("raw")},
			{"object encoding cnt", ktBulk("int")},
			{"object encoding zz", ktNull},
			{"object refcount i", ktOne},
			{"object refcount cnt", ktInt(2147483647)},
			{"object refcount s", ktOne},
			{"object refcount neg", ktOne},
			{"set k 9999", ktOK},
			{"object refcount k", ktInt(2147483647)},
			{"object refcount zz", ktNull},
			{"object idletime zz", ktNull},
			{"object freq s", ktNoLFU},
			{"object freq zz", ktNull},
			{"object foo", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"},
			{"object encoding", "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
			{"object encoding a b", "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
			{"object", "-ERR wrong number of arguments for 'object' command\r\n"},
			{"object help", "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n+    Return the kind of internal representation used in order to store the value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access frequency index of the <key>. The returned integer is\r\n+    proportional to the logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    Return the idle time of the <key>, that is the approximated number of\r\n+    seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return the number of references of the value associated with the specified\r\n+    <key>.\r\n+HELP\r\n+    Prints this help.\r\n"},
			{"rpush l a", ktOne},
			{"object encoding l", ktBulk("quicklist")},
			{"config set maxmemory-policy allkeys-lfu", ktOK},
			{"object idletime l", ktLFUIdle},
			{"object idletime zz", ktNull},
			{"config set maxmemory-policy noeviction", ktOK},
		}},
		{"scan", []ktStep{
			{"set a 1", ktOK},
			{"rpush l x", ktOne},
			{"scan \\s0", "-ERR invalid cursor\r\n"},
			{"scan 0\\s", "-ERR invalid cursor\r\n"},
			{"scan 1x", "-ERR invalid cursor\r\n"},
			{"scan -", "-ERR invalid cursor\r\n"},
			{"scan 18446744073709551616", "-ERR invalid cursor\r\n"},
			{"scan x count 0", "-ERR invalid cursor\r\n"},
			{"scan 0 count 0", ktSyntax},
			{"scan 0 count -1", ktSyntax},
			{"scan 0 count x", ktNotInt},
			{"scan 0 count 99999999999999999999", ktNotInt},
			{"scan 0 count", ktSyntax},
			{"scan 0 match", ktSyntax},
			{"scan 0 type", ktSyntax},
			{"scan 0 foo bar", ktSyntax},
			{"scan 0 count 0 x", ktSyntax},
			{"scan 0 type list", ktScanReply("0", "l")},
			{"scan +0 type LIST", ktScanReply("0", "l")},
			{"scan {} TYPE list", ktScanReply("0", "l")},
			{"scan 0 type foo", ktScanReply("0")},
			{"scan 0 match a* count 100 type string", ktScanReply("0", "a")},
			{"scan 0 match l", ktScanReply("0", "l")},
			{"scan 0 match nomatch", ktScanReply("0")},
			{"set v 1 px 1", ktOK},
			{"SLEEP 10", ""},
			{"scan 0 match v", ktScanReply("0")},
		}},
		{"keys randomkey touch", []ktStep{
			{"randomkey", ktNull},
			{"keys *", ktEmpty},
			{"set hello 1", ktOK},
			{"set hallo 1", ktOK},
			{"set world 1", ktOK},
			{"keys w*", ktArr(ktBulk("world"))},
			{"keys h[^a]llo", ktArr(ktBulk("hello"))},
			{"keys [", ktEmpty},
			{"keys hel?o", ktArr(ktBulk("hello"))},
			{"touch hello world zz hello", ktInt(3)},
			{"del hello hallo", ktInt(2)},
			{"randomkey", ktBulk("world")},
			{"debug set-active-expire 0", ktOK},
			{"set gone 1 px 1", ktOK},
			{"SLEEP 10", ""},
			{"keys gone", ktEmpty},
			{"dbsize", ktInt(2)},
			{"del world", ktOne},
			{"randomkey", ktNull},
			{"dbsize", ktZero},
			{"debug set-active-expire 1", ktOK},
		}},
		{"watch and flush", []ktStep{
			{"set k v", ktOK},
			{"watch k", ktOK},
			{"flushdb", ktOK},
			{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", "*-1\r\n"},
			{"watch nokey", ktOK},
			{"set other 1", ktOK},
			{"flushall", ktOK},
			{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", ktArr("+PONG\r\n")},
			{"debug set-active-expire 0", ktOK},
			{"set k v px 1", ktOK},
			{"SLEEP 10", ""},
			{"watch k", ktOK},
			{"flushdb", ktOK},
			{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", ktArr("+PONG\r\n")},
			{"set k v px 1", ktOK},
			{"SLEEP 10", ""},
			{"watch k", ktOK},
			{"select 1", ktOK},
			{"set k v", ktOK},
			{"select 0", ktOK},
			{"swapdb 0 1", ktOK},
			{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", "*-1\r\n"},
			{"watch x", ktOK},
			{"swapdb 0 1", ktOK},
			{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", ktArr("+PONG\r\n")},
			{"debug set-active-expire 1", ktOK},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := dialTest(t, addr)
			if got := k.do("flushall"); got != ktOK {
				t.Fatalf("flushall: %q", got)
			}
			ktRun(k, tc.steps)
			k.do("flushall")
		})
	}
}

// A RENAME, MOVE, COPY or SWAPDB that puts a list where a client is blocked
// serves that client.
func TestKeysWakeBlockedClients(t *testing.T) {
	addr := testTarget(t)
	for _, tc := range []struct {
		name  string
		setup []string // run on the second connection, db 0
	}{
		{"rename", []string{"rpush src a", "rename src q"}},
		{"renamenx", []string{"rpush src a", "renamenx src q"}},
		{"copy", []string{"rpush src a", "copy src q"}},
		{"move", []string{"select 1", "rpush q a", "move q 0"}},
		{"swapdb", []string{"select 1", "rpush q a", "swapdb 0 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blocked := dialTest(t, addr)
			other := dialTest(t, addr)
			other.do("flushall")
			blocked.conn.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n5\r\n"))
			// Let the BLPOP block before the data arrives.
			ktWaitBlocked(t, other)
			for _, cmd := range tc.setup {
				other.do(ktSplit(cmd)...)
			}
			if got, want := blocked.read(), ktArr(ktBulk("q"), ktBulk("a")); got != want {
				t.Errorf("BLPOP got %q, want %q", got, want)
			}
			other.do("flushall")
		})
	}
}

// ktWaitBlocked waits until INFO clients shows a blocked client.
func ktWaitBlocked(t *testing.T, k *testConn) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if strings.Contains(k.do("info", "clients"), "blocked_clients:1\r\n") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("client did not block")
}

// KEYS returns every live key, in any order.
func TestKeysPatternMany(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	var want []string
	for i := 0; i < 3000; i++ {
		key := "key:" + strconv.Itoa(i)
		k.do("set", key, "v")
		if strings.HasSuffix(key, "7") {
			want = append(want, key)
		}
	}
	sort.Strings(want)
	for _, tc := range []struct{ pat string }{{"*7"}, {"key:*7"}} {
		got := ktParseArray(t, k.do("keys", tc.pat))
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("KEYS %s: got %d keys, want %d", tc.pat, len(got), len(want))
		}
	}
}

// ktParseArray decodes a flat array of bulk strings.
func ktParseArray(t *testing.T, raw string) []string {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(raw))
	line, _ := r.ReadString('\n')
	if line[0] != '*' {
		t.Fatalf("not an array: %q", raw)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		hdr, _ := r.ReadString('\n')
		l, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		buf := make([]byte, l+2)
		io.ReadFull(r, buf)
		out = append(out, string(buf[:l]))
	}
	return out
}

// A full SCAN through the server returns every key that exists for the whole
// iteration, while keys are added between calls.
func TestKeysScanWhileGrowing(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	const initial = 5000
	for i := 0; i < initial; i++ {
		k.do("set", "k"+strconv.Itoa(i), "v")
	}
	seen := map[string]bool{}
	cursor := "0"
	added := 0
	for calls := 0; ; calls++ {
		raw := k.do("scan", cursor, "count", "100")
		r := bufio.NewReader(strings.NewReader(raw))
		r.ReadString('\n')
		hdr, _ := r.ReadString('\n')
		l, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		buf := make([]byte, l+2)
		io.ReadFull(r, buf)
		cursor = string(buf[:l])
		rest, _ := io.ReadAll(r)
		for _, key := range ktParseArray(t, string(rest)) {
			seen[key] = true
		}
		// Grow the keyspace by a lot between calls.
		for j := 0; j < 500; j++ {
			k.do("set", "new"+strconv.Itoa(added), "v")
			added++
		}
		if cursor == "0" {
			break
		}
		if calls > 100000 {
			t.Fatal("scan does not end")
		}
	}
	for i := 0; i < initial; i++ {
		if !seen["k"+strconv.Itoa(i)] {
			t.Fatalf("key k%d missed by SCAN (added %d keys during the scan)", i, added)
		}
	}
}

// The SCAN guarantee on the Dict itself: a key present for the whole
// iteration is visited at least once, however much the dict grows between
// steps.
func TestKeysDictScanGuaranteeWhileGrowing(t *testing.T) {
	for _, tc := range []struct {
		name          string
		initial, grow int
		count         int
	}{
		{"small grows a lot", 10, 2000, 1},
		{"medium", 5000, 300, 10},
		{"large steps", 20000, 5000, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDict()
			for i := 0; i < tc.initial; i++ {
				d.Set("k"+strconv.Itoa(i), StrObj("v"))
			}
			seen := make(map[string]int, tc.initial)
			var cursor uint64
			added := 0
			for steps := 0; ; steps++ {
				cursor = d.Scan(cursor, tc.count, func(k string, _ Obj) { seen[k]++ })
				for j := 0; j < tc.grow; j++ {
					d.Set("n"+strconv.Itoa(added), StrObj("v"))
					added++
				}
				if cursor == 0 {
					break
				}
				if steps > 1_000_000 {
					t.Fatal("scan does not end")
				}
			}
			for i := 0; i < tc.initial; i++ {
				if seen["k"+strconv.Itoa(i)] == 0 {
					t.Fatalf("k%d never visited; dict grew to %d keys", i, d.Len())
				}
			}
		})
	}
}

// Keys with short TTLs disappear without being accessed.
func TestKeysActiveExpiry(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	for i := 0; i < 200; i++ {
		k.do("set", "tmp"+strconv.Itoa(i), "v", "px", "30")
	}
	k.do("set", "keep", "v")
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		size, expired := s.dbs[0].Size(), s.stats.expiredKeys
		s.mu.Unlock()
		if size == 1 {
			if expired != 200 {
				t.Errorf("expired_keys = %d, want 200", expired)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys left; expected only the persistent one", size)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := k.do("get", "keep"); got != ktBulk("v") {
		t.Errorf("persistent key: %q", got)
	}
}

// dirty counts what Redis counts for FLUSHDB, FLUSHALL, SWAPDB, DEL, EXPIRE.
func TestKeysDirtyCounts(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	dirty := func() int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.dirty
	}
	for _, tc := range []struct {
		cmds []string
		want int64
	}{
		{[]string{"flushall"}, 0},
		{[]string{"set a 1", "set b 1", "flushall"}, 4},
		{[]string{"set a 1", "set b 1", "flushdb"}, 4},
		{[]string{"flushdb"}, 0},
		{[]string{"swapdb 0 0"}, 1},
		{[]string{"swapdb 0 1"}, 1},
		{[]string{"set a 1", "expire a 100", "persist a", "persist a"}, 3},
		{[]string{"set a 1", "del a a"}, 2},
		{[]string{"set a 1", "expire a 100 gt", "expire a -1"}, 2},
		{[]string{"set a 1", "rename a b", "renamenx b b", "copy b c", "move c 1"}, 4},
		{[]string{"exists a", "ttl a", "type a", "keys *", "scan 0", "object encoding b"}, 0},
	} {
		before := dirty()
		for _, c := range tc.cmds {
			k.do(ktSplit(c)...)
		}
		if got := dirty() - before; got != tc.want {
			t.Errorf("%v: dirty += %d, want %d", tc.cmds, got, tc.want)
		}
	}
}

// Read-only lookups count keyspace hits and misses as Redis does.
func TestKeysStats(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	k.do("set", "a", "1")
	stats := func() (int64, int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.stats.keyspaceHits, s.stats.keyspaceMisses
	}
	for _, tc := range []struct {
		cmd          string
		hits, misses int64
	}{
		{"exists a zz", 1, 1},
		{"ttl a", 1, 0},
		{"type zz", 0, 1},
		{"object encoding a", 1, 0},
		{"touch a zz", 1, 1},
		{"del a", 0, 0},
		{"expire zz 10", 0, 0},
	} {
		h0, m0 := stats()
		k.do(ktSplit(tc.cmd)...)
		h1, m1 := stats()
		if h1-h0 != tc.hits || m1-m0 != tc.misses {
			t.Errorf("%s: hits +%d misses +%d, want +%d +%d", tc.cmd, h1-h0, m1-m0, tc.hits, tc.misses)
		}
	}
}

func TestParseScanCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"+7", 7, true}, {"-1", 18446744073709551615, true},
		{"18446744073709551615", 18446744073709551615, true},
		{"-18446744073709551615", 1, true},
		{"18446744073709551616", 0, false}, {"-", 0, false}, {"+", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"0x1", 0, false}, {"1.0", 0, false},
	} {
		got, ok := parseScanCursor([]byte(tc.in))
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseScanCursor(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// Under an LFU policy OBJECT FREQ reads the access counter: 5 for a new
// value, 6 after its first read (the first increment is certain).
func TestKeysObjectFreqLFU(t *testing.T) {
	addr := testTarget(t)
	k := dialTest(t, addr)
	k.do("flushall")
	ktRun(k, []ktStep{{"config set maxmemory-policy allkeys-lfu", ktOK}})
	defer k.do("config", "set", "maxmemory-policy", "noeviction")
	ktRun(k, []ktStep{{"set f x", ktOK}})
	if got := k.do("object", "freq", "f"); got != ktInt(5) {
		t.Skipf("values are not stamped with LFU counters by the keyspace (OBJECT FREQ %q)", got)
	}
	ktRun(k, []ktStep{
		{"get f", ktBulk("x")},
		{"object freq f", ktInt(6)},
		{"object idletime f", ktLFUIdle},
		{"object freq zz", ktNull},
	})
	k.do("flushall")
}
