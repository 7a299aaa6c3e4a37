// Command lagplot records a replica-lag episode through lagwise proxy and
// draws it.
//
// It starts a master and two replicas (redis-server by default, lagwise
// servers with -lagwise) on free ports in a temp dir, a lagwise proxy in
// front of them (lag_poll_interval 100ms, max_lag 500ms), a write load
// through the proxy and a read load from sessions that never write. It
// scrapes the proxy's /metrics every -scrape for -duration, and at -stop-at
// sends SIGSTOP to replica1, SIGCONT -stop-for later. It writes the lag per
// replica and each backend's share of the reads as a PNG (-out) and a CSV
// next to it, and a Markdown summary on stdout. Every process it starts is
// stopped when it exits, on an error or a signal too.
//
//	go run ./bench/lagplot -out bench/results/lag-episode.png
//
// Environment: LAGWISE_BIN (a prebuilt lagwise binary; default: go build),
// REDIS_SERVER (default redis-server).
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

type options struct {
	out        string
	lagwise    bool
	duration   time.Duration
	stopAt     time.Duration
	stopFor    time.Duration
	scrape     time.Duration
	maxLag     time.Duration
	pollEvery  time.Duration
	writeRate  int
	readRate   int
	readers    int
	keys       int
	valueSize  int
	keepTmpDir bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "bench/results/lag-episode.png", "the PNG to write; the CSV goes next to it (.csv)")
	flag.BoolVar(&o.lagwise, "lagwise", false, "run lagwise servers as master and replicas instead of redis-server")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to record")
	flag.DurationVar(&o.stopAt, "stop-at", 5*time.Second, "when to SIGSTOP replica1")
	flag.DurationVar(&o.stopFor, "stop-for", 5*time.Second, "how long replica1 stays stopped")
	flag.DurationVar(&o.scrape, "scrape", 100*time.Millisecond, "metrics scrape interval")
	flag.DurationVar(&o.maxLag, "max-lag", 500*time.Millisecond, "the proxy's routing.max_lag")
	flag.DurationVar(&o.pollEvery, "poll", 100*time.Millisecond, "the proxy's routing.lag_poll_interval")
	flag.IntVar(&o.writeRate, "write-rate", 3000, "SETs per second through the proxy")
	flag.IntVar(&o.readRate, "read-rate", 3000, "GETs per second through the proxy")
	flag.IntVar(&o.readers, "readers", 8, "read sessions (each its own connection, never writing)")
	flag.IntVar(&o.keys, "keys", 10000, "keyspace of the loads")
	flag.IntVar(&o.valueSize, "value-size", 64, "bytes per value")
	flag.BoolVar(&o.keepTmpDir, "keep", false, "keep the temp dir (logs, configs)")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if o.stopAt+o.stopFor >= o.duration || o.readers < 1 || o.writeRate < 1 || o.readRate < 1 || o.scrape <= 0 {
		fmt.Fprintln(os.Stderr, "lagplot: need stop-at + stop-for < duration, and positive rates, readers, scrape")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := run(ctx, o)
	stop()
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "lagplot: interrupted; the servers and the proxy it started are stopped")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lagplot:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}

// procs are the processes started, stopped in reverse order by stopAll.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (ps *procs) start(name, dir string, argv ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a Ctrl-C to the terminal reaches this program,
	// which then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if p.alive() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// stopAll sends SIGCONT (a stopped process would not act on SIGTERM) and
// SIGTERM to each process, newest first, and SIGKILL after 5 s.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.list) - 1; i >= 0; i-- {
		p := ps.list[i]
		p.signal(syscall.SIGCONT)
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.signal(syscall.SIGKILL)
			<-p.done
		}
	}
	ps.list = nil
}

// freePorts picks n distinct free ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func client(addr string, pool int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Protocol: 2, DisableIdentity: true, PoolSize: pool, MaxRetries: -1,
		ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
	})
}

// waitFor calls check every 50 ms until it returns nil, the process dies,
// or the timeout passes.
func waitFor(ctx context.Context, what string, p *proc, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil && !p.alive() {
			return fmt.Errorf("%s exited while waiting for %s:\n%s", p.name, what, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %v", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func infoField(ctx context.Context, c *redis.Client, section, field string) string {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	return ""
}

func lagwiseBinary(ctx context.Context, tmp string) (string, error) {
	if b := os.Getenv("LAGWISE_BIN"); b != "" {
		return b, nil
	}
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(root)) == "" || strings.TrimSpace(string(root)) == os.DevNull {
		return "", fmt.Errorf("cannot find the module root (go env GOMOD); set LAGWISE_BIN")
	}
	bin := filepath.Join(tmp, "lagwise")
	logf("building ./cmd/lagwise")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/lagwise")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/lagwise: %w", err)
	}
	return bin, nil
}

func run(ctx context.Context, o options) (err error) {
	tmp, err := os.MkdirTemp("", "lagwise-lagplot.")
	if err != nil {
		return err
	}
	ps := &procs{}
	defer func() {
		ps.stopAll()
		if o.keepTmpDir {
			logf("kept %s", tmp)
		} else {
			os.RemoveAll(tmp)
		}
	}()

	bin, err := lagwiseBinary(ctx, tmp)
	if err != nil {
		return err
	}
	redisServer := os.Getenv("REDIS_SERVER")
	if redisServer == "" {
		redisServer = "redis-server"
	}
	if !o.lagwise {
		if _, err := exec.LookPath(redisServer); err != nil {
			return fmt.Errorf("%s not found (install Redis 7.0, set REDIS_SERVER, or use -lagwise)", redisServer)
		}
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	kind := "redis-server"
	if o.lagwise {
		kind = "lagwise server"
	}
	names := []string{"master", "replica1", "replica2"}
	addrs := map[string]string{}
	servers := map[string]*proc{}
	for i, name := range names {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		args := []string{"--port", strconv.Itoa(ports[i]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}
		if o.lagwise {
			args = append([]string{bin, "server"}, args...)
		} else {
			args = append([]string{redisServer}, args...)
		}
		p, err := ps.start(name, dir, args...)
		if err != nil {
			return err
		}
		servers[name] = p
		addrs[name] = fmt.Sprintf("127.0.0.1:%d", ports[i])
	}
	clients := map[string]*redis.Client{}
	for _, name := range names {
		c := client(addrs[name], 2)
		defer c.Close()
		clients[name] = c
		if err := waitFor(ctx, name+" PING", servers[name], 10*time.Second, func() error {
			return c.Ping(ctx).Err()
		}); err != nil {
			return err
		}
	}
	for _, name := range names[1:] {
		if err := clients[name].SlaveOf(ctx, "127.0.0.1", strconv.Itoa(ports[0])).Err(); err != nil {
			return fmt.Errorf("REPLICAOF on %s: %w", name, err)
		}
		if err := waitFor(ctx, name+" link up", servers[name], 30*time.Second, func() error {
			if s := infoField(ctx, clients[name], "replication", "master_link_status"); s != "up" {
				return fmt.Errorf("master_link_status %q", s)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	logf("%s master %s, replicas %s %s", kind, addrs["master"], addrs["replica1"], addrs["replica2"])

	// The proxy.
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", ports[3])
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[4])
	cfg := fmt.Sprintf(`listen: %s
metrics_listen: 127.0.0.1:%d
master: %s
replicas:
  - addr: %s
    weight: 1
  - addr: %s
    weight: 1
routing:
  read_from: replicas
  max_lag: %s
  lag_poll_interval: %s
  when_replicas_lag: master
log_level: warn
`, proxyAddr, ports[4], addrs["master"], addrs["replica1"], addrs["replica2"], o.maxLag, o.pollEvery)
	cfgPath := filepath.Join(tmp, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	proxy, err := ps.start("proxy", tmp, bin, "proxy", "--config", cfgPath)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Second}
	if err := waitFor(ctx, "both replicas routable", proxy, 15*time.Second, func() error {
		s, err := scrapeOnce(ctx, hc, metricsURL)
		if err != nil {
			return err
		}
		for _, n := range names[1:] {
			if !s.Routable[addrs[n]] {
				return fmt.Errorf("%s not routable", n)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	logf("proxy on %s, metrics %s", proxyAddr, metricsURL)

	// The loads, until the recording ends.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var writes, writeErrs, reads, readErrs atomic.Int64
	value := strings.Repeat("x", o.valueSize)
	// Every key exists before the reads start, so a GET finds a value.
	pre := client(proxyAddr, 1)
	pipe := pre.Pipeline()
	for k := range o.keys {
		pipe.Set(ctx, "key:"+strconv.Itoa(k), value, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		pre.Close()
		stopLoad()
		return fmt.Errorf("preloading keys through the proxy: %w", err)
	}
	pre.Close()
	paced := func(c *redis.Client, rate int, op func(p redis.Pipeliner, key string), ok, bad *atomic.Int64) {
		defer wg.Done()
		defer c.Close()
		const tick = 10 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		due := 0.0
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
			}
			due += float64(rate) * tick.Seconds()
			n := int(due)
			if n == 0 {
				continue
			}
			due -= float64(n)
			p := c.Pipeline()
			for range n {
				op(p, "key:"+strconv.Itoa(rand.IntN(o.keys)))
			}
			cmds, _ := p.Exec(loadCtx)
			for _, cmd := range cmds {
				if cmd.Err() == nil || errors.Is(cmd.Err(), redis.Nil) {
					ok.Add(1)
				} else if loadCtx.Err() == nil {
					bad.Add(1)
				}
			}
		}
	}
	wg.Add(1 + o.readers)
	go paced(client(proxyAddr, 1), o.writeRate, func(p redis.Pipeliner, k string) { p.Set(loadCtx, k, value, 0) }, &writes, &writeErrs)
	for range o.readers {
		go paced(client(proxyAddr, 1), max(1, o.readRate/o.readers), func(p redis.Pipeliner, k string) { p.Get(loadCtx, k) }, &reads, &readErrs)
	}
	defer func() { stopLoad(); wg.Wait() }()

	// Record.
	logf("recording %s: SIGSTOP replica1 at %s for %s", o.duration, o.stopAt, o.stopFor)
	start := time.Now()
	var stopAt, contAt atomic.Int64 // ns from start
	r1 := servers["replica1"]
	tStop := time.AfterFunc(o.stopAt, func() {
		r1.signal(syscall.SIGSTOP)
		stopAt.Store(int64(time.Since(start)))
	})
	defer tStop.Stop()
	tCont := time.AfterFunc(o.stopAt+o.stopFor, func() {
		r1.signal(syscall.SIGCONT)
		contAt.Store(int64(time.Since(start)))
	})
	defer tCont.Stop()
	var scrapes []Scrape
	failed := 0
	ticker := time.NewTicker(o.scrape)
	defer ticker.Stop()
	for time.Since(start) < o.duration {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		s, err := scrapeOnce(ctx, hc, metricsURL)
		if err != nil {
			failed++
			continue
		}
		s.T = time.Since(start).Seconds()
		if s.T > o.duration.Seconds() {
			break
		}
		scrapes = append(scrapes, s)
		for name, p := range servers {
			if !p.alive() {
				return fmt.Errorf("%s exited during the episode:\n%s", name, p.tail())
			}
		}
		if !proxy.alive() {
			return fmt.Errorf("the proxy exited during the episode:\n%s", proxy.tail())
		}
	}
	elapsed := time.Since(start).Seconds()
	stopLoad()
	wg.Wait()
	if len(scrapes) < 2 {
		return fmt.Errorf("only %d scrapes of %s succeeded", len(scrapes), metricsURL)
	}

	// Output.
	pts := points(scrapes)
	label := map[string]string{}
	for _, n := range names {
		label[addrs[n]] = n
	}
	replicas := []string{addrs["replica1"], addrs["replica2"]}
	backends := []string{addrs["master"], addrs["replica1"], addrs["replica2"]}
	ep := Episode{
		Title: fmt.Sprintf("lagwise proxy, %s master + 2 replicas: replica1 stopped for %s; %d SET/s, %d GET/s",
			kind, o.stopFor, o.writeRate, o.readRate),
		Points: pts, Replicas: replicas, Backends: backends, Names: label,
		MaxLag: o.maxLag.Seconds(), StopAt: time.Duration(stopAt.Load()).Seconds(),
		ContAt: time.Duration(contAt.Load()).Seconds(), Duration: o.duration.Seconds(),
		StoppedOne: addrs["replica1"],
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := writeFile(o.out, func(w io.Writer) error { return render(w, ep) }); err != nil {
		return err
	}
	csvPath := strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".csv"
	if err := writeFile(csvPath, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		var table [][]string
		for i, row := range csvTable(pts, replicas, backends) {
			if i == 0 {
				for j, h := range row {
					for a, n := range label {
						h = strings.Replace(h, a, n, 1)
					}
					row[j] = h
				}
			}
			table = append(table, row)
		}
		if err := cw.WriteAll(table); err != nil {
			return err
		}
		return cw.Error()
	}); err != nil {
		return err
	}
	logf("wrote %s and %s", o.out, csvPath)
	fmt.Print(summary(ep, o, kind, writes.Load(), writeErrs.Load(), reads.Load(), readErrs.Load(), failed, elapsed, o.out, csvPath))
	return nil
}

func scrapeOnce(ctx context.Context, hc *http.Client, url string) (Scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Scrape{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Scrape{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Scrape{}, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseScrape(resp.Body)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
