package backend

// globMatch reports whether s matches the glob pattern p with Redis's
// stringmatchlen rules: * ? [abc] [^a-z] and \ escapes; nocase folds ASCII.
// Like Redis, an empty string matches only the empty pattern (callers that
// mean "everything" by "*" skip matching altogether, as KEYS and SCAN do).
//
// It runs in O(len(p)·len(s)): a '*' remembers one backtrack point, the
// classic greedy algorithm, so hostile patterns cannot stall the executor.
func globMatch(p, s string, nocase bool) bool {
	if len(s) == 0 {
		return len(p) == 0
	}
	pi, si := 0, 0
	starP, starS := -1, -1
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				starP, starS = pi, si
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				ok, n := matchClass(p[pi+1:], s[si], nocase)
				if ok {
					pi += 1 + n
					si++
					continue
				}
			default:
				lit := p[pi]
				n := 1
				if lit == '\\' && pi+1 < len(p) {
					lit = p[pi+1]
					n = 2
				}
				if lit == s[si] || (nocase && lower(lit) == lower(s[si])) {
					pi += n
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' swallow one more byte and retry from there.
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the class whose body starts at p (just after
// '['). It returns whether c matched and how many bytes of p the class
// takes, including its closing ']'. An unterminated class takes the rest of
// the pattern, as in Redis.
func matchClass(p string, c byte, nocase bool) (bool, int) {
	i := 0
	not := i < len(p) && p[i] == '^'
	if not {
		i++
	}
	match := false
	for i < len(p) && p[i] != ']' {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			if p[i] == c {
				match = true
			}
		case i+2 < len(p) && p[i+1] == '-':
			start, end, x := p[i], p[i+2], c
			if start > end {
				start, end = end, start
			}
			if nocase {
				start, end, x = lower(start), lower(end), lower(x)
			}
			if x >= start && x <= end {
				match = true
			}
			i += 2
		default:
			if p[i] == c || (nocase && lower(p[i]) == lower(c)) {
				match = true
			}
		}
		i++
	}
	if i < len(p) {
		i++ // the closing ']'
	}
	if not {
		match = !match
	}
	return match, i
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
