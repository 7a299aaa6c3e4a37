package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/router"
)

// designConfig is what design.md's config.yaml block (testdata/design.yaml)
// holds, key by key.
func designConfig() *Config {
	return &Config{
		Listen:        "127.0.0.1:6379",
		MetricsListen: "127.0.0.1:9121",
		Master:        "127.0.0.1:6380",
		Replicas:      []Replica{{Addr: "127.0.0.1:6381", Weight: 1}, {Addr: "127.0.0.1:6382", Weight: 1}},
		Routing: Routing{
			ReadFrom:        router.FromReplicas,
			MaxLag:          500 * time.Millisecond,
			LagPollInterval: 100 * time.Millisecond,
			PollTimeout:     250 * time.Millisecond,
			Hysteresis:      0.2,
			WhenReplicasLag: router.LagToMaster,
			ReadYourWrites:  true,
			MasterWeight:    1,
		},
		Limits: Limits{
			MaxClients:         10000,
			ClientQueryBuffer:  1 << 30,
			ClientOutputBuffer: 64 << 20,
		},
		AllowCommands: []string{},
		LogLevel:      "info",
	}
}

// sameKeys compares the keys of two configs, not where they came from.
func sameKeys(a, b *Config) bool {
	a2, b2 := *a, *b
	a2.file, a2.lines, b2.file, b2.lines = "", nil, "", nil
	return reflect.DeepEqual(a2, b2)
}

// The design's example parses to the values it writes, and they are the
// defaults too (except master and replicas, which have none).
func TestDesignExample(t *testing.T) {
	c, err := Load("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := designConfig(); !sameKeys(c, want) {
		t.Errorf("parsed\n%#v\nwant\n%#v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	d := Default()
	d.Master, d.Replicas = c.Master, c.Replicas
	if !sameKeys(c, d) {
		t.Errorf("the design's values differ from Default():\n%#v\n%#v", c, d)
	}
	if got := c.Line("routing.max_lag"); got != 11 {
		t.Errorf("Line(routing.max_lag) = %d, want 11", got)
	}
	if got := c.Line("replicas[1].weight"); got != 8 {
		t.Errorf("Line(replicas[1].weight) = %d, want 8", got)
	}
}

// The repository's config.yaml is the design's example.
func TestRootConfigIsDesignExample(t *testing.T) {
	root, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Skip("no config.yaml at the repository root:", err)
	}
	design, err := os.ReadFile("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(root) != string(design) {
		t.Error("config.yaml at the repository root differs from design.md's block (testdata/design.yaml)")
	}
}

// A file that gives only the master gets every other default.
func TestDefaultsFilled(t *testing.T) {
	c, err := Parse([]byte("master: 10.0.0.1:6379\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Master = "10.0.0.1:6379"
	if !sameKeys(c, want) {
		t.Errorf("got %#v\nwant %#v", c, want)
	}
	for _, empty := range []string{"", "\n", "# only a comment\n", "---\n"} {
		c, err := Parse([]byte(empty))
		if err != nil {
			t.Fatalf("Parse(%q): %v", empty, err)
		}
		if !sameKeys(c, Default()) {
			t.Errorf("Parse(%q) = %#v, want the defaults", empty, c)
		}
	}
}

// A key with no value keeps its default; a replica without weight gets 1.
func TestNullKeepsDefault(t *testing.T) {
	c, err := Parse([]byte("listen:\nmaster: m:1\nreplicas:\n  - addr: r:1\nrouting:\n  max_lag:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:6379" || c.Routing.MaxLag != 500*time.Millisecond {
		t.Errorf("listen %q max_lag %v: want the defaults", c.Listen, c.Routing.MaxLag)
	}
	if len(c.Replicas) != 1 || c.Replicas[0].Weight != 1 {
		t.Errorf("replicas = %+v, want one of weight 1", c.Replicas)
	}
}

func TestValues(t *testing.T) {
	t.Setenv("LAGWISE_TEST_PW", "s3cret")
	src := `
listen: 0.0.0.0:7000
master: m:1
replicas:
  - {addr: "r:1", weight: 0}
  - addr: r:2
    weight: 5
routing:
  read_from: any
  max_lag: 1m30s
  lag_poll_interval: 0.5s
  poll_timeout: 2s
  hysteresis: 0
  when_replicas_lag: least-lagged
  read_your_writes: false
  master_weight: 3
auth: {password: "hunter2"}
backend_auth: {username: app, password_env: LAGWISE_TEST_PW}
limits:
  max_clients: 5
  client_query_buffer: 512KB
  client_output_buffer: 1048576
  idle_timeout: 5m
allow_commands: [CONFIG, "client kill"]
reconcile: true
log_level: debug
`
	c, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Listen:        "0.0.0.0:7000",
		MetricsListen: "127.0.0.1:9121",
		Master:        "m:1",
		Replicas:      []Replica{{"r:1", 0}, {"r:2", 5}},
		Routing: Routing{
			ReadFrom: router.FromAny, MaxLag: 90 * time.Second, LagPollInterval: 500 * time.Millisecond,
			PollTimeout: 2 * time.Second, Hysteresis: 0, WhenReplicasLag: router.LagToLeastLagged,
			ReadYourWrites: false, MasterWeight: 3,
		},
		Auth:          Auth{Password: "hunter2"},
		BackendAuth:   BackendAuth{Username: "app", PasswordEnv: "LAGWISE_TEST_PW", Password: "s3cret", passwordSet: true},
		Limits:        Limits{MaxClients: 5, ClientQueryBuffer: 512 << 10, ClientOutputBuffer: 1 << 20, IdleTimeout: 5 * time.Minute},
		AllowCommands: []string{"CONFIG", "client kill"},
		Reconcile:     true,
		LogLevel:      "debug",
	}
	if !sameKeys(c, want) {
		t.Errorf("got %#v\nwant %#v", c, want)
	}
}

// No fmt verb prints a password, whether the Config, a section or the
// field itself is printed.
func TestPasswordsRedacted(t *testing.T) {
	t.Setenv("LAGWISE_TEST_PW", "backend-secret")
	c, err := Parse([]byte("master: m:1\nauth: {password: client-secret}\nbackend_auth: {password_env: LAGWISE_TEST_PW}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.BackendAuth.Password) != "backend-secret" || string(c.Auth.Password) != "client-secret" {
		t.Fatalf("passwords not read: %q %q", c.BackendAuth.Password, c.Auth.Password)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		for _, v := range []any{c, *c, c.BackendAuth, c.Auth, c.BackendAuth.Password, c.Auth.Password, &c.BackendAuth} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "secret") || strings.Contains(out, fmt.Sprintf("%x", "secret")) {
				t.Errorf("%s of %T shows a password: %s", format, v, out)
			}
		}
	}
	if out := c.Describe(); strings.Contains(out, "secret") {
		t.Errorf("Describe shows a password:\n%s", out)
	}
	if out := c.String(); !strings.Contains(out, "(from $LAGWISE_TEST_PW, set)") {
		t.Errorf("String() = %s, want it to say where the password comes from", out)
	}
}

// Each way a file can fail to parse, with the message it gets: the file,
// the line, the key path.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"a misspelt key is named with its line and the key it resembles",
			"master: m:1\nrouting:\n  reafrom: master\n",
			[]string{"cfg.yaml:3: routing.reafrom: unknown key (did you mean read_from?)"}},
		{"an unknown top-level key lists nothing close when nothing is close",
			"master: m:1\nzzzzzz: 1\n",
			[]string{"cfg.yaml:2: zzzzzz: unknown key (known keys here: allow_commands, auth, backend_auth, limits, listen, log_level, master, metrics_listen, reconcile, replicas, routing)"}},
		{"a key in capitals says keys are lower case",
			"Master: m:1\n",
			[]string{"cfg.yaml:1: Master: unknown key (keys are lower case: master)"}},
		{"backend_auth.password points at password_env",
			"master: m:1\nbackend_auth:\n  password: x\n",
			[]string{"cfg.yaml:3: backend_auth.password: unknown key (did you mean password_env?)"}},
		{"an unknown key inside a replica names its index",
			"master: m:1\nreplicas:\n  - addr: r:1\n  - addr: r:2\n    wieght: 2\n",
			[]string{"cfg.yaml:5: replicas[1].wieght: unknown key (did you mean weight?)"}},
		{"a key given twice names the first line",
			"master: m:1\nlisten: a:1\nlisten: a:2\n",
			[]string{"cfg.yaml:3: listen: given twice (first on line 2)"}},
		{"a duration without a unit says to add one",
			"master: m:1\nrouting:\n  max_lag: 500\n",
			[]string{`cfg.yaml:3: routing.max_lag: "500" has no unit: write a duration such as 500ms or 500s`}},
		{"a duration that is not one",
			"master: m:1\nlimits:\n  idle_timeout: forever\n",
			[]string{`cfg.yaml:3: limits.idle_timeout: "forever" is not a duration (write one such as 500ms, 2s or 1m30s)`}},
		{"a size in an unknown unit",
			"master: m:1\nlimits:\n  client_query_buffer: 1tb\n",
			[]string{`cfg.yaml:3: limits.client_query_buffer: "1tb" is not a size (write one such as 1gb, 64mb, 512kb or a number of bytes)`}},
		{"a weight that is not a whole number",
			"master: m:1\nreplicas:\n  - addr: r:1\n    weight: 1.5\n",
			[]string{`cfg.yaml:4: replicas[0].weight: want a whole number, got "1.5"`}},
		{"a boolean that is not true or false",
			"master: m:1\nreconcile: sometimes\n",
			[]string{`cfg.yaml:2: reconcile: want true or false, got "sometimes"`}},
		{"hysteresis that is not a number",
			"master: m:1\nrouting: {hysteresis: lots}\n",
			[]string{`cfg.yaml:2: routing.hysteresis: want a number, got "lots"`}},
		{"replicas given as a mapping, not a list",
			"master: m:1\nreplicas:\n  addr: r:1\n",
			[]string{`cfg.yaml:3: replicas: want a list, got a mapping`}},
		{"a replica given as a bare address",
			"master: m:1\nreplicas:\n  - r:1\n",
			[]string{`cfg.yaml:3: replicas[0]: want a mapping of keys (addr, weight), got "r:1"`}},
		{"an empty list entry",
			"master: m:1\nreplicas:\n  -\n",
			[]string{`cfg.yaml:3: replicas[0]: empty list entry`}},
		{"a section given a scalar",
			"master: m:1\nrouting: fast\n",
			[]string{`cfg.yaml:2: routing: want a mapping of keys (read_from, max_lag, lag_poll_interval, poll_timeout, hysteresis, when_replicas_lag, read_your_writes, master_weight), got "fast"`}},
		{"a string given a list",
			"master: [m:1]\n",
			[]string{`cfg.yaml:1: master: want a string, got a list`}},
		{"the file is a list",
			"- master: m:1\n",
			[]string{`cfg.yaml:1: the file must be a mapping of keys (listen:, master:, replicas:, ...), not a list`}},
		{"not YAML at all",
			"master: m:1\n  listen: [\n",
			[]string{`cfg.yaml:2: not valid YAML: mapping values are not allowed in this context`}},
		{"two documents",
			"master: m:1\n---\nmaster: m:2\n",
			[]string{`cfg.yaml:2: the file holds more than one YAML document`}},
		{"every problem at once, in file order",
			"master: m:1\nlisen: a:1\nrouting:\n  max_lag: 5\n  hysterisis: 0.1\n",
			[]string{
				"cfg.yaml:2: lisen: unknown key (did you mean listen?)",
				`cfg.yaml:4: routing.max_lag: "5" has no unit: write a duration such as 5ms or 5s`,
				"cfg.yaml:5: routing.hysterisis: unknown key (did you mean hysteresis?)",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cfg.yaml")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.ReplaceAll(err.Error(), filepath.Dir(path)+"/", "")
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error\n%s\nwant\n%s", got, want)
			}
			if n := len(Errors(err)); n != len(tc.want) {
				t.Errorf("Errors() has %d, want %d", n, len(tc.want))
			}
		})
	}
}

// Parse's messages name the line, without a file.
func TestParseErrorWithoutFile(t *testing.T) {
	_, err := Parse([]byte("master: m:1\nlisten_: x\n"))
	if err == nil || err.Error() != "line 2: listen_: unknown key (did you mean listen?)" {
		t.Errorf("got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.yaml")); !os.IsNotExist(err) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

// An alias is followed like the value it names.
func TestAlias(t *testing.T) {
	c, err := Parse([]byte("master: &m m:1\nreplicas:\n  - addr: r:1\n    weight: &w 4\n  - {addr: r:2, weight: *w}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Replicas[1].Weight != 4 {
		t.Errorf("weight via alias = %d, want 4", c.Replicas[1].Weight)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"123", 123}, {"123b", 123}, {"123B", 123},
		{"1k", 1000}, {"1kb", 1024}, {"1KB", 1024}, {"1Kb", 1024},
		{"2m", 2_000_000}, {"2mb", 2 << 20}, {"3g", 3_000_000_000}, {"1gb", 1 << 30}, {"1GB", 1 << 30},
		{"8589934591gb", 8589934591 << 30},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || int64(got) != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "mb", "-1", "-1mb", "1.5mb", "1 mb", " 1mb", "1tb", "1kib", "1bb", "+1", "8589934592gb", "99999999999999999999"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
	}
	for _, s := range []Size{0, 1, 1000, 1024, 512 << 10, 64 << 20, 1 << 30, 3 << 30, 1<<30 + 1} {
		back, err := ParseSize(s.String())
		if err != nil || back != s {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s.String(), back, err, s)
		}
	}
	if got := Size(64 << 20).String(); got != "64mb" {
		t.Errorf("String = %q, want 64mb", got)
	}
}
