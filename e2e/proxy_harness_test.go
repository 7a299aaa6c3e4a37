package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The proxy tests run `lagwise proxy` in front of a master and replicas
// that the test starts itself: lagwise servers in one set-up, real
// redis-servers 7.0 in the other. Each test picks its ports at run time,
// writes the proxy's config.yaml into its temp dir and stops every process
// it started when it ends.

// proxySetup is one kind of backends behind the proxy.
type proxySetup struct {
	name  string
	redis bool // redis-servers rather than lagwise servers
}

var proxySetups = []proxySetup{{"lagwise", false}, {"redis", true}}

// forEachSetup runs f as a subtest for every set-up, once the binary is
// known to have a proxy.
func forEachSetup(t *testing.T, f func(t *testing.T, redis bool)) {
	t.Helper()
	requireProxy(t)
	for _, s := range proxySetups {
		t.Run(s.name, func(t *testing.T) { f(t, s.redis) })
	}
}

var (
	proxyCheck   sync.Once
	proxyMissing string // what the binary says when it has no proxy
)

// requireProxy skips the test while `lagwise proxy` says it is not
// available in this build (asked once, with a config file that does not
// exist), and fails it if the binary did not build.
func requireProxy(t *testing.T) {
	t.Helper()
	if againstRedis() {
		t.Skip("LAGWISE_DIFF_AGAINST=redis: the proxy tests need the lagwise binary")
	}
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	proxyCheck.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		missing := filepath.Join(os.TempDir(), "lagwise-e2e-no-such-config.yaml")
		out, _ := exec.CommandContext(ctx, lagwiseBin, "proxy", "--config", missing).CombinedOutput()
		if strings.Contains(string(out), "not available yet") {
			proxyMissing = strings.TrimSpace(string(out))
		}
	})
	if proxyMissing != "" {
		t.Skipf("this build of lagwise has no proxy yet: %s", proxyMissing)
	}
}

// pollInterval and pollTimeout are the proxy's lag_poll_interval and
// poll_timeout in these tests: short, so that the proxy notices a replica
// that stops answering, or catches up, quickly.
const (
	pollInterval = 50 * time.Millisecond
	pollTimeout  = 250 * time.Millisecond
)

// cluster is a master and its replicas, all replicating and online.
type cluster struct {
	master   *node
	replicas []*node
}

// startCluster starts a master and n replicas of it (lagwise servers, or
// redis-servers when redis is set) and waits until every replica is
// online and its link up.
func startCluster(t *testing.T, redis bool, n int) *cluster {
	t.Helper()
	m := startNode(t, "master", redis)
	c := &cluster{master: m}
	for i := 1; i <= n; i++ {
		c.replicas = append(c.replicas, startNode(t, fmt.Sprintf("replica%d", i), redis, m.replicaOf()...))
	}
	waitOnline(t, m, c.replicas...)
	for _, r := range c.replicas {
		waitLink(t, r, "up")
	}
	return c
}

// nodes returns the master and then the replicas.
func (c *cluster) nodes() []*node { return append([]*node{c.master}, c.replicas...) }

// proxyConfig is what a test puts in the proxy's config.yaml; listen and
// metrics_listen are picked by startProxy.
type proxyConfig struct {
	master   string
	replicas []string
	weights  []int // per replica; missing or 0: weight 1
	// routing holds routing keys and their YAML values, in order; they are
	// written after lag_poll_interval and poll_timeout, and so override
	// them.
	routing [][2]string
	allow   []string // allow_commands
}

// configFor is the config of a proxy in front of c: every replica of
// weight 1, the short poll interval and timeout, the rest defaults.
func configFor(c *cluster) proxyConfig {
	pc := proxyConfig{master: c.master.s.addr}
	for _, r := range c.replicas {
		pc.replicas = append(pc.replicas, r.s.addr)
	}
	return pc
}

// yaml renders the config with the given listen addresses.
func (pc proxyConfig) yaml(listen, metrics string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nmetrics_listen: %s\nmaster: %s\n", listen, metrics, pc.master)
	if len(pc.replicas) == 0 {
		b.WriteString("replicas: []\n")
	} else {
		b.WriteString("replicas:\n")
	}
	for i, addr := range pc.replicas {
		w := 1
		if i < len(pc.weights) && pc.weights[i] != 0 {
			w = pc.weights[i]
		}
		fmt.Fprintf(&b, "  - addr: %s\n    weight: %d\n", addr, w)
	}
	fmt.Fprintf(&b, "routing:\n  lag_poll_interval: %s\n  poll_timeout: %s\n", pollInterval, pollTimeout)
	for _, kv := range pc.routing {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}
	if len(pc.allow) > 0 {
		fmt.Fprintf(&b, "allow_commands: [%s]\n", strings.Join(pc.allow, ", "))
	}
	b.WriteString("log_level: debug\n")
	return b.String()
}

// proxyProc is a running `lagwise proxy`.
type proxyProc struct {
	*server
	config string // the config.yaml it runs with
}

// startProxy writes pc into a config.yaml in a fresh temp dir and starts
// `lagwise proxy --config` with it on free ports, and waits until it
// answers PING. While the binary says the proxy is not available, the test
// is skipped.
func startProxy(t *testing.T, pc proxyConfig) *proxyProc {
	t.Helper()
	requireProxy(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("picking a port for the proxy: %v", err)
		}
		mport, err := freePort()
		if err != nil {
			t.Fatalf("picking a metrics port for the proxy: %v", err)
		}
		text := pc.yaml(fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", mport))
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := launch("proxy", lagwiseBin, []string{"proxy", "--config", file}, port)
		if err == nil {
			s.stopAtCleanup(t)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("proxy config.yaml:\n%s", text)
				}
			})
			return &proxyProc{server: s, config: text}
		}
		lastErr = err
		out := strings.ToLower(s.log.String())
		if strings.Contains(out, "not available yet") {
			t.Skipf("this build of lagwise has no proxy yet: %s", strings.TrimSpace(s.log.String()))
		}
		if !strings.Contains(out, "address already in use") {
			break
		}
	}
	t.Fatalf("starting the proxy: %v", lastErr)
	return nil
}

// alive fails the test if the proxy process has exited.
func (p *proxyProc) alive(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("the proxy exited: %v; log:\n%s", p.cmd.ProcessState, p.log.tail(4096))
	default:
	}
}

// goRedis returns a go-redis client of the proxy with go-redis's default
// options (it opens each connection with HELLO 3, which the proxy refuses,
// then CLIENT SETINFO), closed when the test ends.
func goRedis(t *testing.T, addr string) *redis.Client {
	t.Helper()
	return goRedisWith(t, &redis.Options{Addr: addr})
}

func goRedisWith(t *testing.T, opt *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// testCtx is a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// commandStats returns the calls of every command in n's INFO
// commandstats, by lower-case command name ("get", "client|setinfo").
func commandStats(t *testing.T, n *node) map[string]int64 {
	t.Helper()
	calls := map[string]int64{}
	for _, line := range strings.Split(string(n.do(t, "INFO", "commandstats").data), "\r\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				c, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s: INFO commandstats: %q", n.name, line)
				}
				calls[strings.TrimPrefix(name, "cmdstat_")] = c
			}
		}
	}
	return calls
}

// cmdCalls returns how often each node has run cmd (lower case), as INFO
// commandstats counts.
func cmdCalls(t *testing.T, cmd string, nodes ...*node) []int64 {
	t.Helper()
	out := make([]int64, len(nodes))
	for i, n := range nodes {
		out[i] = commandStats(t, n)[cmd]
	}
	return out
}

// deltas returns after[i] - before[i].
func deltas(before, after []int64) []int64 {
	d := make([]int64, len(after))
	for i := range after {
		d[i] = after[i] - before[i]
	}
	return d
}

// waitReplicaReads sends `GET key` through the proxy until every replica
// of c has served at least one (the proxy has measured their lag and
// routes reads to them), and fails the test after replWait.
func waitReplicaReads(t *testing.T, c *cluster, proxyAddr, key string) {
	t.Helper()
	cl, err := dial(proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	before := cmdCalls(t, "get", c.replicas...)
	deadline := time.Now().Add(replWait)
	for {
		for i := 0; i < 20; i++ {
			if r, err := cl.doStrings("GET", key); err != nil || r.isError() {
				t.Fatalf("GET %s through the proxy: %v %v", key, r, err)
			}
		}
		d := deltas(before, cmdCalls(t, "get", c.replicas...))
		all := true
		for _, n := range d {
			all = all && n > 0
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, GETs through the proxy still do not reach every replica: GETs served since the start %v (replicas in config order)", replWait, d)
		}
		time.Sleep(pollInterval)
	}
}

// bulkLines returns the non-empty lines of a bulk reply, CR stripped.
func bulkLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// lagLine returns the fields (k=v) of the line of a LAGWISE LAG or
// LAGWISE TOPOLOGY reply that starts with addr.
func lagLine(out []byte, addr string) (map[string]string, bool) {
	for _, l := range bulkLines(out) {
		f := strings.Fields(l)
		if len(f) == 0 || strings.TrimSuffix(f[0], ":") != addr {
			continue
		}
		kv := map[string]string{}
		for _, p := range f[1:] {
			for _, q := range strings.Split(p, ",") {
				if k, v, ok := strings.Cut(q, "="); ok {
					kv[k] = v
				}
			}
		}
		return kv, true
	}
	return nil, false
}

// truthy reports whether a field value says yes.
func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "up", "ok":
		return true
	}
	return false
}

// logKey logs what each backend of c answers to GET key, and its
// replication offsets, to tell a stale replica from a reply gone astray.
func logKey(t *testing.T, c *cluster, key string) {
	t.Helper()
	for _, n := range c.nodes() {
		r, err := n.c.doStrings("GET", key)
		f := n.info(t, "replication")
		t.Logf("%s (%s): GET %s = %v, %v; master_repl_offset:%s slave_repl_offset:%s master_link_status:%s",
			n.name, n.s.addr, key, r, err, f["master_repl_offset"], f["slave_repl_offset"], f["master_link_status"])
	}
}
