package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// Baseline is the set of findings of an earlier scan, read from its JSON
// report, that a new scan does not report again: adopting loftyscan on a
// repository with old, already revoked keys should not fail every build
// until history is rewritten.
//
// A baseline matches by fingerprint, the SHA-256 of the token, and not by
// path and line: moving a file or editing lines around a known token must
// not bring it back, while the same key leaking somewhere new is still a
// known key (it is revoked or accepted already). A new key is always
// reported, wherever it is.
//
// A nil *Baseline contains nothing. It is safe for concurrent use.
type Baseline struct {
	fingerprints map[string]struct{}
}

// LoadBaseline reads a JSON report written by "loftyscan --format json":
// an object whose "findings" array holds objects with a "fingerprint", or
// that array alone. Other members and fields are not read, so reports of
// older and newer versions load alike. name is the path to show in errors.
//
// Errors start "baseline NAME:LINE: " and say what is wrong; they never
// quote a value from the file, because a report written with
// --show-secrets holds the keys themselves.
func LoadBaseline(r io.Reader, name string) (*Baseline, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", name, finding.DropPath(err))
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	b := &Baseline{fingerprints: map[string]struct{}{}}
	p := baselineParser{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data)), b: b}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return b, nil
}

// Contains reports whether the baseline holds a finding with this
// fingerprint (in any case).
func (b *Baseline) Contains(fingerprint string) bool {
	if b == nil {
		return false
	}
	_, ok := b.fingerprints[strings.ToLower(fingerprint)]
	return ok
}

// Len returns the number of distinct fingerprints in the baseline.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.fingerprints)
}

// baselineParser walks the report token by token, so that each error can
// name the line of the finding it is about.
type baselineParser struct {
	name string
	data []byte
	dec  *json.Decoder
	b    *Baseline
}

// notReport starts every error about the file's content.
const notReport = "not a loftyscan JSON report"

// fail returns "baseline NAME:LINE: not a loftyscan JSON report: MSG",
// the line being the one at byte offset off (no line when off < 0).
func (p *baselineParser) fail(off int64, format string, args ...any) error {
	where := p.name
	if off >= 0 {
		where = fmt.Sprintf("%s:%d", p.name, p.lineAt(off))
	}
	return fmt.Errorf("baseline %s: %s: %s", where, notReport, fmt.Sprintf(format, args...))
}

// lineAt returns the line of the first byte of a value at or after off,
// skipping the blanks, ',' and ':' that json.Decoder's offsets stop before.
func (p *baselineParser) lineAt(off int64) int {
	i := min(int(off), len(p.data))
	for i < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[i]) >= 0 {
		i++
	}
	return 1 + bytes.Count(p.data[:i], []byte("\n"))
}

// syntax turns a JSON decoding error into one that names the line. A
// *json.SyntaxError's message quotes at most one character, never a value.
func (p *baselineParser) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return p.fail(se.Offset-1, "invalid JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return p.fail(int64(len(p.data)), "invalid JSON: the file ends too early (cut short?)")
	}
	return p.fail(-1, "invalid JSON")
}

func (p *baselineParser) parse() error {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return p.fail(-1, "the file is empty")
	}
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	switch tok {
	case json.Delim('['):
		if err := p.findings(); err != nil {
			return err
		}
	case json.Delim('{'):
		if err := p.object(off); err != nil {
			return err
		}
	default:
		return p.fail(off, `want an object with a "findings" array, found %s`, jsonKind(tok))
	}
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return p.syntax(err)
		}
		return p.fail(p.dec.InputOffset(), "unexpected data after the report")
	}
	return nil
}

// object reads the top-level object, after its '{'.
func (p *baselineParser) object(start int64) error {
	var keys []string
	found := false
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		key, _ := tok.(string)
		keys = append(keys, key)
		if key != "findings" {
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return p.syntax(err)
			}
			continue
		}
		off := p.dec.InputOffset()
		tok, err = p.dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		if tok != json.Delim('[') {
			return p.fail(off, `"findings" is %s, want an array`, jsonKind(tok))
		}
		if err := p.findings(); err != nil {
			return err
		}
		found = true
	}
	if _, err := p.dec.Token(); err != nil { // '}'
		return p.syntax(err)
	}
	if !found {
		return p.fail(start, `no "findings" array%s`, otherFormatHint(keys))
	}
	return nil
}

// otherFormatHint recognises the other reports loftyscan writes, whose
// findings carry no fingerprint to match on.
func otherFormatHint(keys []string) string {
	for _, k := range keys {
		switch k {
		case "runs":
			return ": this looks like a SARIF report; write the baseline with --format json"
		case "vulnerabilities":
			return ": this looks like a GitLab report; write the baseline with --format json"
		}
	}
	return ": write the baseline with --format json"
}

// findings reads the findings array, after its '['.
func (p *baselineParser) findings() error {
	for i := 1; p.dec.More(); i++ {
		off := p.dec.InputOffset()
		var f map[string]json.RawMessage
		if err := p.dec.Decode(&f); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// Not an object. Say what it is, never what it holds:
				// a list of bare tokens is a list of secrets.
				return p.fail(off, "finding %d is %s, want an object with a \"fingerprint\"", i, articled(te.Value))
			}
			return p.syntax(err)
		}
		raw, ok := f["fingerprint"]
		if !ok {
			return p.fail(off, "finding %d has no \"fingerprint\"", i)
		}
		var fp string
		if err := json.Unmarshal(raw, &fp); err != nil {
			return p.fail(off, "finding %d: \"fingerprint\" is not a string", i)
		}
		norm, err := normalizeFingerprint(fp)
		if err != nil {
			return p.fail(off, "finding %d: \"fingerprint\": %v", i, err)
		}
		p.b.fingerprints[norm] = struct{}{}
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return p.syntax(err)
	}
	return nil
}

// jsonKind names the JSON type of a token, not its value.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// articled turns json.UnmarshalTypeError's Value ("string", "number 12",
// "array") into "a string", dropping any literal it carries.
func articled(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "":
		return "a value of another type"
	}
	return "a " + kind
}
