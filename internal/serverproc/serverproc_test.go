package serverproc

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Is tells a redis-server started by the test from another process on
// the port, with and without a password.
func TestIs(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	for _, pw := range []string{"", "sesame"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
		if pw != "" {
			args = append(args, "--requirepass", pw)
		}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		ok := false
		for i := 0; i < 250 && !ok; i++ {
			ok = Is(addr, cmd.Process.Pid, pw)
			time.Sleep(20 * time.Millisecond)
		}
		if !ok {
			t.Errorf("password %q: the test's own redis-server not recognised", pw)
		}
		if Is(addr, cmd.Process.Pid+1, pw) {
			t.Errorf("password %q: another pid recognised as the server", pw)
		}
		if pw != "" && Is(addr, cmd.Process.Pid, "wrong") {
			t.Errorf("a wrong password recognised")
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
}
