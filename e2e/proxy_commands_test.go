package e2e

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestProxyCommands drives the proxy with go-redis v9 (default options) and
// raw RESP: every type's CRUD and expiry, a 1,000-command pipeline,
// MULTI/EXEC, a WATCH conflict, BLPOP, pub/sub, SELECT, errors for unknown
// commands, refused commands, the commands the proxy answers itself and
// its LAGWISE family. Backends: a master and two replicas.
func TestProxyCommands(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		rdb := goRedis(t, p.addr)
		ctx := testCtx(t, 2*time.Minute)
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Fatalf("go-redis PING through the proxy: %v", err)
		}

		t.Run("strings", func(t *testing.T) {
			conn := rdb.Conn() // one connection: one proxy session
			defer conn.Close()
			check(t, "SET", conn.Set(ctx, "s:a", "hello", 0).Err())
			eqStr(t, "GET", conn.Get(ctx, "s:a"), "hello")
			eqInt(t, "APPEND", conn.Append(ctx, "s:a", " world"), 11)
			eqStr(t, "GETRANGE", conn.GetRange(ctx, "s:a", 0, 4), "hello")
			eqInt(t, "STRLEN", conn.StrLen(ctx, "s:a"), 11)
			eqInt(t, "INCR", conn.Incr(ctx, "s:n"), 1)
			eqInt(t, "INCRBY", conn.IncrBy(ctx, "s:n", 41), 42)
			eqInt(t, "DECRBY", conn.DecrBy(ctx, "s:n", 2), 40)
			check(t, "MSET", conn.MSet(ctx, "s:m1", "1", "s:m2", "2").Err())
			if v, err := conn.MGet(ctx, "s:m1", "s:m2", "s:missing").Result(); err != nil ||
				len(v) != 3 || v[0] != "1" || v[1] != "2" || v[2] != nil {
				t.Errorf("MGET = %v, %v; want [1 2 <nil>]", v, err)
			}
			if ok, err := conn.SetNX(ctx, "s:m1", "x", 0).Result(); err != nil || ok {
				t.Errorf("SETNX on an existing key = %v, %v; want false", ok, err)
			}
			eqStr(t, "GETSET", conn.GetSet(ctx, "s:m1", "one"), "1")
			eqStr(t, "GET after GETSET", conn.Get(ctx, "s:m1"), "one")
			eqInt(t, "DEL", conn.Del(ctx, "s:a", "s:missing"), 1)
			eqInt(t, "EXISTS", conn.Exists(ctx, "s:a", "s:n"), 1)
			if err := conn.Get(ctx, "s:a").Err(); err != redis.Nil {
				t.Errorf("GET of a deleted key: %v, want redis.Nil", err)
			}
			if err := conn.LPush(ctx, "s:n", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Errorf("LPUSH on a string: %v, want WRONGTYPE", err)
			}
		})

		t.Run("lists", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			eqInt(t, "RPUSH", conn.RPush(ctx, "l:a", "a", "b", "c"), 3)
			eqInt(t, "LPUSH", conn.LPush(ctx, "l:a", "z"), 4)
			eqStrs(t, "LRANGE", conn.LRange(ctx, "l:a", 0, -1), "z", "a", "b", "c")
			eqStr(t, "LINDEX", conn.LIndex(ctx, "l:a", 1), "a")
			eqInt(t, "LLEN", conn.LLen(ctx, "l:a"), 4)
			eqStr(t, "LPOP", conn.LPop(ctx, "l:a"), "z")
			eqStr(t, "RPOP", conn.RPop(ctx, "l:a"), "c")
			check(t, "LSET", conn.LSet(ctx, "l:a", 0, "A").Err())
			eqInt(t, "RPUSH", conn.RPush(ctx, "l:a", "b", "b"), 4)
			eqInt(t, "LREM", conn.LRem(ctx, "l:a", 0, "b"), 3)
			eqStrs(t, "LRANGE after LREM", conn.LRange(ctx, "l:a", 0, -1), "A")
			eqInt(t, "DEL", conn.Del(ctx, "l:a"), 1)
			eqInt(t, "LLEN of a deleted list", conn.LLen(ctx, "l:a"), 0)
		})

		t.Run("hashes", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			eqInt(t, "HSET", conn.HSet(ctx, "h:a", "f1", "v1", "f2", "v2"), 2)
			eqStr(t, "HGET", conn.HGet(ctx, "h:a", "f2"), "v2")
			eqInt(t, "HINCRBY", conn.HIncrBy(ctx, "h:a", "n", 5), 5)
			if m, err := conn.HGetAll(ctx, "h:a").Result(); err != nil || len(m) != 3 || m["f1"] != "v1" || m["f2"] != "v2" || m["n"] != "5" {
				t.Errorf("HGETALL = %v, %v", m, err)
			}
			eqInt(t, "HLEN", conn.HLen(ctx, "h:a"), 3)
			eqInt(t, "HDEL", conn.HDel(ctx, "h:a", "f1", "nope"), 1)
			if ok, err := conn.HExists(ctx, "h:a", "f1").Result(); err != nil || ok {
				t.Errorf("HEXISTS of a deleted field = %v, %v", ok, err)
			}
			keys, err := conn.HKeys(ctx, "h:a").Result()
			slices.Sort(keys)
			if err != nil || !slices.Equal(keys, []string{"f2", "n"}) {
				t.Errorf("HKEYS = %v, %v; want [f2 n]", keys, err)
			}
		})

		t.Run("sets", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			eqInt(t, "SADD", conn.SAdd(ctx, "set:a", "x", "y", "z", "x"), 3)
			eqInt(t, "SADD", conn.SAdd(ctx, "set:b", "y", "z", "w"), 3)
			eqInt(t, "SCARD", conn.SCard(ctx, "set:a"), 3)
			if ok, err := conn.SIsMember(ctx, "set:a", "y").Result(); err != nil || !ok {
				t.Errorf("SISMEMBER = %v, %v", ok, err)
			}
			inter, err := conn.SInter(ctx, "set:a", "set:b").Result()
			slices.Sort(inter)
			if err != nil || !slices.Equal(inter, []string{"y", "z"}) {
				t.Errorf("SINTER = %v, %v; want [y z]", inter, err)
			}
			eqInt(t, "SREM", conn.SRem(ctx, "set:a", "y", "nope"), 1)
			members, err := conn.SMembers(ctx, "set:a").Result()
			slices.Sort(members)
			if err != nil || !slices.Equal(members, []string{"x", "z"}) {
				t.Errorf("SMEMBERS = %v, %v; want [x z]", members, err)
			}
		})

		t.Run("zsets", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			eqInt(t, "ZADD", conn.ZAdd(ctx, "z:a", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3.5, Member: "c"}), 3)
			zs, err := conn.ZRangeWithScores(ctx, "z:a", 0, -1).Result()
			if err != nil || len(zs) != 3 || zs[0].Member != "a" || zs[2].Member != "c" || zs[2].Score != 3.5 {
				t.Errorf("ZRANGE WITHSCORES = %v, %v", zs, err)
			}
			if s, err := conn.ZScore(ctx, "z:a", "b").Result(); err != nil || s != 2 {
				t.Errorf("ZSCORE = %v, %v; want 2", s, err)
			}
			if s, err := conn.ZIncrBy(ctx, "z:a", 5, "a").Result(); err != nil || s != 6 {
				t.Errorf("ZINCRBY = %v, %v; want 6", s, err)
			}
			eqInt(t, "ZRANK", conn.ZRank(ctx, "z:a", "a"), 2)
			eqStrs(t, "ZREVRANGE", conn.ZRevRange(ctx, "z:a", 0, -1), "a", "c", "b")
			eqStrs(t, "ZRANGEBYSCORE", conn.ZRangeByScore(ctx, "z:a", &redis.ZRangeBy{Min: "2", Max: "(6"}), "b", "c")
			eqInt(t, "ZREM", conn.ZRem(ctx, "z:a", "c"), 1)
			eqInt(t, "ZCARD", conn.ZCard(ctx, "z:a"), 2)
		})

		t.Run("expiry", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			check(t, "SET EX", conn.Set(ctx, "e:a", "v", 100*time.Second).Err())
			if ttl, err := conn.TTL(ctx, "e:a").Result(); err != nil || ttl <= 90*time.Second || ttl > 100*time.Second {
				t.Errorf("TTL = %v, %v; want (90s, 100s]", ttl, err)
			}
			if ok, err := conn.Persist(ctx, "e:a").Result(); err != nil || !ok {
				t.Errorf("PERSIST = %v, %v", ok, err)
			}
			if ttl, err := conn.TTL(ctx, "e:a").Result(); err != nil || ttl != -1 {
				t.Errorf("TTL after PERSIST = %v, %v; want -1", ttl, err)
			}
			if ttl, err := conn.TTL(ctx, "e:missing").Result(); err != nil || ttl != -2 {
				t.Errorf("TTL of a missing key = %v, %v; want -2", ttl, err)
			}
			check(t, "SET PX", conn.Set(ctx, "e:b", "v", 200*time.Millisecond).Err())
			if ok, err := conn.PExpire(ctx, "e:a", 300*time.Millisecond).Result(); err != nil || !ok {
				t.Errorf("PEXPIRE = %v, %v", ok, err)
			}
			eqStr(t, "GET before expiry", conn.Get(ctx, "e:a"), "v")
			time.Sleep(600 * time.Millisecond)
			// Replicas do not expire keys themselves, but a read of a key
			// past its time finds nothing there either.
			for i := 0; i < 20; i++ {
				for _, k := range []string{"e:a", "e:b"} {
					if v, err := conn.Get(ctx, k).Result(); err != redis.Nil {
						t.Fatalf("GET %s after its expiry (read %d) = %q, %v; want nil", k, i, v, err)
					}
				}
			}
			eqInt(t, "EXISTS after expiry", conn.Exists(ctx, "e:a", "e:b"), 0)
		})

		t.Run("pipeline", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			// 200 rounds of SET k, GET k, INCR ctr, RPUSH list, GET of an
			// earlier key: 1,000 commands in one pipeline.
			cmds, err := conn.Pipelined(ctx, func(pl redis.Pipeliner) error {
				for i := 0; i < 200; i++ {
					pl.Set(ctx, fmt.Sprintf("pl:%d", i), fmt.Sprintf("v%d", i), 0)
					pl.Get(ctx, fmt.Sprintf("pl:%d", i))
					pl.Incr(ctx, "pl:ctr")
					pl.RPush(ctx, "pl:list", i)
					pl.Get(ctx, fmt.Sprintf("pl:%d", i/2))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			if len(cmds) != 1000 {
				t.Fatalf("pipeline: %d replies, want 1000", len(cmds))
			}
			bad := 0
			for i := 0; i < 200 && bad < 5; i++ {
				got := []string{
					fmt.Sprint(cmds[5*i].(*redis.StatusCmd).Val()),
					cmds[5*i+1].(*redis.StringCmd).Val(),
					fmt.Sprint(cmds[5*i+2].(*redis.IntCmd).Val()),
					fmt.Sprint(cmds[5*i+3].(*redis.IntCmd).Val()),
					cmds[5*i+4].(*redis.StringCmd).Val(),
				}
				want := []string{"OK", fmt.Sprintf("v%d", i), fmt.Sprint(i + 1), fmt.Sprint(i + 1), fmt.Sprintf("v%d", i/2)}
				if !slices.Equal(got, want) {
					t.Errorf("pipeline round %d: replies %q, want %q", i, got, want)
					bad++
				}
			}
			// A read-only pipeline of 1,000 GETs, which the replicas may serve.
			cmds, err = conn.Pipelined(ctx, func(pl redis.Pipeliner) error {
				for i := 0; i < 1000; i++ {
					pl.Get(ctx, fmt.Sprintf("pl:%d", i%250))
				}
				return nil
			})
			if err != nil && err != redis.Nil {
				t.Fatalf("read pipeline: %v", err)
			}
			bad = 0
			for i, cmd := range cmds {
				v, err := cmd.(*redis.StringCmd).Result()
				k := i % 250
				if k < 200 && (err != nil || v != fmt.Sprintf("v%d", k)) || k >= 200 && err != redis.Nil {
					t.Errorf("read pipeline reply %d (GET pl:%d) = %q, %v", i, k, v, err)
					if bad++; bad == 5 {
						break
					}
				}
			}
		})

		t.Run("concurrent_pipelines", func(t *testing.T) {
			// Many sessions share the proxy's backend connections: each one's
			// replies must still be its own, in its order.
			must(t, c.master.c, "SET", "cp:shared", "S")
			for _, r := range c.replicas {
				waitGet(t, r, "cp:shared", "S")
			}
			const sessions, rounds = 16, 125
			errs := make(chan error, sessions)
			for s := 0; s < sessions; s++ {
				go func() {
					conn := rdb.Conn()
					defer conn.Close()
					cmds, err := conn.Pipelined(ctx, func(pl redis.Pipeliner) error {
						for i := 0; i < rounds; i++ {
							pl.Set(ctx, fmt.Sprintf("cp:%d:%d", s, i), fmt.Sprintf("%d-%d", s, i), 0)
							pl.Get(ctx, fmt.Sprintf("cp:%d:%d", s, i))
							pl.Incr(ctx, fmt.Sprintf("cp:%d:ctr", s))
							pl.Get(ctx, "cp:shared")
						}
						return nil
					})
					if err != nil {
						errs <- fmt.Errorf("session %d: %v", s, err)
						return
					}
					for i := 0; i < rounds; i++ {
						got := []string{cmds[4*i+1].(*redis.StringCmd).Val(), fmt.Sprint(cmds[4*i+2].(*redis.IntCmd).Val()), cmds[4*i+3].(*redis.StringCmd).Val()}
						want := []string{fmt.Sprintf("%d-%d", s, i), fmt.Sprint(i + 1), "S"}
						if !slices.Equal(got, want) {
							errs <- fmt.Errorf("session %d, round %d: replies %q, want %q", s, i, got, want)
							return
						}
					}
					errs <- nil
				}()
			}
			for s := 0; s < sessions; s++ {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})

		t.Run("multi", func(t *testing.T) {
			conn := rdb.Conn()
			defer conn.Close()
			var get *redis.StringCmd
			var incr *redis.IntCmd
			_, err := conn.TxPipelined(ctx, func(pl redis.Pipeliner) error {
				pl.Set(ctx, "tx:a", 1, 0)
				incr = pl.Incr(ctx, "tx:a")
				get = pl.Get(ctx, "tx:a")
				pl.LPush(ctx, "tx:l", "x")
				return nil
			})
			if err != nil || incr.Val() != 2 || get.Val() != "2" {
				t.Errorf("MULTI/EXEC: %v; INCR %d, GET %q; want 2, \"2\"", err, incr.Val(), get.Val())
			}
			// The same by hand, and DISCARD, and a queued error.
			cl := p.connect(t)
			wantRaw(t, cl, "+OK\r\n", "MULTI")
			wantRaw(t, cl, "+QUEUED\r\n", "SET", "tx:b", "1")
			wantRaw(t, cl, "+QUEUED\r\n", "INCRBY", "tx:b", "9")
			wantRaw(t, cl, "*2\r\n+OK\r\n:10\r\n", "EXEC")
			wantRaw(t, cl, "+OK\r\n", "MULTI")
			wantRaw(t, cl, "+QUEUED\r\n", "SET", "tx:b", "discarded")
			wantRaw(t, cl, "+OK\r\n", "DISCARD")
			wantRaw(t, cl, "$2\r\n10\r\n", "GET", "tx:b")
			wantRaw(t, cl, "+OK\r\n", "MULTI")
			wantRaw(t, cl, "-ERR wrong number of arguments for 'set' command\r\n", "SET", "tx:b")
			wantRaw(t, cl, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
			wantRaw(t, cl, "-ERR EXEC without MULTI\r\n", "EXEC")
			wantRaw(t, cl, "$2\r\n10\r\n", "GET", "tx:b")
		})

		t.Run("watch", func(t *testing.T) {
			a, b := p.connect(t), p.connect(t)
			must(t, b, "SET", "w:k", "start")
			for _, r := range c.replicas {
				waitGet(t, r, "w:k", "start")
			}
			wantRaw(t, a, "+OK\r\n", "WATCH", "w:k")
			wantRaw(t, a, "$5\r\nstart\r\n", "GET", "w:k")
			wantRaw(t, b, "+OK\r\n", "SET", "w:k", "other")
			wantRaw(t, a, "+OK\r\n", "MULTI")
			wantRaw(t, a, "+QUEUED\r\n", "SET", "w:k", "mine")
			wantRaw(t, a, "*-1\r\n", "EXEC")
			wantRaw(t, a, "$5\r\nother\r\n", "GET", "w:k")
			// Without a conflict the transaction runs.
			wantRaw(t, a, "+OK\r\n", "WATCH", "w:k")
			wantRaw(t, a, "+OK\r\n", "MULTI")
			wantRaw(t, a, "+QUEUED\r\n", "SET", "w:k", "mine")
			wantRaw(t, a, "*1\r\n+OK\r\n", "EXEC")
			wantRaw(t, b, "$4\r\nmine\r\n", "GET", "w:k")

			// go-redis's optimistic transaction sees the conflict as TxFailedErr.
			other := goRedis(t, p.addr)
			err := rdb.Watch(ctx, func(tx *redis.Tx) error {
				if _, err := tx.Get(ctx, "w:k").Result(); err != nil {
					return err
				}
				if err := other.Set(ctx, "w:k", "changed", 0).Err(); err != nil {
					return err
				}
				_, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
					pl.Set(ctx, "w:k", "lost", 0)
					return nil
				})
				return err
			}, "w:k")
			if !errors.Is(err, redis.TxFailedErr) {
				t.Errorf("go-redis WATCH with a conflicting write: %v, want %v", err, redis.TxFailedErr)
			}
			eqStr(t, "GET after the conflict", other.Get(ctx, "w:k"), "changed")
		})

		t.Run("blpop", func(t *testing.T) {
			blocker, pusher := goRedis(t, p.addr), goRedis(t, p.addr)
			type result struct {
				v   []string
				err error
				at  time.Time
			}
			done := make(chan result, 1)
			go func() {
				v, err := blocker.BLPop(ctx, 10*time.Second, "bl:q").Result()
				done <- result{v, err, time.Now()}
			}()
			select {
			case r := <-done:
				t.Fatalf("BLPOP on an empty list returned at once: %v, %v", r.v, r.err)
			case <-time.After(300 * time.Millisecond):
			}
			// While one client blocks, the others are served as usual.
			for i := 0; i < 20; i++ {
				start := time.Now()
				if err := pusher.Set(ctx, "bl:other", i, 0).Err(); err != nil {
					t.Fatal(err)
				}
				eqStr(t, "GET while another client blocks", pusher.Get(ctx, "bl:other"), strconv.Itoa(i))
				if d := time.Since(start); d > time.Second {
					t.Fatalf("SET+GET took %v while another client blocked in BLPOP", d)
				}
			}
			pushed := time.Now()
			eqInt(t, "RPUSH", pusher.RPush(ctx, "bl:q", "x"), 1)
			select {
			case r := <-done:
				if r.err != nil || !slices.Equal(r.v, []string{"bl:q", "x"}) {
					t.Errorf("BLPOP = %v, %v; want [bl:q x]", r.v, r.err)
				}
				if d := r.at.Sub(pushed); d > 2*time.Second {
					t.Errorf("BLPOP returned %v after the push", d)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("BLPOP not released 5s after another client's RPUSH")
			}
			// A timeout gives nil.
			start := time.Now()
			if v, err := blocker.BLPop(ctx, 200*time.Millisecond, "bl:empty").Result(); err != redis.Nil {
				t.Errorf("BLPOP with a timeout = %v, %v; want redis.Nil", v, err)
			}
			if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
				t.Errorf("BLPOP 0.2 returned after %v", d)
			}
		})

		t.Run("pubsub", func(t *testing.T) {
			sub := rdb.Subscribe(ctx, "ps:ch")
			defer sub.Close()
			if _, err := sub.Receive(ctx); err != nil {
				t.Fatalf("SUBSCRIBE: %v", err)
			}
			pub := goRedis(t, p.addr)
			eqInt(t, "PUBLISH (receivers)", pub.Publish(ctx, "ps:ch", "hello"), 1)
			if msg, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
				t.Fatalf("waiting for the message: %v", err)
			} else if m, ok := msg.(*redis.Message); !ok || m.Channel != "ps:ch" || m.Payload != "hello" {
				t.Fatalf("received %#v, want the message on ps:ch", msg)
			}
			if err := sub.PSubscribe(ctx, "ps:p*"); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil { // the psubscribe confirmation
				t.Fatal(err)
			}
			eqInt(t, "PUBLISH to a pattern", pub.Publish(ctx, "ps:pa", "world"), 1)
			if msg, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
				t.Fatalf("waiting for the pattern message: %v", err)
			} else if m, ok := msg.(*redis.Message); !ok || m.Pattern != "ps:p*" || m.Channel != "ps:pa" || m.Payload != "world" {
				t.Fatalf("received %#v, want a pmessage on ps:pa by ps:p*", msg)
			}

			// By hand: subscribe, receive, unsubscribe, and back to normal commands.
			s := p.connect(t)
			wantRaw(t, s, "*3\r\n$9\r\nsubscribe\r\n$5\r\nps:c2\r\n:1\r\n", "SUBSCRIBE", "ps:c2")
			wantRaw(t, s, "*3\r\n$10\r\npsubscribe\r\n$5\r\nps:q*\r\n:2\r\n", "PSUBSCRIBE", "ps:q*")
			if r, err := s.doStrings("GET", "x"); err != nil || !r.isError() {
				t.Errorf("GET in subscribed mode = %v, %v; want an error as Redis gives", r, err)
			}
			eqInt(t, "PUBLISH", pub.Publish(ctx, "ps:c2", "m1"), 1)
			wantNext(t, s, "*3\r\n$7\r\nmessage\r\n$5\r\nps:c2\r\n$2\r\nm1\r\n")
			eqInt(t, "PUBLISH", pub.Publish(ctx, "ps:qx", "m2"), 1)
			wantNext(t, s, "*4\r\n$8\r\npmessage\r\n$5\r\nps:q*\r\n$5\r\nps:qx\r\n$2\r\nm2\r\n")
			wantRaw(t, s, "*3\r\n$11\r\nunsubscribe\r\n$5\r\nps:c2\r\n:1\r\n", "UNSUBSCRIBE")
			wantRaw(t, s, "*3\r\n$12\r\npunsubscribe\r\n$5\r\nps:q*\r\n:0\r\n", "PUNSUBSCRIBE")
			wantRaw(t, s, "+PONG\r\n", "PING")
			wantRaw(t, s, "+OK\r\n", "SET", "ps:k", "v")
			wantRaw(t, s, "$1\r\nv\r\n", "GET", "ps:k")
			eqInt(t, "PUBLISH after UNSUBSCRIBE", pub.Publish(ctx, "ps:c2", "m3"), 0)
			if err := s.expectSilence(200 * time.Millisecond); err != nil {
				t.Errorf("after UNSUBSCRIBE: %v", err)
			}
		})

		t.Run("select", func(t *testing.T) {
			s := p.connect(t)
			wantRaw(t, s, "+OK\r\n", "SELECT", "1")
			wantRaw(t, s, "+OK\r\n", "SET", "sel:k", "in-db1")
			wantRaw(t, s, "$6\r\nin-db1\r\n", "GET", "sel:k")
			wantRaw(t, s, ":1\r\n", "DBSIZE")
			m := c.master.s.connect(t)
			wantRaw(t, m, "$-1\r\n", "GET", "sel:k")
			wantRaw(t, m, "+OK\r\n", "SELECT", "1")
			wantRaw(t, m, "$6\r\nin-db1\r\n", "GET", "sel:k")
			// The session's database is its own: another one is in db 0.
			wantRaw(t, p.connect(t), "$-1\r\n", "GET", "sel:k")
			wantRaw(t, s, "+OK\r\n", "SELECT", "0")
			wantRaw(t, s, "$-1\r\n", "GET", "sel:k")
			wantRaw(t, s, "-ERR DB index is out of range\r\n", "SELECT", "100000")
			wantRaw(t, s, "-ERR value is not an integer or out of range\r\n", "SELECT", "x")
		})

		t.Run("errors", func(t *testing.T) {
			s := p.connect(t)
			m := c.master.s.connect(t)
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"FOOBAR", "a", "b"}, "-ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' \r\n"},
				{[]string{"foobar"}, "-ERR unknown command 'foobar', with args beginning with: \r\n"},
				{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
				{[]string{"GET", "a", "b"}, "-ERR wrong number of arguments for 'get' command\r\n"},
				{[]string{"SET", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
				{[]string{"INCR", "s:a"}, ""}, // set below
				{[]string{"OBJECT", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try OBJECT HELP.\r\n"},
			} {
				if tc.args[0] == "INCR" {
					must(t, s, "SET", "err:s", "abc")
					tc.args[1] = "err:s"
					tc.want = "-ERR value is not an integer or out of range\r\n"
				}
				direct, err := m.doStrings(tc.args...)
				if err != nil {
					t.Fatal(err)
				}
				if string(direct.raw) != tc.want {
					t.Logf("note: the master itself answers %q with %s, not %q", tc.args, direct, tc.want)
				}
				wantRaw(t, s, tc.want, tc.args...)
			}
			wantRaw(t, s, "+PONG\r\n", "PING")
		})

		t.Run("refused", func(t *testing.T) {
			s := p.connect(t)
			_, replicaPort, _ := strings.Cut(c.replicas[0].s.addr, ":")
			for _, args := range [][]string{
				{"REPLICAOF", "127.0.0.1", replicaPort},
				{"SLAVEOF", "NO", "ONE"},
				{"SYNC"},
				{"PSYNC", "?", "-1"},
				{"SHUTDOWN", "NOSAVE"},
				{"DEBUG", "SLEEP", "0"},
				{"MONITOR"},
				{"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"},
			} {
				r, err := s.doStrings(args...)
				if err != nil {
					t.Fatalf("%q through the proxy: %v", args, err)
				}
				msg := strings.ToLower(string(r.data))
				if !r.isError() || !strings.HasPrefix(string(r.data), "ERR ") || !strings.Contains(msg, "proxy") && !strings.Contains(msg, "lagwise") {
					t.Errorf("%q through the proxy = %s; want -ERR saying the proxy refuses it", args, r)
				}
				// The connection goes on as usual.
				wantRaw(t, s, "+PONG\r\n", "PING")
			}
			c.master.alive(t)
			if role := c.master.info(t, "replication")["role"]; role != "master" {
				t.Errorf("the master's role is now %q", role)
			}
			if got := c.master.do(t, "CONFIG", "GET", "maxmemory-policy"); len(got.elems) != 2 || string(got.elems[1].data) != "noeviction" {
				t.Errorf("the master's maxmemory-policy changed: %s", got)
			}
			// CONFIG GET is let through.
			wantRaw(t, s, "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n", "CONFIG", "GET", "maxmemory-policy")

			// allow_commands lets CONFIG SET through to the master.
			cfg := configFor(c)
			cfg.allow = []string{"CONFIG"}
			p2 := startProxy(t, cfg)
			s2 := p2.connect(t)
			wantRaw(t, s2, "+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
			if got := c.master.do(t, "CONFIG", "GET", "maxmemory-policy"); len(got.elems) != 2 || string(got.elems[1].data) != "allkeys-lru" {
				t.Errorf("CONFIG SET through a proxy with allow_commands: [CONFIG] did not reach the master: %s", got)
			}
			c.master.do(t, "CONFIG", "SET", "maxmemory-policy", "noeviction")
			if r, err := s2.doStrings("SHUTDOWN", "NOSAVE"); err != nil || !r.isError() {
				t.Errorf("SHUTDOWN through a proxy that allows only CONFIG = %v, %v; want an error", r, err)
			}
			c.master.alive(t)
		})

		t.Run("local", func(t *testing.T) {
			s := p.connect(t)
			r, err := s.doStrings("HELLO", "3")
			if err != nil || !r.isError() || !strings.HasPrefix(string(r.data), "NOPROTO") {
				t.Errorf("HELLO 3 = %v, %v; want -NOPROTO", r, err)
			}
			if r, err := s.doStrings("HELLO", "2"); err != nil || !r.isArray() {
				t.Errorf("HELLO 2 = %v, %v; want the server's properties (an array in RESP2)", r, err)
			}
			wantRaw(t, s, "+OK\r\n", "CLIENT", "SETNAME", "e2e-session-name")
			wantRaw(t, s, "$16\r\ne2e-session-name\r\n", "CLIENT", "GETNAME")
			if r, err := s.doStrings("CLIENT", "ID"); err != nil || r.kind != ':' {
				t.Errorf("CLIENT ID = %v, %v; want an integer", r, err)
			}
			wantRaw(t, s, "+PONG\r\n", "PING")
			wantRaw(t, s, "$2\r\nhi\r\n", "PING", "hi")
			wantRaw(t, s, "$3\r\nabc\r\n", "ECHO", "abc")
			// A session's name is its own: no backend connection took it.
			for _, n := range c.nodes() {
				if list := string(n.do(t, "CLIENT", "LIST").data); strings.Contains(list, "e2e-session-name") {
					t.Errorf("%s: a backend connection took the client's name:\n%s", n.name, list)
				}
			}
			wantRaw(t, s, "+RESET\r\n", "RESET")
			wantRaw(t, s, "$-1\r\n", "CLIENT", "GETNAME")
			wantRaw(t, s, "+OK\r\n", "QUIT")
			if r, err := s.read(); err == nil {
				t.Errorf("after QUIT the connection is still open and sent %s", r)
			}
		})

		t.Run("lagwise", func(t *testing.T) {
			s := p.connect(t)
			topo := must(t, s, "LAGWISE", "TOPOLOGY")
			for _, n := range c.nodes() {
				if _, ok := lagLine(topo.data, n.s.addr); !ok {
					t.Errorf("LAGWISE TOPOLOGY has no line for %s:\n%s", n.s.addr, topo.data)
				}
			}
			waitFor(t, "LAGWISE LAG to show both replicas routable", func() (bool, string) {
				lag := must(t, s, "LAGWISE", "LAG")
				for _, r := range c.replicas {
					f, ok := lagLine(lag.data, r.s.addr)
					if !ok || !truthy(f["routable"]) {
						return false, string(lag.data)
					}
				}
				return true, ""
			})
			must(t, s, "SET", "lw:k", "v")
			wantRaw(t, s, "+OK\r\n", "LAGWISE", "READFROM", "master")
			before := cmdCalls(t, "get", c.nodes()...)
			for i := 0; i < 100; i++ {
				wantRaw(t, s, "$1\r\nv\r\n", "GET", "lw:k")
			}
			if d := deltas(before, cmdCalls(t, "get", c.nodes()...)); d[0] != 100 {
				t.Errorf("after LAGWISE READFROM master, 100 GETs were served %v (master, replicas)", d)
			}
			wantRaw(t, s, "+OK\r\n", "LAGWISE", "READFROM", "DEFAULT")
			wantRaw(t, s, "+OK\r\n", "LAGWISE", "MAXLAG", "100")
			wantRaw(t, s, "+OK\r\n", "LAGWISE", "MAXLAG", "DEFAULT")
			for _, args := range [][]string{{"LAGWISE", "READFROM", "nowhere"}, {"LAGWISE", "MAXLAG", "-5"}, {"LAGWISE", "NOSUCH"}} {
				if r, err := s.doStrings(args...); err != nil || !r.isError() {
					t.Errorf("%q = %v, %v; want an error", args, r, err)
				}
			}
			if r := must(t, s, "LAGWISE", "CONFIG"); len(r.data) == 0 && len(r.elems) == 0 {
				t.Errorf("LAGWISE CONFIG is empty: %s", r)
			}
			info := string(must(t, s, "INFO").data)
			if !strings.Contains(info, c.master.s.addr) {
				t.Errorf("INFO through the proxy does not name the master %s:\n%s", c.master.s.addr, info)
			}
		})
		p.alive(t)
	})
}

// ---------------------------------------------------------------- helpers

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func eqStr(t *testing.T, what string, cmd *redis.StringCmd, want string) {
	t.Helper()
	if v, err := cmd.Result(); err != nil || v != want {
		t.Errorf("%s = %q, %v; want %q", what, v, err, want)
	}
}

func eqInt(t *testing.T, what string, cmd *redis.IntCmd, want int64) {
	t.Helper()
	if v, err := cmd.Result(); err != nil || v != want {
		t.Errorf("%s = %d, %v; want %d", what, v, err, want)
	}
}

func eqStrs(t *testing.T, what string, cmd *redis.StringSliceCmd, want ...string) {
	t.Helper()
	if v, err := cmd.Result(); err != nil || !slices.Equal(v, want) {
		t.Errorf("%s = %q, %v; want %q", what, v, err, want)
	}
}

// wantRaw sends args on c and requires the reply's exact bytes.
func wantRaw(t *testing.T, c *client, want string, args ...string) {
	t.Helper()
	r, err := c.doStrings(args...)
	if err != nil {
		t.Fatalf("%q: %v (want %q)", args, err, want)
	}
	if string(r.raw) != want {
		t.Errorf("%q = %s, want %q", args, r, want)
	}
}

// wantNext reads the next reply (a pushed message) and requires its exact
// bytes.
func wantNext(t *testing.T, c *client, want string) {
	t.Helper()
	r, err := c.read()
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	if string(r.raw) != want {
		t.Errorf("got %s, want %q", r, want)
	}
}
