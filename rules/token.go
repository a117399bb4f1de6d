package rules

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Token is a decoded compact JWS. Its signature is decoded but not verified.
type Token struct {
	Raw    string         // the token as found
	Header map[string]any // the JOSE header; always holds a string "alg"
	Claims map[string]any // the payload, a JSON object
}

// Alg returns the header's alg value.
func (t Token) Alg() string { s, _ := t.Header["alg"].(string); return s }

// ErrNotJWS is returned by ParseToken for text that is not a compact JWS with
// a JSON header carrying "alg", a JSON object payload and a signature.
var ErrNotJWS = errors.New("not a compact JWS")

var parser = jwt.NewParser(jwt.WithPaddingAllowed())

// ParseToken decodes a compact JWS without verifying its signature. Any alg
// is accepted, including ones golang-jwt does not implement: a leaked key is
// a leak whatever it was signed with. The error never contains the token.
func ParseToken(raw string) (Token, error) {
	tok, parts, err := parser.ParseUnverified(raw, jwt.MapClaims{})
	if err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) {
		return Token{}, ErrNotJWS
	}
	alg, ok := tok.Header["alg"].(string)
	if !ok || alg == "" {
		return Token{}, ErrNotJWS
	}
	if strings.TrimRight(parts[2], "=") == "" {
		// Unsigned (alg none) or cut off after the payload: FindCandidates
		// never returns these, and a caller with the text alone should not
		// get them either.
		return Token{}, ErrNotJWS
	}
	if err != nil {
		// An alg golang-jwt does not know stops it before the signature;
		// check the signature segment is base64url ourselves.
		if _, derr := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "=")); derr != nil {
			return Token{}, ErrNotJWS
		}
	}
	// A payload of JSON null decodes into MapClaims without error and
	// leaves the claims empty; only an object is a claims set.
	claims, _ := tok.Claims.(jwt.MapClaims)
	if claims == nil || !isJSONObject(parts[1]) {
		return Token{}, ErrNotJWS
	}
	return Token{Raw: raw, Header: tok.Header, Claims: claims}, nil
}

// isJSONObject reports whether the base64url segment seg, already decoded
// once by the parser, holds a JSON object rather than null.
func isJSONObject(seg string) bool {
	b, err := parser.DecodeSegment(seg)
	if err != nil {
		return false
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
