package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwise/lagwise/internal/serverproc"
)

// Environment variables that steer the tests; see the package comment.
const (
	envAgainst = "LAGWISE_DIFF_AGAINST"
	envVerbose = "LAGWISE_DIFF_VERBOSE"
	envCI      = "CI"
)

// startupTimeout bounds how long a server may take to answer its first PING.
const startupTimeout = 15 * time.Second

var (
	// lagwiseBin is the lagwise binary built by TestMain.
	lagwiseBin string
	// buildErr is why building it failed, if it did; every test that needs
	// lagwise fails with it.
	buildErr error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if againstRedis() {
		return m.Run() // the lagwise binary is not needed
	}
	dir, err := os.MkdirTemp("", "lagwise-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lagwiseBin, buildErr = buildLagwise(dir)
	if buildErr != nil {
		fmt.Fprintf(os.Stderr, "e2e: BUILD FAILED: %v\n", buildErr)
	}
	return m.Run()
}

// buildLagwise builds ./cmd/lagwise of the enclosing module into dir.
func buildLagwise(dir string) (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root not found above the e2e directory: %w", err)
	}
	bin := filepath.Join(dir, "lagwise")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/lagwise")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s ./cmd/lagwise: %v\n%s", bin, err, out)
	}
	return bin, nil
}

// againstRedis reports whether the "lagwise" side of the comparison is a
// second redis-server (LAGWISE_DIFF_AGAINST=redis).
func againstRedis() bool {
	return strings.EqualFold(os.Getenv(envAgainst), "redis")
}

// inCI reports whether CI is set to a true value (or anything that is not
// a recognisable false value).
func inCI() bool {
	v := os.Getenv(envCI)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// server is a running server process.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{} // closed when the process has exited
}

// startRedis starts a real redis-server in a fresh temp dir.
func startRedis(t *testing.T, name string) *server {
	t.Helper()
	return startRedisIn(t, name, t.TempDir())
}

// startRedisIn starts a real redis-server in dir with extra directives
// (see startServerIn).
func startRedisIn(t *testing.T, name, dir string, extra ...string) *server {
	t.Helper()
	return startServerIn(t, name, redisTool(t, "redis-server"), nil, dir, extra...)
}

// redisTool returns the path of a Redis program (redis-server,
// redis-check-rdb). Without it on PATH the test is skipped, or fails when
// CI is set.
func redisTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if inCI() {
			t.Fatalf("%s not found on PATH, and CI is set: these tests need Redis 7.0 (%v)", name, err)
		}
		t.Skipf("%s not found on PATH; install Redis 7.0 to run these tests (%v)", name, err)
	}
	return path
}

// startLagwise starts the lagwise server built by TestMain in a fresh temp
// dir, or a second redis-server when LAGWISE_DIFF_AGAINST=redis.
func startLagwise(t *testing.T) *server {
	t.Helper()
	return startLagwiseIn(t, t.TempDir())
}

// startLagwiseIn is startLagwise in dir with extra directives (see
// startServerIn).
func startLagwiseIn(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	if againstRedis() {
		return startRedisIn(t, "redis(b)", dir, extra...)
	}
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	return startServerIn(t, "lagwise", lagwiseBin, []string{"server"}, dir, extra...)
}

// startPair starts the reference Redis and the server under test.
func startPair(t *testing.T) (ref, tgt *server) {
	t.Helper()
	ref = startRedis(t, "redis")
	return ref, startLagwise(t)
}

// startServer starts bin with prefix and the common directives in a fresh
// temp dir; see startServerIn.
func startServer(t *testing.T, name, bin string, prefix []string) *server {
	t.Helper()
	return startServerIn(t, name, bin, prefix, t.TempDir())
}

// startServerIn starts bin with prefix, the common directives, --dir dir
// and then extra on a free port, retrying with another port if the chosen
// one got taken meanwhile, and waits until the server answers PING. The
// extra directives come last, so they override the common ones (--save
// "3600 1" replaces --save ""). The process is killed when the test ends;
// if the test failed, the tail of its log is printed.
func startServerIn(t *testing.T, name, bin string, prefix []string, dir string, extra ...string) *server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("picking a port for %s: %v", name, err)
		}
		args := append(append(append([]string(nil), prefix...), commonDirectives(port, dir)...), extra...)
		s, err := launch(name, bin, args, port)
		if err == nil {
			s.stopAtCleanup(t)
			return s
		}
		lastErr = err
		if !strings.Contains(strings.ToLower(s.log.String()), "address already in use") {
			break
		}
	}
	t.Fatalf("starting %s: %v", name, lastErr)
	return nil
}

// stopAtCleanup kills the process when the test ends and, if the test
// failed, prints the tail of its log.
func (s *server) stopAtCleanup(t *testing.T) {
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s (%s) log tail:\n%s", s.name, s.addr, s.log.tail(4096))
		}
	})
}

// restart starts the program of s, which must have exited, again with the
// same arguments: on the same port, in the same directory. It retries for
// a while if the port is not free yet.
func (s *server) restart(t *testing.T) *server {
	t.Helper()
	select {
	case <-s.done:
	default:
		t.Fatalf("restarting %s on %s: it is still running", s.name, s.addr)
	}
	_, portStr, _ := net.SplitHostPort(s.addr)
	port, _ := strconv.Atoi(portStr)
	deadline := time.Now().Add(startupTimeout)
	for {
		ns, err := launch(s.name, s.cmd.Path, s.cmd.Args[1:], port)
		if err == nil {
			ns.stopAtCleanup(t)
			return ns
		}
		if !strings.Contains(strings.ToLower(ns.log.String()), "address already in use") || time.Now().After(deadline) {
			t.Fatalf("restarting %s on %s: %v", s.name, s.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// commonDirectives are the directives every server starts with.
func commonDirectives(port int, dir string) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--enable-debug-command", "local",
		"--dir", dir,
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process and waits for it to answer PING. On failure
// the process is stopped and the returned server still carries its log.
func launch(name, bin string, args []string, port int) (*server, error) {
	s := &server{
		name: name,
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		cmd:  exec.Command(bin, args...),
		log:  &syncBuffer{},
		done: make(chan struct{}),
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		close(s.done)
		return s, err
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(startupTimeout)
	for {
		ok := pingOK(s.addr) && serverproc.Is(s.addr, s.cmd.Process.Pid, "")
		select {
		case <-s.done:
			return s, fmt.Errorf("%s exited during startup (%v); log:\n%s", name, s.cmd.ProcessState, s.log.tail(4096))
		default:
		}
		if ok {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return s, fmt.Errorf("%s did not answer PING on %s within %v; log:\n%s", name, s.addr, startupTimeout, s.log.tail(4096))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingOK reports whether a server at addr answers PING with PONG.
func pingOK(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, len("+PONG\r\n"))
	n, _ := conn.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// stop kills the process and waits for it to exit.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// connect opens a raw client connection to the server.
func (s *server) connect(t *testing.T) *client {
	t.Helper()
	c, err := dial(s.addr)
	if err != nil {
		t.Fatalf("connecting to %s: %v", s.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n bytes written.
func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
