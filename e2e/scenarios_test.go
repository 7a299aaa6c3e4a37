package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// silenceWindow is how long a blocked or idle connection must stay silent.
// It also gives a server time to register a blocking command before
// another connection acts on the key.
const silenceWindow = 100 * time.Millisecond

// A scenario is a differential test that needs several connections per
// server: pub/sub, blocking commands released by other clients, WATCH.
// Every step runs on the reference Redis and then on the server under
// test, and what each step reads is compared byte for byte.
type scenario struct {
	name  string
	conns int
	steps []step
}

// step is one action on one connection of a scenario.
type step struct {
	conn      int    // connection index
	cmd       string // command to send, in redis-cli syntax; "" sends nothing
	read      int    // replies to read after sending
	sortEach  bool   // sort each reply's top-level array (@sort)
	unordered bool   // the replies read may come in any order
	silent    bool   // expect no reply within silenceWindow
}

// do sends cmd on conn and reads one reply.
func do(conn int, cmd string) step { return step{conn: conn, cmd: cmd, read: 1} }

// doN sends cmd on conn and reads n replies.
func doN(conn int, cmd string, n int) step { return step{conn: conn, cmd: cmd, read: n} }

// doSorted is do with the reply's array sorted.
func doSorted(conn int, cmd string) step { return step{conn: conn, cmd: cmd, read: 1, sortEach: true} }

// doUnordered sends cmd on conn and reads n replies that may come in any order.
func doUnordered(conn int, cmd string, n int) step {
	return step{conn: conn, cmd: cmd, read: n, unordered: true}
}

// block sends cmd on conn and checks that it blocks.
func block(conn int, cmd string) step { return step{conn: conn, cmd: cmd, silent: true} }

// recv reads n replies (pushed messages or released blocking commands) on conn.
func recv(conn, n int) step { return step{conn: conn, read: n} }

// quiet checks that nothing arrives on conn.
func quiet(conn int) step { return step{conn: conn, silent: true} }

// run performs the step on one server's connections and returns what it
// read, ready for comparison.
func (st step) run(conns []*client) (string, error) {
	c := conns[st.conn]
	if st.cmd != "" {
		args, err := splitArgs(st.cmd)
		if err != nil {
			return "", err
		}
		if err := c.send(args); err != nil {
			return "", err
		}
	}
	if st.silent {
		if err := c.expectSilence(silenceWindow); err != nil {
			r, rerr := c.read()
			if rerr != nil {
				return "", rerr
			}
			return "(unexpected reply) " + r.String(), nil
		}
		return "(no reply)", nil
	}
	replies := make([]string, st.read)
	for i := range replies {
		r, err := c.read()
		if err != nil {
			return "", err
		}
		if st.sortEach {
			r = sorted(r)
		}
		replies[i] = r.String()
	}
	if st.unordered {
		sort.Strings(replies)
	}
	return strings.Join(replies, " "), nil
}

func (st step) String() string {
	switch {
	case st.cmd != "":
		return fmt.Sprintf("conn %d: %s", st.conn, st.cmd)
	case st.silent:
		return fmt.Sprintf("conn %d: (expect silence)", st.conn)
	default:
		return fmt.Sprintf("conn %d: (read %d)", st.conn, st.read)
	}
}

var scenarios = []scenario{
	{name: "pubsub", conns: 3, steps: []step{
		do(1, "PUBSUB NUMPAT"),
		doN(0, "SUBSCRIBE news.art news.music", 2),
		doN(0, "PSUBSCRIBE news.* sport.?", 2),
		do(1, "PUBLISH news.art hello"),
		recv(0, 2),
		do(1, `PUBLISH sport.x "\x00bin\xff"`),
		recv(0, 1),
		do(1, "PUBLISH nobody x"),
		quiet(0),
		doSorted(1, "PUBSUB CHANNELS"),
		doSorted(1, "PUBSUB CHANNELS news.*"),
		do(1, "PUBSUB CHANNELS nomatch*"),
		do(1, "PUBSUB NUMSUB news.art news.music none"),
		do(1, "PUBSUB NUMSUB"),
		do(1, "PUBSUB NUMPAT"),
		doN(2, "SUBSCRIBE news.art", 1),
		do(1, "PUBLISH news.art again"),
		recv(0, 2),
		recv(2, 1),
		do(0, "PING"),
		do(0, "PING hi"),
		do(0, "GET x"),
		do(0, "UNSUBSCRIBE news.music"),
		doUnordered(0, "UNSUBSCRIBE", 1),
		do(0, "PUNSUBSCRIBE sport.?"),
		doUnordered(0, "PUNSUBSCRIBE", 1),
		do(0, "PING"),
		do(0, "UNSUBSCRIBE"),
		do(0, "PUNSUBSCRIBE"),
		do(1, "PUBSUB NUMSUB news.art"),
		do(2, "RESET"),
		do(2, "PING"),
		do(1, "PUBSUB NUMSUB news.art"),
		do(1, "PUBSUB NUMPAT"),
		do(0, "SUBSCRIBE"),
		do(0, "QUIT"),
		do(1, "PUBSUB NUMSUB news.art"),
	}},
	{name: "blocking", conns: 3, steps: []step{
		block(0, "BLPOP bl 0"),
		do(1, "RPUSH bl a b"),
		recv(0, 1),
		do(1, "LRANGE bl 0 -1"),
		block(0, "BRPOP none1 none2 0"),
		block(2, "BRPOP none2 0"),
		do(1, "LPUSH none2 x y"),
		recv(0, 1),
		recv(2, 1),
		do(1, "EXISTS none2"),
		block(0, "BLMOVE src dst LEFT RIGHT 0"),
		do(1, "RPUSH src v"),
		recv(0, 1),
		do(1, "LRANGE dst 0 -1"),
		block(0, "BRPOPLPUSH src2 dst 0"),
		do(1, "LPUSH src2 w"),
		recv(0, 1),
		do(1, "LRANGE dst 0 -1"),
		block(0, "BZPOPMIN zb 0"),
		do(1, "ZADD zb 2 b 1 a"),
		recv(0, 1),
		block(0, "BZPOPMAX zb2 0"),
		do(1, "ZADD zb2 1 a 2 b"),
		recv(0, 1),
		block(0, "BLMPOP 0 2 l1 l2 RIGHT COUNT 2"),
		do(1, "RPUSH l2 1 2 3"),
		recv(0, 1),
		block(0, "BZMPOP 0 1 zm MAX COUNT 5"),
		do(1, "ZADD zm 1 a 2 b"),
		recv(0, 1),
		block(0, "BLPOP tx 0"),
		do(1, "MULTI"),
		do(1, "RPUSH tx a"),
		do(1, "RPUSH tx b"),
		do(1, "EXEC"),
		recv(0, 1),
		do(1, "LRANGE tx 0 -1"),
		block(0, "BLPOP wt 0"),
		do(1, "SET wt x"),
		quiet(0),
		do(1, "DEL wt"),
		do(1, "RPUSH wt v"),
		recv(0, 1),
		block(0, "BLPOP late 0.5"),
		recv(0, 1),
		do(0, "PING"),
		do(1, "DEBUG DIGEST"),
	}},
	{name: "watch", conns: 2, steps: []step{
		do(0, "WATCH w"),
		do(1, "SET w changed"),
		do(0, "MULTI"),
		do(0, "GET w"),
		do(0, "EXEC"),
		do(0, "WATCH w"),
		do(1, "GET w"),
		do(0, "MULTI"),
		do(0, "INCR n"),
		do(0, "EXEC"),
		do(0, "WATCH w"),
		do(1, "EXPIRE w 1000"),
		do(0, "MULTI"),
		do(0, "PING"),
		do(0, "EXEC"),
		do(0, "WATCH nokey"),
		do(1, "SET nokey 1"),
		do(0, "MULTI"),
		do(0, "EXEC"),
		do(0, "WATCH a b"),
		do(0, "UNWATCH"),
		do(1, "SET a 1"),
		do(0, "MULTI"),
		do(0, "GET a"),
		do(0, "EXEC"),
		do(0, "WATCH a"),
		do(1, "SELECT 1"),
		do(1, "SET a other-db"),
		do(0, "MULTI"),
		do(0, "GET a"),
		do(0, "EXEC"),
		do(1, "SELECT 0"),
		do(0, "WATCH a"),
		do(1, "DEL a"),
		do(0, "MULTI"),
		do(0, "EXEC"),
		do(1, "MULTI"),
		do(0, "SET shared 1"),
		do(1, "GET shared"),
		do(0, "SET shared 2"),
		do(1, "EXEC"),
		do(0, "WATCH w"),
		do(1, "FLUSHALL"),
		do(0, "MULTI"),
		do(0, "EXEC"),
		do(1, "DEBUG DIGEST"),
	}},
}

// TestDifferentialScenarios runs the multi-connection scenarios against a
// real Redis and against lagwise and compares what every step reads.
func TestDifferentialScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref, tgt := startPair(t)
			rconns, tconns := make([]*client, sc.conns), make([]*client, sc.conns)
			for i := range rconns {
				rconns[i], tconns[i] = ref.connect(t), tgt.connect(t)
			}
			var mismatches []string
			for i, st := range sc.steps {
				a, errA := st.run(rconns)
				b, errB := st.run(tconns)
				if errA != nil || errB != nil {
					mismatches = append(mismatches, fmt.Sprintf("step %d (%s):\n\t%s: %v\n\t%s: %v",
						i+1, st, ref.name, orOK(errA), tgt.name, orOK(errB)))
					t.Fatalf("%s: stopped at an I/O error:\n\n%s", sc.name, strings.Join(mismatches, "\n\n"))
				}
				if a != b {
					mismatches = append(mismatches, fmt.Sprintf("step %d (%s):\n\t%s: %s\n\t%s: %s",
						i+1, st, ref.name, a, tgt.name, b))
				}
			}
			if len(mismatches) > 0 {
				t.Errorf("%s: %d mismatches:\n\n%s", sc.name, len(mismatches), strings.Join(mismatches, "\n\n"))
			}
		})
	}
}
