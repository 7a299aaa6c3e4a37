package proxy

// A stand-in for the lag monitor: it reports every configured replica as
// healthy and in sync, without polling. The poller replaces it.

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

type MonitorConfig struct {
	Master             string
	Replicas           []config.Replica
	Policy             router.Policy
	Interval, Timeout  time.Duration
	Username, Password string
	Logf               func(string, ...any)
}

type MasterState struct {
	Addr   string
	Up     bool
	Role   string
	Offset int64
	ReplID string
	Err    string
}

type ReplicaState struct {
	Addr       string
	Weight     int
	Up         bool
	Role       string
	Health     router.Health
	Offset     int64
	ByteLag    int64
	TimeLag    time.Duration
	LinkStatus string
	Err        string
	AckOffset  int64
}

type View struct {
	Seq         uint64
	At          time.Time
	Master      MasterState
	Replicas    []ReplicaState
	Eligibility *router.Eligibility
}

type Monitor struct {
	cfg     MonitorConfig
	view    atomic.Pointer[View]
	started atomic.Uint64
}

func NewMonitor(cfg MonitorConfig) *Monitor {
	m := &Monitor{cfg: cfg}
	m.publish()
	return m
}

func (m *Monitor) publish() {
	v := &View{Seq: m.started.Add(1), At: time.Now(), Master: MasterState{Addr: m.cfg.Master, Up: true, Role: "master"}}
	var samples []router.Sample
	for _, r := range m.cfg.Replicas {
		v.Replicas = append(v.Replicas, ReplicaState{Addr: r.Addr, Weight: r.Weight, Up: true, Role: "slave"})
		samples = append(samples, router.Sample{Addr: r.Addr, Weight: r.Weight})
	}
	v.Eligibility = router.Eligible(samples, m.cfg.Policy, nil)
	m.view.Store(v)
}

func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.publish()
		}
	}
}
func (m *Monitor) Update(cfg MonitorConfig) { m.cfg = cfg; m.publish() }
func (m *Monitor) View() *View              { return m.view.Load() }
func (m *Monitor) Started() uint64          { return m.started.Load() }
func (m *Monitor) Kick()                    {}
