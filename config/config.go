// Package config is the proxy's config.yaml: its keys and their defaults
// (Config, Default), strict loading (Load, Parse), the rules a config
// must meet (Validate), what a config does in words (Describe), what
// changed between two (Diff), and live reload (Watch).
//
// The keys and their defaults are those of the config.yaml block in the
// design, which users and scripts rely on: names are extended, never
// renamed.
//
// Loading is strict. An unknown or misspelt key, a value of the wrong
// type, a duration without a unit or a size Redis would not read is an
// error naming the file, the line and the key path
// ("config.yaml:12: routing.reafrom: unknown key (did you mean read_from?)").
// Every problem of a file is reported at once, not only the first.
//
// Values:
//   - durations are Go durations: "500ms", "1m30s", "0s";
//   - sizes are in redis.conf's units, case-insensitive: plain bytes,
//     1k = 1000, 1kb = 1024, 1m = 1000², 1mb = 1024², 1g = 1000³,
//     1gb = 1024³ (see ParseSize);
//   - a key left out, or given no value, keeps its default.
//
// Loading reads; Validate judges. Validate reports every broken rule at
// once too, with the key path and the line where the file gives the key;
// Warnings names what a valid config does that may surprise.
//
// A bad config never replaces a good one (the design's invariant 6): a
// Watcher hands on a new config only once it has loaded and validated,
// and otherwise reports why and keeps the last good one.
package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lagwise/lagwise/router"
)

// Config is config.yaml. The yaml tags are the keys.
type Config struct {
	// Listen is the single endpoint for applications.
	Listen string `yaml:"listen"`
	// MetricsListen serves /metrics, /healthz and /readyz.
	MetricsListen string `yaml:"metrics_listen"`
	// Master is the backend that takes writes. It has no default, and
	// Validate insists on it.
	Master string `yaml:"master"`
	// Replicas are the backends reads go to, in order.
	Replicas []Replica `yaml:"replicas"`
	// Routing decides where reads go.
	Routing Routing `yaml:"routing"`
	// Auth is what clients send to the proxy.
	Auth Auth `yaml:"auth"`
	// BackendAuth is what the proxy sends to the backends.
	BackendAuth BackendAuth `yaml:"backend_auth"`
	// Limits bound clients.
	Limits Limits `yaml:"limits"`
	// AllowCommands are the admin commands let through to the master
	// besides CONFIG GET, as router.NewClassifier takes them: "CONFIG",
	// "CONFIG SET" or "config|set".
	AllowCommands []string `yaml:"allow_commands"`
	// Reconcile: the proxy sends REPLICAOF so the backends' roles match
	// this file.
	Reconcile bool `yaml:"reconcile"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`

	// file names where the config came from in messages ("" for Parse).
	file string
	// lines holds the line of each key path given in the file
	// ("routing.max_lag", "replicas[1].weight"), for messages.
	lines map[string]int
}

// Replica is one entry of replicas.
type Replica struct {
	// Addr is host:port.
	Addr string `yaml:"addr"`
	// Weight is the replica's share of reads against the other replicas'
	// (and master_weight with read_from: any), before lag scales it; 0
	// sends it no reads. Default 1.
	Weight int `yaml:"weight"`
}

// Routing is the routing section.
type Routing struct {
	ReadFrom router.ReadFrom `yaml:"read_from"`
	MaxLag   time.Duration   `yaml:"max_lag"`
	// LagPollInterval is how often the lag monitor polls each backend.
	LagPollInterval time.Duration `yaml:"lag_poll_interval"`
	// PollTimeout: a poll not answered by then makes the backend's lag
	// unknown, and an unknown lag gets no reads.
	PollTimeout     time.Duration  `yaml:"poll_timeout"`
	Hysteresis      float64        `yaml:"hysteresis"`
	WhenReplicasLag router.WhenLag `yaml:"when_replicas_lag"`
	// ReadYourWrites: a client that wrote reads only from backends known
	// to have its write.
	ReadYourWrites bool `yaml:"read_your_writes"`
	MasterWeight   int  `yaml:"master_weight"`
}

// Policy returns the part of the routing section the router decides reads
// with.
func (r Routing) Policy() router.Policy {
	return router.Policy{
		ReadFrom:        r.ReadFrom,
		MaxLag:          r.MaxLag,
		Hysteresis:      r.Hysteresis,
		WhenReplicasLag: r.WhenReplicasLag,
		MasterWeight:    r.MasterWeight,
	}
}

// Auth is the auth section: how clients authenticate to the proxy.
type Auth struct {
	// Password is what clients AUTH with; empty: no AUTH needed.
	Password Secret `yaml:"password"`
}

// BackendAuth is the backend_auth section: how the proxy authenticates to
// the backends. The password is never in the file: PasswordEnv names the
// environment variable that holds it, read when the file is loaded.
type BackendAuth struct {
	// Username is for backends with ACL users; empty: the default user.
	Username string `yaml:"username"`
	// PasswordEnv names an environment variable; empty: no password.
	PasswordEnv string `yaml:"password_env"`
	// Password is the value of $PasswordEnv when the file was loaded.
	Password Secret `yaml:"-"`
	// passwordSet: the variable was set (possibly to "").
	passwordSet bool
}

// Limits is the limits section.
type Limits struct {
	MaxClients int `yaml:"max_clients"`
	// ClientQueryBuffer bounds what a client may send ahead of its
	// replies.
	ClientQueryBuffer Size `yaml:"client_query_buffer"`
	// ClientOutputBuffer: a client that stops reading is cut off once
	// its pending replies pass it.
	ClientOutputBuffer Size `yaml:"client_output_buffer"`
	// IdleTimeout closes a client idle that long; 0: never.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// Secret is a password. It prints as "(redacted)" (or "" when empty) with
// every fmt verb, so a Config can go to a log; string(s) is the value.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "(redacted)"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format hides the value from every verb, %s %q %x %v and the rest.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			io.WriteString(f, s.GoString())
			return
		}
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	io.WriteString(f, s.String())
}

// Default returns the defaults of every key. Master is empty: it has no
// default.
func Default() *Config {
	p := router.DefaultPolicy()
	return &Config{
		Listen:        "127.0.0.1:6379",
		MetricsListen: "127.0.0.1:9121",
		Routing: Routing{
			ReadFrom:        p.ReadFrom,
			MaxLag:          p.MaxLag,
			LagPollInterval: 100 * time.Millisecond,
			PollTimeout:     250 * time.Millisecond,
			Hysteresis:      p.Hysteresis,
			WhenReplicasLag: p.WhenReplicasLag,
			ReadYourWrites:  true,
			MasterWeight:    p.MasterWeight,
		},
		Limits: Limits{
			MaxClients:         10000,
			ClientQueryBuffer:  1 << 30,
			ClientOutputBuffer: 64 << 20,
			IdleTimeout:        0,
		},
		AllowCommands: []string{},
		Reconcile:     false,
		LogLevel:      "info",
		lines:         map[string]int{},
	}
}

// defaultReplica is a replicas entry before its keys are read.
func defaultReplica() Replica { return Replica{Weight: 1} }

// Load reads and parses the file at path (see Parse); its messages name
// the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data)
}

// Parse parses config.yaml's text: the defaults, overlaid with the keys
// data gives, and backend_auth's password read from the environment. Each
// problem (unknown key, wrong type, unreadable value) is an *Error; they
// come joined (errors.Join), all of them.
func Parse(data []byte) (*Config, error) { return parse("", data) }

func parse(file string, data []byte) (*Config, error) {
	c := Default()
	c.file = file
	d := decoder{file: file, lines: c.lines}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	switch err := dec.Decode(&root); err {
	case nil:
		var extra yaml.Node
		if err := dec.Decode(&extra); err != io.EOF {
			line := extra.Line
			if err != nil {
				line = 0
			}
			d.fail(line, "", "the file holds more than one YAML document")
		}
		d.top(&root, c)
	case io.EOF:
		// An empty file: every default.
	default:
		return nil, &Error{File: file, Line: yamlErrorLine(err), Msg: yamlErrorText(err)}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	c.BackendAuth.readEnv()
	return c, nil
}

// readEnv reads the password from $PasswordEnv.
func (b *BackendAuth) readEnv() {
	b.Password, b.passwordSet = "", false
	if b.PasswordEnv == "" {
		return
	}
	v, ok := os.LookupEnv(b.PasswordEnv)
	b.Password, b.passwordSet = Secret(v), ok
}

// File returns the path the config was loaded from ("" if parsed from
// bytes or made in code).
func (c *Config) File() string { return c.file }

// Line returns the line of the key path in the file ("routing.max_lag",
// "replicas[1].addr"), or 0 if the file does not give it.
func (c *Config) Line(key string) int { return c.lines[key] }

// String describes the config on one line, passwords redacted.
func (c *Config) String() string {
	var reps bytes.Buffer
	for i, r := range c.Replicas {
		if i > 0 {
			reps.WriteByte(' ')
		}
		fmt.Fprintf(&reps, "%s*%d", r.Addr, r.Weight)
	}
	return fmt.Sprintf("listen=%s metrics_listen=%s master=%s replicas=[%s] read_from=%s max_lag=%v when_replicas_lag=%s read_your_writes=%t backend_auth=%s",
		c.Listen, c.MetricsListen, c.Master, reps.String(), c.Routing.ReadFrom, c.Routing.MaxLag,
		c.Routing.WhenReplicasLag, c.Routing.ReadYourWrites, c.BackendAuth.describe())
}

// describe says how the proxy authenticates to backends, never with the
// password itself.
func (b BackendAuth) describe() string {
	user := "default user"
	if b.Username != "" {
		user = fmt.Sprintf("user %q", b.Username)
	}
	switch {
	case b.PasswordEnv == "":
		if b.Username == "" {
			return "none"
		}
		return user + ", no password"
	case !b.passwordSet:
		return fmt.Sprintf("%s, password (from $%s, not set)", user, b.PasswordEnv)
	case b.Password == "":
		return fmt.Sprintf("%s, password (from $%s, empty)", user, b.PasswordEnv)
	}
	return fmt.Sprintf("%s, password (from $%s, set)", user, b.PasswordEnv)
}
