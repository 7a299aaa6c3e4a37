package proxy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"

	"github.com/lagwise/lagwise/internal/serverproc"
)

// The monitor against a real Redis 7.0 master and replica (skipped
// without redis-server on PATH).

type monRedis struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func monFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// monStartRedis runs redis-server with args on a free port until the
// test ends.
func monStartRedis(t *testing.T, bin string, args ...string) *monRedis {
	t.Helper()
	port := monFreePort(t)
	dir := filepath.Join(t.TempDir())
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"}, args...)
	r := &monRedis{t: t, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: new(bytes.Buffer)}
	r.cmd = exec.Command(bin, all...)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	password := ""
	if i := slices.Index(args, "--requirepass"); i >= 0 && i+1 < len(args) {
		password = args[i+1]
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if serverproc.Is(r.addr, r.cmd.Process.Pid, password) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start\n%s", r.addr, r.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *monRedis) stop() {
	if r.cmd.ProcessState == nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

// do sends commands to the server, pipelined, and fails the test on an
// error reply.
func (r *monRedis) do(password string, cmds ...[]string) []monReply {
	r.t.Helper()
	c, err := monDial(context.Background(), r.addr, time.Now().Add(10*time.Second), "", password)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.close()
	replies, err := c.do(time.Now().Add(10*time.Second), cmds...)
	if err != nil {
		r.t.Fatal(err)
	}
	for i, rep := range replies {
		if rep.kind == '-' {
			r.t.Fatalf("%v: -%s", cmds[i], rep.str)
		}
	}
	return replies
}

func TestMonitorRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: the monitor is not tested against Redis")
	}
	const pw = "s3cret"
	master := monStartRedis(t, bin, "--requirepass", pw)
	_, mport, _ := net.SplitHostPort(master.addr)
	replica := monStartRedis(t, bin, "--requirepass", pw, "--masterauth", pw, "--replicaof", "127.0.0.1", mport)

	cfg := MonitorConfig{
		Master:   master.addr,
		Replicas: []config.Replica{{Addr: replica.addr, Weight: 1}},
		Policy:   router.DefaultPolicy(),
		Interval: 20 * time.Millisecond,
		Timeout:  500 * time.Millisecond,
		Password: pw,
		Logf:     monLogf(t),
	}
	m := NewMonitor(cfg)
	monRun(t, m)
	v := monWaitFor(t, m, 30*time.Second, "the replica is routable", func(v *View) bool { return v.Eligibility.Routable(0) })
	if v.Master.Role != "master" || v.Replicas[0].Role != "slave" || v.Replicas[0].LinkStatus != "up" {
		t.Errorf("roles: %s", monDescribe(v))
	}
	before := v.Master.Offset

	// A write load for a second: the lag stays known and small.
	var maxLag time.Duration
	var maxBytes int64
	end := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(end); i++ {
		cmds := make([][]string, 200)
		for j := range cmds {
			cmds[j] = []string{"SET", fmt.Sprintf("key:%d:%d", i, j), "value"}
		}
		master.do(pw, cmds...)
		r := m.View().Replicas[0]
		if r.Health != router.Known {
			t.Fatalf("under load: %s", monDescribe(m.View()))
		}
		maxLag, maxBytes = max(maxLag, r.TimeLag), max(maxBytes, r.ByteLag)
	}
	// A few ms on an idle machine; a machine shared with other work can
	// starve the replica for a while.
	t.Logf("under load: time lag at most %v, byte lag at most %d", maxLag, maxBytes)
	if maxLag > 3*time.Second {
		t.Errorf("time lag reached %v on loopback", maxLag)
	}

	// Settled: byte lag 0, time lag 0, the master's view of the replica's
	// ACK caught up (replicas ACK once a second).
	v = monWaitFor(t, m, 10*time.Second, "the replica has caught up", func(v *View) bool {
		r := v.Replicas[0]
		return v.Master.Offset > before && r.Health == router.Known && r.ByteLag == 0 && r.Offset == v.Master.Offset && r.AckOffset == v.Master.Offset
	})
	if r := v.Replicas[0]; r.TimeLag != 0 || r.LagSeconds != 0 || !v.Eligibility.Routable(0) {
		t.Errorf("settled: %s", monDescribe(v))
	}
	if len(v.Master.Replicas) != 1 || v.Master.Replicas[0].Addr != replica.addr || v.Master.Replicas[0].State != "online" {
		t.Errorf("the master's view: %+v", v.Master.Replicas)
	}

	// Promoted: not a replica; back: syncs and is routable again.
	replica.do(pw, []string{"REPLICAOF", "NO", "ONE"})
	monWaitFor(t, m, 10*time.Second, "the promoted replica is NotReplica", func(v *View) bool {
		return v.Replicas[0].Health == router.NotReplica && !v.Eligibility.Routable(0)
	})
	replica.do(pw, []string{"REPLICAOF", "127.0.0.1", mport})
	monWaitFor(t, m, 30*time.Second, "the replica is routable again", func(v *View) bool { return v.Eligibility.Routable(0) })

	// The master goes: the replica's link is down, and its data is the
	// master's last: it stays routable, with the lag it had then.
	master.stop()
	v = monWaitFor(t, m, 10*time.Second, "the link is down", func(v *View) bool {
		return !v.Master.Up && v.Replicas[0].LinkStatus == "down"
	})
	if r := v.Replicas[0]; r.Health != router.Known || r.TimeLag != 0 || !v.Eligibility.Routable(0) {
		t.Errorf("a caught-up replica of a master that is gone: %s", monDescribe(v))
	}

	// The replica goes: no answer.
	replica.stop()
	monWaitFor(t, m, 10*time.Second, "the replica does not answer", func(v *View) bool {
		return !v.Replicas[0].Up && v.Replicas[0].Health == router.NoAnswer
	})
}
