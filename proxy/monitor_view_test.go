package proxy

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/router"
)

// monParsed parses INFO texts into one InfoReplication.
func monParsed(t *testing.T, texts ...string) InfoReplication {
	t.Helper()
	var info InfoReplication
	for _, s := range texts {
		if err := ParseInfoReplication(s, &info); err != nil {
			t.Fatal(err)
		}
	}
	return info
}

// monReplicaInfo is a healthy replica of the master with replication ID
// id at offset off.
func monReplicaInfo(id string, off int64) InfoReplication {
	return InfoReplication{Role: "slave", ReplID: id, LinkStatus: "up", SlaveReplOffset: off, HasSlaveReplOffset: true}
}

func linkDown(info InfoReplication) InfoReplication {
	info.LinkStatus = "down"
	return info
}

func TestMonReplicaState(t *testing.T) {
	t0 := time.Unix(1000, 0)
	hist := router.NewHistory(16)
	hist.Add(t0, 100)
	hist.Add(t0.Add(100*time.Millisecond), 500)
	hist.Add(t0.Add(200*time.Millisecond), 1000)
	now := t0.Add(250 * time.Millisecond)
	ref := monMasterRef{known: true, answered: true, offset: 1000, replID: monRedisReplID, seenAt: t0.Add(200 * time.Millisecond)}
	silent := ref
	silent.answered = false
	r := config.Replica{Addr: "127.0.0.1:6381", Weight: 2}
	answered := func(info InfoReplication) *monPoll {
		return &monPoll{answered: true, info: info, sent: now.Add(-time.Millisecond), recv: now}
	}
	ms := time.Millisecond
	inf := math.Inf(1)

	cases := []struct {
		name    string
		p       *monPoll
		ref     monMasterRef
		maxLag  time.Duration
		health  router.Health
		up      bool
		offset  int64
		byteLag int64
		timeLag time.Duration
		lagSec  float64
		err     string // a part of Err; "" for none
	}{
		{"not polled", nil, ref, 500 * ms, router.NoAnswer, false, -1, -1, 0, inf, "not polled"},
		{"no answer", &monPoll{err: "INFO: no answer within poll_timeout 250ms"}, ref, 500 * ms, router.NoAnswer, false, -1, -1, 0, inf, "poll_timeout"},
		{"-LOADING", &monPoll{answered: true, loadingReply: true, err: "LOADING Redis is loading the dataset in memory"}, ref, 500 * ms,
			router.Loading, true, -1, -1, 0, inf, "LOADING"},
		{"redis replica loading", answered(monParsed(t, monInfoRedisReplicaLoading)), ref, 500 * ms, router.Loading, true, 1, -1, 0, inf, "loading"},
		{"redis replica syncing", answered(monParsed(t, monInfoRedisReplicaSyncing)), ref, 500 * ms, router.Syncing, true, 261, -1, 0, inf, "full sync"},
		{"redis replica connecting", answered(monParsed(t, monInfoRedisReplicaConnecting)), ref, 500 * ms, router.LinkDown, true, 1, -1, 0, inf, "master_link_status:down"},
		{"lagwise replica connecting", answered(monParsed(t, monInfoLagwiseReplicaConnecting)), ref, 500 * ms, router.LinkDown, true, 0, -1, 0, inf, "master_link_status:down"},
		{"a master", answered(monParsed(t, monInfoRedisMaster)), ref, 500 * ms, router.NotReplica, true, -1, -1, 0, inf, "role is master"},
		{"another master's replica", answered(monParsed(t, monInfoLagwiseReplica)), ref, 500 * ms, router.NotReplica, true, 180, -1, 0, inf,
			"replication ID " + monLagwiseReplID + " (replicating 127.0.0.1:17311) is not the master's " + monRedisReplID},
		{"no offset", answered(InfoReplication{Role: "slave", LinkStatus: "up", ReplID: monRedisReplID}), ref, 500 * ms, router.NoAnswer, true, -1, -1, 0, inf, "no slave_repl_offset"},
		{"master never answered", answered(monReplicaInfo(monRedisReplID, 1000)), monMasterRef{}, 500 * ms, router.NoAnswer, true, 1000, -1, 0, inf, "no answer from the master"},

		// Known: the lag.
		{"caught up", answered(monReplicaInfo(monRedisReplID, 1000)), ref, 500 * ms, router.Known, true, 1000, 0, 0, 0, ""},
		{"past the master", answered(monReplicaInfo(monRedisReplID, 1200)), ref, 500 * ms, router.Known, true, 1200, 0, 0, 0, ""},
		{"between samples", answered(monReplicaInfo(monRedisReplID, 600)), ref, 500 * ms, router.Known, true, 600, 400, 50 * ms, 0.05, ""},
		// The master was at 500 from t0+100ms until some time before
		// t0+200ms: the replica misses only what came after.
		{"at a sample", answered(monReplicaInfo(monRedisReplID, 500)), ref, 500 * ms, router.Known, true, 500, 500, 50 * ms, 0.05, ""},
		{"at the oldest sample", answered(monReplicaInfo(monRedisReplID, 100)), ref, 500 * ms, router.Known, true, 100, 900, 150 * ms, 0.15, ""},
		{"just past the oldest sample", answered(monReplicaInfo(monRedisReplID, 101)), ref, 500 * ms, router.Known, true, 101, 899, 150 * ms, 0.15, ""},
		{"just before the oldest sample", answered(monReplicaInfo(monRedisReplID, 99)), ref, 500 * ms, router.Known, true, 99, 901, 250 * ms, 0.25, ""},
		{"behind the history, bound under max_lag", answered(monReplicaInfo(monRedisReplID, 50)), ref, 500 * ms,
			router.Known, true, 50, 950, 500 * ms, inf, "lag unknown: behind the offset history"},
		{"behind the history, bound past max_lag", answered(monReplicaInfo(monRedisReplID, 50)), ref, 200 * ms,
			router.Known, true, 50, 950, 250 * ms, 0.25, "lag at least 250ms"},
		{"caught up, master silent this round", answered(monReplicaInfo(monRedisReplID, 1000)), silent, 500 * ms,
			router.Known, true, 1000, 0, 50 * ms, 0.05, "the master did not answer"},
		{"behind, master silent this round", answered(monReplicaInfo(monRedisReplID, 600)), silent, 500 * ms,
			router.Known, true, 600, 400, 50 * ms, 0.05, ""},
		// The master gone (silent) and the replica's link down: its data
		// is frozen at the master's last answer, lag as of then.
		{"master gone, link down, caught up", answered(linkDown(monReplicaInfo(monRedisReplID, 1000))), silent, 500 * ms,
			router.Known, true, 1000, 0, 0, 0, "the master does not answer"},
		{"master gone, link down, behind", answered(linkDown(monReplicaInfo(monRedisReplID, 400))), silent, 500 * ms,
			router.Known, true, 400, 600, 100 * ms, 0.1, "the master does not answer"},
		{"master up, link down", answered(linkDown(monReplicaInfo(monRedisReplID, 1000))), ref, 500 * ms,
			router.LinkDown, true, 1000, -1, 0, inf, "master_link_status:down"},
		{"replica of a replica", answered(monParsed(t, monInfoRedisSubReplica)), monMasterRef{known: true, answered: true, offset: 194890181, replID: monRedisReplID},
			500 * ms, router.Known, true, 194890181, 0, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := monReplicaState(r, c.p, c.ref, hist, c.maxLag)
			if st.Addr != r.Addr || st.Weight != 2 || st.AckOffset != -1 {
				t.Errorf("addr, weight, ack: %q %d %d", st.Addr, st.Weight, st.AckOffset)
			}
			if st.Health != c.health || st.Up != c.up || st.Offset != c.offset || st.ByteLag != c.byteLag {
				t.Errorf("health %v up %v offset %d byte lag %d, want %v %v %d %d (err %q)",
					st.Health, st.Up, st.Offset, st.ByteLag, c.health, c.up, c.offset, c.byteLag, st.Err)
			}
			if c.health == router.Known && st.TimeLag != c.timeLag {
				t.Errorf("time lag %v, want %v", st.TimeLag, c.timeLag)
			}
			if math.Abs(st.LagSeconds-c.lagSec) > 1e-9 && !(math.IsInf(c.lagSec, 1) && math.IsInf(st.LagSeconds, 1)) {
				t.Errorf("lag seconds %v, want %v", st.LagSeconds, c.lagSec)
			}
			if (c.err == "") != (st.Err == "") || !strings.Contains(st.Err, c.err) {
				t.Errorf("err %q, want %q", st.Err, c.err)
			}
			s := st.Sample()
			if s.Addr != st.Addr || s.Weight != st.Weight || s.Health != st.Health || s.Offset != st.Offset || s.ByteLag != st.ByteLag || s.TimeLag != st.TimeLag {
				t.Errorf("sample %+v from %+v", s, st)
			}
		})
	}
}

func TestMonBuildView(t *testing.T) {
	t0 := time.Unix(1000, 0)
	master := monParsed(t, monInfoRedisMaster2) // replicas 127.0.0.1:17302 and :17303
	hist := router.NewHistory(16)
	hist.Add(t0.Add(-100*time.Millisecond), master.MasterReplOffset-100)
	hist.Add(t0, master.MasterReplOffset)
	ref := monMasterRef{known: true, answered: true, offset: master.MasterReplOffset, replID: master.ReplID, seenAt: t0}
	cfg := MonitorConfig{
		Master: "127.0.0.1:17301",
		Replicas: []config.Replica{
			{Addr: "localhost:17302", Weight: 1}, // matched through the resolver
			{Addr: "127.0.0.1:17303", Weight: 2},
			{Addr: "127.0.0.1:17304", Weight: 1}, // the master does not list it
		},
		Policy: router.DefaultPolicy(),
	}.withDefaults()
	now := t0.Add(time.Millisecond)
	polls := map[string]*monPoll{
		"localhost:17302": {answered: true, info: monReplicaInfo(master.ReplID, master.MasterReplOffset), recv: now},
		"127.0.0.1:17303": {answered: true, info: monReplicaInfo(master.ReplID, master.MasterReplOffset-10), recv: now},
	}
	mp := &monPoll{answered: true, info: master, sent: t0, recv: now}
	v := monBuildView(7, t0, cfg, mp, polls, ref, hist, map[string][]string{"localhost": {"::1", "127.0.0.1"}}, nil)

	if v.Seq != 7 || !v.At.Equal(t0) {
		t.Errorf("seq %d at %v", v.Seq, v.At)
	}
	m := v.Master
	if !m.Up || m.Role != "master" || m.Offset != 194890153 || m.ReplID != monRedisReplID || m.Err != "" || len(m.Replicas) != 2 {
		t.Errorf("master %+v", m)
	}
	if m.Replicas[1] != (MasterReplica{Addr: "127.0.0.1:17303", State: "online", AckOffset: 194890153, LagSeconds: 0}) {
		t.Errorf("master's replica %+v", m.Replicas[1])
	}
	if len(v.Replicas) != 3 || len(v.Eligibility.Samples) != 3 {
		t.Fatalf("%d replicas, %d samples", len(v.Replicas), len(v.Eligibility.Samples))
	}
	for i, want := range []struct {
		addr   string
		health router.Health
		ack    int64
		bytes  int64
	}{
		{"localhost:17302", router.Known, 194890153, 0},
		{"127.0.0.1:17303", router.Known, 194890153, 10},
		{"127.0.0.1:17304", router.NoAnswer, -1, -1},
	} {
		r := v.Replicas[i]
		if r.Addr != want.addr || r.Health != want.health || r.AckOffset != want.ack || r.ByteLag != want.bytes {
			t.Errorf("replica %d: %+v", i, r)
		}
		if v.Eligibility.Samples[i] != r.Sample() {
			t.Errorf("sample %d: %+v, replica %+v", i, v.Eligibility.Samples[i], r)
		}
	}
	if !v.Eligibility.Routable(0) || !v.Eligibility.Routable(1) || v.Eligibility.Routable(2) {
		t.Errorf("routable: %+v", v.Eligibility.Replicas)
	}

	// The master did not answer: no offset, no view of its replicas.
	v2 := monBuildView(8, t0, cfg, &monPoll{err: "connect: connection refused"}, polls, ref, hist, nil, v)
	if v2.Master.Up || v2.Master.Offset != -1 || v2.Master.Err != "connect: connection refused" || v2.Master.Replicas != nil {
		t.Errorf("master down: %+v", v2.Master)
	}
	if v2.Replicas[0].AckOffset != -1 {
		t.Errorf("ack offset without the master: %d", v2.Replicas[0].AckOffset)
	}
}

func TestMonRepublish(t *testing.T) {
	cfg := MonitorConfig{
		Master:   "m:1",
		Replicas: []config.Replica{{Addr: "a:1", Weight: 1}, {Addr: "b:1", Weight: 1}},
		Policy:   router.DefaultPolicy(),
	}
	known := func(addr string, w int) ReplicaState {
		return ReplicaState{Addr: addr, Weight: w, Up: true, Role: "slave", Health: router.Known, Offset: 10, ByteLag: 0, AckOffset: 10, LinkStatus: "up"}
	}
	prev := &View{Seq: 5, Master: MasterState{Addr: "m:1", Up: true, Role: "master", Offset: 10, ReplID: "x"},
		Replicas: []ReplicaState{known("a:1", 1), known("b:1", 1)}}
	prev.Eligibility = router.Eligible(monSamples(prev.Replicas), cfg.Policy, nil)

	// b stays (new weight), a goes, c comes.
	next := cfg
	next.Replicas = []config.Replica{{Addr: "b:1", Weight: 3}, {Addr: "c:1", Weight: 1}}
	v := monRepublish(prev, cfg, next)
	if v.Seq != 5 || v.Master.Offset != 10 || len(v.Replicas) != 2 {
		t.Fatalf("%+v", v)
	}
	if b := v.Replicas[0]; b.Addr != "b:1" || b.Weight != 3 || b.Health != router.Known {
		t.Errorf("kept replica: %+v", b)
	}
	if c := v.Replicas[1]; c.Addr != "c:1" || c.Health != router.NoAnswer || c.Up || !math.IsInf(c.LagSeconds, 1) {
		t.Errorf("new replica: %+v", c)
	}
	if !v.Eligibility.Routable(0) || v.Eligibility.Routable(1) || v.Eligibility.Replicas[1].Cause != router.Unmeasured {
		t.Errorf("eligibility: %+v", v.Eligibility.Replicas)
	}

	// A new master: nothing known holds.
	next = cfg
	next.Master = "m:2"
	v = monRepublish(prev, cfg, next)
	if v.Master.Addr != "m:2" || v.Master.Up || v.Master.Offset != -1 {
		t.Errorf("new master: %+v", v.Master)
	}
	for i, r := range v.Replicas {
		if r.Health != router.NoAnswer || v.Eligibility.Routable(i) {
			t.Errorf("replica %d after a new master: %+v", i, r)
		}
	}

	// The initial view: the same, for every replica.
	v = monInitialView(cfg)
	if v.Seq != 0 || v.Master.Offset != -1 || len(v.Replicas) != 2 || v.Eligibility == nil || v.Eligibility.Routable(0) {
		t.Errorf("initial view %+v", v)
	}
}

// A replica added by a reload, or listed when the proxy starts, gets reads
// from its first poll that finds its lag under max_lag: 450 ms here, above
// the hysteresis line at 400 ms. Not polled yet is not cut off.
func TestMonNewReplicaReadsAtFirstPoll(t *testing.T) {
	t0 := time.Unix(1000, 0)
	now := t0.Add(500 * time.Millisecond)
	hist := router.NewHistory(16)
	hist.Add(t0, 1000)
	hist.Add(t0.Add(50*time.Millisecond), 1500)
	hist.Add(now, 2000)
	ref := monMasterRef{known: true, answered: true, offset: 2000, replID: monRedisReplID, seenAt: now}
	mp := &monPoll{answered: true, info: InfoReplication{Role: "master", ReplID: monRedisReplID, MasterReplOffset: 2000, HasMasterReplOffset: true}, recv: now}
	polls := map[string]*monPoll{
		"a:1": {answered: true, info: monReplicaInfo(monRedisReplID, 2000), recv: now},
		"c:1": {answered: true, info: monReplicaInfo(monRedisReplID, 1000), recv: now}, // the master passed 1000 450 ms ago
	}
	cfg := MonitorConfig{Master: "m:1", Replicas: []config.Replica{{Addr: "a:1", Weight: 1}}, Policy: router.DefaultPolicy()}.withDefaults()
	prev := monBuildView(1, now, cfg, mp, polls, ref, hist, nil, monInitialView(cfg))
	next := cfg
	next.Replicas = []config.Replica{{Addr: "a:1", Weight: 1}, {Addr: "c:1", Weight: 1}}
	for _, tc := range []struct {
		what   string
		before *View
	}{
		{"added by a reload", monRepublish(prev, cfg, next)},
		{"listed at the start", monInitialView(next)},
	} {
		v := monBuildView(2, now, next, mp, polls, ref, hist, nil, tc.before)
		if c := v.Replicas[1]; c.Health != router.Known || c.TimeLag != 450*time.Millisecond {
			t.Fatalf("%s: replica c: %+v", tc.what, c)
		}
		if !v.Eligibility.Routable(1) {
			t.Errorf("%s: lag 450ms at its first poll, no reads: %+v", tc.what, v.Eligibility.Replicas[1])
		}
	}
}

func TestMonNews(t *testing.T) {
	prev := &View{Master: MasterState{Addr: "m:1", Up: true, Role: "master"},
		Replicas: []ReplicaState{{Addr: "a:1", Up: true, Health: router.Known}, {Addr: "b:1", Err: monNotPolled, Health: router.NoAnswer}}}
	v := &View{Master: MasterState{Addr: "m:1", Up: true, Role: "slave"},
		Replicas: []ReplicaState{{Addr: "a:1", Up: true, Health: router.LinkDown, Err: "master_link_status:down"}, {Addr: "b:1", Up: true, Health: router.Known}}}
	news := func(prev, v *View) string {
		var lines []string
		for _, n := range monNews(prev, v) {
			lines = append(lines, n.level.String()+" "+n.text)
		}
		return strings.Join(lines, "\n")
	}
	// A backend lost to reads is a warning, one back is information.
	got := news(prev, v)
	for _, want := range []string{"warn master m:1: role slave (was master)", "warn master m:1 reports role slave: writes sent to it will fail", "warn replica a:1: link down: master_link_status:down", "info replica b:1: lag 0s"} {
		if !strings.Contains(got, want) {
			t.Errorf("news lack %q:\n%s", want, got)
		}
	}
	if n := monNews(v, v); len(n) != 0 {
		t.Errorf("news without a change: %v", n)
	}
	down := &View{Master: MasterState{Addr: "m:1", Err: "INFO: connection refused"},
		Replicas: []ReplicaState{{Addr: "a:1", Health: router.NoAnswer, Err: "connection refused"}, {Addr: "b:1", Up: true, Health: router.Known}}}
	got = news(v, down)
	for _, want := range []string{"warn master m:1: down: INFO: connection refused", "warn replica a:1: down: connection refused"} {
		if !strings.Contains(got, want) {
			t.Errorf("news lack %q:\n%s", want, got)
		}
	}
	got = news(down, prev)
	for _, want := range []string{"info master m:1: up, role master", "info replica a:1: back, lag 0s"} {
		if !strings.Contains(got, want) {
			t.Errorf("news lack %q:\n%s", want, got)
		}
	}
}

// A master idle for an hour takes a write; a replica one write behind
// lags by the time since the write, not by the hour.
func TestMonReplicaStateAfterIdle(t *testing.T) {
	t0 := time.Unix(1000, 0)
	hist := router.NewHistory(16)
	hist.Add(t0, 1000) // seen at 1000 every poll for an hour; kept once
	t1 := t0.Add(time.Hour)
	hist.Add(t1, 1100)
	ref := monMasterRef{known: true, answered: true, offset: 1100, replID: monRedisReplID, seenAt: t1}
	p := &monPoll{answered: true, info: monReplicaInfo(monRedisReplID, 1000), recv: t1.Add(2 * time.Millisecond)}
	st := monReplicaState(config.Replica{Addr: "r:1", Weight: 1}, p, ref, hist, 500*time.Millisecond)
	if st.Health != router.Known || st.TimeLag != 2*time.Millisecond || st.ByteLag != 100 {
		t.Errorf("%+v", st)
	}
}
