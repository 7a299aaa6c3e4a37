package proxy

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/router"
)

// The counters are written by the event loops with atomic adds and read by
// the metrics scrape; nothing on the request path takes a lock for them.

// durationBuckets are the upper bounds, in seconds, of the request
// duration histogram.
var durationBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// durationLimits are durationBuckets as durations, for the hot path.
var durationLimits = func() (d [len(durationBuckets)]time.Duration) {
	for i, s := range durationBuckets {
		d[i] = time.Duration(s * float64(time.Second))
	}
	return d
}()

const numClasses = int(router.Denied) + 1

// loopStats are one loop's counters.
type loopStats struct {
	requests [numClasses]atomic.Uint64
	// buckets counts durations per class: buckets[c][i] those at most
	// durationBuckets[i] (and above the one before), the last one the rest.
	buckets   [numClasses][len(durationBuckets) + 1]atomic.Uint64
	sumNanos  [numClasses]atomic.Uint64
	rywMaster atomic.Uint64
}

func (s *loopStats) count(c router.Class) { s.requests[c].Add(1) }

func (s *loopStats) observe(c router.Class, d time.Duration) {
	i := 0
	for i < len(durationLimits) && d > durationLimits[i] {
		i++
	}
	s.buckets[c][i].Add(1)
	s.sumNanos[c].Add(uint64(d))
}

// backendStats are one backend's counters, shared by every loop's
// connections to it.
type backendStats struct {
	reads  atomic.Uint64
	errors atomic.Uint64
}

// backendRegistry holds the counters of every backend the proxy has
// talked to. The lock is taken when a connection is made and at scrape.
type backendRegistry struct {
	mu sync.Mutex
	m  map[string]*backendStats
}

func (r *backendRegistry) get(addr string) *backendStats {
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
	return s
}

// Counters are the proxy's counters summed over its loops at one moment.
type Counters struct {
	// Requests counts requests by router class name.
	Requests map[string]uint64
	// Durations holds, per class name, the cumulative bucket counts for
	// DurationBuckets (then +Inf), the count and the sum in seconds.
	Durations map[string]Histogram
	// Reads and Errors count, per backend address, the requests sent to
	// it and the ones its connections failed.
	Reads, Errors  map[string]uint64
	RYWMasterReads uint64
	Clients        int64
	ReloadsOK      uint64
	ReloadsFailed  uint64
}

// Histogram is one class's request durations.
type Histogram struct {
	Cumulative []uint64 // per DurationBuckets bound, then +Inf
	Count      uint64
	Sum        float64
}

// DurationBuckets returns the histogram's upper bounds in seconds.
func DurationBuckets() []float64 { return durationBuckets[:] }

// Counters reads the counters. It is safe to call from any goroutine.
func (p *Proxy) Counters() Counters {
	c := Counters{
		Requests:      map[string]uint64{},
		Durations:     map[string]Histogram{},
		Reads:         map[string]uint64{},
		Errors:        map[string]uint64{},
		Clients:       p.clients.Load(),
		ReloadsOK:     p.reloads[0].Load(),
		ReloadsFailed: p.reloads[1].Load(),
	}
	for _, l := range *p.loopList.Load() {
		s := &l.stats
		c.RYWMasterReads += s.rywMaster.Load()
		for cl := 0; cl < numClasses; cl++ {
			name := router.Class(cl).String()
			if n := s.requests[cl].Load(); n > 0 {
				c.Requests[name] += n
			}
			h := c.Durations[name]
			if h.Cumulative == nil {
				h.Cumulative = make([]uint64, len(durationBuckets)+1)
			}
			var run uint64
			for i := range s.buckets[cl] {
				run += s.buckets[cl][i].Load()
				h.Cumulative[i] += run
			}
			h.Count += run
			h.Sum += float64(s.sumNanos[cl].Load()) / 1e9
			c.Durations[name] = h
		}
	}
	for name, h := range c.Durations {
		if h.Count == 0 {
			delete(c.Durations, name)
		}
	}
	p.backends.mu.Lock()
	for addr, s := range p.backends.m {
		c.Reads[addr] = s.reads.Load()
		c.Errors[addr] = s.errors.Load()
	}
	p.backends.mu.Unlock()
	return c
}
