package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisClient uses go-redis v9 with its defaults: it opens each
// connection with HELLO 3 and CLIENT SETINFO, and must fall back to RESP2
// and work unchanged.
func TestGoRedisClient(t *testing.T) {
	srv := startLagwise(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr})
	defer rdb.Close()

	if err := rdb.Set(ctx, "gr:k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "gr:k").Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if ttl, err := rdb.TTL(ctx, "gr:k").Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL = %v, %v", ttl, err)
	}
	if _, err := rdb.Get(ctx, "gr:missing").Result(); err != redis.Nil {
		t.Fatalf("missing key: %v", err)
	}
	if err := rdb.HSet(ctx, "gr:h", "a", 1, "b", 2).Err(); err != nil {
		t.Fatal(err)
	}
	if m, err := rdb.HGetAll(ctx, "gr:h").Result(); err != nil || m["a"] != "1" || m["b"] != "2" {
		t.Fatalf("HGETALL = %v, %v", m, err)
	}
	if err := rdb.ZAdd(ctx, "gr:z", redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 1, Member: "a"}).Err(); err != nil {
		t.Fatal(err)
	}
	if zs, err := rdb.ZRangeWithScores(ctx, "gr:z", 0, -1).Result(); err != nil || len(zs) != 2 || zs[0].Member != "a" || zs[1].Score != 2 {
		t.Fatalf("ZRANGE = %v, %v", zs, err)
	}

	// A pipeline of 1,000 mixed commands comes back in order.
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < 500; i++ {
			p.Set(ctx, fmt.Sprintf("gr:p:%d", i), i, 0)
			p.Get(ctx, fmt.Sprintf("gr:p:%d", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if v := cmds[2*i+1].(*redis.StringCmd).Val(); v != fmt.Sprint(i) {
			t.Fatalf("pipelined GET %d = %q", i, v)
		}
	}

	// MULTI/EXEC with WATCH.
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Get(ctx, "gr:p:1").Int()
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "gr:p:1", n+1, 0)
			return nil
		})
		return err
	}, "gr:p:1")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.Get(ctx, "gr:p:1").Result(); v != "2" {
		t.Fatalf("after WATCH/MULTI: %q", v)
	}

	// BLPOP released by another client's push.
	done := make(chan []string, 1)
	go func() {
		v, _ := rdb.BLPop(ctx, 5*time.Second, "gr:q").Result()
		done <- v
	}()
	time.Sleep(100 * time.Millisecond)
	rdb.RPush(ctx, "gr:q", "x")
	if v := <-done; len(v) != 2 || v[1] != "x" {
		t.Fatalf("BLPOP = %v", v)
	}

	// Pub/sub.
	sub := rdb.Subscribe(ctx, "gr:chan")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Publish(ctx, "gr:chan", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("message = %v, %v", msg, err)
	}
}

// TestRedisPyClient drives lagwise with redis-py (Debian's python3-redis),
// as a Python application would.
func TestRedisPyClient(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		if inCI() {
			t.Fatalf("redis-py is not installed (apt-get install python3-redis): %v", err)
		}
		t.Skip("redis-py is not installed (apt-get install python3-redis)")
	}
	srv := startLagwise(t)
	host, port, _ := strings.Cut(srv.addr, ":")
	script := `
import redis, sys
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), decode_responses=True)
assert r.ping()
r.set("py:k", "v", ex=100)
assert r.get("py:k") == "v"
assert r.incr("py:n") == 1
r.rpush("py:l", "a", "b", "c")
assert r.lrange("py:l", 0, -1) == ["a", "b", "c"]
r.sadd("py:s", "x", "y")
assert r.smembers("py:s") == {"x", "y"}
r.zadd("py:z", {"a": 1.5})
assert r.zscore("py:z", "a") == 1.5
p = r.pipeline(transaction=True)
p.set("py:t", 1).incr("py:t")
assert p.execute() == [True, 2]
try:
    r.lpush("py:k", "x")
    raise SystemExit("WRONGTYPE expected")
except redis.ResponseError as e:
    assert str(e).startswith("WRONGTYPE"), e
print("ok")
`
	out, err := exec.Command(py, "-c", script, host, port).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("redis-py: %v\n%s", err, out)
	}
}

// TestRedisBenchmarkSuite runs redis-benchmark's default suite against
// lagwise: every test must run without an error reply.
func TestRedisBenchmarkSuite(t *testing.T) {
	bench, err := exec.LookPath("redis-benchmark")
	if err != nil {
		if inCI() {
			t.Fatalf("redis-benchmark not found (apt-get install redis-tools): %v", err)
		}
		t.Skip("redis-benchmark not found")
	}
	srv := startLagwise(t)
	host, port, _ := strings.Cut(srv.addr, ":")
	out, err := exec.Command(bench, "-h", host, "-p", port, "-q", "-n", "2000").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	lines := 0
	for _, l := range strings.Split(string(out), "\r") {
		for _, line := range strings.Split(l, "\n") {
			if strings.Contains(line, "requests per second") {
				lines++
			}
			if strings.Contains(line, "ERR") || strings.Contains(strings.ToLower(line), "error") {
				t.Errorf("error line: %q", line)
			}
		}
	}
	if lines < 15 {
		t.Fatalf("only %d tests ran:\n%s", lines, out)
	}
}
