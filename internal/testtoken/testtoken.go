// Package testtoken signs synthetic tokens for loftyscan's tests.
//
// Every token it makes is signed with a fixed test secret that is public in
// this file: none of them is, or ever was, a real Lofty key.
package testtoken

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Secret is the HS256 key the test tokens are signed with. It is public.
const Secret = "loftyscan-test-secret-NOT-A-LOFTY-KEY"

// Sign returns a compact JWS over claims with the header {"alg":"HS256"},
// the shape of Lofty's own keys (no "typ").
func Sign(claims map[string]any) string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	delete(t.Header, "typ")
	s, err := t.SignedString([]byte(Secret))
	if err != nil {
		panic(err)
	}
	return s
}

// Key returns a synthetic Lofty API key for the given subject: the
// THIRD_PARTY_OPERATION scope, and an expiry when exp is not zero.
func Key(sub string, exp time.Time) string {
	c := map[string]any{"sub": sub, "scope": "THIRD_PARTY_OPERATION", "iss": "loftyscan-tests"}
	if !exp.IsZero() {
		c["exp"] = exp.Unix()
	}
	return Sign(c)
}

// Short returns a synthetic Lofty API key for sub with only the scope
// claim: short enough (about 120 characters for a short sub) to be a
// file's name, which a file system caps at 255 bytes.
func Short(sub string) string {
	return Sign(map[string]any{"sub": sub, "scope": "THIRD_PARTY_OPERATION"})
}

// Generic returns a JWT that is not a Lofty key (no Lofty scope), like the
// Supabase anon keys and OAuth tokens that fill real repositories.
func Generic(sub string) string {
	return Sign(map[string]any{"sub": sub, "role": "anon", "iss": "supabase"})
}

// Segments splits a token into its three parts, for tests that check no
// part of a secret leaks.
func Segments(tok string) []string { return strings.Split(tok, ".") }
