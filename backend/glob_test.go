package backend

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		nocase bool
		want   bool
	}{
		{"*", "", false, false}, // Redis: only "" matches ""
		{"*", "anything", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hbllo", false, true},
		{"h\\*llo", "h*llo", false, true},
		{"h\\*llo", "hello", false, false},
		{"user:*:name", "user:42:name", false, true},
		{"HELLO", "hello", true, true},
		{"HELLO", "hello", false, false},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"*a", "ba", false, true},
		{"[abc", "a", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a\\", "a\\", false, true},
		{"[a-c]x", "bx", false, true},
		{"*[^a]", "ab", false, true},
		{"*[^a]", "ba", false, false},
		{"h[\\]]llo", "h]llo", false, true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.s, tt.nocase); got != tt.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tt.pat, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// Patterns with many stars must not take exponential time.
func TestGlobMatchManyStars(t *testing.T) {
	pat := "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"
	s := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if globMatch(pat, s, false) {
		t.Fatal("matched")
	}
}
