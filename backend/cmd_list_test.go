package backend

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The expected replies below are the bytes Redis 7.0 sends. Setting
// BACKEND_TEST_REDIS runs the reply tables against a reference server
// instead (see testutil_test.go).

type ltStep struct {
	cmd  string // arguments separated by single spaces
	want string // raw RESP reply
}

const ltWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

// ltSplit splits a table command on single spaces.
func ltSplit(cmd string) []string { return strings.Split(cmd, " ") }

// ltDialAddr connects to addr; its command lines are split by ltSplit.
func ltDialAddr(t *testing.T, addr string) *testConn {
	t.Helper()
	c := dialTest(t, addr)
	c.split = ltSplit
	return c
}

func ltDial(t *testing.T, s *Server) *testConn { return ltDialAddr(t, s.Addr().String()) }

// ltRun runs steps on a fresh server (or the reference server) in order.
func ltRun(t *testing.T, steps []ltStep) {
	t.Helper()
	c := ltDialAddr(t, testTarget(t))
	for _, st := range steps {
		c.expect(st.cmd, st.want)
	}
}

// ltBlocked is how many clients are blocked on key in db 0.
func ltBlocked(s *Server, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dbs[0].blocked[key])
}

// ltWaitBlocked waits until n clients are blocked on key.
func ltWaitBlocked(t *testing.T, s *Server, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ltBlocked(s, key) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked on %q, want %d", ltBlocked(s, key), key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestListPushPop(t *testing.T) {
	ltRun(t, []ltStep{
		{"lpush l a b c", ":3\r\n"},
		{"object encoding l", "$9\r\nquicklist\r\n"},
		{"rpush l d", ":4\r\n"},
		{"lrange l 0 -1", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"},
		{"lpop nokey", "$-1\r\n"},
		{"lpop nokey 0", "*-1\r\n"},
		{"lpop nokey 1", "*-1\r\n"},
		{"rpop nokey 1", "*-1\r\n"},
		{"lpop nokey -1", "-ERR value is out of range, must be positive\r\n"},
		{"lpop nokey abc", "-ERR value is out of range, must be positive\r\n"},
		{"lpop l 0", "*0\r\n"},
		{"lpop l -1", "-ERR value is out of range, must be positive\r\n"},
		{"lpop l 1 2", "-ERR wrong number of arguments for 'lpop' command\r\n"},
		{"rpop l 1 2", "-ERR wrong number of arguments for 'rpop' command\r\n"},
		{"lpop l", "$1\r\nc\r\n"},
		{"rpop l", "$1\r\nd\r\n"},
		{"rpush l x y z", ":5\r\n"},
		{"lpop l 2", "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{"rpop l 2", "*2\r\n$1\r\nz\r\n$1\r\ny\r\n"},
		{"rpop l 5", "*1\r\n$1\r\nx\r\n"},
		{"lrange l 0 -1", "*0\r\n"},
		{"llen l", ":0\r\n"},
		{"lpush l a", ":1\r\n"},
		{"lpop l 9223372036854775807", "*1\r\n$1\r\na\r\n"},
		{"set s x", "+OK\r\n"},
		{"lpop s", ltWrongType},
		{"lpop s 0", ltWrongType},
		{"rpop s 1", ltWrongType},
		{"lpop s -1", "-ERR value is out of range, must be positive\r\n"},
		{"lpush s a", ltWrongType},
		{"rpush s a", ltWrongType},
		{"lpushx nokey a", ":0\r\n"},
		{"rpushx nokey a", ":0\r\n"},
		{"lrange nokey 0 -1", "*0\r\n"},
		{"lpushx s a", ltWrongType},
		{"rpushx s a", ltWrongType},
		{"rpush l 1 2", ":2\r\n"},
		{"rpushx l 3 4", ":4\r\n"},
		{"lpushx l 0", ":5\r\n"},
		{"lrange l 0 -1", "*5\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
		{"llen nokey", ":0\r\n"},
		{"llen s", ltWrongType},
		{"llen l", ":5\r\n"},
		{"get l", ltWrongType},
	})
}

func TestListRangeIndexSet(t *testing.T) {
	abcde := "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
	ltRun(t, []ltStep{
		{"rpush l a b c d e", ":5\r\n"},
		{"set s x", "+OK\r\n"},
		{"lrange l 0 -1", abcde},
		{"lrange l -100 100", abcde},
		{"lrange l -9223372036854775808 9223372036854775807", abcde},
		{"lrange l -9223372036854775808 -9223372036854775808", "*0\r\n"},
		{"lrange l 2 1", "*0\r\n"},
		{"lrange l 5 10", "*0\r\n"},
		{"lrange l 1 1", "*1\r\n$1\r\nb\r\n"},
		{"lrange l -2 -1", "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"},
		{"lrange l -1 -2", "*0\r\n"},
		{"lrange l x 1", "-ERR value is not an integer or out of range\r\n"},
		{"lrange l 1 x", "-ERR value is not an integer or out of range\r\n"},
		{"lrange nokey x 1", "-ERR value is not an integer or out of range\r\n"},
		{"lrange nokey 0 1", "*0\r\n"},
		{"lrange s 0 1", ltWrongType},
		{"lrange s x 1", "-ERR value is not an integer or out of range\r\n"},
		{"lindex nokey x", "$-1\r\n"},
		{"lindex s x", ltWrongType},
		{"lindex l x", "-ERR value is not an integer or out of range\r\n"},
		{"lindex l 0", "$1\r\na\r\n"},
		{"lindex l -1", "$1\r\ne\r\n"},
		{"lindex l -5", "$1\r\na\r\n"},
		{"lindex l 5", "$-1\r\n"},
		{"lindex l -6", "$-1\r\n"},
		{"lindex l -9223372036854775808", "$-1\r\n"},
		{"lindex l 99999999999999999999", "-ERR value is not an integer or out of range\r\n"},
		{"lset nokey 0 x", "-ERR no such key\r\n"},
		{"lset nokey x x", "-ERR no such key\r\n"},
		{"lset s x x", ltWrongType},
		{"lset l x x", "-ERR value is not an integer or out of range\r\n"},
		{"lset l 5 x", "-ERR index out of range\r\n"},
		{"lset l -6 x", "-ERR index out of range\r\n"},
		{"lset l 9223372036854775807 x", "-ERR index out of range\r\n"},
		{"lset l -9223372036854775808 x", "-ERR index out of range\r\n"},
		{"lset l -1 E", "+OK\r\n"},
		{"lset l 0 A", "+OK\r\n"},
		{"lrange l 0 -1", "*5\r\n$1\r\nA\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nE\r\n"},
	})
}

func TestListRemTrimInsert(t *testing.T) {
	ltRun(t, []ltStep{
		{"set s x", "+OK\r\n"},
		{"lrem nokey x a", "-ERR value is not an integer or out of range\r\n"},
		{"lrem nokey 0 a", ":0\r\n"},
		{"lrem s 0 a", ltWrongType},
		{"lrem s x a", "-ERR value is not an integer or out of range\r\n"},
		{"rpush r a b a c a d a", ":7\r\n"},
		{"lrem r 0 zz", ":0\r\n"},
		{"lrem r -2 a", ":2\r\n"},
		{"lrange r 0 -1", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{"lrem r 1 a", ":1\r\n"},
		{"lrange r 0 -1", "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{"lrem r 0 a", ":1\r\n"},
		{"lrange r 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{"lrem r -9223372036854775808 zz", ":0\r\n"},
		{"lrem r 5 b", ":1\r\n"},
		{"lrem r 0 c", ":1\r\n"},
		{"lrem r -1 d", ":1\r\n"},
		{"llen r", ":0\r\n"},
		{"rpush r x x x", ":3\r\n"},
		{"lrem r -9223372036854775808 x", ":3\r\n"},
		{"llen r", ":0\r\n"},
		{"ltrim nokey x 1", "-ERR value is not an integer or out of range\r\n"},
		{"ltrim nokey 0 1", "+OK\r\n"},
		{"ltrim s 0 1", ltWrongType},
		{"ltrim s 0 x", "-ERR value is not an integer or out of range\r\n"},
		{"rpush l a b c d e", ":5\r\n"},
		{"ltrim l 1 -2", "+OK\r\n"},
		{"lrange l 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{"ltrim l -9223372036854775808 9223372036854775807", "+OK\r\n"},
		{"llen l", ":3\r\n"},
		{"ltrim l -1 100", "+OK\r\n"},
		{"lrange l 0 -1", "*1\r\n$1\r\nd\r\n"},
		{"ltrim l 5 1", "+OK\r\n"},
		{"llen l", ":0\r\n"},
		{"rpush l a b c a b c", ":6\r\n"},
		{"linsert nokey before a x", ":0\r\n"},
		{"linsert nokey middle a x", "-ERR syntax error\r\n"},
		{"linsert s middle a x", "-ERR syntax error\r\n"},
		{"linsert s before a x", ltWrongType},
		{"linsert l before zz x", ":-1\r\n"},
		{"linsert l BEFORE a x", ":7\r\n"},
		{"linsert l After c y", ":8\r\n"},
		{"linsert l after x z", ":9\r\n"},
		{"linsert l before c w", ":10\r\n"},
		{"lrange l 0 -1", "*10\r\n$1\r\nx\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nw\r\n$1\r\nc\r\n$1\r\ny\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
	})
}

func TestListPos(t *testing.T) {
	rankZero := "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
	ltRun(t, []ltStep{
		{"set s x", "+OK\r\n"},
		{"rpush l x a b c a b c", ":7\r\n"},
		{"lpos nokey a", "$-1\r\n"},
		{"lpos nokey a count 0", "*0\r\n"},
		{"lpos nokey a rank 0", rankZero},
		{"lpos nokey a count -1", "-ERR COUNT can't be negative\r\n"},
		{"lpos nokey a count x", "-ERR COUNT can't be negative\r\n"},
		{"lpos nokey a maxlen -1", "-ERR MAXLEN can't be negative\r\n"},
		{"lpos nokey a maxlen x", "-ERR MAXLEN can't be negative\r\n"},
		{"lpos nokey a rank x", "-ERR value is not an integer or out of range\r\n"},
		{"lpos nokey a rank -9223372036854775808", "$-1\r\n"},
		{"lpos nokey a foo", "-ERR syntax error\r\n"},
		{"lpos nokey a rank", "-ERR syntax error\r\n"},
		{"lpos s a", ltWrongType},
		{"lpos s a rank 0", rankZero},
		{"lpos l a", ":1\r\n"},
		{"lpos l a rank 2", ":4\r\n"},
		{"lpos l a RANK -1", ":4\r\n"},
		{"lpos l a rank -2", ":1\r\n"},
		{"lpos l a rank 3", "$-1\r\n"},
		{"lpos l a rank -9223372036854775808", ":4\r\n"},
		{"lpos l a rank -9223372036854775808 count 0", "*2\r\n:4\r\n:1\r\n"},
		{"lpos l a rank 9223372036854775807", "$-1\r\n"},
		{"lpos l a count 0", "*2\r\n:1\r\n:4\r\n"},
		{"lpos l a count 1", "*1\r\n:1\r\n"},
		{"lpos l a count 9223372036854775807", "*2\r\n:1\r\n:4\r\n"},
		{"lpos l a count 9223372036854775808", "-ERR COUNT can't be negative\r\n"},
		{"lpos l a count 0 rank -1", "*2\r\n:4\r\n:1\r\n"},
		{"lpos l a count 1 rank 2", "*1\r\n:4\r\n"},
		{"lpos l a rank 2 count 0", "*1\r\n:4\r\n"},
		{"lpos l a rank 3 count 0", "*0\r\n"},
		{"lpos l zz count 0", "*0\r\n"},
		{"lpos l zz", "$-1\r\n"},
		{"lpos l c maxlen 3", "$-1\r\n"},
		{"lpos l c maxlen 4", ":3\r\n"},
		{"lpos l c maxlen 0", ":3\r\n"},
		{"lpos l c MAXLEN 4 COUNT 0", "*1\r\n:3\r\n"},
		{"lpos l c rank -1 maxlen 1", ":6\r\n"},
		{"lpos l c rank -2 maxlen 3", "$-1\r\n"},
		{"lpos l c rank -1 maxlen 4 count 0", "*2\r\n:6\r\n:3\r\n"},
		{"lpos l c count 5 count 0", "*2\r\n:3\r\n:6\r\n"},
		{"lpos l c rank 1 rank -1", ":6\r\n"},
	})
}

func TestListMove(t *testing.T) {
	ltRun(t, []ltStep{
		{"set s x", "+OK\r\n"},
		{"rpush l a b c", ":3\r\n"},
		{"lmove nokey d left right", "$-1\r\n"},
		{"lmove nokey s left right", "$-1\r\n"},
		{"lmove nokey d up right", "-ERR syntax error\r\n"},
		{"lmove l d left up", "-ERR syntax error\r\n"},
		{"lmove s d left right", ltWrongType},
		{"lmove l s left right", ltWrongType},
		{"lrange l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"lmove l d LEFT RIGHT", "$1\r\na\r\n"},
		{"lmove l d right left", "$1\r\nc\r\n"},
		{"lrange d 0 -1", "*2\r\n$1\r\nc\r\n$1\r\na\r\n"},
		{"lrange l 0 -1", "*1\r\n$1\r\nb\r\n"},
		{"lmove l l left right", "$1\r\nb\r\n"},
		{"lrange l 0 -1", "*1\r\n$1\r\nb\r\n"},
		{"rpoplpush nokey d", "$-1\r\n"},
		{"rpoplpush l s", ltWrongType},
		{"rpoplpush s l", ltWrongType},
		{"rpoplpush l l", "$1\r\nb\r\n"},
		{"rpoplpush l d", "$1\r\nb\r\n"},
		{"llen l", ":0\r\n"},
		{"lrange d 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"},
		{"rpush r 1 2 3", ":3\r\n"},
		{"lmove r r right left", "$1\r\n3\r\n"},
		{"lrange r 0 -1", "*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n"},
	})
}

func TestListMPop(t *testing.T) {
	ltRun(t, []ltStep{
		{"set s x", "+OK\r\n"},
		{"rpush d a", ":1\r\n"},
		{"lmpop 1 d left", "*2\r\n$1\r\nd\r\n*1\r\n$1\r\na\r\n"},
		{"lmpop 0 d left", "-ERR numkeys should be greater than 0\r\n"},
		{"lmpop -1 d left", "-ERR numkeys should be greater than 0\r\n"},
		{"lmpop x d left", "-ERR numkeys should be greater than 0\r\n"},
		{"lmpop 1 d", "-ERR wrong number of arguments for 'lmpop' command\r\n"},
		{"lmpop 2 d left", "-ERR syntax error\r\n"},
		{"lmpop 1 d foo", "-ERR syntax error\r\n"},
		{"lmpop 1 d left count", "-ERR syntax error\r\n"},
		{"lmpop 1 d left count 0", "-ERR count should be greater than 0\r\n"},
		{"lmpop 1 d left count -1", "-ERR count should be greater than 0\r\n"},
		{"lmpop 1 d left count x", "-ERR count should be greater than 0\r\n"},
		{"lmpop 1 d left count 1 count 1", "-ERR syntax error\r\n"},
		{"lmpop 1 d left foo", "-ERR syntax error\r\n"},
		{"lmpop 9223372036854775807 d left", "-ERR syntax error\r\n"},
		{"lmpop 1 d left count 2", "*-1\r\n"},
		{"rpush a 1 2 3", ":3\r\n"},
		{"lmpop 2 d a right count 2", "*2\r\n$1\r\na\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"},
		{"lmpop 3 d s a left", ltWrongType},
		{"lmpop 3 d a s left", "*2\r\n$1\r\na\r\n*1\r\n$1\r\n1\r\n"},
		{"lmpop 2 d a left count 5", "*-1\r\n"},
		{"blmpop 0 0 k left", "-ERR numkeys should be greater than 0\r\n"},
		{"blmpop x 0 k left", "-ERR numkeys should be greater than 0\r\n"},
		{"blmpop x 1 k left", "-ERR timeout is not a float or out of range\r\n"},
		{"blmpop 0 1 k left count 0", "-ERR count should be greater than 0\r\n"},
		{"blmpop 0 1 k up", "-ERR syntax error\r\n"},
		{"blmpop 0 1 s left", ltWrongType},
		{"rpush k 1 2 3", ":3\r\n"},
		{"blmpop 0 2 s k left", ltWrongType},
		{"blmpop 0 2 k s right count 2", "*2\r\n$1\r\nk\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"},
	})
}

func TestListBlockingImmediate(t *testing.T) {
	ltRun(t, []ltStep{
		{"set s x", "+OK\r\n"},
		{"blpop nokey x", "-ERR timeout is not a float or out of range\r\n"},
		{"blpop nokey -1", "-ERR timeout is negative\r\n"},
		{"brpop nokey -1", "-ERR timeout is negative\r\n"},
		{"blpop nokey nan", "-ERR timeout is not a float or out of range\r\n"},
		{"blpop s 0", ltWrongType},
		{"blpop nokey s d 0", ltWrongType},
		{"rpush d a b c", ":3\r\n"},
		{"blpop d s 0", "*2\r\n$1\r\nd\r\n$1\r\na\r\n"},
		{"blpop nokey d 0", "*2\r\n$1\r\nd\r\n$1\r\nb\r\n"},
		{"brpop d 0", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"},
		{"llen d", ":0\r\n"},
		{"brpoplpush nokey d x", "-ERR timeout is not a float or out of range\r\n"},
		{"brpoplpush nokey d -1", "-ERR timeout is negative\r\n"},
		{"blmove nokey d foo right x", "-ERR syntax error\r\n"},
		{"blmove nokey d left foo x", "-ERR syntax error\r\n"},
		{"blmove nokey d left right x", "-ERR timeout is not a float or out of range\r\n"},
		{"blmove nokey d left right -1", "-ERR timeout is negative\r\n"},
		{"rpush d x y", ":2\r\n"},
		{"blmove d s left right 0", ltWrongType},
		{"blmove s d left right 0", ltWrongType},
		{"brpoplpush d s 0", ltWrongType},
		{"brpoplpush s d 0", ltWrongType},
		{"blmove d e right left 0", "$1\r\ny\r\n"},
		{"brpoplpush d e 0", "$1\r\nx\r\n"},
		{"lrange e 0 -1", "*2\r\n$1\r\nx\r\n$1\r\ny\r\n"},
		{"llen d", ":0\r\n"},
		// Inside EXEC nothing blocks: the timeout reply comes at once.
		{"multi", "+OK\r\n"},
		{"blpop nokey 0", "+QUEUED\r\n"},
		{"brpop nokey 0", "+QUEUED\r\n"},
		{"blmove nokey d left right 0", "+QUEUED\r\n"},
		{"brpoplpush nokey d 0", "+QUEUED\r\n"},
		{"blmpop 0 1 nokey left", "+QUEUED\r\n"},
		{"blpop nokey x", "+QUEUED\r\n"},
		{"exec", "*6\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n-ERR timeout is not a float or out of range\r\n"},
		{"multi", "+OK\r\n"},
		{"rpush l a b", "+QUEUED\r\n"},
		{"blmove l d left right 0", "+QUEUED\r\n"},
		{"brpoplpush l d 0", "+QUEUED\r\n"},
		{"blpop d 0", "+QUEUED\r\n"},
		{"exec", "*4\r\n:2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nd\r\n$1\r\nb\r\n"},
		{"lrange d 0 -1", "*1\r\n$1\r\na\r\n"},
	})
}

func TestListBlockedReleasedByPush(t *testing.T) {
	s := startTestServer(t, nil)
	a, b := ltDial(t, s), ltDial(t, s)
	a.sendLine("blpop k 0")
	ltWaitBlocked(t, s, "k", 1)
	a.noReply(20 * time.Millisecond)
	b.expect("rpush k v1 v2", ":2\r\n")
	if got, want := a.read(), "*2\r\n$1\r\nk\r\n$2\r\nv1\r\n"; got != want {
		t.Fatalf("blpop: got %q want %q", got, want)
	}
	b.expect("lrange k 0 -1", "*1\r\n$2\r\nv2\r\n")
	if n := ltBlocked(s, "k"); n != 0 {
		t.Fatalf("%d clients still blocked", n)
	}
	// The client goes on with its next command afterwards.
	a.expect("llen k", ":1\r\n")

	// BRPOP waiting on several keys is served from the one that got data.
	a.sendLine("brpop k1 k2 k3 0")
	ltWaitBlocked(t, s, "k3", 1)
	b.expect("lpush k2 x y", ":2\r\n")
	if got, want := a.read(), "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n"; got != want {
		t.Fatalf("brpop: got %q want %q", got, want)
	}
	for _, k := range []string{"k1", "k2", "k3"} {
		if n := ltBlocked(s, k); n != 0 {
			t.Fatalf("%d clients still blocked on %s", n, k)
		}
	}

	// A pipelined command after a blocking one waits for it.
	a.conn.Write(append(encodeCommand("blpop", "p", "0"), encodeCommand("llen", "p")...))
	ltWaitBlocked(t, s, "p", 1)
	a.noReply(20 * time.Millisecond)
	b.expect("rpush p 1 2", ":2\r\n")
	if got, want := a.read()+a.read(), "*2\r\n$1\r\np\r\n$1\r\n1\r\n:1\r\n"; got != want {
		t.Fatalf("pipeline: got %q want %q", got, want)
	}

	// BLMPOP served with a count; the key is deleted once empty.
	a.sendLine("blmpop 0 2 m1 m2 right count 2")
	ltWaitBlocked(t, s, "m2", 1)
	b.expect("rpush m2 1 2 3", ":3\r\n")
	if got, want := a.read(), "*2\r\n$2\r\nm2\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"; got != want {
		t.Fatalf("blmpop: got %q want %q", got, want)
	}
	a.sendLine("blmpop 0 1 m3 left count 5")
	ltWaitBlocked(t, s, "m3", 1)
	b.expect("rpush m3 1 2", ":2\r\n")
	if got, want := a.read(), "*2\r\n$2\r\nm3\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"; got != want {
		t.Fatalf("blmpop: got %q want %q", got, want)
	}
	b.expect("llen m3", ":0\r\n")
}

func TestListBlockedFIFO(t *testing.T) {
	s := startTestServer(t, nil)
	a, b, c := ltDial(t, s), ltDial(t, s), ltDial(t, s)
	a.sendLine("blpop k 0")
	ltWaitBlocked(t, s, "k", 1)
	b.sendLine("brpop k 0")
	ltWaitBlocked(t, s, "k", 2)

	// One element: the first client to block gets it, the other waits on.
	c.expect("rpush k one", ":1\r\n")
	if got, want := a.read(), "*2\r\n$1\r\nk\r\n$3\r\none\r\n"; got != want {
		t.Fatalf("first client: got %q want %q", got, want)
	}
	b.noReply(20 * time.Millisecond)
	ltWaitBlocked(t, s, "k", 1)
	c.expect("llen k", ":0\r\n")

	// Several elements serve several clients, in the order they blocked.
	a.sendLine("blpop k 0")
	ltWaitBlocked(t, s, "k", 2)
	c.expect("rpush k x y z", ":3\r\n")
	if got, want := b.read(), "*2\r\n$1\r\nk\r\n$1\r\nz\r\n"; got != want {
		t.Fatalf("second client: got %q want %q", got, want)
	}
	if got, want := a.read(), "*2\r\n$1\r\nk\r\n$1\r\nx\r\n"; got != want {
		t.Fatalf("third client: got %q want %q", got, want)
	}
	c.expect("lrange k 0 -1", "*1\r\n$1\r\ny\r\n")
}

func TestListBlockedTimeout(t *testing.T) {
	s := startTestServer(t, nil)
	a := ltDial(t, s)
	for _, cmd := range []string{
		"blpop k 0.1",
		"brpop k k2 0.1",
		"blmove k d left right 0.1",
		"brpoplpush k d 0.1",
		"blmpop 0.1 2 k k2 left count 3",
	} {
		start := time.Now()
		// Redis 7.0 answers a null array on timeout to every list command.
		a.expect(cmd, "*-1\r\n")
		if d := time.Since(start); d < 90*time.Millisecond || d > 3*time.Second {
			t.Errorf("%s: timed out after %v", cmd, d)
		}
		if n := ltBlocked(s, "k"); n != 0 {
			t.Errorf("%s: %d clients still blocked", cmd, n)
		}
	}
	a.expect("llen d", ":0\r\n")
}

func TestListBlockedMoveChain(t *testing.T) {
	s := startTestServer(t, nil)
	a, b, c, d := ltDial(t, s), ltDial(t, s), ltDial(t, s), ltDial(t, s)
	a.sendLine("blmove src mid left right 0")
	ltWaitBlocked(t, s, "src", 1)
	b.sendLine("brpoplpush mid dst 0")
	ltWaitBlocked(t, s, "mid", 1)
	c.sendLine("blpop dst 0")
	ltWaitBlocked(t, s, "dst", 1)

	d.expect("rpush src x y", ":2\r\n")
	if got, want := a.read(), "$1\r\nx\r\n"; got != want {
		t.Fatalf("blmove: got %q want %q", got, want)
	}
	if got, want := b.read(), "$1\r\nx\r\n"; got != want {
		t.Fatalf("brpoplpush: got %q want %q", got, want)
	}
	if got, want := c.read(), "*2\r\n$3\r\ndst\r\n$1\r\nx\r\n"; got != want {
		t.Fatalf("blpop: got %q want %q", got, want)
	}
	d.expect("lrange src 0 -1", "*1\r\n$1\r\ny\r\n")
	d.expect("llen mid", ":0\r\n")
	d.expect("llen dst", ":0\r\n")

	// A move onto the key it waits on.
	a.sendLine("blmove self self left right 0")
	ltWaitBlocked(t, s, "self", 1)
	d.expect("rpush self 1", ":1\r\n")
	if got, want := a.read(), "$1\r\n1\r\n"; got != want {
		t.Fatalf("blmove self: got %q want %q", got, want)
	}
	d.expect("lrange self 0 -1", "*1\r\n$1\r\n1\r\n")
}

func TestListBlockedMoveWrongTypeDest(t *testing.T) {
	s := startTestServer(t, nil)
	a, b, c := ltDial(t, s), ltDial(t, s), ltDial(t, s)
	c.expect("set dst x", "+OK\r\n")
	a.sendLine("blmove src dst left right 0")
	ltWaitBlocked(t, s, "src", 1)
	b.sendLine("blpop src 0")
	ltWaitBlocked(t, s, "src", 2)
	c.expect("rpush src v1 v2", ":2\r\n")
	// As Redis 7.0 does, the mover gets the error and the element stays
	// for the next client.
	if got := a.read(); got != ltWrongType {
		t.Fatalf("blmove: got %q", got)
	}
	if got, want := b.read(), "*2\r\n$3\r\nsrc\r\n$2\r\nv1\r\n"; got != want {
		t.Fatalf("blpop: got %q want %q", got, want)
	}
	c.expect("lrange src 0 -1", "*1\r\n$2\r\nv2\r\n")
	ltWaitBlocked(t, s, "src", 0)
}

func TestListBlockedDisconnect(t *testing.T) {
	s := startTestServer(t, nil)
	a, b := ltDial(t, s), ltDial(t, s)
	a.sendLine("blpop k 0")
	ltWaitBlocked(t, s, "k", 1)
	a.conn.Close()
	ltWaitBlocked(t, s, "k", 0)
	b.expect("rpush k v", ":1\r\n")
	b.expect("lrange k 0 -1", "*1\r\n$1\r\nv\r\n")

	// Same for a mover: nothing moves once it is gone.
	c := ltDial(t, s)
	c.sendLine("blmove src dst left left 0")
	ltWaitBlocked(t, s, "src", 1)
	c.conn.Close()
	ltWaitBlocked(t, s, "src", 0)
	b.expect("rpush src v", ":1\r\n")
	b.expect("llen src", ":1\r\n")
	b.expect("llen dst", ":0\r\n")
}

func TestListDirty(t *testing.T) {
	s := startTestServer(t, nil)
	a, b := ltDial(t, s), ltDial(t, s)
	dirty := func() int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.dirty
	}
	steps := []struct {
		cmd   string
		delta int64
	}{
		{"rpush l a b c d e f", 6},
		{"lpushx nokey a", 0},
		{"lpop l", 1},
		{"rpop l 2", 2},
		{"lpop l 0", 0},
		{"lset l 0 x", 1},
		{"lrem l 0 zz", 0},
		{"linsert l before zz y", 0},
		{"linsert l before x y", 1},
		{"lrem l 0 y", 1},
		{"ltrim l 0 -1", 0},
		{"ltrim l 1 1", 2},
		{"lmove l l left left", 1},
		{"lmpop 1 l left count 9", 1},
		{"lrange l 0 -1", 0},
	}
	for _, st := range steps {
		before := dirty()
		a.cmd(st.cmd)
		if got := dirty() - before; got != st.delta {
			t.Errorf("%s: dirty +%d, want +%d", st.cmd, got, st.delta)
		}
	}
	// Serving BLPOP is not counted (the push was); serving BLMPOP is, as in Redis 7.0.
	for _, st := range []struct {
		block string
		delta int64
	}{{"blpop k 0", 1}, {"blmove k d left left 0", 1}, {"blmpop 0 1 k left count 2", 3 + 2}} {
		b.sendLine(st.block)
		ltWaitBlocked(t, s, "k", 1)
		before := dirty()
		cmd := "rpush k 1"
		if st.delta > 1 {
			cmd = "rpush k 1 2 3"
		}
		a.cmd(cmd)
		b.read()
		if got := dirty() - before; got != st.delta {
			t.Errorf("%s served: dirty +%d, want +%d", st.block, got, st.delta)
		}
		a.cmd("ltrim k 1 0")
	}
}

// TestListType checks the deque against a plain slice under random
// operations.
func TestListType(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		l := newList()
		var ref []string
		for op := 0; op < 400; op++ {
			v := strconv.Itoa(rng.IntN(8))
			if rng.IntN(3) == 0 {
				v += strings.Repeat("x", rng.IntN(20))
			}
			switch k := rng.IntN(12); {
			case k < 3:
				l.PushBack(v)
				ref = append(ref, v)
			case k < 6:
				l.PushFront(v)
				ref = slices.Insert(ref, 0, v)
			case k == 6 && len(ref) > 0:
				if got := l.PopFront(); got != ref[0] {
					t.Fatalf("PopFront %q want %q", got, ref[0])
				}
				ref = ref[1:]
			case k == 7 && len(ref) > 0:
				if got := l.PopBack(); got != ref[len(ref)-1] {
					t.Fatalf("PopBack %q want %q", got, ref[len(ref)-1])
				}
				ref = ref[:len(ref)-1]
			case k == 8:
				i := rng.IntN(len(ref) + 1)
				l.Insert(i, v)
				ref = slices.Insert(ref, i, v)
			case k == 9:
				limit := int64(rng.IntN(3))
				fromTail := rng.IntN(2) == 0
				got := l.RemoveEqual(v, limit, fromTail)
				want := ltRemoveRef(&ref, v, limit, fromTail)
				if got != want {
					t.Fatalf("RemoveEqual %d want %d", got, want)
				}
			case k == 10 && len(ref) > 0:
				f := rng.IntN(len(ref) + 1)
				b := rng.IntN(len(ref) - f + 1)
				if rng.IntN(4) != 0 {
					f, b = min(f, 1), min(b, 1)
				}
				l.Trim(f, b)
				ref = ref[f : len(ref)-b]
			case k == 11 && len(ref) > 0:
				i := rng.IntN(len(ref))
				l.SetAt(i, v)
				ref[i] = v
			}
			ltCheckList(t, l, ref)
		}
		c := l.Clone()
		ltCheckList(t, c, ref)
		if len(ref) > 0 {
			c.PopFront()
			ltCheckList(t, l, ref)
		}
	}
	if e := newList().Encoding(); e != "quicklist" {
		t.Fatalf("encoding %q", e)
	}
}

func ltRemoveRef(ref *[]string, v string, limit int64, fromTail bool) int64 {
	s := *ref
	var removed int64
	if fromTail {
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == v && (limit == 0 || removed < limit) {
				s = slices.Delete(s, i, i+1)
				removed++
			}
		}
	} else {
		for i := 0; i < len(s); {
			if s[i] == v && (limit == 0 || removed < limit) {
				s = slices.Delete(s, i, i+1)
				removed++
				continue
			}
			i++
		}
	}
	*ref = s
	return removed
}

func ltCheckList(t *testing.T, l *List, ref []string) {
	t.Helper()
	if l.Len() != len(ref) {
		t.Fatalf("Len %d want %d", l.Len(), len(ref))
	}
	var got []string
	l.Each(func(e string) bool { got = append(got, e); return true })
	if !slices.Equal(got, ref) && !(len(got) == 0 && len(ref) == 0) {
		t.Fatalf("elements %q want %q", got, ref)
	}
	bytes := 0
	for i, e := range ref {
		bytes += len(e)
		if l.At(i) != e {
			t.Fatalf("At(%d) %q want %q", i, l.At(i), e)
		}
	}
	if l.bytes != bytes {
		t.Fatalf("bytes %d want %d", l.bytes, bytes)
	}
	for i, e := range l.buf {
		if (i < l.lo || i >= l.hi) && e != "" {
			t.Fatalf("stale slot %d = %q (lo %d hi %d)", i, e, l.lo, l.hi)
		}
	}
	if l.MemUsage() <= 0 {
		t.Fatal("MemUsage")
	}
}

func BenchmarkListPushPop(b *testing.B) {
	l := newList()
	for i := 0; i < b.N; i++ {
		l.PushBack("element")
		if l.Len() > 1000 {
			l.PopFront()
		}
	}
}

// Clients blocked on a key are served after a transaction as a whole, as
// in Redis: data pushed and popped again inside EXEC never reaches them.
func TestListBlockedServedAfterExec(t *testing.T) {
	s := startTestServer(t, nil)
	a, b := ltDial(t, s), ltDial(t, s)
	b.sendLine("blpop k 0")
	ltWaitBlocked(t, s, "k", 1)
	a.expect("multi", "+OK\r\n")
	a.expect("rpush k a", "+QUEUED\r\n")
	a.expect("lpop k", "+QUEUED\r\n")
	a.expect("exec", "*2\r\n:1\r\n$1\r\na\r\n")
	b.noReply(20 * time.Millisecond)
	a.expect("multi", "+OK\r\n")
	a.expect("rpush k x y", "+QUEUED\r\n")
	a.expect("lpop k", "+QUEUED\r\n")
	a.expect("exec", "*2\r\n:2\r\n$1\r\nx\r\n")
	if got, want := b.read(), "*2\r\n$1\r\nk\r\n$1\r\ny\r\n"; got != want {
		t.Fatalf("blpop: got %q want %q", got, want)
	}
}

// A reply made for a blocked client while its earlier pipelined replies are
// being written must not be lost.
func TestListBlockedPipelinedReply(t *testing.T) {
	s := startTestServer(t, nil)
	a, b := ltDial(t, s), ltDial(t, s)
	pipeline := append(encodeCommand("rpush", "x", "1"), encodeCommand("blpop", "k", "0")...)
	for i := 0; i < 2000; i++ {
		a.conn.Write(pipeline)
		b.expect("rpush k v", ":1\r\n")
		if got, want := a.readWithin(2*time.Second), ":"+strconv.Itoa(i+1)+"\r\n"; got != want {
			t.Fatalf("round %d: rpush got %q want %q", i, got, want)
		}
		if got, want := a.readWithin(2*time.Second), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n"; got != want {
			t.Fatalf("round %d: blpop got %q want %q", i, got, want)
		}
	}
}
