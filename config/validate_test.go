package config

import (
	"fmt"
	"strings"
	"testing"
)

// validate parses src and validates it; a parse error fails the test.
func validate(t *testing.T, src string) (*Config, error) {
	t.Helper()
	c, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c, c.Validate()
}

// Each rule of Validate, with a config that breaks it and the message it
// gets. "line N:" is where the file gives the key; a key the file leaves
// out has no line.
func TestValidateRules(t *testing.T) {
	t.Setenv("LAGWISE_TEST_EMPTY", "")
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"the master must be set",
			"replicas:\n  - addr: r:6381\n",
			[]string{"master: must be set: the backend that takes writes, as host:port"}},
		{"the master's address needs a port",
			"master: 10.0.0.1\n",
			[]string{`line 1: master: "10.0.0.1" has no port: write host:port, as in 10.0.0.1:6379`}},
		{"a port must be a number",
			"master: m:redis\n",
			[]string{`line 1: master: "m:redis": the port must be a number from 1 to 65535`}},
		{"a port must be at most 65535",
			"master: m:65536\n",
			[]string{`line 1: master: "m:65536": the port must be a number from 1 to 65535`}},
		{"a port must not be 0",
			"master: m:0\n",
			[]string{`line 1: master: "m:0": the port must be a number from 1 to 65535`}},
		{"a backend needs a host",
			"master: :6380\n",
			[]string{`line 1: master: ":6380" has no host`}},
		{"a host must be an IP address or a host name",
			"master: 'my host:6380'\n",
			[]string{`line 1: master: "my host:6380": "my host" is neither an IP address nor a host name`}},
		{"a replica's address is checked like the master's",
			"master: m:6380\nreplicas:\n  - addr: r\n",
			[]string{`line 3: replicas[0].addr: "r" has no port: write host:port, as in r:6379`}},
		{"a replica needs an address",
			"master: m:6380\nreplicas:\n  - weight: 2\n",
			[]string{`line 3: replicas[0]: must be set: the replica's host:port`}},
		{"a replica cannot be listed twice",
			"master: m:6380\nreplicas:\n  - addr: r:6381\n  - addr: R:6381\n",
			[]string{`line 4: replicas[1].addr: R:6381 is already replicas[0] (replicas[0].addr)`}},
		{"the master cannot be a replica too, whatever the IP's spelling",
			"master: '[::1]:6380'\nreplicas:\n  - addr: '[0:0::1]:6380'\n",
			[]string{`line 3: replicas[0].addr: [0:0::1]:6380 is already the master (master)`}},
		{"listen must be host:port",
			"master: m:6380\nlisten: 6379\n",
			[]string{`line 2: listen: "6379" has no port: write host:port, as in 6379:6379`}},
		{"listen may leave the host empty",
			"master: m:6380\nlisten: :6379\n",
			nil},
		{"metrics_listen must be host:port",
			"master: m:6380\nmetrics_listen: localhost:99999\n",
			[]string{`line 2: metrics_listen: "localhost:99999": the port must be a number from 1 to 65535`}},
		{"metrics_listen cannot be listen",
			"master: m:6380\nlisten: 127.0.0.1:7000\nmetrics_listen: 127.0.0.1:7000\n",
			[]string{`line 3: metrics_listen: 127.0.0.1:7000 is already listen`}},
		{"listen cannot be a backend's address",
			"master: 127.0.0.1:6380\nlisten: 127.0.0.1:6380\n",
			[]string{`line 2: listen: 127.0.0.1:6380 is the master's address (master): the proxy would connect to itself`}},
		{"listening on every interface takes a local backend's port",
			"master: m:6380\nreplicas:\n  - addr: localhost:6381\nmetrics_listen: 0.0.0.0:6381\n",
			[]string{`line 4: metrics_listen: 0.0.0.0:6381 is replicas[0]'s address (replicas[0].addr): the proxy would connect to itself`}},
		{"listening on every interface does not clash with a remote backend's port",
			"master: 10.0.0.5:6379\nlisten: 0.0.0.0:6379\n",
			nil},
		{"at most 63 replicas",
			"master: m:6380\nreplicas:\n" + replicaList(64),
			[]string{"line 2: replicas: 64 replicas: routing weighs at most 63"}},
		{"a weight cannot be negative",
			"master: m:6380\nreplicas:\n  - addr: r:1\n    weight: -1\n  - addr: r:2\n",
			[]string{"line 4: replicas[0].weight: must be between 0 and 1048576, got -1"}},
		{"a weight cannot pass router.MaxWeight",
			"master: m:6380\nreplicas:\n  - addr: r:1\n    weight: 2000000\n",
			[]string{"line 4: replicas[0].weight: must be between 0 and 1048576, got 2000000"}},
		{"no weighted replica with when_replicas_lag: error refuses every read",
			"master: m:6380\nreplicas:\n  - addr: r:1\n    weight: 0\nrouting:\n  when_replicas_lag: error\n",
			[]string{"line 6: routing.when_replicas_lag: error would refuse every read with read_from: replicas: no replica has a weight above 0"}},
		{"no replicas at all with when_replicas_lag: error refuses every read",
			"master: m:6380\nrouting:\n  when_replicas_lag: error\n",
			[]string{"line 3: routing.when_replicas_lag: error would refuse every read with read_from: replicas: there are no replicas"}},
		{"read_from any with master_weight 0 and no replicas refuses every read",
			"master: m:6380\nrouting: {read_from: any, master_weight: 0, when_replicas_lag: error}\n",
			[]string{"line 2: routing.when_replicas_lag: error would refuse every read with read_from: any: there are no replicas and master_weight is 0"}},
		{"read_from master needs no replicas, whatever when_replicas_lag says",
			"master: m:6380\nrouting: {read_from: master, when_replicas_lag: error}\n",
			nil},
		{"read_from must be known (router.Policy)",
			"master: m:6380\nrouting:\n  read_from: slaves\n",
			[]string{`line 3: routing.read_from: unknown value "slaves" (want replicas, master or any)`}},
		{"when_replicas_lag must be known (router.Policy)",
			"master: m:6380\nrouting:\n  when_replicas_lag: wait\n",
			[]string{`line 3: routing.when_replicas_lag: unknown value "wait" (want master, least-lagged or error)`}},
		{"max_lag must be more than 0 (router.Policy)",
			"master: m:6380\nrouting:\n  max_lag: 0s\n",
			[]string{"line 3: routing.max_lag: must be more than 0, got 0s"}},
		{"hysteresis must be below 1 (router.Policy)",
			"master: m:6380\nrouting:\n  hysteresis: 1\n",
			[]string{"line 3: routing.hysteresis: must be at least 0 and less than 1, got 1"}},
		{"master_weight cannot be negative (router.Policy)",
			"master: m:6380\nrouting:\n  master_weight: -2\n",
			[]string{"line 3: routing.master_weight: must be between 0 and 1048576, got -2"}},
		{"lag_poll_interval must be at least 1ms",
			"master: m:6380\nrouting:\n  lag_poll_interval: 0s\n",
			[]string{"line 3: routing.lag_poll_interval: must be at least 1ms, got 0s"}},
		{"lag_poll_interval must be less than max_lag",
			"master: m:6380\nrouting:\n  max_lag: 100ms\n  poll_timeout: 100ms\n",
			[]string{"line 3: routing.max_lag: lag_poll_interval (100ms) must be less than max_lag (100ms): lag is measured to within one poll interval"}},
		{"poll_timeout must be more than 0",
			"master: m:6380\nrouting:\n  poll_timeout: 0s\n",
			[]string{"line 3: routing.poll_timeout: must be more than 0, got 0s"}},
		{"poll_timeout must be at most ten poll intervals",
			"master: m:6380\nrouting:\n  lag_poll_interval: 10ms\n  poll_timeout: 101ms\n",
			[]string{"line 4: routing.poll_timeout: poll_timeout (101ms) must be at most 10 × lag_poll_interval (100ms): a backend that stops answering keeps its last sample that long"}},
		{"poll_timeout must be at most max_lag",
			"master: m:6380\nrouting:\n  max_lag: 200ms\n",
			[]string{"line 3: routing.max_lag: poll_timeout (250ms) must be at most max_lag (200ms): a replica that stops answering keeps its last measured lag until its poll times out"}},
		{"password_env must name a variable that is set",
			"master: m:6380\nbackend_auth:\n  password_env: LAGWISE_TEST_UNSET_VARIABLE\n",
			[]string{"line 3: backend_auth.password_env: the environment variable LAGWISE_TEST_UNSET_VARIABLE is not set"}},
		{"password_env written with a $ says to drop it",
			"master: m:6380\nbackend_auth:\n  password_env: $LAGWISE_TEST_UNSET_VARIABLE\n",
			[]string{"line 3: backend_auth.password_env: the environment variable $LAGWISE_TEST_UNSET_VARIABLE is not set (name the variable without the $: LAGWISE_TEST_UNSET_VARIABLE)"}},
		{"password_env must name a variable that is not empty",
			"master: m:6380\nbackend_auth:\n  password_env: LAGWISE_TEST_EMPTY\n",
			[]string{"line 3: backend_auth.password_env: the environment variable LAGWISE_TEST_EMPTY is empty"}},
		{"max_clients must be at least 1",
			"master: m:6380\nlimits:\n  max_clients: 0\n",
			[]string{"line 3: limits.max_clients: must be at least 1, got 0"}},
		{"client_query_buffer must be at least 1mb",
			"master: m:6380\nlimits:\n  client_query_buffer: 512kb\n",
			[]string{"line 3: limits.client_query_buffer: must be at least 1mb (as in Redis), got 512kb"}},
		{"client_output_buffer must be more than 0",
			"master: m:6380\nlimits:\n  client_output_buffer: 0\n",
			[]string{"line 3: limits.client_output_buffer: must be more than 0: a client that stops reading would grow the proxy without bound"}},
		{"idle_timeout cannot be negative",
			"master: m:6380\nlimits:\n  idle_timeout: -1s\n",
			[]string{"line 3: limits.idle_timeout: must be at least 0 (0: never), got -1s"}},
		{"allow_commands must name commands the table knows, each reported",
			"master: m:6380\nallow_commands:\n  - CONFIG SET\n  - FLUSHEVRYTHING\n  - GET\n  - MONITOR\n",
			[]string{
				`line 4: allow_commands[1]: "FLUSHEVRYTHING": no such command`,
				`line 5: allow_commands[2]: "GET" is not an admin command; it needs no allowing`,
				`line 6: allow_commands[3]: "MONITOR" cannot work through the proxy: it turns the connection into a stream`,
			}},
		{"log_level must be known",
			"master: m:6380\nlog_level: verbose\n",
			[]string{`line 2: log_level: unknown level "verbose" (want debug, info, warn, error)`}},
		{"every problem at once, in key order",
			"listen: x\nreplicas:\n  - addr: r:1\n    weight: -1\nrouting:\n  read_from: all\nlog_level: loud\n",
			[]string{
				"master: must be set: the backend that takes writes, as host:port",
				`line 1: listen: "x" has no port: write host:port, as in x:6379`,
				"line 4: replicas[0].weight: must be between 0 and 1048576, got -1",
				`line 6: routing.read_from: unknown value "all" (want replicas, master or any)`,
				`line 7: log_level: unknown level "loud" (want debug, info, warn, error)`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(t, tc.src)
			var got []string
			for _, e := range Errors(err) {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if err != nil && err.Error() != strings.Join(got, "\n") {
				t.Errorf("Error() = %q, want the messages one per line", err)
			}
		})
	}
}

// Validate's messages name the file when the config was loaded from one.
func TestValidateNamesFile(t *testing.T) {
	c, err := Load("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Routing.MaxLag = 0
	c.Master = ""
	want := "testdata/design.yaml:3: master: must be set: the backend that takes writes, as host:port\n" +
		"testdata/design.yaml:11: routing.max_lag: must be more than 0, got 0s"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"the design's example has none", "", nil},
		{"no replicas: every read goes to the master",
			"master: m:6380\n",
			[]string{"replicas: every read goes to the master: there are no replicas"}},
		{"only replicas of weight 0: every read goes to the master",
			"master: m:6380\nreplicas:\n  - {addr: r:1, weight: 0}\n",
			[]string{"line 2: replicas: every read goes to the master: no replica has a weight above 0"}},
		{"master_weight without read_from any",
			"master: m:6380\nreplicas: [{addr: r:1}]\nrouting:\n  master_weight: 3\n",
			[]string{"line 4: routing.master_weight: applies only with read_from: any (read_from is replicas)"}},
		{"when_replicas_lag with read_from master",
			"master: m:6380\nrouting:\n  read_from: master\n  when_replicas_lag: least-lagged\n",
			[]string{"line 4: routing.when_replicas_lag: ignored with read_from: master"}},
		{"a backend username without a password",
			"master: m:6380\nreplicas: [{addr: r:1}]\nbackend_auth:\n  username: app\n",
			[]string{"line 4: backend_auth.username: set without password_env: the proxy authenticates as app with an empty password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *Config
			if tc.src == "" {
				var err error
				if c, err = Load("testdata/design.yaml"); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				if c, err = validate(t, tc.src); err != nil {
					t.Fatalf("Validate: %v", err)
				}
			}
			got := c.Warnings()
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Default with a master is valid: the defaults keep every rule.
func TestDefaultValid(t *testing.T) {
	c := Default()
	c.Master = "127.0.0.1:6380"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func replicaList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - addr: r:%d\n", i+1)
	}
	return b.String()
}
