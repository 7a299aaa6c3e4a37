package config

import (
	"strings"
	"testing"
)

// The design's example, described.
func TestDescribeDesign(t *testing.T) {
	c, err := Load("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `listen            127.0.0.1:6379 (clients need no AUTH)
metrics_listen    127.0.0.1:9121 (/metrics, /healthz, /readyz)

master            127.0.0.1:6380: writes, transactions, blocking commands, pub/sub
replica           127.0.0.1:6381  weight 1
replica           127.0.0.1:6382  weight 1

reads             to replicas with lag under 500ms, by weight; a replica's weight falls linearly to 0 as its lag nears 500ms
                  a replica cut off gets reads again once its lag is under 400ms (hysteresis 0.2)
                  when none qualifies: the master serves the read (when_replicas_lag: master)
read-your-writes  on: a client that wrote reads only from backends that have its write
lag polls         every 100ms; a poll unanswered after 250ms makes the lag unknown (no reads)

backend auth      none
limits            10000 clients; per client 1gb of requests ahead, 64mb of unread replies; idle clients stay
admin commands    CONFIG GET let through to the master
reconcile         off: the proxy routes; it changes no backend's role
log_level         info
`
	if got := c.Describe(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}

// Each setting that changes what the proxy does shows in the description.
func TestDescribeVariants(t *testing.T) {
	t.Setenv("LAGWISE_TEST_PW", "the-secret")
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"read_from master",
			"master: m:1\nreplicas: [{addr: r:1}]\nrouting: {read_from: master}\n",
			[]string{"m:1: writes, transactions, blocking commands, pub/sub, every read", "r:1  weight 1, no reads with read_from: master", "reads             all to the master"}},
		{"read_from any",
			"master: m:1\nrouting: {read_from: any, master_weight: 3}\n",
			[]string{"pub/sub, reads at weight 3", "to the master (weight 3) and replicas with lag under 500ms"}},
		{"no replicas",
			"master: m:1\n",
			[]string{"replicas          none"}},
		{"a replica of weight 0",
			"master: m:1\nreplicas: [{addr: r:1, weight: 0}]\n",
			[]string{"r:1  weight 0, no reads"}},
		{"least-lagged", "master: m:1\nrouting: {when_replicas_lag: least-lagged}\n",
			[]string{"when none qualifies: the replica with the least known lag serves it"}},
		{"error", "master: m:1\nreplicas: [{addr: r:1}]\nrouting: {when_replicas_lag: error}\n",
			[]string{"when none qualifies: the read is refused with -TRYAGAIN"}},
		{"no hysteresis", "master: m:1\nrouting: {hysteresis: 0}\n",
			[]string{"when none qualifies"}},
		{"read-your-writes off", "master: m:1\nrouting: {read_your_writes: false}\n",
			[]string{"read-your-writes  off"}},
		{"a client password", "master: m:1\nauth: {password: the-secret}\n",
			[]string{"(clients AUTH with auth.password)"}},
		{"backend credentials, the password named by its variable",
			"master: m:1\nbackend_auth: {username: app, password_env: LAGWISE_TEST_PW}\n",
			[]string{`backend auth      user "app", password (from $LAGWISE_TEST_PW, set)`}},
		{"an unset password variable",
			"master: m:1\nbackend_auth: {password_env: LAGWISE_TEST_UNSET_VARIABLE}\n",
			[]string{`default user, password (from $LAGWISE_TEST_UNSET_VARIABLE, not set)`}},
		{"limits", "master: m:1\nlimits: {max_clients: 7, client_query_buffer: 2mb, client_output_buffer: 100k, idle_timeout: 30s}\n",
			[]string{"7 clients; per client 2mb of requests ahead, 100000 of unread replies; idle clients closed after 30s"}},
		{"admin commands", "master: m:1\nallow_commands: [config|set, 'client kill']\n",
			[]string{"CLIENT KILL, CONFIG GET, CONFIG SET let through to the master"}},
		{"reconcile", "master: m:1\nreconcile: true\n",
			[]string{"reconcile         on: the proxy sends REPLICAOF"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			got := c.Describe()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Describe lacks %q:\n%s", w, got)
				}
			}
			if strings.Contains(got, "the-secret") {
				t.Errorf("Describe shows a password:\n%s", got)
			}
			if tc.name == "no hysteresis" && strings.Contains(got, "cut off") {
				t.Errorf("Describe speaks of hysteresis 0:\n%s", got)
			}
		})
	}
}
