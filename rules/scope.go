package rules

import (
	"encoding/json"
	"strings"
)

// Scope is the scope value that every Lofty API key carries.
const Scope = "THIRD_PARTY_OPERATION"

// maxDepth bounds the walk through nested claims, so that a payload nested a
// million levels deep costs no more than a flat one.
const maxDepth = 64

// HasScope reports whether any of scopes appears as a scope value anywhere in
// claims: a string equal to it, an element of an array, or one item of a
// space- or comma-separated string, at any nesting depth, also in claims
// written as a JSON string (see jsonStringHasScope). Object keys do not
// count: a claim named THIRD_PARTY_OPERATION is not a scope grant.
func HasScope(claims map[string]any, scopes ...string) bool {
	if len(scopes) == 0 {
		scopes = []string{Scope}
	}
	return hasScope(claims, scopes, 0)
}

func hasScope(v any, scopes []string, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch v := v.(type) {
	case string:
		return stringHasScope(v, scopes) || jsonStringHasScope(v, scopes, depth)
	case []any:
		for _, e := range v {
			if hasScope(e, scopes, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if hasScope(e, scopes, depth+1) {
				return true
			}
		}
	}
	return false
}

func stringHasScope(s string, scopes []string) bool {
	for _, want := range scopes {
		if !strings.Contains(s, want) {
			continue
		}
		for _, item := range strings.FieldsFunc(s, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
		}) {
			if item == want {
				return true
			}
		}
	}
	return false
}

// jsonStringHasScope reports whether s, a string claim that holds JSON
// ("metadata":"{\"scope\":\"THIRD_PARTY_OPERATION\"}", as libraries that
// take claims as strings write nested ones, and escaped once more when it
// went through JSON twice), carries one of scopes in the claims it writes,
// read as nested claims are. Only a string that holds a scope's text and
// starts as JSON does is decoded.
func jsonStringHasScope(s string, scopes []string, depth int) bool {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
		return false
	}
	holds := false
	for _, want := range scopes {
		holds = holds || (want != "" && strings.Contains(t, want))
	}
	if !holds {
		return false
	}
	var v any
	if json.Unmarshal([]byte(t), &v) != nil {
		return false
	}
	return hasScope(v, scopes, depth+1)
}
