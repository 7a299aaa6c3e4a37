package metrics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics endpoint (metrics_listen):
//
//	/metrics  the registry, in Prometheus's text format
//	/healthz  200 "ok" while the process serves HTTP at all
//	/readyz   200 "ready" when ready() says so, else 503 "not ready"
//	          (with HandlerWithReason: 200 "ready: <reason>" when ready
//	          with a reason, e.g. degraded)
//
// ready may be nil (always ready). It is called on every /readyz request,
// from the HTTP server's goroutines: it must be safe for concurrent use.
// HandlerWithReason lets /readyz say why the proxy is not ready.
func Handler(reg *prometheus.Registry, ready func() bool) http.Handler {
	var r func() (bool, string)
	if ready != nil {
		r = func() (bool, string) { return ready(), "not ready" }
	}
	return HandlerWithReason(reg, r)
}

// HandlerWithReason is Handler with a readiness function that says why
// the proxy is not ready; /readyz answers 503 with that reason, or 200
// "ready: reason" when it is ready with something to say. ready may be
// nil (always ready).
func HandlerWithReason(reg *prometheus.Registry, ready func() (ok bool, reason string)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector's error costs its metrics, not the scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// A slow scrape must not pile up goroutines.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ok, reason := true, ""
		if ready != nil {
			ok, reason = ready()
		}
		switch {
		case !ok:
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, cmp.Or(reason, "not ready")+"\n")
		case reason != "":
			io.WriteString(w, "ready: "+reason+"\n")
		default:
			io.WriteString(w, "ready\n")
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "lagwise proxy: /metrics /healthz /readyz\n")
	})
	return mux
}

// Listen listens on addr (metrics_listen) for Serve. A port already in
// use is an error naming the address and the key: the proxy can fail at
// start-up, before it serves clients.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	return ln, nil
}

// Serve listens on addr and serves h until ctx is done, then shuts the
// server down (letting requests in flight finish, for up to 5 s) and
// returns nil. A port already taken is an error at once (see Listen);
// so is the server failing while it runs.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener is Serve on a listener already open; it closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics server on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		err = nil
	}
	return err
}
