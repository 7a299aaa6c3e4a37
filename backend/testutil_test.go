package backend

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
)

// Scaffolding shared by the tests that talk to a server over TCP: start an
// in-process server, dial it, send commands and read raw RESP replies.
//
// The expected replies in the reply tables are the bytes Redis 7.0 sends.
// Setting BACKEND_TEST_REDIS=host:port runs the tables that go through
// testTarget against that server instead, to check the tables themselves.
// That server is flushed first (FLUSHALL) and some of its settings are
// changed, so never point it at a server holding data you care about; it
// needs --enable-debug-command for the DEBUG and OBJECT tables.
const testRedisEnv = "BACKEND_TEST_REDIS"

// testRedisAddr is the address given by BACKEND_TEST_REDIS, or "".
func testRedisAddr() string { return os.Getenv(testRedisEnv) }

// startTestServer starts an in-process server on a free port of 127.0.0.1,
// with DEBUG enabled for local connections and its log discarded. mutate,
// if not nil, adjusts the configuration first.
func startTestServer(t *testing.T, mutate func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.Bind = []string{"127.0.0.1"}
	cfg.EnableDebugCommand = "local"
	// No save points and a private dir: a test that wants persistence
	// asks for it.
	cfg.Save = ""
	cfg.Dir = t.TempDir()
	if mutate != nil {
		mutate(cfg)
	}
	s := New(cfg)
	s.SetLogOutput(io.Discard)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Shutdown)
	return s
}

// testTarget returns the address a reply table runs against: the server of
// BACKEND_TEST_REDIS, flushed and then given each of the setup command
// lines (each must reply +OK), or a fresh in-process server.
func testTarget(t *testing.T, setup ...string) string {
	t.Helper()
	if addr := testRedisAddr(); addr != "" {
		c := dialTest(t, addr)
		c.expect("flushall", "+OK\r\n")
		for _, line := range setup {
			c.expect(line, "+OK\r\n")
		}
		return addr
	}
	return startTestServer(t, nil).Addr().String()
}

// testConn is a raw client connection: requests go out as RESP arrays of
// bulk strings and replies come back as the exact bytes sent.
type testConn struct {
	t     *testing.T
	conn  net.Conn
	r     *bufio.Reader
	split func(line string) []string // how cmd, sendLine and expect split a command line
}

// dialTest connects to addr; command lines are split with redis-cli quoting
// until split is set otherwise. The connection closes when the test ends.
func dialTest(t *testing.T, addr string) *testConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testConn{t: t, conn: conn, r: bufio.NewReader(conn), split: cliSplit}
}

// dialServer connects to an in-process server.
func dialServer(t *testing.T, s *Server) *testConn {
	t.Helper()
	return dialTest(t, s.Addr().String())
}

// cliSplit splits a command line as redis-cli does; it returns nil if the
// quoting is unbalanced.
func cliSplit(line string) []string {
	args, ok := resp.SplitArgs([]byte(line), nil)
	if !ok {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// encodeCommand encodes args as a RESP request.
func encodeCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// send writes one request given as arguments without reading its reply.
func (c *testConn) send(args ...string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(encodeCommand(args...)); err != nil {
		c.t.Fatal(err)
	}
}

// sendLine writes one request given as a command line without reading its
// reply.
func (c *testConn) sendLine(line string) {
	c.t.Helper()
	args := c.split(line)
	if len(args) == 0 {
		c.t.Fatalf("bad test command %q", line)
	}
	c.send(args...)
}

// readWithin returns the next raw reply, failing if it takes longer than
// timeout.
func (c *testConn) readWithin(timeout time.Duration) string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	defer c.conn.SetReadDeadline(time.Time{})
	var sb strings.Builder
	if err := readReply(c.r, &sb); err != nil {
		c.t.Fatalf("reading reply: %v (got %q)", err, sb.String())
	}
	return sb.String()
}

// read returns the next raw reply.
func (c *testConn) read() string {
	c.t.Helper()
	return c.readWithin(10 * time.Second)
}

// do sends a request given as arguments and returns its raw reply.
func (c *testConn) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// cmd sends a request given as a command line and returns its raw reply.
func (c *testConn) cmd(line string) string {
	c.t.Helper()
	c.sendLine(line)
	return c.read()
}

// expect sends a command line and checks its raw reply.
func (c *testConn) expect(line, want string) {
	c.t.Helper()
	if got := c.cmd(line); got != want {
		c.t.Errorf("%s:\n got %q\nwant %q", line, got, want)
	}
}

// noReply checks that nothing arrives within d.
func (c *testConn) noReply(d time.Duration) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	if b, err := c.r.Peek(1); err == nil {
		c.t.Fatalf("unexpected reply starting with %q", b)
	}
}

// readReply copies one complete RESP2 or RESP3 reply from r to sb.
func readReply(r *bufio.Reader, sb *strings.Builder) error {
	line, err := r.ReadString('\n')
	sb.WriteString(line)
	if err != nil {
		return err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("bad line %q", line)
	}
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!', '*', '~', '>', '%', '|':
	default:
		return fmt.Errorf("bad reply type %q", line)
	}
	n, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil {
		return err
	}
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		_, err = io.ReadFull(r, buf)
		sb.Write(buf)
		return err
	case '%', '|':
		n *= 2
	}
	for i := 0; i < n; i++ {
		if err := readReply(r, sb); err != nil {
			return err
		}
	}
	return nil
}
