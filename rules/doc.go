// Package rules decides whether bytes hold a Lofty API key.
//
// It works in two steps, like a grep that can parse what it finds. The
// candidate step ([FindCandidates]) looks for the literal "eyJ" that starts
// every base64url-encoded JSON object and cuts out the dotted token around
// it; it may over-report but must never miss. The confirmation step
// ([ParseToken], [Config.Find]) decodes the JWS without verifying it (the
// HS256 secret is Lofty's, not ours), checks that the claims carry the
// THIRD_PARTY_OPERATION scope, and reads the expiry. A JWS whose payload
// cannot hold the scope and that has no Lofty context is turned down
// before its JSON is decoded (prejudge.go), and a key split across string
// literals is joined before it is judged (split.go).
//
// The package is pure: it reads only the bytes it is given, imports nothing
// of loftyscan's, and never puts a token into an error message.
package rules
