package backend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeResult is one scrape of a metrics endpoint: the text and the
// parsed families.
type scrapeResult struct {
	t        *testing.T
	text     string
	families map[string]*dto.MetricFamily
}

// httpGet fetches path from an endpoint and returns its status and body.
func httpGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// serveMetrics serves s's metrics handler on a test HTTP server and
// returns its base URL.
func serveMetrics(t *testing.T, s *Server) string {
	t.Helper()
	hs := httptest.NewServer(s.MetricsHandler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func scrapeMetrics(t *testing.T, base string) *scrapeResult {
	t.Helper()
	code, body := httpGet(t, base, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	return &scrapeResult{t: t, text: body, families: fams}
}

// series returns the metric of family name whose labels are exactly
// labels ("k", "v", ...), or nil.
func (r *scrapeResult) series(name string, labels ...string) *dto.Metric {
	f := r.families[name]
	if f == nil {
		return nil
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// value returns a series' value, failing the test if it is missing.
func (r *scrapeResult) value(name string, labels ...string) float64 {
	r.t.Helper()
	m := r.series(name, labels...)
	if m == nil {
		r.t.Fatalf("no series %s%v in the scrape", name, labels)
	}
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	r.t.Fatalf("%s%v is neither a gauge nor a counter", name, labels)
	return 0
}

// expectValue checks a series' value.
func (r *scrapeResult) expectValue(name string, want float64, labels ...string) {
	r.t.Helper()
	if got := r.value(name, labels...); got != want {
		r.t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// expectType checks a family's type.
func (r *scrapeResult) expectType(name string, typ dto.MetricType) {
	r.t.Helper()
	f := r.families[name]
	if f == nil {
		r.t.Errorf("no family %s", name)
		return
	}
	if f.GetType() != typ {
		r.t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
	}
}

func infoInt(t *testing.T, c *testConn, field string) float64 {
	t.Helper()
	v, err := strconv.ParseInt(infoValue(t, c, field), 10, 64)
	if err != nil {
		t.Fatalf("INFO %s: %v", field, err)
	}
	return float64(v)
}

// TestMetricsMaster: a master's scrape after some writes says what INFO
// says: keys per database, commands, memory, role, persistence.
func TestMetricsMaster(t *testing.T) {
	s := startTestServer(t, func(c *Config) { c.MaxMemory = 1 << 30 })
	c := dialServer(t, s)
	for i := range 10 {
		c.expect(fmt.Sprintf("set k%d v%d", i, i), "+OK\r\n")
	}
	c.expect("expire k0 1000", ":1\r\n")
	c.expect("expire k1 1000", ":1\r\n")
	c.expect("get nosuch", "$-1\r\n")
	c.expect("get k2", "$2\r\nv2\r\n")
	c.expect("lpush k3 x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	c.expect("select 3", "+OK\r\n")
	c.expect("set other 1", "+OK\r\n")
	c.expect("config get maxmemory", "*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n")

	base := serveMetrics(t, s)
	r := scrapeMetrics(t, base)
	r.expectValue("lagwise_server_up", 1)
	r.expectValue("lagwise_server_ready", 1)
	r.expectValue("lagwise_server_loading", 0)
	r.expectValue("lagwise_server_build_info", 1, "version", Version, "redis_version", redisCompatVersion)
	r.expectValue("lagwise_server_keys", 10, "db", "0")
	r.expectValue("lagwise_server_expiring_keys", 2, "db", "0")
	r.expectValue("lagwise_server_keys", 1, "db", "3")
	if m := r.series("lagwise_server_keys", "db", "1"); m != nil {
		t.Errorf("an empty database 1 is exported: %v", m)
	}
	r.expectValue("lagwise_server_commands_total", 11, "cmd", "set")
	r.expectValue("lagwise_server_commands_total", 2, "cmd", "expire")
	r.expectValue("lagwise_server_commands_total", 2, "cmd", "get")
	r.expectValue("lagwise_server_commands_failed_total", 1, "cmd", "lpush")
	r.expectValue("lagwise_server_commands_total", 1, "cmd", "config|get")
	if r.value("lagwise_server_commands_duration_seconds_total", "cmd", "set") <= 0 {
		t.Error("no time spent in SET")
	}
	r.expectValue("lagwise_server_errors_total", 1, "error", "WRONGTYPE")
	r.expectValue("lagwise_server_error_replies_total", 1)
	r.expectValue("lagwise_server_keyspace_hits_total", infoInt(t, c, "keyspace_hits"))
	r.expectValue("lagwise_server_keyspace_misses_total", infoInt(t, c, "keyspace_misses"))
	// The INFO above ran after the scrape: the scrape saw one command less.
	if got, info := r.value("lagwise_server_commands_processed_total"), infoInt(t, c, "total_commands_processed"); got < 17 || got >= info {
		t.Errorf("commands_processed_total %v; INFO now says %v", got, info)
	}
	r.expectValue("lagwise_server_connected_clients", 1)
	r.expectValue("lagwise_server_blocked_clients", 0)
	r.expectValue("lagwise_server_maxclients", 10000)
	r.expectValue("lagwise_server_maxmemory_bytes", 1<<30)
	if used := r.value("lagwise_server_used_memory_bytes"); used <= 0 || used > r.value("lagwise_server_used_memory_peak_bytes") {
		t.Errorf("used_memory_bytes %v, peak %v", used, r.value("lagwise_server_used_memory_peak_bytes"))
	}
	if r.value("lagwise_server_net_input_bytes_total") <= 0 || r.value("lagwise_server_net_output_bytes_total") <= 0 {
		t.Error("no network bytes counted")
	}
	r.expectValue("lagwise_server_role", 1, "role", "master")
	r.expectValue("lagwise_server_role", 0, "role", "slave")
	r.expectValue("lagwise_server_connected_replicas", 0)
	r.expectValue("lagwise_server_master_repl_offset_bytes", 0) // no backlog without replicas
	for _, name := range []string{"lagwise_server_master_link_up", "lagwise_server_replica_offset_bytes", "lagwise_server_replica_ack_offset_bytes"} {
		if r.families[name] != nil {
			t.Errorf("a master without replicas exports %s", name)
		}
	}
	r.expectValue("lagwise_server_rdb_changes_since_last_save", infoInt(t, c, "rdb_changes_since_last_save"))
	r.expectValue("lagwise_server_rdb_last_save_timestamp_seconds", infoInt(t, c, "rdb_last_save_time"))
	r.expectValue("lagwise_server_aof_enabled", 0)
	r.expectValue("lagwise_server_sync_full_total", 0)
	r.expectValue("lagwise_server_sync_partial_ok_total", 0)
	r.expectValue("lagwise_server_sync_partial_err_total", 0)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if r.families[name] == nil {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
	r.expectType("lagwise_server_commands_total", dto.MetricType_COUNTER)
	r.expectType("lagwise_server_keys", dto.MetricType_GAUGE)
	r.expectType("lagwise_server_expired_keys_total", dto.MetricType_COUNTER)
	r.expectType("lagwise_server_evicted_keys_total", dto.MetricType_COUNTER)
	for name := range r.families {
		if !strings.HasPrefix(name, "lagwise_server_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s is not named lagwise_server_*", name)
		}
	}

	// A key expires: the counter follows.
	c.expect("select 0", "+OK\r\n")
	c.expect("pexpire k9 1", ":1\r\n")
	time.Sleep(5 * time.Millisecond)
	c.expect("get k9", "$-1\r\n")
	r = scrapeMetrics(t, base)
	r.expectValue("lagwise_server_expired_keys_total", 1)
	r.expectValue("lagwise_server_keys", 9, "db", "0")

	code, body := httpGet(t, base, "/readyz")
	if code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	code, body = httpGet(t, base, "/healthz")
	if code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _ = httpGet(t, base, "/nosuch"); code != http.StatusNotFound {
		t.Errorf("/nosuch: %d", code)
	}
	if code, body = httpGet(t, base, "/"); code != http.StatusOK || !strings.Contains(body, "lagwise server") {
		t.Errorf("/: %d %q", code, body)
	}
}

// TestMetricsReplication: a master with a replica. The replica's scrape
// shows its role, its link up and its offset at the master's; the
// master's shows the replica's ACKs and the full sync it served.
func TestMetricsReplication(t *testing.T) {
	m := startTestServer(t, func(c *Config) { c.ReplDisklessSyncDelay = 0 })
	mc := dialServer(t, m)
	mc.expect("set before 1", "+OK\r\n")
	rs := startReplicaOf(t, m, nil)
	rc := dialServer(t, rs)
	for i := range 20 {
		mc.expect(fmt.Sprintf("set key%d %d", i, i), "+OK\r\n")
	}
	mc.expect("select 2", "+OK\r\n")
	mc.expect("sadd s a b c", ":3\r\n")
	waitConverged(t, mc, rc)

	// The master pings its replicas now and then, which moves its offset:
	// scrape both until the replica's offset and its ACK (every 50 ms
	// here) are the master's offset of the same moment.
	mbase, rbase := serveMetrics(t, m), serveMetrics(t, rs)
	_, rport, _ := net.SplitHostPort(rs.Addr().String())
	replica := "127.0.0.1:" + rport
	mr, rr, offset := scrapeConverged(t, mbase, rbase, replica)

	rr.expectValue("lagwise_server_role", 1, "role", "slave")
	rr.expectValue("lagwise_server_role", 0, "role", "master")
	rr.expectValue("lagwise_server_master_link_up", 1)
	rr.expectValue("lagwise_server_master_sync_in_progress", 0)
	rr.expectValue("lagwise_server_master_repl_offset_bytes", offset)
	rr.expectValue("lagwise_server_ready", 1)
	rr.expectValue("lagwise_server_keys", 21, "db", "0")
	rr.expectValue("lagwise_server_keys", 1, "db", "2")
	if io := rr.value("lagwise_server_master_last_io_age_seconds"); io < 0 || io > 30 {
		t.Errorf("master_last_io_age_seconds %v", io)
	}
	if rr.value("lagwise_server_net_repl_input_bytes_total") <= 0 {
		t.Error("the replica counts no bytes from its master")
	}
	rr.expectValue("lagwise_server_connected_replicas", 0)

	mr.expectValue("lagwise_server_role", 1, "role", "master")
	mr.expectValue("lagwise_server_connected_replicas", 1)
	mr.expectValue("lagwise_server_replica_online", 1, "replica", replica)
	if lag := mr.value("lagwise_server_replica_ack_lag_seconds", "replica", replica); lag < 0 || lag > 5 {
		t.Errorf("replica_ack_lag_seconds %v", lag)
	}
	mr.expectValue("lagwise_server_sync_full_total", 1)
	mr.expectValue("lagwise_server_sync_partial_ok_total", 0)
	mr.expectValue("lagwise_server_repl_backlog_active", 1)
	mr.expectValue("lagwise_server_repl_backlog_size_bytes", float64(m.cfg.ReplBacklogSize))
	if mr.families["lagwise_server_master_link_up"] != nil {
		t.Error("the master exports master_link_up")
	}
	if mr.value("lagwise_server_net_repl_output_bytes_total") <= 0 {
		t.Error("the master counts no bytes sent to its replica")
	}

	// A partial resync after the link is killed counts.
	rc.expect("client kill type master", ":1\r\n")
	mc.expect("set after 1", "+OK\r\n")
	waitConverged(t, mc, rc)
	mr, _, _ = scrapeConverged(t, mbase, rbase, replica)
	mr.expectValue("lagwise_server_sync_partial_ok_total", 1)
	mr.expectValue("lagwise_server_sync_full_total", 1)

}

// scrapeConverged scrapes a master and its replica until the replica's
// offset and the master's view of its ACK are the master's offset; it
// returns both scrapes and that offset.
func scrapeConverged(t *testing.T, mbase, rbase, replica string) (mr, rr *scrapeResult, offset float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mr = scrapeMetrics(t, mbase)
		rr = scrapeMetrics(t, rbase)
		offset = mr.value("lagwise_server_master_repl_offset_bytes")
		ack := mr.series("lagwise_server_replica_ack_offset_bytes", "replica", replica)
		off := rr.series("lagwise_server_replica_offset_bytes")
		if ack != nil && off != nil && ack.GetGauge().GetValue() == offset && off.GetGauge().GetValue() == offset {
			return mr, rr, offset
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica's offset and ACK never reached the master's %v:\nmaster:\n%s\nreplica:\n%s", offset,
				grepLines(mr.text, "lagwise_server_replica"), grepLines(rr.text, "offset"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsReadiness: /readyz says why a replica whose master is
// unreachable, or a server loading its dataset, is not ready; the scrape
// still answers.
func TestMetricsReadiness(t *testing.T) {
	// A port nobody listens on: the replica's link never comes up.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	rs := startTestServer(t, nil)
	p, _ := strconv.Atoi(port)
	rs.mu.Lock()
	rs.startReplication("127.0.0.1", p)
	rs.unlock()

	base := serveMetrics(t, rs)
	code, body := httpGet(t, base, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "master link down (connect") {
		t.Errorf("/readyz of a replica without its master: %d %q", code, body)
	}
	r := scrapeMetrics(t, base)
	r.expectValue("lagwise_server_ready", 0)
	r.expectValue("lagwise_server_master_link_up", 0)
	r.expectValue("lagwise_server_role", 1, "role", "slave")
	if r.families["lagwise_server_replica_offset_bytes"] != nil {
		t.Error("a replica that never synced exports an offset")
	}
	if r.families["lagwise_server_master_last_io_age_seconds"] != nil {
		t.Error("a replica whose link is down exports master_last_io_age_seconds")
	}

	// While Start loads the dataset it holds the executor lock: the
	// endpoint answers without it.
	s := startTestServer(t, nil)
	base = serveMetrics(t, s)
	s.mu.Lock()
	s.mx.starting.Store(true)
	code, body = httpGet(t, base, "/readyz")
	r = scrapeMetrics(t, base)
	s.mx.starting.Store(false)
	s.mu.Unlock()
	if code != http.StatusServiceUnavailable || body != "loading the dataset\n" {
		t.Errorf("/readyz while loading: %d %q", code, body)
	}
	r.expectValue("lagwise_server_up", 1)
	r.expectValue("lagwise_server_loading", 1)
	r.expectValue("lagwise_server_ready", 0)
	if r.families["lagwise_server_keys"] != nil {
		t.Error("the dataset's metrics are exported while it loads")
	}
}

// TestMetricsListenDirective: metrics-listen in the config, CONFIG GET,
// CONFIG SET refused, bad values, and the endpoint itself.
func TestMetricsListenDirective(t *testing.T) {
	cfg, _, err := LoadConfig([]string{"--metrics-listen", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsListen != "127.0.0.1:0" {
		t.Errorf("MetricsListen %q", cfg.MetricsListen)
	}
	dir := t.TempDir()
	conf := dir + "/redis.conf"
	if err := os.WriteFile(conf, []byte("metrics-listen [::1]:9121\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, _, err = LoadConfig([]string{conf}); err != nil || cfg.MetricsListen != "[::1]:9121" {
		t.Errorf("from a file: %v %q", err, cfg.MetricsListen)
	}
	if DefaultConfig().MetricsListen != "" {
		t.Error("metrics-listen is on by default")
	}
	for _, bad := range []string{"9121", "host", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:-1"} {
		_, _, err := LoadConfig([]string{"--metrics-listen", bad})
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "host:port") {
			t.Errorf("metrics-listen %q: %v", bad, err)
		}
	}

	s := startTestServer(t, func(c *Config) { c.MetricsListen = "127.0.0.1:0" })
	c := dialServer(t, s)
	c.expect("config get metrics-listen", "*2\r\n$14\r\nmetrics-listen\r\n$11\r\n127.0.0.1:0\r\n")
	c.expect("config set metrics-listen 127.0.0.1:1",
		"-ERR CONFIG SET failed (possibly related to argument 'metrics-listen') - can't set immutable config\r\n")

	// The endpoint as Start opens it, and closes at shutdown.
	if s.MetricsAddr() != nil {
		t.Fatal("the endpoint is open before startMetrics")
	}
	if err := s.startMetrics(); err != nil {
		t.Fatal(err)
	}
	addr := s.MetricsAddr().String()
	c.expect("set a 1", "+OK\r\n")
	scrapeMetrics(t, "http://"+addr).expectValue("lagwise_server_keys", 1, "db", "0")

	// The address is taken now: a second server cannot start on it.
	other := New(func() *Config { c := DefaultConfig(); c.MetricsListen = addr; return c }())
	err = other.startMetrics()
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "metrics-listen") || !strings.Contains(err.Error(), addr) {
		t.Errorf("a taken address: %v", err)
	}

	s.Shutdown()
	select {
	case <-s.mx.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint did not stop at shutdown")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the endpoint still answers after shutdown")
	}
}

// TestMetricsPromtool: promtool, where installed (Debian's prometheus
// package), lints the scrapes of a master with a replica, of the replica,
// and of a server loading its dataset: names, units, help, types.
func TestMetricsPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("promtool not installed: CI must lint the exposition (.ci/run installs Debian's prometheus package)")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus): exposition not linted")
	}
	m := startTestServer(t, func(c *Config) { c.ReplDisklessSyncDelay = 0 })
	mc := dialServer(t, m)
	mc.expect("set a 1", "+OK\r\n")
	mc.expect("pexpire a 100000", ":1\r\n")
	mc.expect("lpush a x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	rs := startReplicaOf(t, m, nil)
	waitConverged(t, mc, dialServer(t, rs))
	mbase, rbase := serveMetrics(t, m), serveMetrics(t, rs)
	scrapes := map[string]string{"master": scrapeMetrics(t, mbase).text, "replica": scrapeMetrics(t, rbase).text}
	rs.mx.starting.Store(true)
	scrapes["loading"] = scrapeMetrics(t, rbase).text
	rs.mx.starting.Store(false)
	for name, text := range scrapes {
		cmd := exec.Command(bin, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics, %s: %v\n%s", name, err, out)
		}
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
