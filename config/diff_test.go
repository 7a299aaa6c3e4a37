package config

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	t.Setenv("LAGWISE_TEST_PW", "one")
	base := "master: 127.0.0.1:6380\nreplicas:\n  - addr: 127.0.0.1:6381\n  - addr: 127.0.0.1:6382\n"
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"the same file: nothing", base, base, nil},
		{"comments and defaults spelt out change nothing",
			base, "# the same\n" + base + "routing:\n  max_lag: 500ms\nlimits: {client_query_buffer: 1024mb}\n", nil},
		{"a replica added",
			base, base + "  - {addr: 127.0.0.1:6383, weight: 2}\n",
			[]string{"replica 127.0.0.1:6383 added (weight 2)"}},
		{"a replica removed",
			base, "master: 127.0.0.1:6380\nreplicas:\n  - addr: 127.0.0.1:6382\n",
			[]string{"replica 127.0.0.1:6381 removed"}},
		{"a weight changed",
			base, "master: 127.0.0.1:6380\nreplicas:\n  - addr: 127.0.0.1:6381\n    weight: 0\n  - addr: 127.0.0.1:6382\n",
			[]string{"replica 127.0.0.1:6381: weight 1 → 0"}},
		{"replicas reordered",
			base, "master: 127.0.0.1:6380\nreplicas:\n  - addr: 127.0.0.1:6382\n  - addr: 127.0.0.1:6381\n",
			[]string{"replicas: order 127.0.0.1:6381, 127.0.0.1:6382 → 127.0.0.1:6382, 127.0.0.1:6381"}},
		{"a promotion: the master and a replica swap",
			base, "master: 127.0.0.1:6381\nreplicas:\n  - addr: 127.0.0.1:6380\n  - addr: 127.0.0.1:6382\n",
			[]string{"master: 127.0.0.1:6380 → 127.0.0.1:6381", "replica 127.0.0.1:6381 removed", "replica 127.0.0.1:6380 added (weight 1)"}},
		{"listen addresses need a restart",
			base, base + "listen: 0.0.0.0:6379\nmetrics_listen: 0.0.0.0:9121\n",
			[]string{"listen: 127.0.0.1:6379 → 0.0.0.0:6379 (needs restart)", "metrics_listen: 127.0.0.1:9121 → 0.0.0.0:9121 (needs restart)"}},
		{"the policy, key by key",
			base, base + "routing: {read_from: any, max_lag: 1s, lag_poll_interval: 50ms, poll_timeout: 100ms, hysteresis: 0.1, when_replicas_lag: error, read_your_writes: false, master_weight: 4}\n",
			[]string{
				"routing.read_from: replicas → any",
				"routing.max_lag: 500ms → 1s",
				"routing.lag_poll_interval: 100ms → 50ms",
				"routing.poll_timeout: 250ms → 100ms",
				"routing.hysteresis: 0.2 → 0.1",
				"routing.when_replicas_lag: master → error",
				"routing.read_your_writes: true → false",
				"routing.master_weight: 1 → 4",
			}},
		{"passwords show only as changed",
			base + "auth: {password: old-secret}\n", base + "auth: {password: new-secret}\n",
			[]string{"auth.password: changed"}},
		{"a client password set",
			base, base + "auth: {password: new-secret}\n",
			[]string{"auth.password: set (clients must now AUTH)"}},
		{"the backends' credentials",
			base, base + "backend_auth: {username: app, password_env: LAGWISE_TEST_PW}\n",
			[]string{`backend_auth.username: "" → app`, `backend_auth.password_env: "" → LAGWISE_TEST_PW`}},
		{"limits, allow_commands, reconcile, log_level",
			base, base + "limits: {max_clients: 10, client_query_buffer: 2mb, client_output_buffer: 1mb, idle_timeout: 1m}\nallow_commands: [CONFIG]\nreconcile: true\nlog_level: debug\n",
			[]string{
				"limits.max_clients: 10000 → 10",
				"limits.client_query_buffer: 1gb → 2mb",
				"limits.client_output_buffer: 64mb → 1mb",
				"limits.idle_timeout: 0s → 1m0s",
				"allow_commands: [] → [CONFIG]",
				"reconcile: false → true",
				"log_level: info → debug",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, err := Parse([]byte(tc.old))
			if err != nil {
				t.Fatal(err)
			}
			new, err := Parse([]byte(tc.new))
			if err != nil {
				t.Fatal(err)
			}
			got := Diff(old, new)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Diff\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, l := range got {
				if strings.Contains(l, "secret") {
					t.Errorf("Diff shows a password: %s", l)
				}
			}
			restart := strings.Contains(strings.Join(got, "\n"), "(needs restart)")
			if NeedsRestart(old, new) != restart {
				t.Errorf("NeedsRestart = %t, the lines say %t", !restart, restart)
			}
		})
	}
}

// The backend password read from the environment counts as a change,
// without its value.
func TestDiffBackendPassword(t *testing.T) {
	src := []byte("master: m:1\nbackend_auth: {password_env: LAGWISE_TEST_PW}\n")
	t.Setenv("LAGWISE_TEST_PW", "first-secret")
	old, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAGWISE_TEST_PW", "second-secret")
	new, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	got := Diff(old, new)
	if len(got) != 1 || got[0] != "backend_auth: the password in $LAGWISE_TEST_PW changed" {
		t.Errorf("Diff = %q", got)
	}
}
