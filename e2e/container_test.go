package e2e

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestContainers runs the image as users would: a master, two replicas
// and the proxy in containers of a private network (see
// container_harness_test.go). Each subtest starts its own set of
// containers and network, and removes them when it ends.
func TestContainers(t *testing.T) {
	image := requireContainers(t)
	t.Run("ReadWrite", func(t *testing.T) { testContainerReadWrite(t, image) })
	t.Run("NetworkDisconnect", func(t *testing.T) { testContainerDisconnect(t, image) })
	t.Run("Pause", func(t *testing.T) { testContainerPause(t, image) })
	t.Run("KillMaster", func(t *testing.T) { testContainerKillMaster(t, image, false) })
	t.Run("KillMasterReplicaBehind", func(t *testing.T) { testContainerKillMaster(t, image, true) })
}

// TestContainerGuard fails when the container tests skipped although a
// Docker engine answers (or LAGWISE_REQUIRE_DOCKER=1 is set and none
// does), so that CI cannot pass them by skipping.
func TestContainerGuard(t *testing.T) {
	if againstRedis() {
		t.Skip("LAGWISE_DIFF_AGAINST=redis: the container tests do not run")
	}
	ok, why := dockerAvailable()
	if !ok && requireDocker() {
		t.Fatalf("%s=1, but %s", envRequireDocker, why)
	}
	containerOutcome.Lock()
	ran, skipped := containerOutcome.ran, append([]string(nil), containerOutcome.skipped...)
	containerOutcome.Unlock()
	switch {
	case len(skipped) > 0 && ok:
		t.Fatalf("a Docker engine answers, but container tests skipped: %q", skipped)
	case len(skipped) > 0:
		t.Logf("container tests skipped without a Docker engine (%s); set %s=1 to make that a failure", why, envRequireDocker)
	case ran == 0:
		t.Logf("TestContainers did not run in this process (filtered out); Docker available: %v", ok)
	default:
		t.Logf("TestContainers ran; Docker available")
	}
}

// testContainerReadWrite: writes and reads through the proxy's published
// port reach the master and the replicas.
func testContainerReadWrite(t *testing.T, image string) {
	dc := startDockerCluster(t, image, false)
	ctx := testCtx(t, time.Minute)
	w := goRedis(t, dc.proxy.addr())
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("rw:%d", i)
		check(t, "SET "+k, w.Set(ctx, k, k, 0).Err())
		eqStr(t, "GET "+k+" by the writer", w.Get(ctx, k), k)
	}
	// A client that never wrote reads from the replicas, once they hold
	// the writes.
	reps := []*node{dc.replicas[0].node(t), dc.replicas[1].node(t)}
	before := cmdCalls(t, "get", reps...)
	r := goRedis(t, dc.proxy.addr())
	waitUntil(t, 10*time.Second, "the reads of a fresh client to reach both replicas", func() bool {
		for i := 0; i < 20; i++ {
			k := fmt.Sprintf("rw:%d", i)
			if v, err := r.Get(ctx, k).Result(); err != nil || v != k {
				t.Fatalf("GET %s through the proxy: %q %v", k, v, err)
			}
		}
		d := deltas(before, cmdCalls(t, "get", reps...))
		return d[0] > 0 && d[1] > 0
	})
	m := dc.master.node(t)
	if got := m.try(t, "DBSIZE"); string(got.raw) != ":100\r\n" {
		t.Errorf("the master holds %s keys, want 100", got)
	}
	t.Logf("reads served by the replicas: %v", deltas(before, cmdCalls(t, "get", reps...)))
}

// testContainerDisconnect: a replica cut off the network for longer than
// its repl-timeout stops getting reads; back on the network, it resyncs
// partially and ends with the master's dataset.
func testContainerDisconnect(t *testing.T, image string) {
	dc := startDockerCluster(t, image, false)
	r1 := dc.replicas[0]
	m := dc.master.node(t)
	ld := startLoad(t, dc.proxy.addr(), "net", 2)
	defer func() {
		if !isClosed(ld.stop) {
			ld.finish()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	before := m.syncs(t)

	mustDocker(t, "network", "disconnect", dc.net.name, r1.name)
	cut := time.Now()
	waitUntil(t, 5*time.Second, "the proxy to stop routing reads to the disconnected replica", func() bool { return !dc.routable(t, r1) })
	t.Logf("%s not routable %v after the disconnect", r1.alias, time.Since(cut).Round(time.Millisecond))
	waitUntil(t, 15*time.Second, "the master to drop the disconnected replica (repl-timeout 2)", func() bool {
		return m.info(t, "replication")["connected_slaves"] == "1"
	})
	t.Logf("the master dropped %s %v after the disconnect", r1.alias, time.Since(cut).Round(time.Millisecond))
	if d := 3*time.Second - time.Since(cut); d > 0 {
		time.Sleep(d) // off the network for longer than repl-timeout, whatever the master saw
	}
	if dc.routable(t, r1) {
		t.Errorf("LAGWISE LAG says the disconnected %s is routable", r1.alias)
	}
	mustDocker(t, "network", "connect", "--alias", r1.alias, dc.net.name, r1.name)
	back := time.Now()
	t.Logf("reconnected after %v off the network", back.Sub(cut).Round(time.Millisecond))

	waitUntil(t, replWait, "the reconnected replica to be routable again", func() bool { return dc.routable(t, r1) })
	t.Logf("%s routable again %v after the reconnect", r1.alias, time.Since(back).Round(time.Millisecond))
	var after syncCounts
	waitUntil(t, replWait, "a partial resync on the master", func() bool {
		after = m.syncs(t)
		return after.partialOK > before.partialOK
	})
	if after.full != before.full {
		t.Errorf("the reconnected replica needed a full resync: before %v, after %v", before, after)
	}
	t.Logf("master before %v, after %v", before, after)
	ld.finish()
	reportLoadErrors(t, ld)

	// The published port of r1 may be a new one after the reconnect.
	r1.refreshPorts(t)
	r1.waitPing(t)
	reps := []*node{r1.node(t), dc.replicas[1].node(t)}
	waitUntil(t, replWait, "the replicas to reach the master's offset", func() bool {
		mo := m.offset(t)
		for _, r := range reps {
			if r.offset(t) != mo {
				return false
			}
		}
		return true
	})
	want := digest(t, m.c)
	for _, r := range reps {
		if got := digest(t, r.c); got != want {
			t.Errorf("DEBUG DIGEST: %s %s, master %s", r.name, got, want)
		}
	}
	t.Logf("%d writes acknowledged, %d reads; DEBUG DIGEST %s on all three", len(ld.acked), ld.reads, want)
}

// testContainerPause: a paused replica's lag rises in the proxy's
// metrics and reads avoid it; unpaused, it gets reads again.
func testContainerPause(t *testing.T, image string) {
	dc := startDockerCluster(t, image, false)
	r1 := dc.replicas[0]
	r1n := r1.node(t)
	series := map[string]string{"backend": r1.alias + ":6379"}
	ld := startLoad(t, dc.proxy.addr(), "pause", 1)
	defer func() {
		if !isClosed(ld.stop) {
			ld.finish()
		}
	}()
	waitUntil(t, 10*time.Second, "lagwise_replica_routable of the replica to be 1", func() bool {
		return metricValue(t, dc.metrics(t), "lagwise_replica_routable", series) == 1
	})

	mustDocker(t, "pause", r1.name)
	paused := time.Now()
	var lag float64
	waitUntil(t, 5*time.Second, "the paused replica's lag to rise and its routable to fall", func() bool {
		f := dc.metrics(t)
		lag = metricValue(t, f, "lagwise_replica_lag_seconds", series)
		return metricValue(t, f, "lagwise_replica_routable", series) == 0 && (math.IsInf(lag, 1) || lag >= 0.5)
	})
	t.Logf("paused: lagwise_replica_lag_seconds %v, routable 0, %v after the pause", lag, time.Since(paused).Round(time.Millisecond))

	// Reads now avoid it: a read sent to a paused replica would hang.
	ctx := testCtx(t, time.Minute)
	r := goRedisWith(t, &redis.Options{Addr: dc.proxy.addr(), ReadTimeout: 2 * time.Second, MaxRetries: -1})
	start := time.Now()
	var slowest time.Duration
	for i := 0; i < 200; i++ {
		t0 := time.Now()
		if err := r.Get(ctx, "pause:probe").Err(); err != nil && err != redis.Nil {
			t.Fatalf("GET through the proxy while a replica is paused: %v", err)
		}
		slowest = max(slowest, time.Since(t0))
	}
	t.Logf("200 GETs while paused in %v, slowest %v", time.Since(start).Round(time.Millisecond), slowest.Round(time.Microsecond))
	if slowest > 500*time.Millisecond {
		t.Errorf("a GET took %v while a replica was paused: reads did not avoid it", slowest)
	}
	if dc.routable(t, r1) {
		t.Errorf("LAGWISE LAG says the paused %s is routable", r1.alias)
	}

	mustDocker(t, "unpause", r1.name)
	resumed := time.Now()
	waitUntil(t, 15*time.Second, "the unpaused replica's lag to fall back and its routable to return", func() bool {
		f := dc.metrics(t)
		lag = metricValue(t, f, "lagwise_replica_lag_seconds", series)
		return metricValue(t, f, "lagwise_replica_routable", series) == 1 && lag < 0.5
	})
	t.Logf("unpaused: routable again %v later, lag %vs", time.Since(resumed).Round(time.Millisecond), lag)
	gets := readsOn(t, r1n)
	waitUntil(t, 10*time.Second, "the unpaused replica to serve reads", func() bool {
		r.Get(ctx, "pause:probe")
		return readsOn(t, r1n) > gets
	})
	ld.finish()
	reportLoadErrors(t, ld)
}

// reportLoadErrors fails the test for the client errors of a load.
func reportLoadErrors(t *testing.T, ld *load) {
	t.Helper()
	if len(ld.errs) > 0 {
		t.Errorf("%d client errors, first: %q", len(ld.errs), ld.errs[:min(5, len(ld.errs))])
	}
	if len(ld.acked) == 0 {
		t.Error("no write was acknowledged")
	}
}

// refreshPorts reads the container's published ports again.
func (c *ctr) refreshPorts(t *testing.T) {
	t.Helper()
	for p := range c.ports {
		out := mustDocker(t, "port", c.name, p+"/tcp")
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "127.0.0.1:") {
				c.ports[p] = strings.TrimSpace(l)
				break
			}
		}
	}
}

// write is one SET of the kill test's load.
type write struct {
	key        string
	start, end time.Time
	err        error
	durable    bool // a WAIT 1 after it answered 1 or more
}

// killLoad writes keys of their own through the proxy, each on a raw
// connection that is dialled again after an error, and reads; it keeps
// the time and outcome of every request.
type killLoad struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	writes []write
	reads  []write // key unused; err nil for a served read
}

func startKillLoad(t *testing.T, addr, prefix string) *killLoad {
	t.Helper()
	l := &killLoad{stop: make(chan struct{})}
	// Two plain writers, one that follows each SET with WAIT 1 1000, and
	// a reader.
	for w := 0; w < 4; w++ {
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			var c *client
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				var err error
				if c == nil {
					if c, err = dial(addr); err != nil {
						c = nil
					}
				}
				key := fmt.Sprintf("%s:%d:%d", prefix, w, i)
				rec := write{key: key, start: time.Now()}
				if err == nil {
					if w == 3 {
						err = l.read(c, prefix+":probe")
					} else {
						err = l.set(c, key, w == 2, &rec)
					}
				}
				rec.end, rec.err = time.Now(), err
				if err != nil && !strings.HasPrefix(err.Error(), "reply ") && c != nil {
					c.Close()
					c = nil
				}
				l.mu.Lock()
				if w == 3 {
					l.reads = append(l.reads, rec)
				} else {
					l.writes = append(l.writes, rec)
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				} else {
					time.Sleep(time.Millisecond)
				}
			}
		}(w)
	}
	return l
}

// set sends SET key key, and WAIT 1 1000 after it when wait is set.
// Error replies come back as errors starting "reply ".
func (l *killLoad) set(c *client, key string, wait bool, rec *write) error {
	r, err := c.doStrings("SET", key, key)
	if err != nil {
		return err
	}
	if string(r.raw) != "+OK\r\n" {
		return fmt.Errorf("reply %q", r.raw)
	}
	if !wait {
		return nil
	}
	r, err = c.doStrings("WAIT", "1", "1000")
	if err != nil {
		return err
	}
	if n, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(r.raw), ":"))); r.kind == ':' && perr == nil && n >= 1 {
		rec.durable = true
	}
	return nil
}

func (l *killLoad) read(c *client, key string) error {
	r, err := c.doStrings("GET", key)
	if err != nil {
		return err
	}
	if r.isError() {
		return fmt.Errorf("reply %q", r.raw)
	}
	return nil
}

func (l *killLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

// testContainerKillMaster: the master is killed under a write load.
// Reads go on and writes fail fast; naming a replica master in config.yaml
// (reconcile: true) restores writes. Acknowledged writes the new master
// lacks are at most what it lagged by at the kill, and none of those
// confirmed by WAIT 1 is lost.
//
// With behind set, replica1 is off the network for the last second before
// the kill, so that it lags by a second of writes that replica2 alone
// received (and confirmed to WAIT), and is back on it after the kill.
func testContainerKillMaster(t *testing.T, image string, behind bool) {
	dc := startDockerCluster(t, image, true)
	m, r1, r2 := dc.master.node(t), dc.replicas[0].node(t), dc.replicas[1].node(t)
	ld := startKillLoad(t, dc.proxy.addr(), "kill")
	defer func() {
		if !isClosed(ld.stop) {
			ld.finish()
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if behind {
		mustDocker(t, "network", "disconnect", dc.net.name, dc.replicas[0].name)
		time.Sleep(time.Second)
	}

	// The lag at the kill. The master's offset is sampled just before the
	// kill, and every write acknowledged after the sample was applied
	// before the master died, so the master's last offset is at least the
	// sample plus their bytes. The replicas' offsets stay put from the
	// kill until the promotion; replica1's then is what it holds.
	fams := dc.metrics(t)
	lagSec := []float64{
		metricValue(t, fams, "lagwise_replica_lag_seconds", map[string]string{"backend": "replica1:6379"}),
		metricValue(t, fams, "lagwise_replica_lag_seconds", map[string]string{"backend": "replica2:6379"}),
	}
	om := m.offset(t)
	sampled := time.Now()
	mustDocker(t, "kill", dc.master.name)
	killed := time.Now()
	if behind {
		mustDocker(t, "network", "connect", "--alias", "replica1", dc.net.name, dc.replicas[0].name)
		dc.replicas[0].refreshPorts(t)
		dc.replicas[0].waitPing(t)
		r1 = dc.replicas[0].node(t)
	}
	time.Sleep(500 * time.Millisecond) // the replicas see the link go
	o1, o2 := r1.offset(t), r2.offset(t)
	var afterSample int64 // bytes of the writes acknowledged after the sample
	ld.mu.Lock()
	for _, w := range ld.writes {
		if w.err == nil && w.end.After(sampled) {
			afterSample += setEncodedLen(w.key)
		}
	}
	ld.mu.Unlock()
	lag1, lag2 := om+afterSample-o1, om+afterSample-o2
	lagText := func(lag int64) string {
		if lag <= 0 {
			return "past every acknowledged write"
		}
		return fmt.Sprintf("lag at least %d bytes", lag)
	}
	t.Logf("at the kill: master offset at least %d (%d at the sample %v before the kill, plus %d bytes of writes acknowledged since); replica1 at %d (%s), replica2 at %d (%s); the proxy's lag seconds just before: %v",
		om+afterSample, om, killed.Sub(sampled).Round(time.Millisecond), afterSample, o1, lagText(lag1), o2, lagText(lag2), lagSec)

	// Writes fail fast, reads go on, until the promotion.
	time.Sleep(3 * time.Second)
	edited := time.Now()
	dc.writeConfig(t, "replica1:6379", []string{"replica2:6379", "master:6379"})
	// Not waitUntil: the writes lost are counted below whatever happens.
	promotedOK := eventually(30*time.Second, func() bool {
		return r1.info(t, "replication")["role"] == "master" && r2.info(t, "replication")["master_host"] == "replica1" &&
			r2.info(t, "replication")["master_link_status"] == "up"
	})
	if !promotedOK {
		f1, f2 := r1.info(t, "replication"), r2.info(t, "replication")
		t.Errorf("30s after the edit, replica1 is not the master with replica2 following it: replica1 role:%s master_host:%s, replica2 role:%s master_host:%s master_link_status:%s",
			f1["role"], f1["master_host"], f2["role"], f2["master_host"], f2["master_link_status"])
	}
	promoted := time.Now()
	var firstWrite time.Time
	if !eventually(30*time.Second, func() bool {
		ld.mu.Lock()
		defer ld.mu.Unlock()
		for _, w := range ld.writes {
			if w.err == nil && w.start.After(edited) {
				firstWrite = w.end
				return true
			}
		}
		return false
	}) {
		t.Errorf("no write through the proxy succeeded in the 30s after the promotion")
	}
	if promotedOK {
		t.Logf("replica1 promoted and replica2 following it %v after the edit", promoted.Sub(edited).Round(time.Millisecond))
	}
	if !firstWrite.IsZero() {
		t.Logf("first write acknowledged %v after the edit", firstWrite.Sub(edited).Round(time.Millisecond))
	}
	time.Sleep(time.Second)
	ld.finish()

	// Between the kill and the edit: every write fails, each within ~2 s
	// of the kill or of its start; reads are served.
	var failed, acked, readsOK, readErrs int
	var slowest time.Duration
	for _, w := range ld.writes {
		if w.end.Before(killed) || w.start.After(edited) {
			continue
		}
		if w.err != nil {
			failed++
			slowest = max(slowest, w.end.Sub(maxTime(w.start, killed)))
		} else if w.start.After(killed) {
			// One in flight at the kill may have made it.
			acked++
		}
	}
	var firstReadErrs []string
	for _, r := range ld.reads {
		if r.start.Before(killed.Add(500*time.Millisecond)) || r.start.After(edited) {
			continue
		}
		if r.err == nil {
			readsOK++
		} else {
			readErrs++
			if len(firstReadErrs) < 5 {
				firstReadErrs = append(firstReadErrs, r.err.Error())
			}
		}
	}
	t.Logf("between the kill and the edit: %d writes failed (slowest to fail %v), %d acknowledged; %d reads served, %d failed %q",
		failed, slowest.Round(time.Millisecond), acked, readsOK, readErrs, firstReadErrs)
	if failed == 0 {
		t.Error("no write failed while the master was down")
	}
	if acked > 0 {
		t.Errorf("%d writes acknowledged while the master was down", acked)
	}
	if slowest > 2500*time.Millisecond {
		t.Errorf("a write took %v to fail while the master was down", slowest)
	}
	if readsOK == 0 {
		t.Error("no read was served while the master was down")
	}
	if readErrs > 0 {
		t.Errorf("%d reads failed while the master was down, first: %q", readErrs, firstReadErrs)
	}

	// Acknowledged writes missing on the new master: each lies past
	// replica1's offset at the kill and before the master's last one, so
	// their bytes fit in replica1's lag.
	var lost, lostDurable, total, durable int
	var lostBytes int64
	var lostConfirmed, lostAfter []string
	for _, w := range ld.writes {
		if w.err != nil {
			continue
		}
		total++
		if w.durable {
			durable++
		}
		if r := r1.try(t, "EXISTS", w.key); string(r.raw) == ":1\r\n" {
			continue
		}
		lost++
		lostBytes += setEncodedLen(w.key)
		if w.durable {
			lostDurable++
			lostConfirmed = append(lostConfirmed, w.key)
		}
		if w.start.After(edited) {
			lostAfter = append(lostAfter, w.key)
		}
	}
	if len(lostConfirmed) > 0 {
		t.Errorf("%d writes confirmed by WAIT 1 are not on the new master, e.g. %q", len(lostConfirmed), lostConfirmed[:min(5, len(lostConfirmed))])
	}
	if len(lostAfter) > 0 {
		t.Errorf("%d writes acknowledged after the promotion are not on the new master, e.g. %q", len(lostAfter), lostAfter[:min(5, len(lostAfter))])
	}
	perWrite := setEncodedLen("kill:0:1000")
	t.Logf("%d writes acknowledged, %d of them confirmed by WAIT 1; %d not on the new master (%d bytes of stream), %d of those confirmed; replica1 lagged at least %d bytes (~%.1f writes) at the kill",
		total, durable, lost, lostBytes, lostDurable, max(lag1, 0), float64(max(lag1, 0))/float64(perWrite))
	// The lag is a lower bound: the master may also have applied the
	// writes in flight at the kill (one per writer, never acknowledged)
	// and a replication PING after the sample.
	if slack := 3*perWrite + 64; lostBytes > max(lag1, 0)+slack {
		t.Errorf("the acknowledged writes lost take %d bytes of stream, more than replica1 lagged at the kill (%d bytes, +%d for writes in flight)", lostBytes, lag1, slack)
	}
	if durable == 0 {
		t.Error("no write was confirmed by WAIT 1")
	}
	if acked := r1.try(t, "EXISTS", fmt.Sprintf("kill:0:%d", 0)); string(acked.raw) != ":1\r\n" {
		t.Errorf("the first write is not on the new master: %s", acked)
	}

	// The survivors agree.
	if !eventually(replWait, func() bool { return r2.offset(t) == r1.offset(t) }) {
		t.Errorf("replica2 at offset %d, the new master at %d", r2.offset(t), r1.offset(t))
	} else if a, b := digest(t, r1.c), digest(t, r2.c); a != b {
		t.Errorf("DEBUG DIGEST: new master %s, replica2 %s", a, b)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// eventually polls ok until it holds or d has passed, and says whether it
// held.
func eventually(d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
