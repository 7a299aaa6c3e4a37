package proxy

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/metrics"
	"github.com/lagwise/lagwise/router"
)

// The counters are written by the event loops with atomic adds and read by
// the metrics scrape; nothing on the request path takes a lock for them.

const numClasses = int(router.Denied) + 1

// numBuckets is the number of finite duration buckets.
const numBuckets = 16

func init() {
	if len(metrics.DurationBuckets) != numBuckets {
		panic("proxy: numBuckets must match metrics.DurationBuckets")
	}
}

// loopStats are one loop's counters.
type loopStats struct {
	requests [numClasses]atomic.Uint64
	// buckets counts durations per class: buckets[c][i] those in
	// metrics.DurationBuckets' bucket i, the last one the rest.
	buckets   [numClasses][numBuckets + 1]atomic.Uint64
	sumNanos  [numClasses]atomic.Uint64
	rywMaster atomic.Uint64
}

func (s *loopStats) count(c router.Class) { s.requests[c].Add(1) }

func (s *loopStats) observe(c router.Class, d time.Duration) {
	s.buckets[c][metrics.BucketIndexDuration(d)].Add(1)
	s.sumNanos[c].Add(uint64(d))
}

// backendStats are one backend's counters, shared by every loop's
// connections to it.
type backendStats struct {
	reads  atomic.Uint64
	errors atomic.Uint64
	// conns is the number of its connections not closed yet, under the
	// registry's lock.
	conns int
}

// backendRegistry holds the counters of the backends the proxy talks to.
// A backend keeps its counters while the topology names it or a
// connection to it is open (one draining its last requests after a
// reload); after that they are dropped, at the next read of the counters,
// and a backend named again starts from zero. The lock is taken when a
// connection is made or closed and at scrape.
type backendRegistry struct {
	mu sync.Mutex
	m  map[string]*backendStats
}

// open returns addr's counters for a new connection to it.
func (r *backendRegistry) open(addr string) *backendStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*backendStats)
	}
	s := r.m[addr]
	if s == nil {
		s = &backendStats{}
		r.m[addr] = s
	}
	s.conns++
	return s
}

// closed records that a connection opened with open is closed.
func (r *backendRegistry) closed(s *backendStats) {
	r.mu.Lock()
	s.conns--
	r.mu.Unlock()
}

// read returns the counters of the backends that named reports as in the
// topology or that have a connection open, and drops the others'.
func (r *backendRegistry) read(named func(addr string) bool) (reads, errors map[string]uint64) {
	reads, errors = map[string]uint64{}, map[string]uint64{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for addr, s := range r.m {
		if s.conns <= 0 && !named(addr) {
			delete(r.m, addr)
			continue
		}
		reads[addr] = s.reads.Load()
		errors[addr] = s.errors.Load()
	}
	return reads, errors
}

// Counters are the proxy's counters summed over its loops at one moment.
type Counters struct {
	// Requests counts requests by metric class (metricClass).
	Requests map[string]uint64
	// Durations holds the request durations by metric class.
	Durations map[string]metrics.Histogram
	// Reads and Errors count, per backend address, the requests sent to
	// it and the ones its connections failed: for the backends of the
	// running topology, and those of an earlier one whose connections
	// are still draining.
	Reads, Errors  map[string]uint64
	RYWMasterReads uint64
	Clients        int64
	ReloadsOK      uint64
	ReloadsFailed  uint64
}

// metricClass is the class label of lagwise_requests_total for a router
// class: read, write (unknown commands count as writes), pinned, local
// (answered by the proxy), and admin for the rest that only the master
// answers (admin commands let through, TIME, PUBLISH, SCAN...) or that
// the proxy refuses.
func metricClass(c router.Class) string {
	switch c {
	case router.Read:
		return metrics.ClassRead
	case router.Write, router.Unknown:
		return metrics.ClassWrite
	case router.Pinned:
		return metrics.ClassPinned
	case router.Local:
		return "local"
	}
	return metrics.ClassAdmin
}

// Counters reads the counters. It is safe to call from any goroutine.
func (p *Proxy) Counters() Counters {
	c := Counters{
		Requests:      map[string]uint64{},
		Durations:     map[string]metrics.Histogram{},
		Clients:       p.clients.Load(),
		ReloadsOK:     p.reloads[0].Load(),
		ReloadsFailed: p.reloads[1].Load(),
	}
	per := map[string][]uint64{}
	sums := map[string]float64{}
	for _, l := range *p.loopList.Load() {
		s := &l.stats
		c.RYWMasterReads += s.rywMaster.Load()
		for cl := 0; cl < numClasses; cl++ {
			name := metricClass(router.Class(cl))
			c.Requests[name] += s.requests[cl].Load()
			b := per[name]
			if b == nil {
				b = make([]uint64, numBuckets+1)
				per[name] = b
			}
			for i := range s.buckets[cl] {
				b[i] += s.buckets[cl][i].Load()
			}
			sums[name] += float64(s.sumNanos[cl].Load()) / 1e9
		}
	}
	for name, b := range per {
		c.Durations[name] = metrics.HistogramOf(b, sums[name])
	}
	t := p.topo.Load()
	c.Reads, c.Errors = p.backends.read(func(addr string) bool { return addr == t.master || t.hasReplica(addr) })
	return c
}

// Snapshot implements metrics.Source: the counters and the monitor's last
// view. It takes no lock an event loop takes.
func (p *Proxy) Snapshot() metrics.Snapshot {
	c := p.Counters()
	v := p.lag.View()
	s := metrics.Snapshot{
		MasterOffset:      -1,
		Reads:             c.Reads,
		Requests:          c.Requests,
		Durations:         c.Durations,
		RYWMasterReads:    c.RYWMasterReads,
		ClientConnections: c.Clients,
		ConfigReloads:     map[string]uint64{metrics.ReloadOK: c.ReloadsOK, metrics.ReloadError: c.ReloadsFailed},
		ReconcileActions:  p.reconcileActions.Load(),
		BackendErrors:     c.Errors,
		Ready:             p.Ready(),
	}
	m := v.Master
	if m.Up {
		s.MasterOffset = m.Offset
	}
	s.Backends = append(s.Backends, metrics.Backend{Addr: m.Addr, Role: m.Role, Up: m.Up, Offset: -1, LagBytes: -1, LagSeconds: math.Inf(1)})
	s.BackendErrors[m.Addr] += m.PollErrors
	for i, r := range v.Replicas {
		b := metrics.Backend{Addr: r.Addr, Role: r.Role, Up: r.Up, IsReplica: true, Offset: r.Offset, LagBytes: -1, LagSeconds: r.LagSeconds}
		if r.Health == router.Known {
			b.LagBytes = r.ByteLag
		}
		s.BackendErrors[r.Addr] += r.PollErrors
		if e := v.Eligibility; e != nil && i < len(e.Replicas) {
			b.Routable = e.Routable(i)
		}
		s.Backends = append(s.Backends, b)
	}
	return s
}

// Ready reports whether the proxy serves: it accepts connections, and the
// master answers the lag monitor or a replica takes reads.
func (p *Proxy) Ready() bool {
	ok, _ := p.readyReason()
	return ok
}

// readyReason is /readyz's answer. A proxy whose master is down but whose
// replicas serve reads is ready, and says so: taking it out of a load
// balancer would take the reads down with the writes.
func (p *Proxy) readyReason() (bool, string) {
	select {
	case <-p.started:
	default:
		return false, "the proxy is starting"
	}
	v := p.lag.View()
	if v.Master.Up {
		return true, ""
	}
	why := "the master " + v.Master.Addr + " has not answered the lag monitor"
	for i := range v.Replicas {
		if v.Eligibility.Routable(i) {
			return true, "reads only: " + why
		}
	}
	return false, why + " and no replica takes reads"
}
