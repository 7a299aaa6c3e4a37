package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigCommandLine(t *testing.T) {
	cfg, _, err := LoadConfig([]string{"--port", "7001", "--save", "", "--bind", "127.0.0.1", "::1", "--maxmemory", "2mb", "--maxmemory-policy", "ALLKEYS-LRU"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 7001 || cfg.Save != "" || strings.Join(cfg.Bind, ",") != "127.0.0.1,::1" ||
		cfg.MaxMemory != 2*1024*1024 || cfg.MaxMemoryPolicy != "allkeys-lru" {
		t.Fatalf("got port=%d save=%q bind=%v maxmemory=%d policy=%s", cfg.Port, cfg.Save, cfg.Bind, cfg.MaxMemory, cfg.MaxMemoryPolicy)
	}
}

func TestLoadConfigFileThenArgs(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	os.WriteFile(inc, []byte("timeout 30\n"), 0o644)
	file := filepath.Join(dir, "redis.conf")
	os.WriteFile(file, []byte(`# a comment
port 7000
requirepass "s3cret with space"
save 900 1
save 300 10
include `+inc+`
client-output-buffer-limit pubsub 1mb 512kb 10
`), 0o644)
	cfg, abs, err := LoadConfig([]string{file, "--port", "7002"})
	if err != nil {
		t.Fatal(err)
	}
	if abs != file {
		t.Fatalf("config file %q", abs)
	}
	if cfg.Port != 7002 || cfg.RequirePass != "s3cret with space" || cfg.Save != "900 1 300 10" || cfg.Timeout != 30 {
		t.Fatalf("port=%d pass=%q save=%q timeout=%d", cfg.Port, cfg.RequirePass, cfg.Save, cfg.Timeout)
	}
	if l := cfg.OutputLimits[classPubSub]; l.hard != 1024*1024 || l.soft != 512*1024 || l.softSecs != 10 {
		t.Fatalf("pubsub limit %+v", l)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown directive", []string{"--no-such-thing", "1"}, ">>> 'no-such-thing 1'\nBad directive or wrong number of arguments"},
		{"bad integer", []string{"--port", "abc"}, "argument couldn't be parsed into an integer"},
		{"port out of range", []string{"--port", "70000"}, "argument must be between 0 and 65535 inclusive"},
		{"bad bool", []string{"--appendonly", "maybe"}, "argument must be 'yes' or 'no'"},
		{"bad enum", []string{"--maxmemory-policy", "lru"}, "argument(s) must be one of the following: volatile-lru"},
		{"bad memory", []string{"--maxmemory", "12xb"}, "argument must be a memory value"},
		{"odd save", []string{"--save", "900"}, "Invalid save parameters"},
		{"second line numbered", []string{"--port", "1", "--hz", "x"}, "at line 2"},
		{"missing file", []string{"/nonexistent/redis.conf"}, "can't open config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := LoadConfig(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseMemory(t *testing.T) {
	cases := map[string]int64{"0": 0, "100": 100, "1k": 1000, "1kb": 1024, "2MB": 2 << 20, "1g": 1e9, "1gb": 1 << 30}
	for in, want := range cases {
		if got, ok := parseMemory(in); !ok || got != want {
			t.Errorf("parseMemory(%q) = %d,%v want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "1x", "-1k", "99999999999999999gb"} {
		if _, ok := parseMemory(bad); ok {
			t.Errorf("parseMemory(%q) accepted", bad)
		}
	}
}

func TestDefaultConfigMatchesRedis(t *testing.T) {
	cfg := DefaultConfig()
	for name, want := range map[string]string{
		"port": "6379", "bind": "127.0.0.1 -::1", "databases": "16", "maxmemory": "0",
		"maxmemory-policy": "noeviction", "proto-max-bulk-len": "536870912",
		"client-query-buffer-limit": "1073741824", "protected-mode": "yes", "timeout": "0",
		"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"hash-max-ziplist-entries":   "512", // what Redis 7.0.15 answers without a config file
	} {
		if got, _ := cfg.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
