package e2e

// `lagwise up`: the master, the replicas and the proxy of a config file,
// started by one command and stopped by one signal.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upWait bounds how long `lagwise up` may take to report itself up, and
// to exit once told to; the machine may be busy with other tests.
const upWait = 60 * time.Second

// upProc is a running `lagwise up`.
type upProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr
	done chan struct{}
}

// upPorts are the addresses of an up config.
type upPorts struct {
	listen, metrics, master string
	replicas                []string
}

// writeUpConfig writes a config.yaml with a master and n replicas on
// free ports into dir.
func writeUpConfig(t *testing.T, dir string, n int) (string, upPorts) {
	t.Helper()
	addr := func() string {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	p := upPorts{listen: addr(), metrics: addr(), master: addr()}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nmetrics_listen: %s\nmaster: %s\nreplicas:\n", p.listen, p.metrics, p.master)
	for i := 0; i < n; i++ {
		r := addr()
		p.replicas = append(p.replicas, r)
		fmt.Fprintf(&b, "  - addr: %s\n    weight: 1\n", r)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, p
}

// startUp runs `lagwise up` with args. It is killed when the test ends
// if it still runs, and its output is logged if the test failed.
func startUp(t *testing.T, args ...string) *upProc {
	t.Helper()
	if againstRedis() {
		t.Skip("lagwise up needs the lagwise binary")
	}
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	u := &upProc{
		cmd:  exec.Command(lagwiseBin, append([]string{"up"}, args...)...),
		out:  &syncBuffer{},
		done: make(chan struct{}),
	}
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		u.cmd.Wait()
		close(u.done)
	}()
	t.Cleanup(func() {
		select {
		case <-u.done:
		default:
			u.cmd.Process.Kill()
			<-u.done
		}
		for _, pid := range u.pids() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("lagwise up output:\n%s", u.out.tail(8192))
		}
	})
	return u
}

// waitOutput waits until the output holds s; it fails the test if up
// exits first or upWait passes.
func (u *upProc) waitOutput(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(upWait)
	for !strings.Contains(u.out.String(), s) {
		select {
		case <-u.done:
			if strings.Contains(u.out.String(), s) {
				return
			}
			t.Fatalf("lagwise up exited (%v) before printing %q", u.cmd.ProcessState, s)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lagwise up did not print %q within %v", s, upWait)
		}
	}
}

// wait waits for up to exit and returns its exit code.
func (u *upProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-u.done:
	case <-time.After(within):
		t.Fatalf("lagwise up did not exit within %v", within)
	}
	return u.cmd.ProcessState.ExitCode()
}

var startedRE = regexp.MustCompile(`started (\S+) (\S+) \(pid (\d+),`)

// servers returns the servers up reported starting: name → pid.
func (u *upProc) servers() map[string]int {
	out := map[string]int{}
	for _, m := range startedRE.FindAllStringSubmatch(u.out.String(), -1) {
		pid, _ := strconv.Atoi(m[3])
		out[m[1]] = pid
	}
	return out
}

func (u *upProc) pids() []int {
	var out []int
	for _, pid := range u.servers() {
		out = append(out, pid)
	}
	return out
}

// checkGone checks that none of the processes runs any more and that no
// address accepts connections.
func checkGone(t *testing.T, pids map[string]int, addrs ...string) {
	t.Helper()
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after lagwise up exited (kill 0: %v)", name, pid, err)
		}
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after lagwise up exited", a)
		}
	}
}

// infoFields is INFO's text as a map.
func infoFields(r *reply) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(string(r.data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok {
			f[k] = v
		}
	}
	return f
}

func mustDo(t *testing.T, c *client, args ...string) *reply {
	t.Helper()
	r, err := c.doStrings(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return r
}

func TestUpServesAndStops(t *testing.T) {
	dir := t.TempDir()
	cfg, p := writeUpConfig(t, dir, 2)
	data := filepath.Join(dir, "data")
	u := startUp(t, "--config", cfg, "--dir", data)
	u.waitOutput(t, "Ctrl-C to stop")
	out := u.out.String()
	_, port, _ := net.SplitHostPort(p.listen)
	for _, want := range []string{
		"redis-cli -h 127.0.0.1 -p " + port,
		"http://" + p.metrics + "/metrics",
		"data directory: " + data,
		"config: " + cfg,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	pids := u.servers()
	if len(pids) != 3 {
		t.Fatalf("up reported %d servers started, want 3: %v", len(pids), pids)
	}
	for _, name := range []string{"master", "replica1", "replica2"} {
		if _, err := os.Stat(filepath.Join(data, name, "server.log")); err != nil {
			t.Errorf("%s's log: %v", name, err)
		}
	}

	// Through the proxy.
	pc, err := dial(p.listen)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if r := mustDo(t, pc, "SET", "up:key", "up:value"); string(r.raw) != "+OK\r\n" {
		t.Fatalf("SET through the proxy: %s", r)
	}
	if r := mustDo(t, pc, "GET", "up:key"); string(r.raw) != "$8\r\nup:value\r\n" {
		t.Fatalf("GET through the proxy: %s", r)
	}

	// Straight on the master and on each replica: the write replicated.
	mc, err := dial(p.master)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	masterOffset, _ := strconv.ParseInt(infoFields(mustDo(t, mc, "INFO", "replication"))["master_repl_offset"], 10, 64)
	if masterOffset <= 0 {
		t.Errorf("master_repl_offset is %d after a write", masterOffset)
	}
	for _, ra := range p.replicas {
		rc, err := dial(ra)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			f := infoFields(mustDo(t, rc, "INFO", "replication"))
			off, _ := strconv.ParseInt(f["slave_repl_offset"], 10, 64)
			got := mustDo(t, rc, "GET", "up:key")
			if f["role"] == "slave" && f["master_link_status"] == "up" && off >= masterOffset && string(got.data) == "up:value" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s: role:%s master_link_status:%s slave_repl_offset:%d (master at %d), GET up:key %s",
					ra, f["role"], f["master_link_status"], off, masterOffset, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	mc.Close()
	pc.Close()

	// The printed metrics URL serves the proxy's metrics.
	waitMetrics(t, "http://"+p.metrics+"/metrics", "lagwise_replica_lag_seconds")

	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t, 20*time.Second); code != 0 {
		t.Errorf("lagwise up exited %d on SIGTERM, want 0", code)
	}
	if !strings.Contains(u.out.String(), "data and logs kept in "+data) {
		t.Errorf("the output does not say where the data was kept")
	}
	checkGone(t, pids, append([]string{p.listen, p.metrics, p.master}, p.replicas...)...)
}

// waitMetrics waits up to 10 s for url to answer 200 with a body that
// holds want.
func waitMetrics(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		var state string
		resp, err := hc.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return
			}
			state = fmt.Sprintf("%s, %d bytes", resp.Status, len(body))
		} else {
			state = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: no %s (%s)", url, want, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A port taken before the start: up names it and starts nothing.
func TestUpPortTaken(t *testing.T) {
	dir := t.TempDir()
	cfg, p := writeUpConfig(t, dir, 2)
	l, err := net.Listen("tcp", p.replicas[1])
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u := startUp(t, "--config", cfg, "--dir", filepath.Join(dir, "data"))
	if code := u.wait(t, upWait); code == 0 {
		t.Errorf("lagwise up exited 0 with replica2's port taken")
	}
	out := u.out.String()
	if want := "replica2 " + p.replicas[1] + ": " + p.replicas[1] + " is in use"; !strings.Contains(out, want) {
		t.Errorf("the output lacks %q", want)
	}
	if n := len(u.servers()); n != 0 {
		t.Errorf("up started %d servers despite the busy port", n)
	}
	checkGone(t, nil, p.master, p.replicas[0], p.listen)
}

// A server that dies while up runs: up names it, shows its log and
// stops the rest with a non-zero status.
func TestUpServerDies(t *testing.T) {
	dir := t.TempDir()
	cfg, p := writeUpConfig(t, dir, 2)
	u := startUp(t, "--config", cfg, "--dir", filepath.Join(dir, "data"))
	u.waitOutput(t, "Ctrl-C to stop")
	pids := u.servers()
	if err := syscall.Kill(pids["replica1"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t, 20*time.Second); code == 0 {
		t.Errorf("lagwise up exited 0 after replica1 was killed")
	}
	out := u.out.String()
	for _, want := range []string{
		fmt.Sprintf("replica1 %s (pid %d) stopped unexpectedly: signal: killed", p.replicas[0], pids["replica1"]),
		filepath.Join(dir, "data", "replica1", "server.log"),
		"Ready to accept connections", // the log's tail
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	checkGone(t, pids, p.listen, p.master, p.replicas[1])
}
