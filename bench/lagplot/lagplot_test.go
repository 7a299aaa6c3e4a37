package main

import (
	"bytes"
	"image/png"
	"math"
	"reflect"
	"strings"
	"testing"
)

const exposition = `# HELP lagwise_replica_lag_seconds Replication lag of a replica in seconds.
# TYPE lagwise_replica_lag_seconds gauge
lagwise_replica_lag_seconds{backend="127.0.0.1:7001"} 0.0123
lagwise_replica_lag_seconds{backend="127.0.0.1:7002"} +Inf
# TYPE lagwise_replica_routable gauge
lagwise_replica_routable{backend="127.0.0.1:7001"} 1
lagwise_replica_routable{backend="127.0.0.1:7002"} 0
# TYPE lagwise_reads_total counter
lagwise_reads_total{backend="127.0.0.1:7000"} 5
lagwise_reads_total{backend="127.0.0.1:7001"} 1200 1700000000000
lagwise_reads_total{backend="127.0.0.1:7002"} 800
lagwise_requests_total{class="read"} 2005
lagwise_request_duration_seconds_bucket{class="read",le="+Inf"} 2005
lagwise_master_repl_offset_bytes 123456
go_gc_duration_seconds{quantile="0.5"} 1.2e-05
`

func TestParseScrape(t *testing.T) {
	s, err := parseScrape(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Lag["127.0.0.1:7001"]; got != 0.0123 {
		t.Errorf("lag of 7001 = %v, want 0.0123", got)
	}
	if got := s.Lag["127.0.0.1:7002"]; !math.IsInf(got, 1) {
		t.Errorf("lag of 7002 = %v, want +Inf", got)
	}
	if len(s.Lag) != 2 {
		t.Errorf("lag series %v, want 2", s.Lag)
	}
	if !s.Routable["127.0.0.1:7001"] || s.Routable["127.0.0.1:7002"] {
		t.Errorf("routable = %v", s.Routable)
	}
	want := map[string]float64{"127.0.0.1:7000": 5, "127.0.0.1:7001": 1200, "127.0.0.1:7002": 800}
	if !reflect.DeepEqual(s.Reads, want) {
		t.Errorf("reads = %v, want %v", s.Reads, want)
	}
}

func TestParseScrapeErrors(t *testing.T) {
	for _, in := range []string{
		`lagwise_reads_total{backend="a"} x`,
		`lagwise_reads_total{backend="a" 3`,
		`lagwise_reads_total{backend=a} 3`,
		`lagwise_reads_total{class="read"} 3`,
		`lagwise_reads_total`,
	} {
		if _, err := parseScrape(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseLabelsEscapes(t *testing.T) {
	got := map[string]string{}
	if err := parseLabels(`a="x\"y", b="p\\q\nr",c="}"`, got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": `x"y`, "b": "p\\q\nr", "c": "}"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestShares(t *testing.T) {
	prev := map[string]float64{"m": 10, "r1": 100, "r2": 100}
	cur := map[string]float64{"m": 10, "r1": 130, "r2": 190, "r3": 30}
	got, total := shares(prev, cur)
	if total != 150 {
		t.Errorf("total %v, want 150", total)
	}
	want := map[string]float64{"m": 0, "r1": 0.2, "r2": 0.6, "r3": 0.2}
	for b, w := range want {
		if math.Abs(got[b]-w) > 1e-9 {
			t.Errorf("share of %s = %v, want %v", b, got[b], w)
		}
	}
	// No reads in between: no shares.
	if got, total := shares(cur, cur); len(got) != 0 || total != 0 {
		t.Errorf("no reads: %v, %v", got, total)
	}
	// A counter that went down (a restarted proxy) counts from zero.
	got, total = shares(map[string]float64{"r1": 500}, map[string]float64{"r1": 20, "r2": 20})
	if total != 40 || got["r1"] != 0.5 {
		t.Errorf("reset counter: %v, %v", got, total)
	}
}

func TestPoints(t *testing.T) {
	scrapes := []Scrape{
		{T: 0.1, Reads: map[string]float64{"a": 0, "b": 0}},
		{T: 0.2, Lag: map[string]float64{"b": 0.01}, Reads: map[string]float64{"a": 10, "b": 30}},
		{T: 0.3, Lag: map[string]float64{"b": math.Inf(1)}, Reads: map[string]float64{"a": 10, "b": 30}},
	}
	pts := points(scrapes)
	if len(pts) != 2 {
		t.Fatalf("%d points, want 2", len(pts))
	}
	if pts[0].T0 != 0.1 || pts[0].T != 0.2 || pts[0].Reads != 40 || pts[0].Share["a"] != 0.25 {
		t.Errorf("first point %+v", pts[0])
	}
	if pts[1].Reads != 0 || len(pts[1].Share) != 0 {
		t.Errorf("second point %+v", pts[1])
	}
	rows := csvTable(pts, []string{"b"}, []string{"a", "b"})
	want := [][]string{
		{"t_s", "lag_ms:b", "routable:b", "read_share:a", "read_share:b", "reads"},
		{"0.200", "10.0", "0", "0.250", "0.750", "40"},
		{"0.300", "inf", "0", "0.000", "0.000", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("csv\n got %q\nwant %q", rows, want)
	}
}

func TestScale(t *testing.T) {
	x := scale{d0: 0, d1: 20, p0: 80, p1: 800}
	for v, want := range map[float64]int{0: 80, 20: 800, 10: 440, 5: 260, -1: 44} {
		if got := x.at(v); got != want {
			t.Errorf("x.at(%v) = %d, want %d", v, got, want)
		}
	}
	// A y axis: pixels grow downwards.
	y := scale{d0: 0, d1: 1000, p0: 370, p1: 60}
	for v, want := range map[float64]int{0: 370, 1000: 60, 500: 215} {
		if got := y.at(v); got != want {
			t.Errorf("y.at(%v) = %d, want %d", v, got, want)
		}
	}
	if got := (scale{d0: 1, d1: 1, p0: 5, p1: 9}).at(3); got != 5 {
		t.Errorf("empty domain: %d, want 5", got)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0, 20, 10, []float64{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20}},
		{0, 100, 4, []float64{0, 50, 100}},
		{0, 1000, 5, []float64{0, 200, 400, 600, 800, 1000}},
		{0, 1, 4, []float64{0, 0.5, 1}},
	} {
		if got := ticks(c.lo, c.hi, c.n); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ticks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
		}
	}
}

func TestLagCeiling(t *testing.T) {
	pts := []Point{{Lag: map[string]float64{"a": 0.01, "b": math.Inf(1)}}}
	if got := lagCeiling(pts, 0.5); got != 1000 {
		t.Errorf("ceiling %v, want 1000 (twice max_lag)", got)
	}
	pts = append(pts, Point{Lag: map[string]float64{"a": 2}})
	if got := lagCeiling(pts, 0.5); got != 2500 {
		t.Errorf("ceiling %v, want 2500 (2.2 s rounded up to a tick)", got)
	}
	if got := lagCeiling([]Point{{Lag: map[string]float64{"a": 0.97}}}, 0.5); got != 1500 {
		t.Errorf("ceiling %v, want 1500 (1067 ms rounded up to a tick)", got)
	}
}

func TestFindings(t *testing.T) {
	ep := Episode{
		Replicas: []string{"r1", "r2"}, Backends: []string{"m", "r1", "r2"},
		Names:  map[string]string{"m": "master", "r1": "replica1", "r2": "replica2"},
		StopAt: 1, ContAt: 2, StoppedOne: "r1",
	}
	inf := math.Inf(1)
	for i, c := range []struct {
		lag1, lag2 float64
		routable   bool
		share1     float64
	}{
		{0.01, 0.01, true, 0.5}, // 0.5
		{0.01, 0.02, true, 0.5}, // 1.0
		{inf, 0.01, false, 0.2}, // 1.5: out; reads in flight
		{inf, 0.01, false, 0},   // 2.0
		{0.3, 0.01, false, 0},   // 2.5
		{0.1, 0.01, true, 0.5},  // 3.0: back
	} {
		t := 0.5 * float64(i+1)
		ep.Points = append(ep.Points, Point{
			T0: t - 0.5, T: t,
			Lag:      map[string]float64{"r1": c.lag1, "r2": c.lag2},
			Routable: map[string]bool{"r1": c.routable, "r2": true},
			Share:    map[string]float64{"r1": c.share1, "r2": 1 - c.share1},
			Reads:    100,
		})
	}
	f := findings(ep)
	want := Findings{OutAfter: 0.5, BackAfter: 1, UnknownFor: 1, MaxLagAfter: 0.3, StoppedShare: 0, OtherMaxLag: 0.02}
	if f != want {
		t.Errorf("findings\n got %+v\nwant %+v", f, want)
	}
}

func TestRender(t *testing.T) {
	ep := Episode{
		Title: "test", Replicas: []string{"r1", "r2"}, Backends: []string{"m", "r1", "r2"},
		Names:  map[string]string{"m": "master", "r1": "replica1", "r2": "replica2"},
		MaxLag: 0.5, StopAt: 1, ContAt: 2, Duration: 3, StoppedOne: "r1",
	}
	for i := 1; i <= 30; i++ {
		lag := 0.01
		if i > 10 && i < 20 {
			lag = math.Inf(1)
		}
		ep.Points = append(ep.Points, Point{
			T0: float64(i-1) / 10, T: float64(i) / 10,
			Lag:   map[string]float64{"r1": lag, "r2": 0.02},
			Share: map[string]float64{"r1": 0.5, "r2": 0.5}, Reads: 10,
		})
	}
	var buf bytes.Buffer
	if err := render(&buf, ep); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 720 {
		t.Errorf("size %v", b)
	}
}
