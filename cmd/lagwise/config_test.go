package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lagwise/lagwise/config"
)

// check runs `lagwise config <args>` and returns its exit status and
// output.
func check(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := runConfig(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeConfig(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The design's example is valid: exit 0, the description on stdout.
func TestConfigCheckValid(t *testing.T) {
	path := "../../config/testdata/design.yaml"
	code, out, errOut := check("check", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := path + ": valid\n\n" + c.Describe(); out != want {
		t.Errorf("stdout\n%s\nwant\n%s", out, want)
	}
	for _, want := range []string{"127.0.0.1:6380: writes", "127.0.0.1:6381  weight 1", "127.0.0.1:6382  weight 1", "lag under 500ms", "10000 clients"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

// A file that breaks rules: exit 1, every problem on stderr with its line.
func TestConfigCheckInvalid(t *testing.T) {
	path := writeConfig(t, "bad.yaml", "master: m:6380\nrouting:\n  max_lag: 0s\nlog_level: loud\n")
	code, out, errOut := check("check", path)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := path + ":3: routing.max_lag: must be more than 0, got 0s\n" +
		path + `:4: log_level: unknown level "loud" (want debug, info, warn, error)` + "\n" +
		path + ": not valid: 2 problems\n"
	if errOut != want {
		t.Errorf("stderr\n%s\nwant\n%s", errOut, want)
	}
}

// A file that does not parse: exit 1, the key and its line.
func TestConfigCheckUnknownKey(t *testing.T) {
	path := writeConfig(t, "bad.yaml", "master: m:6380\nrouting:\n  reafrom: master\n")
	code, _, errOut := check("check", path)
	want := path + ":3: routing.reafrom: unknown key (did you mean read_from?)\n" + path + ": not valid: 1 problem\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, errOut, want)
	}
}

func TestConfigCheckMissingFile(t *testing.T) {
	code, _, errOut := check("check", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// The backends' password shows as where it comes from, never its value.
func TestConfigCheckPassword(t *testing.T) {
	t.Setenv("LAGWISE_TEST_PW", "backend-secret")
	path := writeConfig(t, "c.yaml", "master: m:6380\nauth: {password: client-secret}\nbackend_auth: {password_env: LAGWISE_TEST_PW}\n")
	code, out, errOut := check("check", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "password (from $LAGWISE_TEST_PW, set)") {
		t.Errorf("stdout does not say where the password comes from:\n%s", out)
	}
	if strings.Contains(out+errOut, "secret") {
		t.Errorf("a password is printed:\n%s%s", out, errOut)
	}

	t.Setenv("LAGWISE_TEST_PW", "")
	code, _, errOut = check("check", path)
	if code != 1 || !strings.Contains(errOut, "backend_auth.password_env: the environment variable LAGWISE_TEST_PW is empty") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// Warnings follow the description of a valid config.
func TestConfigCheckWarnings(t *testing.T) {
	path := writeConfig(t, "c.yaml", "master: m:6380\n")
	code, out, _ := check("check", path)
	if code != 0 || !strings.Contains(out, "\nwarnings:\n  "+path+": replicas: every read goes to the master: there are no replicas\n") {
		t.Errorf("exit %d, stdout\n%s", code, out)
	}
}

// --diff lists what a reload from the old file would change, before or
// after FILE.
func TestConfigCheckDiff(t *testing.T) {
	old := writeConfig(t, "old.yaml", "master: m:6380\nreplicas: [{addr: r:6381}]\n")
	new := writeConfig(t, "new.yaml", "master: m:6380\nreplicas: [{addr: r:6381, weight: 2}, {addr: r:6382}]\n")
	for _, args := range [][]string{{"check", "--diff", old, new}, {"check", new, "--diff", old}, {"check", "-diff=" + old, new}} {
		code, out, errOut := check(args...)
		if code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
		}
		want := "\nchanges from " + old + ":\n  replica r:6381: weight 1 → 2\n  replica r:6382 added (weight 1)\n"
		if !strings.HasSuffix(out, want) {
			t.Errorf("%q: stdout\n%s\nwant it to end with\n%s", args, out, want)
		}
	}
	code, out, _ := check("check", "--diff", old, old)
	if code != 0 || !strings.HasSuffix(out, "\nno changes from "+old+"\n") {
		t.Errorf("exit %d, stdout\n%s", code, out)
	}
}

// Usage errors exit 2; asking for help exits 0.
func TestConfigUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"lint", "x.yaml"}, 2},
		{[]string{"check"}, 2},
		{[]string{"check", "a.yaml", "b.yaml"}, 2},
		{[]string{"check", "--strict", "a.yaml"}, 2},
		{[]string{"check", "a.yaml", "--diff"}, 2},
		{[]string{"check", "-h"}, 0},
		{[]string{"--help"}, 0},
	} {
		code, out, errOut := check(tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
		usage := errOut
		if tc.code == 0 {
			usage = out
		}
		if !strings.Contains(usage, "usage: lagwise config check") {
			t.Errorf("%q: no usage in\n%s", tc.args, usage)
		}
	}
}
