package proxy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/metrics"
)

// perBackendSeries scrapes the proxy's registry and returns the value of
// each series of lagwise_reads_total and lagwise_backend_errors_total,
// keyed "metric backend".
func perBackendSeries(t *testing.T, p *Proxy) map[string]float64 {
	t.Helper()
	fams, err := metrics.NewProxyRegistry(p).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		name := f.GetName()
		if name != "lagwise_reads_total" && name != "lagwise_backend_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "backend" {
					out[name+" "+l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

func seriesOf(series map[string]float64, backend string) []string {
	var out []string
	for k := range series {
		if strings.HasSuffix(k, " "+backend) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// A replica removed from the config loses its lagwise_reads_total and
// lagwise_backend_errors_total series (and its INFO stats line) once the
// reads in flight on it are answered; one named again starts from zero.
func TestRemovedReplicaCountersDropped(t *testing.T) {
	h := newHarness(t, 2, func(c *config.Config) { c.Routing.ReadYourWrites = false })
	c := h.connect()
	h.send(c, "GET k\r\nGET k\r\nGET k\r\nGET k\r\n")
	if got := h.replies(c); len(got) != 4 {
		t.Fatalf("4 reads: %q", got)
	}
	before := perBackendSeries(t, h.p)
	if before["lagwise_reads_total r:1"] == 0 || before["lagwise_reads_total r:2"] == 0 {
		t.Fatalf("reads before the reload: %v", before)
	}

	// A read is in flight on r:2 when it leaves the config.
	h.backends["r:2"].hold = true
	h.send(c, "GET k\r\nGET k\r\n")
	full := *h.p.Config()
	cfg := full
	cfg.Replicas = full.Replicas[:1]
	if err := h.p.Reload(&cfg); err != nil {
		t.Fatal(err)
	}
	h.replicas = h.replicas[:1]
	h.setLag(0, []int64{0})
	h.settle()
	during := perBackendSeries(t, h.p)
	if len(seriesOf(during, "r:2")) != 2 {
		t.Errorf("r:2's series while its last read is in flight: %v, want both kept", seriesOf(during, "r:2"))
	}
	h.release("r:2")
	if got := h.replies(c); len(got) != 2 {
		t.Fatalf("the reads around the reload: %q", got)
	}

	after := perBackendSeries(t, h.p)
	if s := seriesOf(after, "r:2"); len(s) != 0 {
		t.Errorf("a removed replica still has series: %v", s)
	}
	for _, b := range []string{"m:1", "r:1"} {
		if s := seriesOf(after, b); len(s) != 2 {
			t.Errorf("%s's series after the reload: %v, want both", b, s)
		}
	}
	if after["lagwise_reads_total r:1"] < before["lagwise_reads_total r:1"] {
		t.Errorf("r:1's reads went down: %v → %v", before["lagwise_reads_total r:1"], after["lagwise_reads_total r:1"])
	}
	h.send(c, "INFO stats\r\n")
	if got := h.replies(c); len(got) != 1 || strings.Contains(got[0], "r:2") || !strings.Contains(got[0], "reads:backend=r:1,") {
		t.Errorf("INFO stats after the reload: %q", got)
	}

	// Named again, it counts from zero.
	if err := h.p.Reload(&full); err != nil {
		t.Fatal(err)
	}
	h.replicas = []string{"r:1", "r:2"}
	h.setLag(0, []int64{0, 0})
	h.settle()
	again := perBackendSeries(t, h.p)
	if again["lagwise_reads_total r:2"] != 0 || len(seriesOf(again, "r:2")) != 2 {
		t.Errorf("r:2 named again: %v, want its series back at 0", seriesOf(again, "r:2"))
	}
}

// A reload that changes listen or metrics_listen applies the rest of the
// file and keeps the addresses served on: INFO and LAGWISE CONFIG show
// those, the log and LAGWISE CONFIG say that the new ones take a restart,
// and config.Diff from the running config names them as needing one, as
// `lagwise config check --diff` does.
func TestReloadKeepsListenAddresses(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) {
		c.Listen, c.MetricsListen = "127.0.0.1:7300", "127.0.0.1:7390"
	})
	var logs []string
	h.p.log = NewLogger(func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) })
	c := h.connect()
	field := func(text, key string) string {
		for _, l := range strings.Split(text, "\r\n") {
			if v, ok := strings.CutPrefix(l, key+":"); ok {
				return v
			}
		}
		return ""
	}
	ask := func(cmd string) string {
		h.send(c, cmd+"\r\n")
		got := h.replies(c)
		if len(got) != 1 {
			t.Fatalf("%s: %q", cmd, got)
		}
		return got[0]
	}

	file := *h.p.Config()
	file.Listen, file.MetricsListen = "127.0.0.1:7310", "127.0.0.1:7391"
	file.Routing.MaxLag = time.Second
	if err := h.p.Apply(context.Background(), &file); err != nil {
		t.Fatal(err)
	}
	h.settle()
	running := h.p.Config()
	if running.Listen != "127.0.0.1:7300" || running.MetricsListen != "127.0.0.1:7390" || running.Routing.MaxLag != time.Second {
		t.Errorf("the running config: listen %s metrics_listen %s max_lag %v; want the old addresses and the new max_lag", running.Listen, running.MetricsListen, running.Routing.MaxLag)
	}
	info := ask("INFO proxy")
	if l, m, lag := field(info, "listen"), field(info, "metrics_listen"), field(info, "max_lag_ms"); l != "127.0.0.1:7300" || m != "127.0.0.1:7390" || lag != "1000" {
		t.Errorf("INFO proxy after the reload: listen:%s metrics_listen:%s max_lag_ms:%s", l, m, lag)
	}
	const note = "listen 127.0.0.1:7310 needs a restart: the proxy keeps listening on 127.0.0.1:7300 until then; " +
		"metrics_listen 127.0.0.1:7391 needs a restart: the proxy keeps serving metrics on 127.0.0.1:7390 until then"
	cfgText := ask("LAGWISE CONFIG")
	if got := field(cfgText, "restart_needed"); got != note {
		t.Errorf("LAGWISE CONFIG restart_needed: %q, want %q", got, note)
	}
	if !strings.Contains(cfgText, "listen=127.0.0.1:7300 metrics_listen=127.0.0.1:7390 ") || field(cfgText, "reloads_ok") != "1" {
		t.Errorf("LAGWISE CONFIG after the reload:\n%s", cfgText)
	}
	if !slices.Contains(logs, "level=warn config -: "+note+"; the rest of the file is applied") {
		t.Errorf("the log says %q, want the restart named", logs)
	}
	diff := strings.Join(config.Diff(running, &file), "\n")
	if diff != "listen: 127.0.0.1:7300 → 127.0.0.1:7310 (needs restart)\nmetrics_listen: 127.0.0.1:7390 → 127.0.0.1:7391 (needs restart)" {
		t.Errorf("Diff from the running config:\n%s", diff)
	}

	// Back to the addresses served on: nothing is pending.
	file.Listen, file.MetricsListen = "127.0.0.1:7300", "127.0.0.1:7390"
	if err := h.p.Apply(context.Background(), &file); err != nil {
		t.Fatal(err)
	}
	if h.p.Config() != &file {
		t.Errorf("a config with the running addresses is not taken as it is")
	}
	if got := field(ask("LAGWISE CONFIG"), "restart_needed"); got != "" {
		t.Errorf("restart_needed after the file is back to the running addresses: %q", got)
	}
}
