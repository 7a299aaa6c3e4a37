package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestProxyMalformedRequest: a request that breaks the protocol gets
// Redis's "-ERR Protocol error: ..." reply and closes that client's
// connection only; the replies before it still come, and other clients,
// one of them in the middle of a pipeline, go on as usual.
func TestProxyMalformedRequest(t *testing.T) {
	forEachSetup(t, func(t *testing.T, redisBackends bool) {
		c := startCluster(t, redisBackends, 2)
		p := startProxy(t, configFor(c))
		other := p.connect(t)
		wantRaw(t, other, "+OK\r\n", "SET", "mf:k", "v")
		// New sessions read it too, from any backend.
		for _, r := range c.replicas {
			waitGet(t, r, "mf:k", "v")
		}

		for _, tc := range []struct {
			name, in string
			before   string // replies to the valid requests ahead of the bad one
		}{
			{"bad bulk length", "*2\r\n$abc\r\n", ""},
			{"bad multibulk length", "*abc\r\n", ""},
			{"integer where a bulk string is expected", "*1\r\n:12\r\n", ""},
			{"after a valid request", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$-7\r\n", "+PONG\r\n"},
		} {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				// The other client has a pipeline in flight meanwhile.
				for i := 0; i < 50; i++ {
					if err := other.send(toBytes([]string{"GET", "mf:k"})); err != nil {
						t.Fatal(err)
					}
				}
				got, closed := sendRaw(t, p.addr, tc.in)
				if !strings.HasPrefix(got, tc.before+"-ERR Protocol error: ") || !strings.HasSuffix(got, "\r\n") || strings.Count(got[len(tc.before):], "\r\n") != 1 {
					t.Errorf("the proxy answered %q with %q; want %q then one -ERR Protocol error: ... line", tc.in, got, tc.before)
				}
				if !closed {
					t.Errorf("the proxy did not close the connection after a protocol error")
				}
				if redisBackends {
					// The backends are Redis: the proxy should say what it says.
					want, _ := sendRaw(t, c.master.s.addr, tc.in)
					if got != want {
						t.Errorf("the proxy answered %q with %q, Redis with %q", tc.in, got, want)
					}
				}
				for i := 0; i < 50; i++ {
					r, err := other.read()
					if err != nil || string(r.raw) != "$1\r\nv\r\n" {
						t.Fatalf("another client's pipelined GET %d = %v, %v", i, r, err)
					}
				}
				wantRaw(t, other, "+OK\r\n", "SET", "mf:k2", tc.name)
				wantRaw(t, other, fmt.Sprintf("$%d\r\n%s\r\n", len(tc.name), tc.name), "GET", "mf:k2")
				p.alive(t)
			})
		}
		// A new client is served too.
		wantRaw(t, p.connect(t), "$1\r\nv\r\n", "GET", "mf:k")
		if t.Failed() {
			logKey(t, c, "mf:k")
		}
	})
}

// sendRaw writes in on a new connection to addr and returns everything
// that comes back within a few seconds, and whether the peer closed the
// connection by then.
func sendRaw(t *testing.T, addr, in string) (string, bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	out, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return string(out), false
		}
		// A reset after the reply also closes the connection.
		return string(out), true
	}
	return string(out), true
}
