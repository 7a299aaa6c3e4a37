package backend

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/replication"
)

// startReplicaOf starts an in-process server replicating master.
func startReplicaOf(t *testing.T, master *Server, mutate func(*Config)) *Server {
	t.Helper()
	r := startTestServer(t, func(c *Config) {
		c.ReplDisklessSyncDelay = 0
		c.ReplAckInterval = 50
		if mutate != nil {
			mutate(c)
		}
	})
	host, port, _ := net.SplitHostPort(master.Addr().String())
	p, _ := strconv.Atoi(port)
	r.mu.Lock()
	r.startReplication(host, p)
	r.unlock()
	return r
}

func infoValue(t *testing.T, c *testConn, field string) string {
	t.Helper()
	info := c.cmd("info everything")
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// waitConverged waits until every replica has the master's offset and
// digest.
func waitConverged(t *testing.T, master *testConn, replicas ...*testConn) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		want := infoValue(t, master, "master_repl_offset")
		d := digestOf(t, master)
		ok := true
		for _, r := range replicas {
			if infoValue(t, r, "master_link_status") != "up" || infoValue(t, r, "slave_repl_offset") != want || digestOf(t, r) != d {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, r := range replicas {
				t.Logf("replica: link %s offset %s digest %s", infoValue(t, r, "master_link_status"), infoValue(t, r, "slave_repl_offset"), digestOf(t, r))
			}
			t.Fatalf("replicas did not converge on offset %s digest %s", want, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplicationInProcess: a master and a chained pair of replicas, in
// one process under the race detector: full sync, the stream with every
// family of writes, link kills answered by partial resyncs, and a
// promotion that keeps the history (PSYNC2).
func TestReplicationInProcess(t *testing.T) {
	m := startTestServer(t, func(c *Config) { c.ReplDisklessSyncDelay = 0 })
	mc := dialServer(t, m)
	mc.pipeline(randomDataset(rand.New(rand.NewPCG(1, 1)), 2000))
	r1 := startReplicaOf(t, m, nil)
	r2 := startReplicaOf(t, r1, nil)
	c1, c2 := dialServer(t, r1), dialServer(t, r2)
	waitConverged(t, mc, c1)
	waitConverged(t, mc, c2)

	mc.pipelineReplies(aofWorkload(rand.New(rand.NewPCG(2, 2))), false)
	waitConverged(t, mc, c1, c2)
	c1.expect("set x 1", "-READONLY You can't write against a read only replica.\r\n")

	// Kill the links: both replicas come back with partial resyncs.
	c1.expect("client kill type master", ":1\r\n")
	c2.expect("client kill type master", ":1\r\n")
	mc.pipelineReplies(aofWorkload(rand.New(rand.NewPCG(3, 3))), false)
	waitConverged(t, mc, c1, c2)
	if v := infoValue(t, mc, "sync_full"); v != "1" {
		t.Errorf("master sync_full %s, want 1", v)
	}
	if v := infoValue(t, mc, "sync_partial_ok"); v != "1" {
		t.Errorf("master sync_partial_ok %s, want 1", v)
	}

	// Promote r1; r2 keeps following it, partially.
	c1.expect("replicaof no one", "+OK\r\n")
	c1.expect("set promoted 1", "+OK\r\n")
	waitConverged(t, c1, c2)
	if v := infoValue(t, c1, "sync_full"); v != "1" {
		t.Errorf("r1 sync_full %s after the promotion, want 1 (its first sync of r2 only)", v)
	}
}

// TestWritesWhileReplicaWaitsForSnapshot: writes that reach the master
// while a replica waits for its snapshot (repl-diskless-sync-delay) are in
// that snapshot; they must not also reach the replica through the stream,
// or it applies them twice.
func TestWritesWhileReplicaWaitsForSnapshot(t *testing.T) {
	m := startTestServer(t, func(c *Config) { c.ReplDisklessSyncDelay = 1 })
	mc := dialServer(t, m)
	r := startReplicaOf(t, m, nil)
	rc := dialServer(t, r)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(mc.cmd("info replication"), "state=wait_bgsave") {
		if time.Now().After(deadline) {
			t.Fatal("the replica never waited for its snapshot")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mc.expect("incr x", ":1\r\n")
	mc.expect("rpush l a", ":1\r\n")
	waitConverged(t, mc, rc)
	rc.expect("get x", "$1\r\n1\r\n")
}

// TestReplicaAckBeforeOnline: after a diskless transfer the stream waits
// for the replica's first ACK, which says it has loaded the snapshot. That
// ACK can come before the transfer's goroutine has put the replica online;
// the stream must flow then, not wait for the next ACK (a second later, or
// never from a replica that acks only when asked).
func TestReplicaAckBeforeOnline(t *testing.T) {
	m := startTestServer(t, func(c *Config) { c.ReplDisklessSyncDelay = 0 })
	release := make(chan struct{})
	fullSyncSentHook = func() { <-release }
	defer func() { fullSyncSentHook = nil }()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	conn, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	conn.Write(encodeArgs([]string{"REPLCONF", "capa", "eof", "capa", "psync2"}))
	if line, _ := br.ReadString('\n'); line != "+OK\r\n" {
		t.Fatalf("REPLCONF capa: %q", line)
	}
	conn.Write(encodeArgs([]string{"PSYNC", "?", "-1"}))
	line := "\n"
	for line == "\n" {
		line, _ = br.ReadString('\n')
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "+FULLRESYNC" {
		t.Fatalf("PSYNC ? -1: %q", line)
	}
	hdr, _ := br.ReadString('\n')
	mark, ok := strings.CutPrefix(strings.TrimSuffix(hdr, "\r\n"), "$EOF:")
	if !ok || len(mark) != 40 {
		t.Fatalf("transfer header %q", hdr)
	}
	var body []byte
	for !bytes.HasSuffix(body, []byte(mark)) {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("reading the snapshot: %v", err)
		}
		body = append(body, b)
	}

	// The replica has loaded the snapshot and acknowledges it while the
	// master has not yet seen the transfer end.
	conn.Write(encodeArgs([]string{"REPLCONF", "ACK", f[2]}))
	deadline := time.Now().Add(5 * time.Second)
	for acked := false; !acked; {
		m.mu.Lock()
		for _, c := range m.clients {
			acked = acked || c.repl != nil && c.repl.AckTime.After(c.created) && c.repl.State == replication.SendBulk
		}
		m.unlock()
		if time.Now().After(deadline) {
			t.Fatal("the master did not read the ACK")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)

	mc := dialServer(t, m)
	mc.expect("set k v", "+OK\r\n")
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("the stream after the early ACK: %v (read %q)", err, got)
	}
	if string(got) != want {
		t.Fatalf("the stream after the early ACK: %q, want %q", got, want)
	}
}
