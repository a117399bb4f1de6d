package rules

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
var appendMethods = []string{"append", "Append", "concat", "Concat", "WriteString", "write", "Write", "push"}

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
func skipAppending(buf []byte, i, limit int, inJSON bool) (int, bool) {
	k := i
	closed := k < limit && buf[k] == ')'
	if closed {
		k++
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
	nameEnd := skipName(buf, k, limit)
	if nameEnd == k {
		return 0, false
	}
	if closed && nameEnd < limit && buf[nameEnd] == '(' {
		// receiver.method(: the last part of the name is the method.
		dot := lastDot(buf[k:nameEnd])
		if dot < 0 {
			return 0, false
		}
		return appendCall(buf, k+dot+1, limit, inJSON)
	}
	return appendAssignment(buf, buf[k:nameEnd], nameEnd, limit, inJSON)
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
	for _, op := range []string{"+=", ".=", "&="} {
		if hasAt(buf[:limit], i, op) {
			return skipJoinText(buf, i+len(op), limit, inJSON, false)
		}
	}
	if i >= limit || buf[i] != '=' || hasAt(buf[:limit], i, "==") {
		return 0, false
	}
	i = skipIndent(buf, i+1, limit)
	end := skipName(buf, i, limit)
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

// lastDot returns the index of the last '.' in name, or -1.
func lastDot(name []byte) int {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			return i
		}
	}
	return -1
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
