package rules

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestIndex(t *testing.T) {
	t.Parallel()
	seps := []string{"eyJ", "ZXlK", "V5S", "leU", "ZQB5AEoA", "UAeQBKA", "lAHkASg", "y\x00J", "ab", "J"}
	alphabet := []byte("eyJZXlKV5SUQBAoHkgab\x00 \n")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		s := make([]byte, rng.IntN(300))
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		for _, sep := range seps {
			if got, want := Index(s, []byte(sep)), bytes.Index(s, []byte(sep)); got != want {
				t.Fatalf("Index(%q, %q) = %d, want %d", s, sep, got, want)
			}
		}
	}
	// Many false hits of the rare byte: the hand-over to bytes.Index.
	s := append(bytes.Repeat([]byte("xJ"), 10000), "eyJ"...)
	if got := Index(s, []byte("eyJ")); got != 20000 {
		t.Errorf("got %d, want 20000", got)
	}
}
