package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// proxyCLIScript is fed to redis-cli on stdin, and proxyCLIOutput is what
// redis-cli 7.0 prints for it against a redis-server 7.0 (checked by hand:
// no tty, so raw output; an error reply is followed by an empty line).
const proxyCLIScript = `SET cli:s hello
GET cli:s
APPEND cli:s " world"
GET cli:s
INCR cli:n
INCRBY cli:n 41
GET cli:missing
RPUSH cli:l a b c
LRANGE cli:l 0 -1
LPOP cli:l
HSET cli:h f1 v1 f2 v2
HGET cli:h f2
HMGET cli:h f1 nope f2
SADD cli:set x y x
SCARD cli:set
SISMEMBER cli:set y
ZADD cli:z 1 a 2.5 b
ZRANGE cli:z 0 -1 WITHSCORES
ZSCORE cli:z b
EXPIRE cli:s 100
TTL cli:s
PERSIST cli:s
TTL cli:s
DEL cli:s cli:n cli:l cli:h cli:set cli:z
EXISTS cli:s
SET cli:n 1
LPUSH cli:n x
MULTI
SET cli:t 1
INCR cli:t
EXEC
FOOBAR a b
PING
`

const proxyCLIOutput = `OK
hello
11
hello world
1
42

3
a
b
c
a
2
v2
v1

v2
2
2
1
2
a
1
b
2.5
2.5
1
100
1
-1
6
0
OK
WRONGTYPE Operation against a key holding the wrong kind of value

OK
QUEUED
QUEUED
OK
2
ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' 

PONG
`

// TestProxyRedisCLI drives the proxy with the real redis-cli: a script of
// every type's commands on one connection, single commands with -n 1
// (SELECT 1 first), and 1,000 mixed commands with --pipe.
func TestProxyRedisCLI(t *testing.T) {
	cli := redisTool(t, "redis-cli")
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		host, port, _ := strings.Cut(p.addr, ":")
		run := func(stdin string, args ...string) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, args...)...)
			cmd.Stdin = strings.NewReader(stdin)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("redis-cli %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, stderr.String())
			}
			return string(out)
		}

		if got := run(proxyCLIScript); got != proxyCLIOutput {
			t.Errorf("redis-cli with a script through the proxy printed\n%s\nwant\n%s", got, proxyCLIOutput)
		}

		if got := run("", "-n", "1", "SET", "cli:db1", "x"); got != "OK\n" {
			t.Errorf("redis-cli -n 1 SET = %q", got)
		}
		if got := run("", "-n", "1", "GET", "cli:db1"); got != "x\n" {
			t.Errorf("redis-cli -n 1 GET = %q", got)
		}
		if got := run("", "GET", "cli:db1"); got != "\n" {
			t.Errorf("redis-cli GET of a key of db 1 in db 0 = %q, want nothing", got)
		}
		m := c.master.s.connect(t)
		must(t, m, "SELECT", "1")
		wantRaw(t, m, "$1\r\nx\r\n", "GET", "cli:db1")

		var pipe strings.Builder
		for i := 0; i < 250; i++ {
			for _, args := range [][]string{
				{"SET", fmt.Sprintf("cli:p:%d", i), fmt.Sprint(i)},
				{"GET", fmt.Sprintf("cli:p:%d", i)},
				{"INCR", "cli:p:ctr"},
				{"GET", fmt.Sprintf("cli:p:%d", i/2)},
			} {
				pipe.Write(encodeCommand(toBytes(args)))
			}
		}
		if got := run(pipe.String(), "--pipe"); !strings.Contains(got, "errors: 0, replies: 1000") {
			t.Errorf("redis-cli --pipe with 1000 commands: %q", got)
		}
		// A new session may read from a replica that is not there yet: ask
		// the master.
		if got := c.master.do(t, "GET", "cli:p:ctr"); string(got.data) != "250" {
			t.Errorf("after --pipe, the master has cli:p:ctr = %s, want 250", got)
		}
		p.alive(t)
	})
}
