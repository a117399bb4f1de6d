package rules

import (
	"bytes"
	"slices"
	"strings"
)

// Keys built in steps. Code that builds a long string a piece at a time
// appends each piece to what it has, with a method or an assignment:
//
//	StringBuilder sb = new StringBuilder("eyJhbGciOiJIUzI1NiJ9.");  // Java, C#
//	sb.append("eyJzdWIiOiJhZ2VudC0xIn0.sig");
//	const key = 'eyJhbGciOiJIUzI1NiJ9.'.concat('eyJzdWIiOiJhZ2VudC0xIn0.sig');  // JS
//	b.WriteString("eyJhbGciOiJIUzI1NiJ9.")                          // Go
//	b.WriteString("eyJzdWIiOiJhZ2VudC0xIn0.sig")
//	KEY = "eyJhbGciOiJIUzI1NiJ9."                                    // Python, JS,
//	KEY += "eyJzdWIiOiJhZ2VudC0xIn0.sig"                             // C#, shell (+=),
//	$key .= '...';  key = key & "..."  key = key .. "..."            // PHP, VB, Lua
//
// skipAppending reads the text between the literal holding one piece and
// the literal holding the next in these shapes, so that the joiner reads
// the key's text as the program builds it. The shapes are narrow on
// purpose: only methods that append (appendMethods), and an assignment
// that appends to a name (+= .= &=, or name = name op). Anything else, a
// call of another method or another name assigned, ends the text.

// appendMethods are the methods that append a string to a builder, a
// buffer or a string, by the name the languages give them.
var appendMethods = []string{"append", "Append", "concat", "Concat", "WriteString", "write", "Write", "push", "push_str"}

// maxName bounds the names skipAppending reads: a receiver or an
// assigned name, with its dots (this.sb, self.key).
const maxName = 128

// skipAppending returns where the literal holding the next piece opens
// after the text at buf[i:limit] that follows the quote closing a piece,
// when that text appends the next literal to the string being built:
//
//	).append(  .concat(                a call on the call or the literal
//	);\n sb.append(   )\n b.WriteString(  a call of an append method, after a statement's end
//	\n KEY += / .= / &=                 an assignment that appends
//	\n KEY = KEY + / . / & / .. / ||    the same written out
//
// Blanks, line breaks and comments may stand between the parts, as
// skipConcatenation reads them (inJSON as there). ok is false for any
// other text.
//
// A new statement appends to the same string only when it names the one
// the first piece's statement built: its receiver, or the name it assigned
// (target; see statementTarget). Lines between that build something else
// are passed over only when they hold no quote and no "eyJ": a line that
// may hold a token of its own is never inside a join (the search goes on
// after a join's last piece), so two strings built side by side (prod =
// "…"; staging = "…"; prod += "…") are not joined.
func skipAppending(buf []byte, i, limit int, target func() string, inJSON bool) (int, bool) {
	k := skipIndent(buf, i, limit)
	if k < limit && buf[k] == ')' {
		k++
	} else {
		k = i
	}
	k, ok := skipJoinText(buf, k, limit, inJSON, false)
	if !ok {
		return 0, false
	}
	if k < limit && buf[k] == '.' {
		// A call on what the last call returned, or on the literal.
		return appendCall(buf, k+1, limit, inJSON)
	}
	ended := k > i && hasLineBreak(buf[i:k])
	if k < limit && buf[k] == ';' {
		ended = true
		if k, ok = skipJoinText(buf, k+1, limit, inJSON, false); !ok {
			return 0, false
		}
	}
	if !ended {
		return 0, false
	}
	name := target()
	if name == "" {
		return 0, false
	}
	for {
		nameEnd := skipName(buf, k, limit)
		if nameEnd == k {
			return 0, false
		}
		if nameEnd < limit && buf[nameEnd] == '(' {
			// receiver.method(: the last part of the name is the method.
			if dot := bytes.LastIndexByte(buf[k:nameEnd], '.'); dot > 0 && sameTarget(string(buf[k:k+dot]), name) {
				return appendCall(buf, k+dot+1, limit, inJSON)
			}
		} else if sameTarget(string(buf[k:nameEnd]), name) {
			return appendAssignment(buf, buf[k:nameEnd], nameEnd, limit, inJSON)
		}
		// Another statement: passed over when its line can hold no token.
		if k, ok = nextLine(buf, nameEnd, limit, inJSON); !ok {
			return 0, false
		}
	}
}

// nextLine returns where the text of the line after the one holding
// buf[i] starts (past blanks, blank lines and comments), within limit: in
// a JSON string, the line after the next escaped line break.
func nextLine(buf []byte, i, limit int, inJSON bool) (int, bool) {
	end := -1
	if e := bytes.IndexByte(buf[i:limit], '\n'); e >= 0 {
		end = i + e
	}
	if inJSON {
		if e := indexAt(buf[:limit], i, `\n`); e >= 0 && (end < 0 || e < end) {
			end = e
		}
	}
	if end < 0 {
		return 0, false
	}
	rest := buf[i:end]
	if bytes.ContainsAny(rest, "\"'`") || bytes.Contains(rest, []byte("eyJ")) {
		return 0, false // the line may hold a token of its own
	}
	return skipJoinText(buf, end, limit, inJSON, false)
}

// sameTarget reports whether two names are of the same string: equal,
// but for a this. before one (a field named with and without it, as Java,
// C# and JS allow; Python's self.key is not its key).
func sameTarget(a, b string) bool {
	trim := func(s string) string { return strings.TrimPrefix(s, "this.") }
	return trim(a) == trim(b)
}

// statementTarget returns the name of the string the statement holding
// the literal opened by the quote at buf[q] builds, read back from the
// quote on its line: the receiver of an append method (sb.append("),
// the name a builder is made for (StringBuilder sb = new StringBuilder("),
// the name assigned or appended to (KEY = ", KEY += ", key = key + ").
// It returns "" for any other statement.
func statementTarget(buf []byte, q int) string {
	if q < 0 || q >= len(buf) {
		return ""
	}
	lo := max(0, q-contextBefore)
	i := q - 1
	if i >= lo && buf[i] == '\\' && buf[q] == '"' {
		i-- // a quote JSON escapes
	}
	for n := 0; n < 2 && i >= lo && isLiteralPrefix(buf[i]) && i > lo && !isVariableByte(buf[i-1]); n++ {
		i-- // a literal's prefix: r"…", @"…"
	}
	i = skipBlanksBack(buf, i, lo)
	if i < lo {
		return ""
	}
	switch c := buf[i]; {
	case c == '(':
		name, j := nameBefore(buf, skipBlanksBack(buf, i-1, lo), lo)
		if dot := strings.LastIndexByte(name, '.'); dot > 0 && slices.Contains(appendMethods, name[dot+1:]) {
			return name[:dot]
		}
		// A builder made for a name: [Type] name = [new] Type( or
		// Type::from(.
		for j-1 >= lo && buf[j] == ':' && buf[j-1] == ':' {
			_, j = nameBefore(buf, j-2, lo)
		}
		j = skipBlanksBack(buf, j, lo)
		if j-2 >= lo && string(buf[j-2:j+1]) == "new" && (j-3 < lo || !isVariableByte(buf[j-3])) {
			j = skipBlanksBack(buf, j-3, lo)
		}
		return assignedName(buf, j, lo)
	case c == '=':
		return assignedName(buf, i, lo)
	case c == '<' && i-1 >= lo && buf[i-1] == '<':
		name, _ := nameBefore(buf, skipBlanksBack(buf, i-2, lo), lo) // key << "…"
		return name
	case c == '+' || c == '&' || c == '.' || c == '|':
		// name = name op "…"
		j := i - 1
		if j >= lo && (buf[j] == c && c != '+' && c != '&') {
			j-- // .. ||
		}
		second, j := nameBefore(buf, skipBlanksBack(buf, j, lo), lo)
		if first := assignedName(buf, skipBlanksBack(buf, j, lo), lo); first != "" && first == second {
			return first
		}
	}
	return ""
}

// assignedName returns the name assigned to by an assignment whose '='
// is at buf[i] (=, +=, .=, &=, :=), or "": the last name before it (Java's
// String key =), but the name before a type's colon (let key: string =)
// and the first of two after var, const or let (Go's var key string =).
func assignedName(buf []byte, i, lo int) string {
	if i < lo || buf[i] != '=' {
		return ""
	}
	i--
	if i >= lo && (buf[i] == '+' || buf[i] == '.' || buf[i] == '&' || buf[i] == ':') {
		i--
	}
	name, j := nameBefore(buf, skipBlanksBack(buf, i, lo), lo)
	j = skipBlanksBack(buf, j, lo)
	if j >= lo && buf[j] == ':' {
		name, _ = nameBefore(buf, skipBlanksBack(buf, j-1, lo), lo) // key: Type =
		return name
	}
	if first, k := nameBefore(buf, j, lo); first != "" && first != "mut" { // Rust's let mut key =
		if kw, _ := nameBefore(buf, skipBlanksBack(buf, k, lo), lo); kw == "var" || kw == "const" || kw == "let" {
			return first // var key Type =
		}
	}
	return name
}

// nameBefore returns the name (see skipName) that ends at buf[i], and the
// offset before it.
func nameBefore(buf []byte, i, lo int) (string, int) {
	j := i
	for j >= lo && i-j < maxName && (isVariableByte(buf[j]) || buf[j] == '.') {
		j--
	}
	name := strings.TrimLeft(string(buf[j+1:i+1]), ".")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return "", j
	}
	return name, j
}

// skipBlanksBack returns the offset of the last byte at or before buf[i]
// that is not a space or tab, or lo-1.
func skipBlanksBack(buf []byte, i, lo int) int {
	for i >= lo && (buf[i] == ' ' || buf[i] == '\t') {
		i--
	}
	return i
}

// appendCall reads an append method's name and its opening parenthesis at
// buf[i:limit] and returns where its argument starts.
func appendCall(buf []byte, i, limit int, inJSON bool) (int, bool) {
	for _, m := range appendMethods {
		if hasAt(buf[:limit], i, m) && hasAt(buf[:limit], i+len(m), "(") {
			return skipJoinText(buf, i+len(m)+1, limit, inJSON, false)
		}
	}
	return 0, false
}

// appendAssignment reads, after name at buf[i:limit], an assignment that
// appends to it (+= .= &=, or = name and one operator) and returns where
// the value starts.
func appendAssignment(buf, name []byte, i, limit int, inJSON bool) (int, bool) {
	i = skipIndent(buf, i, limit)
	for _, op := range []string{"+=", ".=", "&=", "<<"} {
		if hasAt(buf[:limit], i, op) {
			return skipJoinText(buf, i+len(op), limit, inJSON, false)
		}
	}
	if i >= limit || buf[i] != '=' || hasAt(buf[:limit], i, "==") {
		return 0, false
	}
	i = skipIndent(buf, i+1, limit)
	end := skipName(buf, i, limit)
	if rest, ok := strings.CutPrefix(string(buf[i:end]), string(name)+"."); ok && end < limit && buf[end] == '(' {
		// name = name.concat(
		if slices.Contains(appendMethods, rest) {
			return skipJoinText(buf, end+1, limit, inJSON, false)
		}
		return 0, false
	}
	if string(buf[i:end]) != string(name) {
		return 0, false
	}
	i = skipIndent(buf, end, limit)
	for _, op := range []string{"..", "||", "+", ".", "&"} {
		if hasAt(buf[:limit], i, op) {
			return skipJoinText(buf, i+len(op), limit, inJSON, false)
		}
	}
	return 0, false
}

// skipName returns the end of the name at buf[i:limit]: letters, digits,
// '_' and '$' (PHP's, PowerShell's and the shell's sigil), parts joined
// by dots (self.key), at most maxName bytes; i when none starts there.
func skipName(buf []byte, i, limit int) int {
	limit = min(limit, i+maxName)
	k := i
	for k < limit && isVariableByte(buf[k]) {
		k++
		if k < limit && buf[k] == '.' && k+1 < limit && isVariableByte(buf[k+1]) {
			k++
		}
	}
	if k > i && buf[i] >= '0' && buf[i] <= '9' {
		return i
	}
	return k
}

// isVariableByte reports whether c may be in a variable's name.
func isVariableByte(c byte) bool {
	return c == '$' || isNameByte(c) && c != '-'
}

// hasLineBreak reports whether text holds a line break, or a JSON string's
// escaped one (a notebook cell's line ends).
func hasLineBreak(text []byte) bool {
	for i, c := range text {
		if c == '\n' || c == '\r' || c == '\\' && i+1 < len(text) && text[i+1] == 'n' {
			return true
		}
	}
	return false
}
