package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Scrape is what one read of the proxy's /metrics gives: per backend
// address, the lag in seconds (+Inf while unknown), whether it is
// routable, and the reads it has served so far.
type Scrape struct {
	T        float64 // seconds since the start of the episode
	Lag      map[string]float64
	Routable map[string]bool
	Reads    map[string]float64
}

// parseScrape reads the Prometheus text exposition format and keeps the
// three metric families the episode plots. Other families, comments and
// histogram lines are skipped.
func parseScrape(r io.Reader) (Scrape, error) {
	s := Scrape{Lag: map[string]float64{}, Routable: map[string]bool{}, Reads: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, err := parseLine(line)
		if err != nil {
			return s, err
		}
		var dst map[string]float64
		switch name {
		case "lagwise_replica_lag_seconds":
			dst = s.Lag
		case "lagwise_reads_total":
			dst = s.Reads
		case "lagwise_replica_routable":
			s.Routable[labels["backend"]] = value == 1
			continue
		default:
			continue
		}
		backend, ok := labels["backend"]
		if !ok {
			return s, fmt.Errorf("%s without a backend label: %q", name, line)
		}
		dst[backend] = value
	}
	return s, sc.Err()
}

// parseLine splits `name{k="v",...} value [timestamp]`.
func parseLine(line string) (name string, labels map[string]string, value float64, err error) {
	labels = map[string]string{}
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		name = line[:i]
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", nil, 0, fmt.Errorf("unterminated labels: %q", line)
		}
		if err := parseLabels(line[i+1:j], labels); err != nil {
			return "", nil, 0, fmt.Errorf("%v: %q", err, line)
		}
		rest = line[j+1:]
	} else {
		k := strings.IndexAny(line, " \t")
		if k < 0 {
			return "", nil, 0, fmt.Errorf("no value: %q", line)
		}
		name, rest = line[:k], line[k:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, 0, fmt.Errorf("no value: %q", line)
	}
	value, err = strconv.ParseFloat(fields[0], 64) // accepts +Inf, -Inf, NaN
	if err != nil {
		return "", nil, 0, fmt.Errorf("bad value: %q", line)
	}
	return name, labels, value, nil
}

// parseLabels parses `k="v",k2="v2"` with the exposition format's escapes.
func parseLabels(s string, into map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), ",")) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || len(s) < eq+2 || s[eq+1] != '"' {
			return fmt.Errorf("bad label")
		}
		key := strings.TrimSpace(s[:eq])
		var val strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		if i >= len(s) {
			return fmt.Errorf("unterminated label value")
		}
		into[key] = val.String()
		s = s[i+1:]
	}
	return nil
}

// Point is one scrape interval of the episode, as plotted and written to
// the CSV: the lag of each replica at the interval's end, and each
// backend's share of the reads served during the interval.
type Point struct {
	T0, T    float64            // the interval: the previous scrape's time and this one's
	Lag      map[string]float64 // seconds; +Inf: unknown
	Routable map[string]bool
	Share    map[string]float64 // 0..1; empty when no read was served
	Reads    float64            // reads served in the interval, all backends
}

// shares is each backend's part of the reads served between two scrapes
// (deltas of lagwise_reads_total). A counter that went down (a restarted
// proxy) counts from zero. With no reads in between, the map is empty.
func shares(prev, cur map[string]float64) (map[string]float64, float64) {
	deltas := map[string]float64{}
	total := 0.0
	for b, v := range cur {
		d := v - prev[b]
		if d < 0 {
			d = v
		}
		deltas[b] = d
		total += d
	}
	out := map[string]float64{}
	if total <= 0 {
		return out, 0
	}
	for b, d := range deltas {
		out[b] = d / total
	}
	return out, total
}

// points turns consecutive scrapes into plotted points (one fewer).
func points(scrapes []Scrape) []Point {
	var out []Point
	for i := 1; i < len(scrapes); i++ {
		share, total := shares(scrapes[i-1].Reads, scrapes[i].Reads)
		out = append(out, Point{
			T0:       scrapes[i-1].T,
			T:        scrapes[i].T,
			Lag:      scrapes[i].Lag,
			Routable: scrapes[i].Routable,
			Share:    share,
			Reads:    total,
		})
	}
	return out
}

// csvTable is the series as rows: t, then per replica lag_ms ("inf" while
// unknown, empty if the scrape had none) and routable, then per backend
// read share, then the reads served in the interval.
func csvTable(pts []Point, replicas, backends []string) [][]string {
	head := []string{"t_s"}
	for _, r := range replicas {
		head = append(head, "lag_ms:"+r, "routable:"+r)
	}
	for _, b := range backends {
		head = append(head, "read_share:"+b)
	}
	head = append(head, "reads")
	rows := [][]string{head}
	for _, p := range pts {
		row := []string{strconv.FormatFloat(p.T, 'f', 3, 64)}
		for _, r := range replicas {
			lag, ok := p.Lag[r]
			switch {
			case !ok:
				row = append(row, "")
			case math.IsInf(lag, 1):
				row = append(row, "inf")
			default:
				row = append(row, strconv.FormatFloat(lag*1000, 'f', 1, 64))
			}
			row = append(row, boolDigit(p.Routable[r]))
		}
		for _, b := range backends {
			row = append(row, strconv.FormatFloat(p.Share[b], 'f', 3, 64))
		}
		row = append(row, strconv.FormatFloat(p.Reads, 'f', 0, 64))
		rows = append(rows, row)
	}
	return rows
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
