package aof

// Interop with a real redis-server 7.0: its manifest and files are read by
// this package, this package's files are loaded by it, and both write the
// same manifest bytes for the same history. Skipped without redis-server.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/rdb"

	"github.com/lagwise/lagwise/internal/serverproc"
)

type redisProc struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	conn   net.Conn
	r      *bufio.Reader
}

// startRedis runs redis-server with dir as its directory and waits until
// it has loaded its data, or until it exits (then the returned proc has no conn).
func startRedis(t *testing.T, dir string, config ...string) *redisProc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
		"--logfile", filepath.Join(dir, "redis.log")}
	for i := 0; i+1 < len(config); i += 2 {
		args = append(args, "--"+config[i], config[i+1])
	}
	p := &redisProc{t: t, dir: dir, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return p
		default:
		}
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			p.conn, p.r = c, bufio.NewReader(c)
			// PING answers while the AOF loads; INFO says when it is done.
			// And the server must be ours (serverproc).
			v, err := p.try("INFO", "persistence")
			ours := serverproc.Is(fmt.Sprintf("127.0.0.1:%d", port), p.cmd.Process.Pid, "")
			if err == nil && ours && strings.Contains(v, "loading:0") {
				return p
			}
			c.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return nil
}

func (p *redisProc) stop() {
	if p.conn != nil {
		p.conn.Close()
	}
	p.cmd.Process.Kill()
	<-p.exited
}

// shutdown stops the server cleanly (it flushes and fsyncs its AOF).
func (p *redisProc) shutdown() {
	p.try("SHUTDOWN", "NOSAVE")
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Fatal("redis-server did not shut down")
	}
}

func (p *redisProc) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
	return string(b)
}

func (p *redisProc) try(args ...string) (string, error) {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	if _, err := p.conn.Write(AppendCommand(nil, argv...)); err != nil {
		return "", err
	}
	line, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '-':
		return "", fmt.Errorf("%s", line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		b := make([]byte, n+2)
		_, err := io.ReadFull(p.r, b)
		return string(b[:n]), err
	}
	return line[1:], nil
}

func (p *redisProc) do(args ...string) string {
	p.t.Helper()
	v, err := p.try(args...)
	if err != nil {
		p.t.Fatalf("%v: %v\n%s", args, err, p.log())
	}
	return v
}

// rewrite runs BGREWRITEAOF and waits for it to finish.
func (p *redisProc) rewrite() {
	p.t.Helper()
	p.do("BGREWRITEAOF")
	for i := 0; i < 500; i++ {
		info := p.do("INFO", "persistence")
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatal("rewrite did not finish")
}

func emptyRDB(w io.Writer) error {
	rw := rdb.NewWriter(w, rdb.WriterOptions{Checksum: true})
	rw.Aux("redis-ver", "7.0.15")
	return rw.Close()
}

// Redis's manifest parses, re-encodes to the same bytes, and is what this
// package writes for the same history of rewrites.
func TestRedisManifest(t *testing.T) {
	dir := t.TempDir()
	p := startRedis(t, dir, "appendonly", "yes", "aof-disable-auto-gc", "yes")
	if p.conn == nil {
		t.Fatalf("redis-server exited:\n%s", p.log())
	}
	p.do("SET", "a", "1")
	p.rewrite()
	p.do("SET", "b", "2")
	p.rewrite()
	p.do("SELECT", "2")
	p.do("SET", "c", "3")
	p.shutdown()

	cfg := Config{Dir: dir, RDBPreamble: true}
	theirs := readFile(t, filepath.Join(cfg.AOFDir(), "appendonly.aof.manifest"))
	m, err := ParseManifest([]byte(theirs))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Bytes()); got != theirs {
		t.Fatalf("re-encoded\n%s\nRedis wrote\n%s", got, theirs)
	}
	if m.BaseSeq != 3 || m.IncrSeq != 3 || len(m.History) != 4 {
		t.Fatalf("parsed %+v", m)
	}

	// Our own history: start, two rewrites, gc off.
	ours := Config{Dir: t.TempDir(), RDBPreamble: true, DisableAutoGC: true, Fsync: FsyncNo}
	a, err := Open(ours, emptyRDB)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		w, err := a.StartRewrite()
		if err != nil {
			t.Fatal(err)
		}
		emptyRDB(w)
		if err := a.FinishRewrite(); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	if got := manifestOf(t, ours); got != theirs {
		t.Fatalf("we wrote\n%s\nRedis wrote\n%s", got, theirs)
	}
	if got, want := dirFiles(t, ours), dirFiles(t, cfg); got != want {
		t.Fatalf("our files %s, Redis's %s", got, want)
	}

	// And we load Redis's files: an RDB base and an incr file.
	r, res, err := loadTest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SET a 1", "SET b 2", "SELECT 2", "SET c 3"}
	if len(r.cmds) == 4 && r.cmds[0] > r.cmds[1] { // RDB keys come in hash order
		r.cmds[0], r.cmds[1] = r.cmds[1], r.cmds[0]
	}
	if strings.Join(r.cmds, ",") != strings.Join(want, ",") || res.Status != LoadOK {
		t.Fatalf("loaded %q %+v", r.cmds, res)
	}
}

// Redis 7.0 loads the files this package writes: RDB base, several incr
// files after an aborted rewrite, a quoted file name.
func TestRedisLoadsOurs(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, FileName: "my aof", RDBPreamble: true, Fsync: FsyncAlways}
	a, err := Open(cfg, func(w io.Writer) error {
		rw := rdb.NewWriter(w, rdb.WriterOptions{Checksum: true})
		rw.SelectDB(0)
		rw.String([]byte("x"), []byte("from base"), -1)
		return rw.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	a.AppendCommand(0, []byte("SET"), []byte("y"), []byte("from incr 1"))
	a.Flush()
	if _, err := a.StartRewrite(); err != nil {
		t.Fatal(err)
	}
	a.AppendCommand(0, []byte("SET"), []byte("z"), []byte("from incr 2"))
	a.Flush()
	a.AbortRewrite()
	a.AppendCommand(0, []byte("RPUSH"), []byte("l"), []byte("1"), []byte("2"))
	a.Close()
	if !strings.Contains(manifestOf2(t, cfg), `file "my aof.2.incr.aof" seq 2 type i`) {
		t.Fatalf("manifest %q", manifestOf2(t, cfg))
	}
	p := startRedis(t, dir, "appendonly", "yes", "appendfilename", "my aof")
	if p.conn == nil {
		t.Fatalf("redis-server exited:\n%s", p.log())
	}
	for k, want := range map[string]string{"x": "from base", "y": "from incr 1", "z": "from incr 2"} {
		if got := p.do("GET", k); got != want {
			t.Errorf("GET %s = %q, want %q", k, got, want)
		}
	}
	if got := p.do("LLEN", "l"); got != "2" {
		t.Errorf("LLEN l = %s", got)
	}
}

func manifestOf2(t *testing.T, cfg Config) string {
	return readFile(t, filepath.Join(cfg.AOFDir(), ManifestName(cfg.FileName)))
}

// Redis and this package cut a truncated tail at the same byte, and fail
// on garbage with the same message.
func TestRedisTruncation(t *testing.T) {
	tail := cmd("SET", "a", "1") + cmd("SET", "b", "2")
	cuts := []string{
		tail + cmd("SET", "c", "3")[:7],
		tail + "*",
		tail + "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r",
		tail + "#TS:123",
	}
	for _, content := range cuts {
		var sizes [2]int64
		for i := range sizes {
			dir := t.TempDir()
			cfg := Config{Dir: dir, LoadTruncated: true}
			layout(t, cfg, "file appendonly.aof.1.incr.aof seq 1 type i\n", map[string]string{incrAOF1: content})
			if i == 0 {
				p := startRedis(t, dir, "appendonly", "yes")
				if p.conn == nil {
					t.Fatalf("%q: redis-server exited:\n%s", content, p.log())
				}
				p.shutdown()
			} else if _, _, err := loadTest(cfg); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(filepath.Join(cfg.AOFDir(), incrAOF1))
			if err != nil {
				t.Fatal(err)
			}
			sizes[i] = st.Size()
		}
		if sizes[0] != sizes[1] {
			t.Errorf("%q: Redis left %d bytes, we left %d", content, sizes[0], sizes[1])
		}
	}

	dir := t.TempDir()
	cfg := Config{Dir: dir, LoadTruncated: true}
	layout(t, cfg, "file appendonly.aof.1.incr.aof seq 1 type i\n", map[string]string{incrAOF1: tail + "+garbage\r\n"})
	p := startRedis(t, dir, "appendonly", "yes")
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("Redis loaded garbage")
	}
	_, _, err := loadTest(cfg)
	if err == nil || !strings.Contains(p.log(), err.Error()) {
		t.Fatalf("our error %v is not in Redis's log:\n%s", err, p.log())
	}
}
