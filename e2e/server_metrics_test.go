package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The storage server's metrics endpoint (lagwise server --metrics-listen):
// the binary serves /metrics, /healthz and /readyz on an address of its
// own; the values follow the writes, and a replica started with
// --replicaof reports its link up and its offset at the master's.

// metricsNode is a lagwise server started with --metrics-listen.
type metricsNode struct {
	s       *server
	c       *client
	port    int
	metrics string // base URL of the metrics endpoint
}

// startMetricsNode starts a lagwise server with the replication tests'
// directives, extra, and --metrics-listen on a free port of 127.0.0.1,
// retrying with other ports if one got taken meanwhile.
func startMetricsNode(t *testing.T, extra ...string) *metricsNode {
	t.Helper()
	if againstRedis() {
		t.Skip("metrics-listen is lagwise's own directive")
	}
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err1 := freePort()
		mport, err2 := freePort()
		if err1 != nil || err2 != nil || port == mport {
			lastErr = fmt.Errorf("picking ports: %v %v", err1, err2)
			continue
		}
		maddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(mport))
		args := append([]string{"server"}, commonDirectives(port, dir)...)
		args = append(append(args, replDirectives...), extra...)
		args = append(args, "--metrics-listen", maddr)
		s, err := launch("lagwise", lagwiseBin, args, port)
		if err == nil {
			s.stopAtCleanup(t)
			return &metricsNode{s: s, c: s.connect(t), port: port, metrics: "http://" + maddr}
		}
		lastErr = err
		if !strings.Contains(strings.ToLower(s.log.String()), "address already in use") {
			break
		}
	}
	t.Fatalf("starting lagwise with --metrics-listen: %v", lastErr)
	return nil
}

// get fetches a path of the node's metrics endpoint.
func (n *metricsNode) get(t *testing.T, path string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(n.metrics + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", n.metrics, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s%s: %v", n.metrics, path, err)
	}
	return resp.StatusCode, string(body)
}

// scrape fetches /metrics and parses it.
func (n *metricsNode) scrape(t *testing.T) promScrape {
	t.Helper()
	code, body := n.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return promScrape(fams)
}

// promScrape is a parsed scrape.
type promScrape map[string]*dto.MetricFamily

// get returns the value of the series of name with exactly the labels
// given ("name", "value", ...), and whether it is there.
func (p promScrape) get(name string, labels ...string) (float64, bool) {
	f := p[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		match := true
		for i, lp := range m.GetLabel() {
			// The text format sorts labels by name; so do the callers.
			if lp.GetName() != labels[2*i] || lp.GetValue() != labels[2*i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// expect checks the value of a series.
func (p promScrape) expect(t *testing.T, who, name string, want float64, labels ...string) {
	t.Helper()
	got, ok := p.get(name, labels...)
	if !ok {
		t.Errorf("%s: no %s%v", who, name, labels)
	} else if got != want {
		t.Errorf("%s: %s%v = %v, want %v", who, name, labels, got, want)
	}
}

// TestServerMetrics: a master and a replica started with --replicaof,
// both with --metrics-listen. Keys, commands and roles follow the
// writes; the replica's link is up and its offset reaches the master's,
// and the master sees the replica's ACK at that offset.
func TestServerMetrics(t *testing.T) {
	m := startMetricsNode(t)
	for i := range 100 {
		must(t, m.c, "SET", "key:"+strconv.Itoa(i), strconv.Itoa(i))
	}
	must(t, m.c, "EXPIRE", "key:0", "1000")
	ms := m.scrape(t)
	ms.expect(t, "master", "lagwise_server_up", 1)
	ms.expect(t, "master", "lagwise_server_ready", 1)
	ms.expect(t, "master", "lagwise_server_keys", 100, "db", "0")
	ms.expect(t, "master", "lagwise_server_expiring_keys", 1, "db", "0")
	ms.expect(t, "master", "lagwise_server_commands_total", 100, "cmd", "set")
	ms.expect(t, "master", "lagwise_server_role", 1, "role", "master")
	ms.expect(t, "master", "lagwise_server_role", 0, "role", "slave")
	ms.expect(t, "master", "lagwise_server_connected_replicas", 0)
	ms.expect(t, "master", "lagwise_server_aof_enabled", 0)
	if _, ok := ms.get("process_start_time_seconds"); !ok {
		t.Error("master: no process metrics")
	}
	if code, body := m.get(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("master /healthz: %d %q", code, body)
	}
	if code, body := m.get(t, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("master /readyz: %d %q", code, body)
	}

	r := startMetricsNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.port))
	for i := range 50 {
		must(t, m.c, "INCR", "counter")
		must(t, m.c, "RPUSH", "list", strconv.Itoa(i))
	}
	replica := net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	// The master's offset moves with its pings too: wait until one
	// moment's scrapes agree.
	deadline := time.Now().Add(replWait)
	var rs promScrape
	for {
		ms = m.scrape(t)
		rs = r.scrape(t)
		off, _ := ms.get("lagwise_server_master_repl_offset_bytes")
		ack, _ := ms.get("lagwise_server_replica_ack_offset_bytes", "replica", replica)
		roff, _ := rs.get("lagwise_server_replica_offset_bytes")
		up, _ := rs.get("lagwise_server_master_link_up")
		if up == 1 && off > 0 && roff == off && ack == off {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not caught up: master offset %v, replica offset %v, link up %v, ACK %v", off, roff, up, ack)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rs.expect(t, "replica", "lagwise_server_role", 1, "role", "slave")
	rs.expect(t, "replica", "lagwise_server_ready", 1)
	rs.expect(t, "replica", "lagwise_server_keys", 102, "db", "0")
	rs.expect(t, "replica", "lagwise_server_master_sync_in_progress", 0)
	ms.expect(t, "master", "lagwise_server_connected_replicas", 1)
	ms.expect(t, "master", "lagwise_server_replica_online", 1, "replica", replica)
	ms.expect(t, "master", "lagwise_server_sync_full_total", 1)
	ms.expect(t, "master", "lagwise_server_keys", 102, "db", "0")
	ms.expect(t, "master", "lagwise_server_commands_total", 50, "cmd", "incr")
	if lag, ok := ms.get("lagwise_server_replica_ack_lag_seconds", "replica", replica); !ok || lag < 0 || lag > 10 {
		t.Errorf("master: replica_ack_lag_seconds %v (present %v)", lag, ok)
	}
	if code, body := r.get(t, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("replica /readyz: %d %q", code, body)
	}
	if v := string(must(t, r.c, "CONFIG", "GET", "metrics-listen").elems[1].data); "http://"+v != r.metrics {
		t.Errorf("replica CONFIG GET metrics-listen: %q, started with %s", v, r.metrics)
	}

	// The master goes away: the replica says its link is down.
	m.s.stop()
	deadline = time.Now().Add(replWait)
	for {
		code, body := r.get(t, "/readyz")
		up, _ := r.scrape(t).get("lagwise_server_master_link_up")
		if code == http.StatusServiceUnavailable && strings.HasPrefix(body, "master link down") && up == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica without its master: /readyz %d %q, master_link_up %v", code, body, up)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServerMetricsAddressTaken: a metrics-listen address that cannot be
// bound stops the start, with an error that names it.
func TestServerMetricsAddressTaken(t *testing.T) {
	if againstRedis() {
		t.Skip("metrics-listen is lagwise's own directive")
	}
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	args := append([]string{"server"}, commonDirectives(port, t.TempDir())...)
	args = append(args, "--metrics-listen", ln.Addr().String())
	out, err := exec.CommandContext(ctx, lagwiseBin, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("lagwise server with a taken metrics-listen address: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "metrics-listen") || !strings.Contains(string(out), ln.Addr().String()) ||
		!strings.Contains(string(out), "address already in use") {
		t.Errorf("the error does not say what happened:\n%s", out)
	}
	if pingOK(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))) {
		t.Error("the server answers on its port")
	}
}
