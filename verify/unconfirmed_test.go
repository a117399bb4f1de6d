package verify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestVerifyAllUnconfirmed checks that a token without the Lofty scope is
// never sent unless the caller opts in, and that a token given both ways
// counts as unconfirmed.
func TestVerifyAllUnconfirmed(t *testing.T) {
	t.Parallel()
	const (
		mixedKey   = "test-key-Mx3bQ8uVa1"
		foreignKey = "test-key-Fr5gH2kLw0"
	)
	for _, send := range []bool{false, true} {
		name := "default"
		if send {
			name = "opted in"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var (
				mu   sync.Mutex
				seen = map[string]int{}
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[strings.TrimPrefix(r.Header.Get("Authorization"), "token ")]++
				mu.Unlock()
			}))
			t.Cleanup(srv.Close)
			v, _ := newVerifier(t, srv, Options{SendUnconfirmed: send})
			got := v.VerifyAll(t.Context(), []Key{
				lofty(testKey),
				{Token: foreignKey},
				lofty(mixedKey), {Token: mixedKey},
			})
			check(t, got[testKey], Live, "", 200)
			for _, k := range []string{foreignKey, mixedKey} {
				if send {
					check(t, got[k], Live, "", 200)
				} else if got[k] != (Result{Status: Unknown, Reason: ReasonUnconfirmed}) {
					t.Errorf("%s: %+v, want Unknown %q", k, got[k], ReasonUnconfirmed)
				}
			}
			// Verify applies the same rule.
			if r := v.Verify(t.Context(), Key{Token: foreignKey}); send != (r.Status == Live) {
				t.Errorf("Verify(unconfirmed) = %+v with SendUnconfirmed %v", r, send)
			}
			mu.Lock()
			defer mu.Unlock()
			want := map[string]int{testKey: 1}
			if send {
				want = map[string]int{testKey: 1, foreignKey: 2, mixedKey: 1}
			}
			if len(seen) != len(want) {
				t.Errorf("server saw %v, want %v", seen, want)
			}
			for k, n := range want {
				if seen[k] != n {
					t.Errorf("server saw %v, want %v", seen, want)
					break
				}
			}
		})
	}
}
