package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lagwise/lagwise/config"
)

func TestLoggerDropsLinesBelowItsLevel(t *testing.T) {
	var lines []string
	lg := NewLogger(func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) })
	if lg.Level() != LevelInfo {
		t.Errorf("a new logger is at %v, want info", lg.Level())
	}
	cases := []struct {
		level Level
		want  []string
	}{
		{LevelDebug, []string{"level=debug d 1", "level=info i 2", "level=warn w 3", "level=error e 4"}},
		{LevelInfo, []string{"level=info i 2", "level=warn w 3", "level=error e 4"}},
		{LevelWarn, []string{"level=warn w 3", "level=error e 4"}},
		{LevelError, []string{"level=error e 4"}},
	}
	for _, tc := range cases {
		lines = nil
		lg.SetLevel(tc.level)
		lg.Debugf("d %d", 1)
		lg.Infof("i %d", 2)
		lg.Warnf("w %d", 3)
		lg.Errorf("e %d", 4)
		if strings.Join(lines, "|") != strings.Join(tc.want, "|") {
			t.Errorf("at %v: logged %q, want %q", tc.level, lines, tc.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	// Every level config.yaml accepts is one the proxy knows.
	for _, name := range config.LogLevels {
		l, err := ParseLevel(name)
		if err != nil || l.String() != name {
			t.Errorf("ParseLevel(%q) = %v, %v", name, l, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel(verbose): no error")
	}
}

// log_level is the config's at start, and a reload that changes it
// applies it to the lines that follow.
func TestLogLevelFollowsTheConfig(t *testing.T) {
	h := newHarness(t, 1, func(c *config.Config) { c.LogLevel = "warn" })
	lg := h.p.Log()
	lg.Infof("before the reload: info")
	lg.Warnf("before the reload: warn")

	cfg := *h.p.Config()
	cfg.LogLevel = "debug"
	if err := h.p.Apply(context.Background(), &cfg); err != nil {
		t.Fatal(err)
	}
	lg.Debugf("after the reload to debug: debug")

	cfg2 := cfg
	cfg2.LogLevel = "error"
	if err := h.p.Reload(&cfg2); err != nil {
		t.Fatal(err)
	}
	lg.Warnf("after the reload to error: warn")
	lg.Errorf("after the reload to error: error")

	want := []string{
		"level=warn before the reload: warn",
		"level=debug after the reload to debug: debug",
		"level=error after the reload to error: error",
	}
	if got := h.logLines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The proxy's own lines go through the level: a client cut off at its
// query buffer limit is a warning, dropped at log_level: error.
func TestProxyLinesCarryLevels(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  string
	}{
		{"warn", "level=warn closing client 1: query buffer over limits.client_query_buffer"},
		{"error", ""},
	} {
		h := newHarness(t, 1, func(c *config.Config) {
			c.LogLevel = tc.level
			c.Limits.ClientQueryBuffer = 1 << 20
		})
		c := h.connect()
		// A request that never ends, past the limit.
		h.send(c, "*2\r\n$3\r\nGET\r\n$2000000\r\n"+strings.Repeat("x", 1<<20+1))
		if got := strings.Join(h.logLines(), "\n"); got != tc.want {
			t.Errorf("log_level %s: logged %q, want %q", tc.level, got, tc.want)
		}
	}
}
