package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// testSnapshot is a proxy with a master, a replica in sync and one whose
// lag is unknown.
func testSnapshot() Snapshot {
	read := make([]uint64, len(DurationBuckets)+1)
	read[BucketIndex(0.0003)] = 7 // 0.0005 bucket
	read[BucketIndex(0.002)] = 2  // 0.0025 bucket
	read[len(DurationBuckets)] = 1
	return Snapshot{
		Backends: []Backend{
			{Addr: "127.0.0.1:6380", Role: "master", Up: true, Offset: 1000, LagBytes: -1, LagSeconds: math.Inf(1)},
			{Addr: "127.0.0.1:6381", Role: "slave", Up: true, IsReplica: true, Offset: 990, LagBytes: 10, LagSeconds: 0.02, Routable: true},
			{Addr: "127.0.0.1:6382", IsReplica: true, Offset: -1, LagBytes: -1, LagSeconds: math.Inf(1)},
		},
		MasterOffset:      1000,
		Reads:             map[string]uint64{"127.0.0.1:6381": 40, "127.0.0.1:6380": 2},
		Requests:          map[string]uint64{"read": 42, "write": 8},
		Durations:         map[string]Histogram{"read": HistogramOf(read, 0.0123)},
		RYWMasterReads:    2,
		ClientConnections: 5,
		ConfigReloads:     map[string]uint64{"ok": 3},
		ReconcileActions:  1,
		BackendErrors:     map[string]uint64{"127.0.0.1:6382": 4},
		Ready:             true,
	}
}

func scrape(t *testing.T, h http.Handler) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s\n%s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	return string(body), fams
}

// value returns the value of the series of family name with the labels
// (name=value pairs), and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
		return math.NaN(), true
	}
	return 0, false
}

func TestScrape(t *testing.T) {
	snap := testSnapshot()
	reg := NewProxyRegistry(SourceFunc(func() Snapshot { return snap }))
	body, fams := scrape(t, Handler(reg, nil))

	const m, r1, r2 = "127.0.0.1:6380", "127.0.0.1:6381", "127.0.0.1:6382"
	want := []struct {
		name   string
		labels []string
		v      float64
	}{
		{"lagwise_replica_lag_bytes", []string{"backend", r1}, 10},
		{"lagwise_replica_lag_bytes", []string{"backend", r2}, math.Inf(1)},
		{"lagwise_replica_lag_seconds", []string{"backend", r1}, 0.02},
		{"lagwise_replica_lag_seconds", []string{"backend", r2}, math.Inf(1)},
		{"lagwise_replica_routable", []string{"backend", r1}, 1},
		{"lagwise_replica_routable", []string{"backend", r2}, 0},
		{"lagwise_backend_up", []string{"backend", m}, 1},
		{"lagwise_backend_up", []string{"backend", r1}, 1},
		{"lagwise_backend_up", []string{"backend", r2}, 0},
		{"lagwise_backend_role", []string{"backend", m, "role", "master"}, 1},
		{"lagwise_backend_role", []string{"backend", m, "role", "slave"}, 0},
		{"lagwise_backend_role", []string{"backend", r1, "role", "slave"}, 1},
		{"lagwise_backend_role", []string{"backend", r1, "role", "master"}, 0},
		{"lagwise_backend_role", []string{"backend", r2, "role", "master"}, 0},
		{"lagwise_backend_role", []string{"backend", r2, "role", "slave"}, 0},
		{"lagwise_master_repl_offset_bytes", nil, 1000},
		{"lagwise_replica_offset_bytes", []string{"backend", r1}, 990},
		{"lagwise_reads_total", []string{"backend", m}, 2},
		{"lagwise_reads_total", []string{"backend", r1}, 40},
		{"lagwise_reads_total", []string{"backend", r2}, 0},
		{"lagwise_requests_total", []string{"class", "read"}, 42},
		{"lagwise_requests_total", []string{"class", "write"}, 8},
		{"lagwise_requests_total", []string{"class", "admin"}, 0},
		{"lagwise_requests_total", []string{"class", "pinned"}, 0},
		{"lagwise_ryw_master_reads_total", nil, 2},
		{"lagwise_client_connections", nil, 5},
		{"lagwise_config_reloads_total", []string{"result", "ok"}, 3},
		{"lagwise_config_reloads_total", []string{"result", "error"}, 0},
		{"lagwise_reconcile_actions_total", nil, 1},
		{"lagwise_backend_errors_total", []string{"backend", r2}, 4},
		{"lagwise_backend_errors_total", []string{"backend", r1}, 0},
		{"lagwise_ready", nil, 1},
	}
	for _, w := range want {
		got, ok := value(fams, w.name, w.labels...)
		if !ok {
			t.Errorf("%s%v: missing", w.name, w.labels)
			continue
		}
		if got != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.v)
		}
	}
	// No lag or offset series for the master; no offset for a replica
	// whose offset is unknown.
	for _, name := range []string{"lagwise_replica_lag_bytes", "lagwise_replica_lag_seconds", "lagwise_replica_routable", "lagwise_replica_offset_bytes"} {
		if _, ok := value(fams, name, "backend", m); ok {
			t.Errorf("%s has a series for the master", name)
		}
	}
	if _, ok := value(fams, "lagwise_replica_offset_bytes", "backend", r2); ok {
		t.Error("lagwise_replica_offset_bytes has a series for a replica whose offset is unknown")
	}
	if !strings.Contains(body, `lagwise_replica_lag_seconds{backend="127.0.0.1:6382"} +Inf`) {
		t.Errorf("unknown lag is not written +Inf:\n%s", grep(body, "lag_seconds"))
	}

	// Types.
	types := map[string]dto.MetricType{
		"lagwise_replica_lag_bytes": dto.MetricType_GAUGE, "lagwise_replica_lag_seconds": dto.MetricType_GAUGE,
		"lagwise_replica_routable": dto.MetricType_GAUGE, "lagwise_backend_up": dto.MetricType_GAUGE,
		"lagwise_backend_role": dto.MetricType_GAUGE, "lagwise_master_repl_offset_bytes": dto.MetricType_GAUGE,
		"lagwise_replica_offset_bytes": dto.MetricType_GAUGE, "lagwise_reads_total": dto.MetricType_COUNTER,
		"lagwise_requests_total": dto.MetricType_COUNTER, "lagwise_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"lagwise_ryw_master_reads_total": dto.MetricType_COUNTER, "lagwise_client_connections": dto.MetricType_GAUGE,
		"lagwise_config_reloads_total": dto.MetricType_COUNTER, "lagwise_reconcile_actions_total": dto.MetricType_COUNTER,
		"lagwise_backend_errors_total": dto.MetricType_COUNTER, "lagwise_ready": dto.MetricType_GAUGE,
	}
	for name, typ := range types {
		f := fams[name]
		if f == nil {
			t.Errorf("%s: missing", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s: type %v, want %v", name, f.GetType(), typ)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no help", name)
		}
	}

	// The histogram: one per class, buckets as DurationBuckets,
	// cumulative.
	h := fams["lagwise_request_duration_seconds"]
	if n := len(h.Metric); n != len(Classes) {
		t.Errorf("lagwise_request_duration_seconds has %d series, want %d", n, len(Classes))
	}
	for _, m := range h.Metric {
		class := m.Label[0].GetValue()
		hist := m.Histogram
		// The parser adds the +Inf bucket the text format implies.
		if len(hist.Bucket) != len(DurationBuckets)+1 {
			t.Fatalf("class %s: %d buckets, want %d and +Inf", class, len(hist.Bucket), len(DurationBuckets))
		}
		if inf := hist.Bucket[len(DurationBuckets)]; !math.IsInf(inf.GetUpperBound(), 1) || inf.GetCumulativeCount() != hist.GetSampleCount() {
			t.Errorf("class %s: last bucket le=%v %d, want +Inf %d", class, inf.GetUpperBound(), inf.GetCumulativeCount(), hist.GetSampleCount())
		}
		for i, b := range hist.Bucket[:len(DurationBuckets)] {
			if b.GetUpperBound() != DurationBuckets[i] {
				t.Errorf("class %s bucket %d: le %v, want %v", class, i, b.GetUpperBound(), DurationBuckets[i])
			}
		}
		if class != "read" {
			if hist.GetSampleCount() != 0 {
				t.Errorf("class %s: count %d", class, hist.GetSampleCount())
			}
			continue
		}
		if hist.GetSampleCount() != 10 || hist.GetSampleSum() != 0.0123 {
			t.Errorf("read: count %d sum %v, want 10 0.0123", hist.GetSampleCount(), hist.GetSampleSum())
		}
		cum := func(le float64) uint64 {
			for _, b := range hist.Bucket {
				if b.GetUpperBound() == le {
					return b.GetCumulativeCount()
				}
			}
			t.Fatalf("no bucket le=%v", le)
			return 0
		}
		for le, n := range map[float64]uint64{0.00025: 0, 0.0005: 7, 0.001: 7, 0.0025: 9, 10: 9} {
			if got := cum(le); got != n {
				t.Errorf("read bucket le=%v: %d, want %d", le, got, n)
			}
		}
	}

	// The registry's own Go and process collectors.
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("%s: missing", name)
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A zero Snapshot (a proxy that has just started) still scrapes, with
// the fixed series at zero.
func TestScrapeEmpty(t *testing.T) {
	reg := NewProxyRegistry(SourceFunc(func() Snapshot { return Snapshot{MasterOffset: -1} }))
	_, fams := scrape(t, Handler(reg, nil))
	if _, ok := value(fams, "lagwise_master_repl_offset_bytes"); ok {
		t.Error("unknown master offset exported")
	}
	for _, class := range Classes {
		if v, ok := value(fams, "lagwise_requests_total", "class", class); !ok || v != 0 {
			t.Errorf("requests_total{class=%s} = %v, %v", class, v, ok)
		}
	}
	if v, ok := value(fams, "lagwise_ready"); !ok || v != 0 {
		t.Errorf("lagwise_ready = %v, %v", v, ok)
	}
}

// A backend named twice, and counters naming a backend that is gone,
// still make a valid scrape: one series each.
func TestScrapeDuplicates(t *testing.T) {
	snap := Snapshot{
		Backends: []Backend{
			{Addr: "a:1", Role: "master", Up: true, Offset: 5},
			{Addr: "a:1", Role: "master", Up: true, IsReplica: true, LagBytes: 0, Offset: 5},
			{Addr: "b:1", Role: "sentinel", Up: true, IsReplica: true, LagBytes: 0},
		},
		Reads:         map[string]uint64{"gone:1": 3, "a:1": 1},
		BackendErrors: map[string]uint64{"gone:1": 1},
		Requests:      map[string]uint64{"other": 1},
	}
	reg := NewProxyRegistry(SourceFunc(func() Snapshot { return snap }))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	_, fams := scrape(t, Handler(reg, nil))
	if v, _ := value(fams, "lagwise_reads_total", "backend", "gone:1"); v != 3 {
		t.Errorf("reads of a removed backend: %v", v)
	}
	if v, _ := value(fams, "lagwise_backend_role", "backend", "b:1", "role", "sentinel"); v != 1 {
		t.Errorf("an unusual role: %v", v)
	}
	if v, _ := value(fams, "lagwise_requests_total", "class", "other"); v != 1 {
		t.Errorf("an extra class: %v", v)
	}
}

// Every scrape takes exactly one Snapshot.
func TestOneSnapshotPerScrape(t *testing.T) {
	var n atomic.Int64
	reg := NewProxyRegistry(SourceFunc(func() Snapshot { n.Add(1); return testSnapshot() }))
	for i := 0; i < 3; i++ {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 3 {
		t.Errorf("%d snapshots for 3 scrapes", n.Load())
	}
}

func TestHealthReady(t *testing.T) {
	reg := NewProxyRegistry(SourceFunc(testSnapshot))
	var ready, degraded atomic.Bool
	srv := httptest.NewServer(HandlerWithReason(reg, func() (bool, string) {
		switch {
		case !ready.Load():
			return false, "no answer from the master 127.0.0.1:6380"
		case degraded.Load():
			return true, "reads only"
		}
		return true, ""
	}))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "no answer from the master") {
		t.Errorf("/readyz not ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz ready: %d %q", code, body)
	}
	degraded.Store(true)
	if code, body := get("/readyz"); code != 200 || body != "ready: reads only\n" {
		t.Errorf("/readyz ready with a reason: %d %q", code, body)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Errorf("/nope: %d", code)
	}

	// Handler: a plain bool.
	srv2 := httptest.NewServer(Handler(reg, func() bool { return false }))
	defer srv2.Close()
	resp, err := http.Get(srv2.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("Handler /readyz: %d", resp.StatusCode)
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, Handler(NewProxyRegistry(SourceFunc(testSnapshot)), nil)) }()
	var resp *http.Response
	for i := 0; ; i++ {
		resp, err = http.Get("http://" + addr + "/healthz")
		if err == nil {
			break
		}
		if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp.Body.Close()

	// The port is taken now: a second Serve fails at once, saying so.
	err = Serve(context.Background(), addr, http.NotFoundHandler())
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "metrics_listen "+addr) {
		t.Errorf("Serve on a taken port: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after Serve returned")
	}
}

// promtool, where installed (Debian's prometheus package), lints the
// exposition: names, units, help, types.
func TestPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("promtool not installed: CI must lint the exposition (.ci/run installs Debian's prometheus package)")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus): exposition not linted")
	}
	reg := NewProxyRegistry(SourceFunc(testSnapshot))
	body, _ := scrape(t, Handler(reg, nil))
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestBucketIndex(t *testing.T) {
	n := len(DurationBuckets)
	for i := 1; i < n; i++ {
		if DurationBuckets[i] <= DurationBuckets[i-1] {
			t.Fatalf("DurationBuckets not increasing at %d", i)
		}
	}
	cases := []struct {
		s    float64
		want int
	}{
		{-1, 0}, {0, 0}, {0.00005, 0}, {0.0001, 0}, {0.00010001, 1}, {0.00025, 1},
		{0.0003, 2}, {0.001, 3}, {0.7, 12}, {1, 12}, {10, n - 1}, {10.0001, n},
		{math.Inf(1), n}, {math.NaN(), n}, {math.Inf(-1), 0},
	}
	for _, c := range cases {
		if got := BucketIndex(c.s); got != c.want {
			t.Errorf("BucketIndex(%v) = %d, want %d", c.s, got, c.want)
		}
	}
	for i, le := range DurationBuckets {
		if got := BucketIndex(le); got != i {
			t.Errorf("BucketIndex(%v) = %d, want %d", le, got, i)
		}
		if got := BucketIndex(math.Nextafter(le, math.Inf(1))); got != i+1 {
			t.Errorf("BucketIndex(just over %v) = %d, want %d", le, got, i+1)
		}
	}
	if got := BucketIndexDuration(3 * time.Millisecond); got != 5 {
		t.Errorf("BucketIndexDuration(3ms) = %d", got)
	}
	if a := testing.AllocsPerRun(100, func() { BucketIndex(0.003) }); a != 0 {
		t.Errorf("BucketIndex allocates %v times", a)
	}
}

func TestHistogramOf(t *testing.T) {
	per := make([]uint64, len(DurationBuckets)+1)
	per[0], per[3], per[len(DurationBuckets)] = 1, 2, 4
	h := HistogramOf(per, 1.5)
	if h.Count != 7 || h.Sum != 1.5 || len(h.Counts) != len(DurationBuckets) {
		t.Fatalf("%+v", h)
	}
	if h.Counts[0] != 1 || h.Counts[2] != 1 || h.Counts[3] != 3 || h.Counts[len(h.Counts)-1] != 3 {
		t.Errorf("counts %v", h.Counts)
	}
	// A short slice counts as zeros past its end.
	h = HistogramOf([]uint64{2}, 0)
	if h.Count != 2 || h.Counts[len(h.Counts)-1] != 2 {
		t.Errorf("short: %+v", h)
	}
}

func BenchmarkBucketIndex(b *testing.B) {
	b.ReportAllocs()
	var sink int
	d := 0.0
	for i := 0; i < b.N; i++ {
		d += 0.000037
		if d > 12 {
			d = 0
		}
		sink += BucketIndex(d)
	}
	_ = sink
}
