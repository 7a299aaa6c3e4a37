package proxy

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/config"
)

func TestPlanTopology(t *testing.T) {
	m := func(addr string, off int64) BackendRole {
		return BackendRole{Addr: addr, Reachable: true, Role: "master", ReplID: "A", Offset: off}
	}
	r := func(addr, follows string, off int64) BackendRole {
		return BackendRole{Addr: addr, Reachable: true, Role: "slave", Follows: follows, LinkUp: true, ReplID: "A", Offset: off}
	}
	down := func(addr string) BackendRole { return BackendRole{Addr: addr} }
	cases := []struct {
		what     string
		master   string
		replicas []string
		roles    []BackendRole
		want     string // promote/old/alive/catchup/repoint/unreachable
	}{
		{"in place: nothing to do", "m:1", []string{"r:1", "r:2"},
			[]BackendRole{m("m:1", 10), r("r:1", "m:1", 10), r("r:2", "m:1", 10)},
			"promote=false old= alive=false catchup= repoint=[] unreachable=[]"},
		{"a replica follows an address spelled otherwise, in sync: left alone", "localhost:1", []string{"r:1"},
			[]BackendRole{m("localhost:1", 10), r("r:1", "127.0.0.1:1", 10)},
			"promote=false old= alive=false catchup= repoint=[] unreachable=[]"},
		{"a replica follows someone else", "m:1", []string{"r:1", "r:2"},
			[]BackendRole{m("m:1", 10), r("r:1", "m:1", 10), func() BackendRole { x := r("r:2", "x:9", 3); x.ReplID = "B"; return x }()},
			"promote=false old= alive=false catchup= repoint=[r:2: REPLICAOF m 1 (follows x:9)] unreachable=[]"},
		{"a master named a replica", "m:1", []string{"r:1"},
			[]BackendRole{m("m:1", 10), func() BackendRole { x := m("r:1", 4); x.ReplID = "B"; return x }()},
			"promote=false old= alive=false catchup= repoint=[r:1: REPLICAOF m 1 (a master, named a replica)] unreachable=[]"},
		{"planned switch: the named master follows a live master", "r:1", []string{"m:1", "r:2"},
			[]BackendRole{m("m:1", 10), r("r:1", "m:1", 9), r("r:2", "m:1", 8)},
			"promote=true old=m:1 alive=true catchup= repoint=[m:1: REPLICAOF r 1 (re-pointed to the new master) r:2: REPLICAOF r 1 (re-pointed to the new master)] unreachable=[]"},
		{"old master gone, another replica ahead", "r:1", []string{"r:2"},
			[]BackendRole{down("m:1"), func() BackendRole { x := r("r:1", "m:1", 80); x.LinkUp = false; return x }(), func() BackendRole { x := r("r:2", "m:1", 95); x.LinkUp = false; return x }()},
			"promote=true old=m:1 alive=false catchup=r:2 repoint=[r:2: REPLICAOF r 1 (re-pointed to the new master)] unreachable=[]"},
		{"old master gone, the named master is the furthest", "r:1", []string{"r:2"},
			[]BackendRole{down("m:1"), r("r:1", "m:1", 95), r("r:2", "m:1", 80)},
			"promote=true old=m:1 alive=false catchup= repoint=[r:2: REPLICAOF r 1 (re-pointed to the new master)] unreachable=[]"},
		{"backends that do not answer are reported", "m:1", []string{"r:1"},
			[]BackendRole{down("m:1"), down("r:1")},
			"promote=false old= alive=false catchup= repoint=[] unreachable=[m:1 r:1]"},
	}
	for _, tc := range cases {
		roles := map[string]BackendRole{}
		for _, x := range tc.roles {
			roles[x.Addr] = x
		}
		p := PlanTopology(tc.master, tc.replicas, roles)
		var steps []string
		for _, s := range p.Repoint {
			steps = append(steps, s.String())
		}
		got := "promote=" + boolStr(p.Promote) + " old=" + p.OldMaster + " alive=" + boolStr(p.OldAlive) + " catchup=" + p.CatchUpFrom +
			" repoint=[" + strings.Join(steps, " ") + "] unreachable=[" + strings.Join(p.Unreachable, " ") + "]"
		if got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.what, got, tc.want)
		}
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// fakeAdmin is a set of backends whose roles change as REPLICAOF says,
// and whose replicas' offsets move toward their master's by step on each
// look.
type fakeAdmin struct {
	roles map[string]*BackendRole
	sent  []string
	step  int64
	// paused is whether the proxy held writes when each command was
	// sent.
	p      *Proxy
	paused []bool
	// refuse: REPLICAOF to these addresses fails with this error.
	refuse map[string]string
}

func (f *fakeAdmin) role(_ context.Context, addr string) BackendRole {
	r, ok := f.roles[addr]
	if !ok || !r.Reachable {
		return BackendRole{Addr: addr}
	}
	if r.Role == "slave" {
		if m, ok := f.roles[r.Follows]; ok && m.Reachable && r.Offset < m.Offset {
			r.Offset = min(m.Offset, r.Offset+f.step)
		}
	}
	return *r
}

func (f *fakeAdmin) do(_ context.Context, addr string, args ...string) (string, error) {
	f.sent = append(f.sent, addr+": "+strings.Join(args, " "))
	f.paused = append(f.paused, f.p.writesPaused.Load())
	r, ok := f.roles[addr]
	if !ok || !r.Reachable {
		return "", errors.New("connection refused")
	}
	if e := f.refuse[addr]; e != "" && strings.EqualFold(args[0], "replicaof") {
		return "", errors.New(e)
	}
	if strings.EqualFold(args[0], "replicaof") {
		if strings.EqualFold(args[1], "no") {
			// A promoted replica starts a new history, as Redis does.
			r.Role, r.Follows, r.ReplID = "master", "", r.ReplID+"'"
		} else {
			r.Role, r.Follows = "slave", net.JoinHostPort(args[1], args[2])
			m, ok := f.roles[r.Follows]
			r.LinkUp = ok && m.Reachable
			if ok {
				r.ReplID = m.ReplID
			}
		}
	}
	return "OK", nil
}

func newReconcileHarness(t *testing.T, step int64) (*harness, *fakeAdmin, *[]string) {
	h := newHarness(t, 2, func(c *config.Config) { c.Reconcile = true })
	fa := &fakeAdmin{p: h.p, step: step, roles: map[string]*BackendRole{
		"m:1": {Addr: "m:1", Reachable: true, Role: "master", ReplID: "A", Offset: 1000},
		"r:1": {Addr: "r:1", Reachable: true, Role: "slave", Follows: "m:1", LinkUp: true, ReplID: "A", Offset: 900},
		"r:2": {Addr: "r:2", Reachable: true, Role: "slave", Follows: "m:1", LinkUp: true, ReplID: "A", Offset: 950},
	}}
	var logs []string
	h.p.rec.admin = fa
	h.p.rec.logf = func(lvl Level, f string, a ...any) {
		logs = append(logs, lvl.String()+" "+strings.TrimSpace(sprintf(f, a...)))
	}
	h.p.rec.sleep = func(time.Duration) {}
	return h, fa, &logs
}

func promoteConfig(h *harness) *config.Config {
	cfg := *h.p.Config()
	cfg.Master = "r:1"
	cfg.Replicas = []config.Replica{{Addr: "m:1", Weight: 1}, {Addr: "r:2", Weight: 1}}
	return &cfg
}

func TestReconcilePlannedSwitch(t *testing.T) {
	h, fa, logs := newReconcileHarness(t, 40)
	if err := h.p.Apply(context.Background(), promoteConfig(h)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"m:1: CLIENT PAUSE 6000 WRITE",
		"r:1: REPLICAOF NO ONE",
		"m:1: CLIENT UNPAUSE",
		"m:1: REPLICAOF r 1",
		"r:2: REPLICAOF r 1",
	}
	if strings.Join(fa.sent, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent:\n%s\nwant:\n%s\nlog: %q", strings.Join(fa.sent, "\n"), strings.Join(want, "\n"), *logs)
	}
	// Writes were held from the pause to the promotion.
	if !fa.paused[0] || !fa.paused[1] {
		t.Errorf("writes not held while the new master caught up and was promoted: %v", fa.paused)
	}
	if fa.roles["r:1"].Offset != 1000 {
		t.Errorf("promoted at offset %d, before the old master's 1000", fa.roles["r:1"].Offset)
	}
	if h.p.Config().Master != "r:1" || h.p.writesPaused.Load() {
		t.Errorf("after the switch: master %s, paused %v", h.p.Config().Master, h.p.writesPaused.Load())
	}
}

func TestReconcileSwitchCalledOff(t *testing.T) {
	h, fa, _ := newReconcileHarness(t, 0) // the replica never catches up
	h.p.rec.switchTimeout = 20 * time.Millisecond
	h.p.rec.sleep = time.Sleep
	err := h.p.Apply(context.Background(), promoteConfig(h))
	if err == nil || !strings.Contains(err.Error(), "switch called off") {
		t.Fatalf("Apply = %v, want the switch called off", err)
	}
	if h.p.Config().Master != "m:1" || h.p.writesPaused.Load() {
		t.Errorf("after a called-off switch: master %s, paused %v", h.p.Config().Master, h.p.writesPaused.Load())
	}
	for _, s := range fa.sent {
		if strings.Contains(s, "REPLICAOF NO ONE") {
			t.Errorf("promoted anyway: %q", fa.sent)
		}
	}
}

func TestReconcileOldMasterGone(t *testing.T) {
	h, fa, logs := newReconcileHarness(t, 100)
	fa.roles["m:1"].Reachable = false
	fa.roles["r:1"].LinkUp, fa.roles["r:2"].LinkUp = false, false
	h.setLag(1000, []int64{100, 50}) // the monitor last saw the master at 1000
	if err := h.p.Apply(context.Background(), promoteConfig(h)); err != nil {
		t.Fatal(err)
	}
	// r:2 (950) is ahead of r:1 (900). A replica without its master
	// feeds no one, so r:2 becomes a master, r:1 follows it until it has
	// its offset, r:1 is promoted and r:2 follows it.
	want := []string{"r:2: REPLICAOF NO ONE", "r:1: REPLICAOF r 2", "r:1: REPLICAOF NO ONE", "r:2: REPLICAOF r 1"}
	if strings.Join(fa.sent, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want %q", fa.sent, want)
	}
	if fa.roles["r:1"].Role != "master" || fa.roles["r:2"].Follows != "r:1" {
		t.Fatalf("roles afterwards: r:1 %+v, r:2 %+v", *fa.roles["r:1"], *fa.roles["r:2"])
	}
	if got := h.p.lastGap.Load(); got != 50 {
		t.Errorf("gap = %d, want 50 (1000 seen on the old master, 950 promoted)", got)
	}
	joined := strings.Join(*logs, "\n")
	if !strings.Contains(joined, "up to 50 bytes of its writes may be lost") {
		t.Errorf("log does not report the gap:\n%s", joined)
	}
}

// A backend that does not answer is logged when it stops and when it
// answers again, not on every pass.
func TestReconcileUnreachableLoggedOnce(t *testing.T) {
	h, fa, logs := newReconcileHarness(t, 0)
	pass := func() { t.Helper(); reconcilePass(t, h) }
	pass()
	if len(*logs) != 0 {
		t.Fatalf("in place, logged %q", *logs)
	}
	fa.roles["m:1"].Reachable = false
	fa.roles["r:2"].Reachable = false
	for i := 0; i < 5; i++ {
		pass()
	}
	want := []string{
		"warn reconcile: m:1 did not answer; its role is left as it is",
		"warn reconcile: r:2 did not answer; its role is left as it is",
	}
	if got := strings.Join(*logs, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("after 5 passes with m:1 and r:2 silent, logged:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	fa.roles["m:1"].Reachable = true
	for i := 0; i < 3; i++ {
		pass()
	}
	want = append(want, "info reconcile: m:1 answers again")
	if got := strings.Join(*logs, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("after m:1 answered again, logged:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// Silent again: a new episode, logged again.
	fa.roles["m:1"].Reachable = false
	pass()
	pass()
	want = append(want, "warn reconcile: m:1 did not answer; its role is left as it is")
	if got := strings.Join(*logs, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("after m:1 stopped again, logged:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// A silent replica taken out of the file is forgotten without a word.
	cfg := *h.p.Config()
	cfg.Replicas = cfg.Replicas[:1]
	if err := h.p.Apply(context.Background(), &cfg); err != nil {
		t.Fatal(err)
	}
	fa.roles["r:2"].Reachable = true
	pass()
	if got := strings.Join(*logs, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("after r:2 left the file, logged:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if _, held := h.p.rec.failing[silentKey+"r:2"]; held {
		t.Errorf("r:2 still held as silent after it left the file")
	}
}

// A REPLICAOF that fails the same way on every pass is logged once, and
// again when its error changes; once it succeeds, a later failure is
// logged anew.
func TestReconcileFailureLoggedOnce(t *testing.T) {
	h, fa, logs := newReconcileHarness(t, 0)
	pass := func() { t.Helper(); reconcilePass(t, h) }
	// r:2 was re-pointed by hand, and refuses to follow m:1 again.
	fa.roles["r:2"].Follows, fa.roles["r:2"].ReplID = "x:9", "B"
	fa.refuse = map[string]string{"r:2": "ERR refused"}
	for i := 0; i < 4; i++ {
		pass()
	}
	want := []string{"error reconcile: r:2: REPLICAOF m 1 (follows x:9): ERR refused"}
	check := func(when string) {
		t.Helper()
		if got := strings.Join(*logs, "\n"); got != strings.Join(want, "\n") {
			t.Fatalf("%s, logged:\n%s\nwant:\n%s", when, got, strings.Join(want, "\n"))
		}
	}
	check("after 4 passes refused alike")
	fa.refuse["r:2"] = "ERR refused again"
	pass()
	pass()
	want = append(want, "error reconcile: r:2: REPLICAOF m 1 (follows x:9): ERR refused again")
	check("after the error changed")
	delete(fa.refuse, "r:2")
	pass()
	want = append(want, "info reconcile: r:2: REPLICAOF m 1 (follows x:9)")
	check("after it succeeded")
	fa.roles["r:2"].Follows, fa.roles["r:2"].ReplID = "x:9", "B"
	fa.refuse["r:2"] = "ERR refused"
	pass()
	want = append(want, "error reconcile: r:2: REPLICAOF m 1 (follows x:9): ERR refused")
	check("after a new failure")
}

// reconcilePass runs one reconcile pass as the proxy's loop does.
func reconcilePass(t *testing.T, h *harness) {
	t.Helper()
	h.p.reconcileMu.Lock()
	defer h.p.reconcileMu.Unlock()
	if err := h.p.rec.apply(context.Background(), h.p.Config()); err != nil {
		t.Fatal(err)
	}
}
