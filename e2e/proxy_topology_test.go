package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
)

// The topology tests change config.yaml under a running proxy: replicas
// added and removed, a broken file, a promotion with reconcile on. They
// also scrape the proxy's metrics.

// configPath is the config.yaml a proxy runs with.
func (p *proxyProc) configPath(t *testing.T) string {
	t.Helper()
	args := p.cmd.Args
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("the proxy's command line has no --config: %q", args)
	return ""
}

// setting returns a top-level key's value in the proxy's config text.
func (p *proxyProc) setting(t *testing.T, key string) string {
	t.Helper()
	for _, l := range strings.Split(p.config, "\n") {
		if v, ok := strings.CutPrefix(l, key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("the proxy's config has no %s", key)
	return ""
}

// rewriteConfig replaces the proxy's config.yaml the way editors save: a
// new file renamed over the old one.
func (p *proxyProc) rewriteConfig(t *testing.T, pc proxyConfig, extra string) {
	t.Helper()
	text := pc.yaml(p.setting(t, "listen"), p.setting(t, "metrics_listen")) + extra
	path := p.configPath(t)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	p.config = text
}

// startProxyWith starts a proxy on pc with extra YAML appended.
func startProxyWith(t *testing.T, pc proxyConfig, extra string) *proxyProc {
	t.Helper()
	p := startProxy(t, pc)
	if extra != "" {
		p.rewriteConfig(t, pc, extra)
		// The first reload of the file takes the extra keys.
		waitUntil(t, 10*time.Second, "the proxy to load "+strings.TrimSpace(extra), func() bool {
			return strings.Contains(lagwiseInfo(t, p, "CONFIG"), "reloads_ok:1")
		})
	}
	return p
}

// lagwiseInfo returns LAGWISE <sub> through the proxy.
func lagwiseInfo(t *testing.T, p *proxyProc, sub string) string {
	t.Helper()
	return lagwiseAt(t, p.addr, sub)
}

// lagwiseAt returns LAGWISE <sub> from the proxy at addr.
func lagwiseAt(t *testing.T, addr, sub string) string {
	t.Helper()
	c, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.doStrings("LAGWISE", sub)
	if err != nil || r.isError() {
		t.Fatalf("LAGWISE %s through the proxy at %s: %v %v", sub, addr, r, err)
	}
	return string(r.data)
}

// waitUntil polls ok until it holds, and fails the test after d.
func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load writes and reads through the proxy until stopped: each write sets
// a key of its own, so every acknowledged write can be checked afterwards.
type load struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	acked   []string // keys whose SET was acknowledged
	errs    []string
	ackedAt []time.Time
	reads   int
}

func startLoad(t *testing.T, proxyAddr, prefix string, writers int) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	for w := 0; w < writers; w++ {
		c := goRedisWith(t, &redis.Options{Addr: proxyAddr, MaxRetries: -1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			ctx := context.Background()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				key := fmt.Sprintf("%s:%d:%d", prefix, w, i)
				err := c.Set(ctx, key, key, 0).Err()
				l.mu.Lock()
				if err != nil {
					l.errs = append(l.errs, fmt.Sprintf("%s SET %s: %v", time.Now().Format("15:04:05.000"), key, err))
				} else {
					l.acked = append(l.acked, key)
					l.ackedAt = append(l.ackedAt, time.Now())
				}
				l.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}(w)
	}
	// Readers never write, so read-your-writes leaves their reads to the
	// replicas.
	for r := 0; r < 2; r++ {
		c := goRedisWith(t, &redis.Options{Addr: proxyAddr, MaxRetries: -1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			ctx := context.Background()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				err := c.Get(ctx, prefix+":probe").Err()
				l.mu.Lock()
				if err != nil && err != redis.Nil {
					l.errs = append(l.errs, fmt.Sprintf("%s GET: %v", time.Now().Format("15:04:05.000"), err))
				} else {
					l.reads++
				}
				l.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	return l
}

func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
}

// longestPause is the longest time between two acknowledged writes.
func (l *load) longestPause() time.Duration {
	at := append([]time.Time(nil), l.ackedAt...)
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	var worst time.Duration
	for i := 1; i < len(at); i++ {
		worst = max(worst, at[i].Sub(at[i-1]))
	}
	return worst
}

// readsOn counts the GETs n has served.
func readsOn(t *testing.T, n *node) int64 { return commandStats(t, n)["get"] }

// TestProxyReloadTopology: under a read/write load, a replica added to
// config.yaml gets reads within seconds, one removed gets none after its
// drain, and a broken file changes nothing; no client sees an error.
func TestProxyReloadTopology(t *testing.T) {
	requireProxy(t)
	c := startCluster(t, false, 2)
	r1, r2 := c.replicas[0], c.replicas[1]
	pc := configFor(c)
	pc.replicas = pc.replicas[:1]
	p := startProxy(t, pc)
	ld := startLoad(t, p.addr, "reload", 2)
	defer func() {
		if !isClosed(ld.stop) {
			ld.finish()
		}
	}()

	// Add r2.
	before := readsOn(t, r2)
	added := time.Now()
	pc.replicas = []string{r1.s.addr, r2.s.addr}
	p.rewriteConfig(t, pc, "")
	waitUntil(t, 10*time.Second, "the added replica to serve reads", func() bool { return readsOn(t, r2) > before })
	t.Logf("the added replica served its first read %v after the edit", time.Since(added).Round(time.Millisecond))

	// Remove r1: after a short drain it serves nothing more.
	pc.replicas = []string{r2.s.addr}
	p.rewriteConfig(t, pc, "")
	waitUntil(t, 10*time.Second, "the removed replica to leave LAGWISE TOPOLOGY", func() bool {
		_, listed := lagLine([]byte(lagwiseInfo(t, p, "TOPOLOGY")), r1.s.addr)
		return !listed
	})
	time.Sleep(500 * time.Millisecond)
	settled := readsOn(t, r1)
	time.Sleep(time.Second)
	if n := readsOn(t, r1) - settled; n != 0 {
		t.Errorf("the removed replica served %d reads a second after its drain", n)
	}
	// Its connections closed, its per-backend counters leave the scrape.
	waitUntil(t, 10*time.Second, "the removed replica's counters to leave /metrics", func() bool {
		fams := scrapeMetrics(t, p)
		gone := func(name string) bool {
			return math.IsNaN(metricValue(t, fams, name, map[string]string{"backend": r1.s.addr}))
		}
		return gone("lagwise_reads_total") && gone("lagwise_backend_errors_total")
	})

	// A broken file: ignored, counted, service unchanged.
	path := p.configPath(t)
	if err := os.WriteFile(path, []byte("master: [\nreplicas: {{\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the broken file to be refused", func() bool {
		return strings.Contains(lagwiseInfo(t, p, "CONFIG"), "reloads_failed:1")
	})
	if got := metricValue(t, scrapeMetrics(t, p), "lagwise_config_reloads_total", map[string]string{"result": "error"}); got < 1 {
		t.Errorf("lagwise_config_reloads_total{result=\"error\"} = %v after a broken file", got)
	}
	before = readsOn(t, r2)
	time.Sleep(300 * time.Millisecond)
	if readsOn(t, r2) == before {
		t.Errorf("the remaining replica stopped serving reads after a broken config")
	}
	p.alive(t)

	ld.finish()
	if len(ld.errs) > 0 {
		t.Errorf("%d client errors during the reloads, first: %q", len(ld.errs), ld.errs[:min(5, len(ld.errs))])
	}
	if len(ld.acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	t.Logf("%d writes acknowledged, %d errors", len(ld.acked), len(ld.errs))
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestProxyPromotionByConfig: with reconcile on, naming a replica as the
// master in config.yaml promotes it; writes go on after a bounded pause,
// and every write acknowledged before, during and after the switch is on
// the new master. The old master follows the new one.
func TestProxyPromotionByConfig(t *testing.T) {
	forEachSetup(t, func(t *testing.T, useRedis bool) {
		c := startCluster(t, useRedis, 2)
		old, nm, r2 := c.master, c.replicas[0], c.replicas[1]
		pc := configFor(c)
		p := startProxyWith(t, pc, "reconcile: true\n")
		ld := startLoad(t, p.addr, "promote", 2)
		time.Sleep(time.Second)

		switched := time.Now()
		pc.master = nm.s.addr
		pc.replicas = []string{old.s.addr, r2.s.addr}
		p.rewriteConfig(t, pc, "reconcile: true\n")
		waitUntil(t, 15*time.Second, "the new master to be promoted and the old one to follow it", func() bool {
			return nm.info(t, "replication")["role"] == "master" &&
				old.info(t, "replication")["master_port"] == strconv.Itoa(nm.port) &&
				r2.info(t, "replication")["master_port"] == strconv.Itoa(nm.port)
		})
		t.Logf("promoted and re-pointed %v after the edit", time.Since(switched).Round(time.Millisecond))
		time.Sleep(time.Second)
		ld.finish()

		if len(ld.errs) > 0 {
			t.Errorf("%d client errors during the switch, first: %q", len(ld.errs), ld.errs[:min(5, len(ld.errs))])
		}
		pause := ld.longestPause()
		t.Logf("%d writes acknowledged; longest pause between two: %v", len(ld.acked), pause.Round(time.Millisecond))
		if pause > 6*time.Second {
			t.Errorf("writes paused for %v during the switch", pause)
		}
		// Every acknowledged write is on the new master.
		var lost []string
		for _, k := range ld.acked {
			if r := nm.do(t, "EXISTS", k); string(r.raw) != ":1\r\n" {
				lost = append(lost, k)
			}
		}
		if len(lost) > 0 {
			t.Fatalf("%d of %d acknowledged writes are not on the new master, e.g. %q", len(lost), len(ld.acked), lost[:min(5, len(lost))])
		}
		// And writes after the switch landed on it, not on the old one.
		last := ld.acked[len(ld.acked)-1]
		if r := nm.do(t, "EXISTS", last); string(r.raw) != ":1\r\n" {
			t.Errorf("the last write %s is not on the new master", last)
		}
		if v := metricValue(t, scrapeMetrics(t, p), "lagwise_reconcile_actions_total", nil); v < 3 {
			t.Errorf("lagwise_reconcile_actions_total = %v after a promotion and two re-pointings", v)
		}
	})
}

// scrapeMetrics scrapes the proxy's /metrics.
func scrapeMetrics(t *testing.T, p *proxyProc) map[string]*dto.MetricFamily {
	t.Helper()
	_, fams := scrapeText(t, p)
	return fams
}

func scrapeText(t *testing.T, p *proxyProc) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	return scrapeProxy(t, p.setting(t, "metrics_listen"))
}

// scrapeProxy reads the proxy's /metrics at addr, as text and parsed.
func scrapeProxy(t *testing.T, addr string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping the proxy: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the proxy's /metrics does not parse: %v", err)
	}
	return string(body), fams
}

// metricValue returns the value of the series of name whose labels include
// labels (a gauge or counter), or NaN if there is none.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return math.NaN()
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	return math.NaN()
}

// TestProxyMetricsFollowLag: a stopped replica's lag series rises (to
// +Inf: unknown) and it stops being routable; after it resumes, its lag
// falls back and it is routable again. The scrape passes promtool.
func TestProxyMetricsFollowLag(t *testing.T) {
	requireProxy(t)
	c := startCluster(t, false, 2)
	r1 := c.replicas[0]
	p := startProxy(t, configFor(c))
	ld := startLoad(t, p.addr, "lag", 1)
	defer func() {
		if !isClosed(ld.stop) {
			ld.finish()
		}
	}()
	series := map[string]string{"backend": r1.s.addr}
	waitUntil(t, 10*time.Second, "the replica to be routable", func() bool {
		return metricValue(t, scrapeMetrics(t, p), "lagwise_replica_routable", series) == 1
	})
	r1.signal(t, syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			r1.signal(t, syscall.SIGCONT)
		}
	}()
	waitUntil(t, 5*time.Second, "the stopped replica's lag to rise and its routable to fall", func() bool {
		f := scrapeMetrics(t, p)
		lag := metricValue(t, f, "lagwise_replica_lag_seconds", series)
		return metricValue(t, f, "lagwise_replica_routable", series) == 0 && (math.IsInf(lag, 1) || lag >= 0.5)
	})
	r1.signal(t, syscall.SIGCONT)
	stopped = false
	waitUntil(t, 15*time.Second, "the resumed replica's lag to fall back and its routable to return", func() bool {
		f := scrapeMetrics(t, p)
		lag := metricValue(t, f, "lagwise_replica_lag_seconds", series)
		return metricValue(t, f, "lagwise_replica_routable", series) == 1 && lag < 0.5
	})
	ld.finish()
	if len(ld.errs) > 0 {
		t.Errorf("%d client errors, first: %q", len(ld.errs), ld.errs[:min(5, len(ld.errs))])
	}

	text, _ := scrapeText(t, p)
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if inCI() {
			t.Fatal("promtool not installed: CI must lint the proxy's metrics")
		}
		t.Log("promtool not installed: the live scrape is not linted")
		return
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics on the proxy's scrape: %v\n%s", err, out)
	}
}

// TestDashboardQueriesExist: every metric the Grafana dashboard queries is
// in a live scrape of the proxy.
func TestDashboardQueriesExist(t *testing.T) {
	requireProxy(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", "grafana", "lagwise-proxy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	c := startCluster(t, false, 1)
	p := startProxy(t, configFor(c))
	// One request of each kind, so every class has series.
	cl, err := dial(p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cl.doStrings("SET", "k", "v")
	cl.doStrings("GET", "k")
	waitUntil(t, 5*time.Second, "the replica's lag series", func() bool {
		return !math.IsNaN(metricValue(t, scrapeMetrics(t, p), "lagwise_replica_lag_bytes", nil))
	})
	_, fams := scrapeText(t, p)
	name := regexp.MustCompile(`\blagwise_[a-z_]+`)
	queried := 0
	for _, panel := range dash.Panels {
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q queries nothing", panel.Title)
		}
		for _, tg := range panel.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				queried++
				family := m
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(m, suffix); ok {
						if _, isHist := fams[base]; isHist {
							family = base
						}
					}
				}
				if _, ok := fams[family]; !ok {
					t.Errorf("panel %q queries %s, which the proxy does not export", panel.Title, m)
				}
			}
		}
	}
	if queried == 0 {
		t.Fatal("the dashboard queries no lagwise metric")
	}
}
