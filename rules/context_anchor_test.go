package rules

import (
	"strings"
	"testing"
)

// contextAgrees fails unless HasLoftyContext (with mayHaveContext first)
// and searchContext (each name searched for) agree on the token at
// buf[start:end].
func contextAgrees(t *testing.T, buf []byte, start, end int, names []string) bool {
	t.Helper()
	full := names
	if len(full) == 0 {
		full = DefaultContextNames
	}
	// The pairs over two lines are read past the line window, without
	// the prefilter.
	got := HasLoftyContext(buf, start, end, names)
	want := searchContext(buf, start, end, full) || isTokenAuthPair(buf, start) || pairContext(buf, start, full)
	if got != want {
		t.Fatalf("names %q, token [%d:%d] of %q: context %v, searching each name %v", names, start, end, buf, got, want)
	}
	return got
}

// TestContextAnchors: the one read of the line window for the names'
// rarest bytes says no only where searching for each name says no: names
// in every case, at the ends of the window (contextBefore and contextAfter
// bytes away, right next to the token, at line ends with "\r\n"), custom
// names (upper case, with a rare byte only in one case, non-ASCII), the
// token scheme, chime as the CRM and as Amazon's.
func TestContextAnchors(t *testing.T) {
	t.Parallel()
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	words := []string{
		"lofty", "LOFTY", "LoFtY", "LOFTY_API_KEY", "api.lofty.com", "loft", "ofty", "chime_token", "CHIME_API_KEY",
		"chime.me", "amazon-chime-sdk", "ChimeSDKMeetings", "Authorization: token ", "authorization: TOKEN\t",
		"AUTHORIZATION=token ", "Authorization: Bearer ", "acme", "ACME_KEY", "Ünïcode", "xyz", "hhh", "zz", "Y", "",
	}
	nameLists := [][]string{nil, {"acme"}, {"ACME", "lofty"}, {"Ünïcode"}, {"", "chime"}, {"zz"}, {"qq", "CHIME"}, {"y"}}
	for _, w := range words {
		for _, gap := range []int{0, 1, 7, 8, 9, 100, contextAfter - len(w) - 1, contextAfter - len(w), contextAfter - len(w) + 1,
			contextBefore - len(w) - 1, contextBefore - len(w), contextBefore - len(w) + 1} {
			if gap < 0 {
				continue
			}
			pad := strings.Repeat("=", gap)
			for _, line := range []string{
				w + pad + "%s\n",
				"x\n" + w + pad + "%s",
				"%s" + pad + w + "\n",
				"%s" + pad + w,
				"%s" + pad + w + "\r\nnext",
				"prev " + w + "\n" + pad + "%s" + pad + "\nnext " + w,
				"\n%s\n" + w,
			} {
				i := strings.Index(line, "%s")
				buf := []byte(strings.Replace(line, "%s", tok, 1))
				for _, names := range nameLists {
					contextAgrees(t, buf, i, i+len(tok), names)
				}
			}
		}
	}
	// The prefilter says yes where it must: these lines have context.
	for _, line := range []string{"LOFTY_KEY=%s", "%s # lofty", "chime_token: %s", "Authorization: token %s"} {
		i := strings.Index(line, "%s")
		buf := []byte(strings.Replace(line, "%s", tok, 1))
		if !contextAgrees(t, buf, i, i+len(tok), nil) {
			t.Errorf("%q: no context", line)
		}
	}
}

// FuzzContextAnchors: on any line, around a token at any place, with any
// one custom name or the defaults, HasLoftyContext agrees with searching
// for each name.
func FuzzContextAnchors(f *testing.F) {
	f.Add([]byte("LOFTY_API_KEY=eyJ.x.y # note"), uint(14), uint(7), "")
	f.Add([]byte("Authorization: token eyJ.x.y"), uint(21), uint(7), "")
	f.Add([]byte("chime.me\neyJ.x.y\nchime_token"), uint(9), uint(7), "")
	f.Add([]byte("ACME=eyJ.x.y"), uint(5), uint(7), "Acme")
	f.Add([]byte("- name: LOFTY_KEY\n  value: eyJ.x.y"), uint(27), uint(7), "")
	f.Add([]byte("{\"name\": \"Authorization\",\n\"value\": \"token eyJ.x.y\"}"), uint(42), uint(7), "")
	f.Add([]byte("\xc3\x9c=eyJ.x.y"), uint(3), uint(7), "\xc3\x9c")
	f.Fuzz(func(t *testing.T, buf []byte, start, n uint, name string) {
		if len(buf) == 0 {
			return
		}
		s := int(start % uint(len(buf)))
		e := s + int(n%uint(len(buf)-s+1))
		contextAgrees(t, buf, s, e, nil)
		contextAgrees(t, buf, s, e, []string{name})
		contextAgrees(t, buf, s, e, []string{name, "lofty"})
	})
}

// TestContextAllocs: the context check of a token costs no allocation,
// with the default names or custom ones.
func TestContextAllocs(t *testing.T) {
	buf := []byte(`    {"id": 1, "user": "u@example.com", "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}` + "\n")
	start := strings.Index(string(buf), "eyJ")
	for _, names := range [][]string{nil, {"acme", "CHIME"}} {
		if n := testing.AllocsPerRun(20, func() { HasLoftyContext(buf, start, start+41, names) }); n != 0 {
			t.Errorf("names %q: %v allocations a check", names, n)
		}
	}
}
