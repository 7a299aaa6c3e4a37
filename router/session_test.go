package router

import (
	"strconv"
	"strings"
	"testing"
)

// Each case is a client's conversation, one step a line:
//
//	"REQUEST -> target [write] [release] [confirms]"   a request and its Route
//	"~kind count [done] [release]"                      a confirmation from the server
//
// Targets: replicas, master, pinned, own, proxy, refuse. After the last
// step the session must be pinned or not, as the case says.
func TestSession(t *testing.T) {
	cases := []struct {
		what   string
		steps  []string
		pinned bool
	}{
		{"reads go to replicas and writes to the master, pinning nothing", []string{
			"GET k -> replicas",
			"SET k v -> master write",
			"TIME -> master",
			"NOSUCH x -> master write",
		}, false},
		{"connection set-up is answered by the proxy (go-redis v9 on connect)", []string{
			"HELLO 3 -> proxy",
			"CLIENT SETINFO LIB-NAME go-redis -> proxy",
			"CLIENT SETINFO LIB-VER 9.17.3 -> proxy",
			"PING -> proxy",
			"GET k -> replicas",
		}, false},
		{"a refused command is refused in any state", []string{
			"CONFIG SET a b -> refuse",
			"MULTI -> pinned",
			"MONITOR -> refuse",
		}, true},

		// Transactions.
		{"MULTI pins, EXEC ends it and carries the writes queued", []string{
			"MULTI -> pinned",
			"SET k v -> pinned",
			"GET k -> pinned",
			"EXEC -> pinned write release",
			"GET k -> replicas",
		}, false},
		{"a read-only transaction writes nothing", []string{
			"MULTI -> pinned",
			"GET k -> pinned",
			"EXEC -> pinned release",
		}, false},
		{"DISCARD ends a transaction and writes nothing", []string{
			"MULTI -> pinned",
			"SET k v -> pinned",
			"DISCARD -> pinned release",
		}, false},
		{"a nested MULTI changes nothing", []string{
			"MULTI -> pinned",
			"MULTI -> pinned",
			"EXEC -> pinned release",
		}, false},
		{"EXEC without MULTI is the master's error", []string{
			"EXEC -> master",
			"DISCARD -> master",
		}, false},
		{"PING and ECHO in a transaction are queued on the pinned connection", []string{
			"MULTI -> pinned",
			"PING -> pinned",
			"ECHO hi -> pinned",
			"EXEC -> pinned release",
		}, false},
		{"connection set-up in a transaction is still the proxy's", []string{
			"MULTI -> pinned",
			"CLIENT SETNAME app -> proxy",
			"LAGWISE LAG -> proxy",
			"EXEC -> pinned release",
		}, false},
		{"a blocking command in a transaction is queued there", []string{
			"MULTI -> pinned",
			"BLPOP l 0 -> pinned",
			"EXEC -> pinned write release",
		}, false},
		{"SCRIPT KILL in a transaction is queued there", []string{
			"MULTI -> pinned",
			"SCRIPT KILL -> pinned",
			"EXEC -> pinned release",
		}, false},

		// WATCH.
		{"WATCH pins: the reads between it and EXEC must see the master", []string{
			"WATCH k -> pinned",
			"GET k -> pinned",
			"MULTI -> pinned",
			"SET k v2 -> pinned",
			"EXEC -> pinned write release",
		}, false},
		{"UNWATCH ends a WATCH", []string{
			"WATCH k -> pinned",
			"UNWATCH -> pinned release",
			"GET k -> replicas",
		}, false},
		{"DISCARD also ends a WATCH", []string{
			"WATCH k -> pinned",
			"MULTI -> pinned",
			"DISCARD -> pinned release",
		}, false},
		{"UNWATCH with nothing watched goes to the master", []string{
			"UNWATCH -> master",
		}, false},
		{"WATCH inside MULTI is refused by the server and does not outlive EXEC", []string{
			"MULTI -> pinned",
			"WATCH k -> pinned",
			"EXEC -> pinned release",
		}, false},
		{"a write between WATCH and MULTI is a write at once", []string{
			"WATCH k -> pinned",
			"SET other v -> pinned write",
			"UNWATCH -> pinned release",
		}, false},

		// SELECT.
		{"SELECT of another database pins until SELECT 0", []string{
			"SELECT 2 -> pinned",
			"GET k -> pinned",
			"SET k v -> pinned write",
			"SELECT 0 -> pinned release",
			"GET k -> replicas",
		}, false},
		{"SELECT 0 in database 0 is answered by the proxy", []string{
			"SELECT 0 -> proxy",
			"GET k -> replicas",
		}, false},
		{"SELECT from one database to another stays pinned", []string{
			"SELECT 2 -> pinned",
			"SELECT 3 -> pinned",
		}, true},
		{"a malformed SELECT goes to the master and changes nothing", []string{
			"SELECT x -> master",
			"GET k -> replicas",
		}, false},
		{"SELECT 0 while watching keeps the WATCH's pin", []string{
			"SELECT 2 -> pinned",
			"WATCH k -> pinned",
			"SELECT 0 -> pinned",
			"UNWATCH -> pinned release",
		}, false},
		{"a SELECT queued in a transaction takes effect at EXEC", []string{
			"MULTI -> pinned",
			"SELECT 4 -> pinned",
			"EXEC -> pinned",
			"GET k -> pinned",
		}, true},
		{"a discarded SELECT never happened", []string{
			"MULTI -> pinned",
			"SELECT 4 -> pinned",
			"DISCARD -> pinned release",
		}, false},
		{"a queued SELECT 0 may not have run (EXEC can abort): stay pinned", []string{
			"SELECT 2 -> pinned",
			"MULTI -> pinned",
			"SELECT 0 -> pinned",
			"EXEC -> pinned",
		}, true},

		// Blocking commands.
		{"a blocking command outside a session gets a connection of its own and pins nothing", []string{
			"BLPOP l 0 -> own write",
			"GET k -> replicas",
		}, false},
		{"XREAD BLOCK blocks; XREAD does not", []string{
			"XREAD BLOCK 100 STREAMS s $ -> own",
			"XREAD STREAMS s 0 -> replicas",
		}, false},
		{"WAIT gets a connection of its own", []string{
			"WAIT 1 100 -> own",
		}, false},
		{"a blocking command in a pinned session runs on the pinned connection", []string{
			"SELECT 1 -> pinned",
			"BRPOP l 1 -> pinned write",
		}, true},
		{"SCRIPT KILL never queues behind the busy script", []string{
			"WATCH k -> pinned",
			"SCRIPT KILL -> own",
		}, true},

		// Pub/sub.
		{"SUBSCRIBE pins until the last channel is gone", []string{
			"SUBSCRIBE a b -> pinned confirms",
			"~subscribe 1",
			"~subscribe 2 done",
			"PING -> pinned",
			"UNSUBSCRIBE a -> pinned confirms",
			"~unsubscribe 1 done",
			"UNSUBSCRIBE b -> pinned confirms",
			"~unsubscribe 0 done release",
			"GET k -> replicas",
		}, false},
		{"UNSUBSCRIBE of all ends when the count reaches zero", []string{
			"SUBSCRIBE a b -> pinned confirms",
			"~subscribe 1",
			"~subscribe 2 done",
			"UNSUBSCRIBE -> pinned confirms",
			"~unsubscribe 1",
			"~unsubscribe 0 done release",
		}, false},
		{"patterns count with channels: channels gone, a pattern left", []string{
			"SUBSCRIBE a -> pinned confirms",
			"PSUBSCRIBE p* -> pinned confirms",
			"~subscribe 1 done",
			"~psubscribe 2 done",
			"UNSUBSCRIBE -> pinned confirms",
			"~unsubscribe 1 done",
			"GET k -> pinned",
			"PUNSUBSCRIBE -> pinned confirms",
			"~punsubscribe 0 done release",
		}, false},
		{"shard channels count apart", []string{
			"SSUBSCRIBE s -> pinned confirms",
			"SUBSCRIBE a -> pinned confirms",
			"~ssubscribe 1 done",
			"~subscribe 1 done",
			"UNSUBSCRIBE a -> pinned confirms",
			"~unsubscribe 0 done",
			"SUNSUBSCRIBE -> pinned confirms",
			"~sunsubscribe 0 done release",
		}, false},
		{"a SUBSCRIBE sent before the last UNSUBSCRIBE is confirmed keeps the pin", []string{
			"SUBSCRIBE a -> pinned confirms",
			"UNSUBSCRIBE a -> pinned confirms",
			"SUBSCRIBE b -> pinned confirms",
			"~subscribe 1 done",
			"~unsubscribe 0 done",
			"~subscribe 1 done",
		}, true},
		{"an UNSUBSCRIBE still unanswered keeps the pin until its confirmation", []string{
			"SUBSCRIBE a -> pinned confirms",
			"UNSUBSCRIBE a -> pinned confirms",
			"UNSUBSCRIBE b -> pinned confirms",
			"~subscribe 1 done",
			"~unsubscribe 0 done",
			"~unsubscribe 0 done release",
		}, false},
		{"a subscription to the same channel twice counts once", []string{
			"SUBSCRIBE a a -> pinned confirms",
			"~subscribe 1",
			"~subscribe 1 done",
			"UNSUBSCRIBE a -> pinned confirms",
			"~unsubscribe 0 done release",
		}, false},
		{"UNSUBSCRIBE outside pub/sub is the proxy's to confirm", []string{
			"UNSUBSCRIBE a -> proxy",
			"PUNSUBSCRIBE -> proxy",
			"GET k -> replicas",
		}, false},
		{"UNSUBSCRIBE of all with nothing left is confirmed once", []string{
			"SELECT 1 -> pinned",
			"UNSUBSCRIBE -> pinned confirms",
			"~unsubscribe 0 done",
			"SELECT 0 -> pinned release",
		}, false},
		{"messages and pongs are no confirmations", []string{
			"SUBSCRIBE a -> pinned confirms",
			"~subscribe 1 done",
			"~message 0",
			"~pong 0",
			"UNSUBSCRIBE -> pinned confirms",
			"~unsubscribe 0 done release",
		}, false},
		{"a SUBSCRIBE queued in a transaction confirms inside EXEC: pinned for good", []string{
			"MULTI -> pinned",
			"SUBSCRIBE a -> pinned",
			"EXEC -> pinned",
			"~unsubscribe 0 done",
			"UNSUBSCRIBE -> pinned",
		}, true},
		{"a confirmation nobody asked for: pinned for good, one confirmation answers one request", []string{
			"SUBSCRIBE a -> pinned confirms",
			"~psubscribe 1 done",
			"~subscribe 1 done",
			"UNSUBSCRIBE -> pinned",
			"~unsubscribe 0 done",
		}, true},

		// RESET and QUIT.
		{"RESET ends every state", []string{
			"SELECT 3 -> pinned",
			"WATCH k -> pinned",
			"MULTI -> pinned",
			"SUBSCRIBE a -> pinned",
			"RESET -> proxy release",
			"GET k -> replicas",
		}, false},
		{"RESET outside a session releases nothing", []string{
			"RESET -> proxy",
		}, false},
		{"RESET clears a lost pub/sub state too", []string{
			"SUBSCRIBE a -> pinned confirms",
			"~psubscribe 1 done",
			"RESET -> proxy release",
			"SUBSCRIBE b -> pinned confirms",
			"~subscribe 1 done",
			"UNSUBSCRIBE -> pinned confirms",
			"~unsubscribe 0 done release",
		}, false},
		{"QUIT is the proxy's", []string{
			"QUIT -> proxy",
		}, false},
	}
	for _, tc := range cases {
		var s Session
		for i, step := range tc.steps {
			if strings.HasPrefix(step, "~") {
				f := strings.Fields(step[1:])
				count, _ := strconv.ParseInt(f[1], 10, 64)
				wantDone := strings.Contains(step, " done")
				wantRelease := strings.Contains(step, " release")
				if done, release := s.Confirm([]byte(f[0]), count); done != wantDone || release != wantRelease {
					t.Errorf("%s: step %d %q: Confirm = done %v, release %v; want %v, %v", tc.what, i, step, done, release, wantDone, wantRelease)
				}
				continue
			}
			req, exp, _ := strings.Cut(step, "->")
			f := strings.Fields(exp)
			want := Route{Class: Classify(args(req)), To: targetByName(t, f[0])}
			for _, flag := range f[1:] {
				switch flag {
				case "write":
					want.Write = true
				case "release":
					want.Release = true
				case "confirms":
					want.Confirms = true
				default:
					t.Fatalf("%s: step %q: unknown flag %q", tc.what, step, flag)
				}
			}
			if got := s.Route(defaultClassifier, args(req)); got != want {
				t.Errorf("%s: step %d %q: Route = %+v, want %+v", tc.what, i, step, got, want)
			}
		}
		if s.Pinned() != tc.pinned {
			t.Errorf("%s: pinned at the end = %v, want %v", tc.what, s.Pinned(), tc.pinned)
		}
	}
}

func targetByName(t *testing.T, name string) Target {
	for _, tg := range []Target{ToReplicas, ToMaster, ToPinned, ToOwnConn, ToProxy, Refuse} {
		if strings.HasPrefix(tg.String(), name) {
			return tg
		}
	}
	t.Fatalf("unknown target %q", name)
	return 0
}

func TestSessionRouteDoesNotAllocate(t *testing.T) {
	var s Session
	// A pub/sub round first, so the confirmation queue has room.
	s.Route(defaultClassifier, args("SUBSCRIBE a"))
	s.Confirm([]byte("subscribe"), 1)
	s.Route(defaultClassifier, args("UNSUBSCRIBE"))
	s.Confirm([]byte("unsubscribe"), 0)
	reqs := [][][]byte{args("GET k"), args("SET k v"), args("MULTI"), args("INCR n"), args("EXEC"),
		args("SUBSCRIBE a"), args("UNSUBSCRIBE")}
	n := testing.AllocsPerRun(100, func() {
		for _, argv := range reqs {
			s.Route(defaultClassifier, argv)
		}
		s.Confirm([]byte("subscribe"), 1)
		s.Confirm([]byte("unsubscribe"), 0)
	})
	if n != 0 {
		t.Errorf("Route: %v allocations per round, want 0", n)
	}
	if s.Pinned() {
		t.Errorf("the rounds left the session pinned")
	}
}
