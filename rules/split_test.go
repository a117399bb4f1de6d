package rules

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// splitKey cuts a key into pieces at the given offsets.
func splitKey(k string, at ...int) []string {
	var out []string
	last := 0
	for _, a := range at {
		out = append(out, k[last:a])
		last = a
	}
	return append(out, k[last:])
}

// TestSplitLiterals: a key split across string literals the way each
// language joins them is found whole, at its first piece.
func TestSplitLiterals(t *testing.T) {
	t.Parallel()
	k := planted
	dot1 := strings.IndexByte(k, '.')
	dot2 := dot1 + 1 + strings.IndexByte(k[dot1+1:], '.')
	cuts := map[string][]int{
		"after the header's dot":   {dot1 + 1},
		"before the header's dot":  {dot1},
		"in the header":            {7},
		"in the payload and after": {dot1 + 20, dot2 + 1},
		"in the signature":         {dot2 + 10},
		"every 40 bytes":           {40, 80, 120, 160},
	}
	layouts := []struct {
		name   string
		before string
		join   func([]string) string
		after  string
	}{
		{"python adjacent", "KEY = (", func(p []string) string { return `"` + strings.Join(p, "\"\n       \"") + `"` }, ")\n"},
		{"python with comments", "KEY = (\n    ", func(p []string) string { return `'` + strings.Join(p, "'  # part\n    '") + `'` }, "\n)\n"},
		{"python prefixes", "KEY = (", func(p []string) string { return `r"` + strings.Join(p, "\" f\"") + `"` }, ")\n"},
		{"python continuation", "KEY = ", func(p []string) string { return `"` + strings.Join(p, "\" \\\n    \"") + `"` }, "\n"},
		{"js plus", "const key = ", func(p []string) string { return `'` + strings.Join(p, "' +\n  '") + `'` }, ";\n"},
		{"js template", "const key = ", func(p []string) string { return "`" + strings.Join(p, "` + `") + "`" }, ";\n"},
		{"java block comment", "String key = ", func(p []string) string { return `"` + strings.Join(p, "\" /* split */ + \"") + `"` }, ";\n"},
		{"go", "const key = ", func(p []string) string { return `"` + strings.Join(p, "\" +\n\t\"") + `"` }, "\n"},
		{"c#", "var key = ", func(p []string) string { return `@"` + strings.Join(p, "\" + @\"") + `"` }, ";\n"},
		{"c adjacent", "static const char *key = ", func(p []string) string { return `"` + strings.Join(p, "\"\r\n    \"") + `"` }, ";\r\n"},
		{"php", "$key = ", func(p []string) string { return `'` + strings.Join(p, "' . '") + `'` }, ";\n"},
		{"lua", "local key = ", func(p []string) string { return `"` + strings.Join(p, `" .. "`) + `"` }, "\n"},
		{"sql", "SELECT ", func(p []string) string { return `'` + strings.Join(p, "' || '") + `'` }, ";\n"},
		{"t-sql nvarchar", "SET @k = ", func(p []string) string { return `N'` + strings.Join(p, "' + N'") + `'` }, ";\n"},
		{"postgres escape strings", "SELECT ", func(p []string) string { return `E'` + strings.Join(p, "' || e'") + `'` }, ";\n"},
		{"shell in quotes", "export KEY=", func(p []string) string { return `"` + strings.Join(p, "\\\n") + `"` }, "\n"},
		{"shell unquoted", "KEY=", func(p []string) string { return strings.Join(p, "\\\n") }, "\n"},
		{"shell adjacent quotes", "KEY=", func(p []string) string { return `"` + strings.Join(p, "\"\\\n\"") + `"` }, "\n"},
		{"string continuation", "key = '", func(p []string) string { return strings.Join(p, "\\\r\n") }, "'\n"},
		{"java properties", "lofty.api.key=", func(p []string) string { return strings.Join(p, "\\\n    ") }, "\n"},
		{"yaml double-quoted", "key: \"", func(p []string) string { return strings.Join(p, "\\\n  ") }, "\"\n"},
		{"toml multi-line", "key = \"\"\"\\\n  ", func(p []string) string { return strings.Join(p, "\\\r\n\t") }, "\"\"\"\n"},
		{"python list joined", "KEY = ''.join([\n    ", func(p []string) string { return `'` + strings.Join(p, "',\n    '") + `'` }, ",\n])\n"},
		{"js array joined", "const key = [", func(p []string) string { return `'` + strings.Join(p, "', '") + `'` }, "].join('');\n"},
		{"rust concat!", "const KEY: &str = concat!(", func(p []string) string { return `"` + strings.Join(p, "\",\n    \"") + `"` }, ");\n"},
		{"powershell backtick", "$key = ", func(p []string) string { return `"` + strings.Join(p, "\" + `\r\n    \"") + `"` }, "\r\n"},
		{"powershell backtick before +", "$key = ", func(p []string) string { return `"` + strings.Join(p, "\" `\r\n    + \"") + `"` }, "\r\n"},
		{"quoted-printable", "Key: ", func(p []string) string { return strings.Join(p, "=\r\n") }, "\r\n"},
		{"quoted-printable, LF", "<a href=3D\"https://x/?t=3D", func(p []string) string { return strings.Join(p, "=\n") }, "\">\n"},
		{"quoted-printable in a JSON string", `{"raw": "Subject: key\r\n\r\nKey: `, func(p []string) string { return strings.Join(p, `=\r\n`) }, `\r\n"}` + "\n"},
		{"quoted-printable in a JSON string, LF", `{"body-mime":"Key: `, func(p []string) string { return strings.Join(p, `=\n`) }, `\n"}` + "\n"},
		// A Jupyter notebook's cell: each line of code a JSON string of a
		// list, the code's double quotes escaped.
		{"notebook python adjacent", "{\"source\": [\n    \"KEY = (\\\"", func(p []string) string { return strings.Join(p, "\\\"\\n\",\n    \"       \\\"") }, "\\\")\\n\"\n]}\n"},
		{"notebook compact", `{"source":["KEY = (\"`, func(p []string) string { return strings.Join(p, `\"\n","       \"`) }, `\")\n"]}` + "\n"},
		{"notebook one line", `{"source":["KEY = (\"`, func(p []string) string { return strings.Join(p, `\" \"`) }, `\")"]}` + "\n"},
		{"notebook plus", `{"source":["key = \"`, func(p []string) string { return strings.Join(p, `\" +\r\n", "\t\"`) }, `\"\n"]}` + "\n"},
		{"notebook continuation", `{"source":["KEY = \"`, func(p []string) string { return strings.Join(p, `\" \\\n", "    \"`) }, `\"\n"]}` + "\n"},
		{"notebook comments", `{"source":["KEY = (\"`, func(p []string) string { return strings.Join(p, `\"  # a \"part\"\n", "  # more\n", "  f\"`) }, `\")\n"]}` + "\n"},
		{"notebook single quotes", "{\"source\": [\n    \"KEY = ('", func(p []string) string { return strings.Join(p, "'\\n\",\n    \"       '") }, "')\\n\"\n]}\n"},
		// A string built in steps (split_steps.go).
		{"java StringBuilder", "StringBuilder sb = new StringBuilder(", func(p []string) string { return `"` + strings.Join(p, "\");\n    sb.append(\"") + `"` }, ");\n"},
		{"java chained append", "String key = new StringBuilder(", func(p []string) string { return `"` + strings.Join(p, "\")\n        .append(\"") + `"` }, ").toString();\n"},
		{"c# Append", "sb.Append(", func(p []string) string { return `@"` + strings.Join(p, "\"); // part\r\nthis.sb.Append(@\"") + `"` }, ");\r\n"},
		{"js concat", "const key = ", func(p []string) string { return `'` + strings.Join(p, "'.concat('") + `'` }, "));\n"},
		{"js push", "parts.push(", func(p []string) string { return `'` + strings.Join(p, "');\nparts.push('") + `'` }, ");\nconst key = parts.join('');\n"},
		{"go strings.Builder", "var b strings.Builder\nb.WriteString(", func(p []string) string { return "`" + strings.Join(p, "`)\n\tb.WriteString(`") + "`" }, ")\n"},
		{"python +=", "KEY = ", func(p []string) string { return `"` + strings.Join(p, "\"\nKEY += \"") + `"` }, "\n"},
		{"python self.key +=", "        self.key = ", func(p []string) string { return `'` + strings.Join(p, "'\n        self.key += '") + `'` }, "\n"},
		{"shell +=", "KEY=", func(p []string) string { return `"` + strings.Join(p, "\"\nKEY+=\"") + `"` }, "\n"},
		{"php .=", "$key = ", func(p []string) string { return `'` + strings.Join(p, "';\n$key .= '") + `'` }, ";\n"},
		{"powershell +=", "$key = ", func(p []string) string { return `"` + strings.Join(p, "\"\r\n$key += \"") + `"` }, "\r\n"},
		{"vb name & literal", "key = ", func(p []string) string { return `"` + strings.Join(p, "\"\r\nkey = key & \"") + `"` }, "\r\n"},
		{"lua name .. literal", "local key = ", func(p []string) string { return `"` + strings.Join(p, "\"\nkey = key .. \"") + `"` }, "\n"},
		{"js name + literal", "let key = ", func(p []string) string { return `'` + strings.Join(p, "';\nkey = key + '") + `'` }, ";\n"},
		{"space before the parenthesis", "sb.append(", func(p []string) string { return `"` + strings.Join(p, "\" );\nsb.append( \"") + `"` }, " );\n"},
		{"swift append after a literal", "var key = ", func(p []string) string { return `"` + strings.Join(p, "\"\nkey.append(\"") + `"` }, ")\n"},
		{"rust push_str", "let mut key = String::from(", func(p []string) string { return `"` + strings.Join(p, "\");\nkey.push_str(\"") + `"` }, ");\n"},
		{"js name = name.concat", "let key = ", func(p []string) string { return `'` + strings.Join(p, "';\nkey = key.concat('") + `'` }, ");\n"},
		{"visual basic", "Dim key = ", func(p []string) string { return `"` + strings.Join(p, "\" & _\r\n    \"") + `"` }, "\r\n"},
		{"elixir <>", "key = ", func(p []string) string { return `"` + strings.Join(p, "\" <>\n  \"") + `"` }, "\n"},
		{"haskell ++", "key = ", func(p []string) string { return `"` + strings.Join(p, "\" ++ \"") + `"` }, "\n"},
		{"julia *", "key = ", func(p []string) string { return `"` + strings.Join(p, "\" * \"") + `"` }, "\n"},
		{"ocaml ^", "let key = ", func(p []string) string { return `"` + strings.Join(p, "\" ^\n  \"") + `"` }, "\n"},
		{"scala interpolators", "val key = ", func(p []string) string { return `s"` + strings.Join(p, "\" + s\"") + `"` }, "\n"},
		{"kotlin raw strings", "val key = ", func(p []string) string { return `"""` + strings.Join(p, "\"\"\" +\n    \"\"\"") + `"""` }, "\n"},
		{"python triple quotes", "KEY = (", func(p []string) string { return "'''" + strings.Join(p, "'''\n       '''") + "'''" }, ")\n"},
		{"ruby <<", "key = ", func(p []string) string { return `"` + strings.Join(p, "\"\nkey << \"") + `"` }, "\n"},
		{"notebook StringBuilder", `{"source":["sb.append(\"`, func(p []string) string { return strings.Join(p, `\");\n", "sb.append(\"`) }, `\");\n"]}` + "\n"},
		{"notebook +=", `{"source":["KEY = '`, func(p []string) string { return strings.Join(p, `'\n", "KEY += '`) }, `'\n"]}` + "\n"},
		{"notebook list joined", `{"source":["KEY = ''.join([\n", "    '`, func(p []string) string { return strings.Join(p, `',\n", "    '`) }, `',\n", "])\n"]}` + "\n"},
	}
	for cname, at := range cuts {
		for _, l := range layouts {
			t.Run(l.name+"/"+cname, func(t *testing.T) {
				t.Parallel()
				text := l.before + l.join(splitKey(k, at...)) + l.after
				buf := []byte("line one\n" + text + "last line\n")
				got := cfg.Find(buf)
				first := 9 + len(l.before) + strings.Index(l.join([]string{"X"}), "X")
				if len(got) != 1 || got[0].Token != k || got[0].Start != first || got[0].Rule != RuleAPIKey {
					t.Fatalf("in %q: got %s, want the key at %d", text, describe(got), first)
				}
				if got[0].End != bytes.LastIndexByte(buf, k[len(k)-1])+1 {
					t.Errorf("match ends at %d, after its last piece at %d", got[0].End, bytes.LastIndexByte(buf, k[len(k)-1])+1)
				}
				sameMatches(t, text, got, oracle.Find(buf))
			})
		}
	}
}

// TestSplitContext: a generic JWT split across literals is judged whole:
// reported in a Lofty context (on its first or last piece's line), not
// without.
func TestSplitContext(t *testing.T) {
	t.Parallel()
	gen := testtoken.Generic("split")
	p := splitKey(gen, 30, 90)
	joined := `"` + strings.Join(p, "\"\n    \"") + `"`
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"LOFTY_API_KEY = (" + joined + ")\n", true},
		{"KEY = (" + joined + ")  # lofty\n", true},
		{"KEY = (" + joined + ")\n", false},
		{"SUPABASE_KEY = (" + joined + ")\n", false},
	} {
		got := cfg.Find([]byte(tt.text))
		if (len(got) == 1 && got[0].Token == gen && got[0].Rule == RuleUnconfirmed) != tt.want || len(got) > 1 {
			t.Errorf("%q: got %s, want reported %v", tt.text, describe(got), tt.want)
		}
	}
}

// TestSplitNotJoined: literals that the language does not join, or that
// hold separate tokens, are not joined; each whole token is still found.
func TestSplitNotJoined(t *testing.T) {
	t.Parallel()
	k, k2 := planted, key(map[string]any{"sub": "other"})
	half := len(k) / 2
	checkTokenCases(t, []tokenCase{
		{"a key, a comma, a piece", `keys = ["` + k + `", "` + k2[:half] + `"]`, []string{k}},
		{"method call with a comma", `s = "` + k[:half] + `".replace("` + k[half:] + `", "")`, nil},
		{"quoted-printable, next line indented", "Key: " + k[:half] + "=\n " + k[half:], nil},
		{"quoted-printable, blank line", "Key: " + k[:half] + "=\n\n" + k[half:], nil},
		{"two keys in a list", `keys = ["` + k + `", "` + k2 + `"]`, []string{k, k2}},
		{"two keys adjacent", `keys = ("` + k + `" "` + k2 + `")`, []string{k, k2}},
		{"key plus a path", `url = "` + k + `" + "/v1.0/me"`, []string{k}},
		{"key plus a query", `url = '` + k + `' + '&x=1'`, []string{k}},
		{"method call", `s = "` + k[:half] + `".strip("` + k[half:] + `")`, nil},
		{"two operators", `s = "` + k[:half] + `" + + "` + k[half:] + `"`, nil},
		{"assignment between", `a = "` + k[:half] + `"; b = "` + k[half:] + `"`, nil},
		{"another name assigned", "a = \"" + k[:half] + "\"\nb = a + \"" + k[half:] + "\"", nil},
		{"a name compared", "a = \"" + k[:half] + "\"\nif a == \"" + k[half:] + "\"", nil},
		{"another method called", `sb.append("` + k[:half] + `");` + "\n" + `log.info("` + k[half:] + `");`, nil},
		{"a function called", `x = f("` + k[:half] + `")` + "\n" + `y = g("` + k[half:] + `")`, nil},
		{"append on the same line, no statement's end", `sb.append("` + k[:half] + `") sb.append("` + k[half:] + `")`, nil},
		{"+= on the same line, no statement's end", `a = "` + k[:half] + `" a += "` + k[half:] + `"`, nil},
		// Strings built side by side are not joined: a line with a
		// literal of its own is never inside a join.
		{"two strings built side by side", "prod = \"" + k[:40] + "\"\nstaging = \"" + k2[:40] + "\"\nprod += \"" + k[40:] + "\"\nstaging += \"" + k2[40:] + "\"", nil},
		{"two builders side by side", "prod.append(\"" + k[:half] + "\");\nstaging.append(\"" + k2[:half] + "\");\nprod.append(\"" + k[half:] + "\");\nstaging.append(\"" + k2[half:] + "\");", nil},
		{"whole keys between the pieces, a fourth segment after", "p = \"" + k[:60] + "\"\nv = \"" + k2 + "\"\nw = '" + k2 + "'\np += \"" + k[60:] + ".json\"", []string{k2, k2}},
		{"single quotes side by side", "prod = '" + k[:40] + "'\nstaging = '" + k2[:40] + "'\nprod += '" + k[40:] + "'\nstaging += '" + k2[40:] + "'", nil},
		{"self.key is not key", "self.key = \"" + k[:half] + "\"\nkey += \"" + k[half:] + "\"", nil},
		{"another string's statement, then none", "prod = \"" + k[:half] + "\"\nstaging += \"" + k[half:] + "\"", nil},
		{"a cut key, then a key, appended", "cases.push(\"" + k[:len(k)-5] + "\");\ncases.push(\"" + k2 + "\");", []string{k[:len(k)-5], k2}},
		{"a cut key, then a key, in a list", "cases = [\"" + k[:len(k)-5] + "\",\n  \"" + k2 + "\"]", []string{k[:len(k)-5], k2}},
		{"a cut key, then a key, +=", "bad = \"" + k[:len(k)-5] + "\"\nbad += \"" + k2 + "\"", []string{k[:len(k)-5], k2}},
		{"a line with no literal passed over", "sb.append(\"" + k[:half] + "\");\nlog.debug(count);\nsb.append(\"" + k[half:] + "\");", []string{k}},
		{"a chained call, then a statement", "sb.append(\"" + k[:50] + "\");\nsb.append(\"" + k[50:100] + "\").append(\"" + k[100:140] + "\");\nsb.append(\"" + k[140:] + "\");", []string{k}},
		{"literals joined with +, then +=", "KEY = \"" + k[:60] + "\" + \"" + k[60:120] + "\"\nKEY += \"" + k[120:] + "\"", []string{k}},
		{"typed: TypeScript", "let key: string = \"" + k[:half] + "\";\nkey += \"" + k[half:] + "\";", []string{k}},
		{"typed: Go", "var key string = \"" + k[:half] + "\"\nkey += \"" + k[half:] + "\"", []string{k}},
		{"typed: Kotlin", "var key: String = \"" + k[:half] + "\"\nkey += \"" + k[half:] + "\"", []string{k}},
		{"a key, then an append", `sb.append("` + k + `");` + "\n" + `sb.append("` + k2[:half] + `");`, []string{k}},
		{"a key, then +=", `url = "` + k + `"` + "\n" + `url += "abc.def"`, []string{k}},
		{"mismatched quote", `a = "` + k[:half] + `' + '` + k[half:] + `"`, nil},
		{"unterminated block comment", `a = "` + k[:half] + `" /* + "` + k[half:] + `"`, nil},
		{"no opening quote", `a = ` + k[:half] + `" + "` + k[half:] + `"`, nil},
		{"empty line after continuation", "KEY=" + k[:half] + "\\\n\n" + k[half:], nil},
		{"text after continuation", "KEY=" + k[:half] + "\\\n  x " + k[half:], nil},
		{"gap too long", `a = ("` + k[:half] + `"` + strings.Repeat(" ", maxJoinGap) + `"` + k[half:] + `")`, nil},
		{"escaped newline in the literal", `a = "` + k + `\n"`, []string{k}},
		{"quoted keys of YAML", `"token": "` + k + "\"\n\"user\": \"bob\"", []string{k}},
		{"a literal after a key", `KEY = ("` + k + `"` + "\n" + `"abc.def")`, []string{k}},
		// In JSON strings (a notebook's cell, JSON in JSON).
		{"notebook: a literal after a key", `{"source":["KEY = (\"` + k + `\"\n", "  \"abc.def\")"]}`, []string{k}},
		{"JSON in JSON: two keys in a list", `{"body":"{\"keys\":[\"` + k + `\",\"` + k2 + `\"]}"}`, []string{k, k2}},
		{"JSON in JSON: two keys adjacent", `{"src":"K = (\"` + k + `\" \"` + k2 + `\")"}`, []string{k, k2}},
		{"notebook: escaped quote opens, bare quote closes", `{"source":["a = \"` + k[:half] + `", "\"` + k[half:] + `\""]}`, nil},
		{"notebook: bare quote opens the next", `{"source":["a = (\"` + k[:half] + `\"\n", "` + k[half:] + `\")"]}`, nil},
		{"notebook: two lists", `{"a":["x = (\"` + k[:half] + `\"\n"], "b":["\"` + k[half:] + `\")"]}`, nil},
		{"notebook: text between the strings", `{"source":["x = (\"` + k[:half] + `\"\n", 1, "\"` + k[half:] + `\")"]}`, nil},
		{"notebook: output lines are not literals", `{"text":["` + k[:half] + `\n", "` + k[half:] + `\n"]}`, nil},
		{"notebook: a call between", `{"source":["x = f(\"` + k[:half] + `\")\n", "g(\"` + k[half:] + `\")"]}`, nil},
		{"notebook: escaped backslash before the quote", `{"source":["x = (\\\\"` + k[:half] + `\\\\" \"` + k[half:] + `\")"]}`, nil},
	})
}

// tokenCase is a text and the tokens Find reports in it, in order.
type tokenCase struct {
	name string
	text string
	want []string
}

// checkTokenCases runs each case in parallel: Find of its text and a line
// break reports its tokens, as the full judgement does.
func checkTokenCases(t *testing.T, cases []tokenCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte(tt.text + "\n")
			got := cfg.Find(buf)
			var toks []string
			for _, m := range got {
				toks = append(toks, m.Token)
			}
			if strings.Join(toks, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("in %q: got %d tokens %s, want %d", tt.text, len(toks), describe(got), len(tt.want))
			}
			sameMatches(t, tt.name, got, oracle.Find(buf))
		})
	}
}

// TestSplitBounded: hostile inputs made of literal after literal cost
// work linear in their size: the joined text each "eyJ" reads is bounded,
// and what one join has read is not read again by the next.
//
// It does not run in parallel: it counts the bytes all joins read.
func TestSplitBounded(t *testing.T) {
	units := []string{
		`"eyJ" `, `"eyJ." `, `"eyJa.b" + `, `'eyJa.b.c' + `, "eyJ\\\n", `"eyJ" /* */ `, `"A" "eyJ" "A" `,
		`"eyJ=" `, `"eyJa.eyJb.eyJc" "` + strings.Repeat("A", 500) + `" `,
		`"eyJa.b", `, "eyJ=\n", "eyJa.b=\r\n", "`\"eyJ\" + `\n",
		`\"eyJ\" `, "\\\"eyJ\\\"\\n\",\n  \"", `'eyJ'\n", "`, `\"eyJa.b\", `, `\"eyJ\" # c\n", "`, `\"eyJ\" # c`,
		`\"eyJ\" \\\n", "`, `\"eyJ\"\n", "", "`,
		"sb.append(\"eyJ\");\n", "\"eyJa.b\").append(", "'eyJ'.concat(", "k = \"eyJ\"\nk += ", "k = k + \"eyJ\"\n",
		"\"eyJ\")\n" + strings.Repeat("a.", 100) + "append(", "\"eyJ\"\n" + strings.Repeat("a", 200) + " = ",
		"a += \"eyJhbGciOiJIUzI1NiJ9\"\nx = 1\n", "sb.append(\"eyJhbGciOiJIUzI1NiJ9\");\nlog.append(\"x\");\n",
		"eyJ\u200b", "eyJa.b&shy;", "eyJ<wbr>", "eyJ\x1b[m\x1b[K", "eyJa.b.c\\_", "eyJ\\_eyJ\u00ad",
	}
	for _, u := range units {
		small := countJoinRead(bytes.Repeat([]byte(u), (64<<10)/len(u)))
		large := countJoinRead(bytes.Repeat([]byte(u), (640<<10)/len(u)))
		if large > 12*small+(64<<10) || large > 4*(640<<10) {
			t.Errorf("%q: joined %d bytes for 64 KiB, %d for 640 KiB: not linear", u, small, large)
		}
		t.Logf("%q: %d bytes joined for 64 KiB, %d for 640 KiB", u, small, large)
		if got := cfg.Find(bytes.Repeat([]byte(u), 1000)); len(got) != 0 {
			t.Errorf("%q: reported %s", u, describe(got))
		}
	}
}

// countJoinRead runs Find over buf and returns how many bytes of joined
// text it read, all joins together.
func countJoinRead(buf []byte) int {
	before := joinRead.Load()
	cfg.Find(buf)
	return int(joinRead.Load() - before)
}

// splitSeps are the ways FuzzSplit joins pieces: each closes a literal,
// concatenates and opens the next (or continues a line).
var splitSeps = []struct{ open, sep, close string }{
	{`"`, `" "`, `"`},
	{`"`, "\"\n    \"", `"`},
	{`'`, "' +\n  '", `'`},
	{"`", "` + `", "`"},
	{`"`, `" . "`, `"`},
	{`"`, "\" # c\n \"", `"`},
	{`"`, "\" /* c */ + \"", `"`},
	{`"`, "\\\n", `"`},
	{``, "\\\r\n", ``},
	{``, "\\\n    ", ``},
	{`'`, `' || '`, `'`},
	{`'`, "',\n    '", `'`},
	{`"`, "\" + `\r\n    \"", `"`},
	{``, "=\r\n", ``},
	{``, "=\n", ``},
	{`\"`, "\\\"\\n\",\n    \"    \\\"", `\"`},
	{`'`, `'\n", "  # c\n", "'`, `'`},
	{`sb.append("`, "\");\n    sb.append(\"", `")`},
	{`KEY = "`, "\"\nKEY += \"", `"`},
	{`'`, "'.concat('", `'`},
}

// FuzzSplit cuts the planted key into up to four pieces at fuzzed places,
// joins them one of the ways of splitSeps, and puts the result in fuzzed
// text: the key must be found whole where its first piece starts, and the
// results must be those of the full judgement.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("KEY = (\n"), []byte(")\n"), uint64(0x3050a0), uint8(1))
	f.Add([]byte(`x = "eyJa.`), []byte(`" + "eyJ"`), uint64(0x10), uint8(2))
	f.Add([]byte("eyJ\\\n"), []byte("\\\n"), uint64(0xffffffff), uint8(8))
	f.Add([]byte(`{"source": ["KEY = (`), []byte(`)\n"]}`), uint64(0x2000500030), uint8(15))
	f.Add([]byte(`{"source": ["x = \"eyJa.`), []byte(`\"\n", "\"eyJ\"`), uint64(0x60), uint8(16))
	f.Fuzz(func(t *testing.T, before, after []byte, cuts uint64, sep uint8) {
		k := planted
		var at []int
		for c := cuts; c != 0 && len(at) < 3; c >>= 16 {
			// The first piece holds the "eyJ" the search finds.
			p := int(c&0xffff) % len(k)
			if p >= len(prefix) && (len(at) == 0 || p > at[len(at)-1]) {
				at = append(at, p)
			}
		}
		s := splitSeps[int(sep)%len(splitSeps)]
		text := s.open + strings.Join(splitKey(k, at...), s.sep) + s.close
		buf := append(append(append(append([]byte{}, before...), '\n'), text...), '\n')
		buf = append(buf, after...)
		first := len(before) + 1 + len(s.open)
		got := cfg.Find(buf)
		sameMatches(t, "split key", got, oracle.Find(buf))
		checkFindMatches(t, buf, got)
		for _, m := range got {
			if m.Start == first && m.Token == k && m.Rule == RuleAPIKey {
				return
			}
		}
		t.Fatalf("key in %d pieces at %d not found: %s", len(at)+1, first, describe(got))
	})
}

// TestMayContinue: the quick look after a piece's closing quote says no
// only where the joiner says no, for every byte after the quote and what
// may follow it (a literal, an operator and a literal, a comment); and it
// says no for the ends of most tokens in JSON and code.
func TestMayContinue(t *testing.T) {
	t.Parallel()
	first := `x = "` + planted[:40]
	start, stop := len(`x = "`), len(first)
	for _, q := range []string{`"`, `'`, "`", `\`, "=", "x"} {
		for c := range 256 {
			for _, rest := range []string{"", `"eyJ.a.b"`, ` + "abc"`, `r"abc"`, "\n'abc'", `/* c */ "abc"`, "\\\n\"abc\"",
				`.append("abc")`, `;` + "\n" + `sb.append("abc")`, ".concat('abc')", "\nk += \"abc\"", "\nk = k & \"abc\""} {
				buf := []byte(first + q + string([]byte{byte(c)}) + rest)
				var j joiner
				if !mayContinue(buf, start, stop, false) && j.begin(buf, start, stop, nil) {
					t.Fatalf("%q: mayContinue says no, the joiner joins", buf)
				}
			}
		}
	}
	for _, end := range []string{`"}`, `"]`, `":`, `"` + "\xc3"} {
		if mayContinue([]byte(first+end), start, stop, false) {
			t.Errorf("%q: mayContinue says yes", end)
		}
	}
	// A comma after a whole token ends a list item (JSON's "<jwt>",); after
	// a piece it may go on with the list's next literal.
	whole := `x = "` + planted
	if mayContinue([]byte(whole+`",`), start, len(whole), true) {
		t.Errorf("a comma after a whole token: mayContinue says yes")
	}
	if !mayContinue([]byte(first+`",`), start, stop, false) {
		t.Errorf("a comma after a piece: mayContinue says no")
	}
	// The same with the quote escaped, as JSON in JSON writes it.
	escWhole := `x = \"` + planted
	if mayContinue([]byte(escWhole+`\",`), len(`x = \"`), len(escWhole), true) {
		t.Errorf("an escaped quote and a comma after a whole token: mayContinue says yes")
	}
	if !mayContinue([]byte(`x = \"`+planted[:40]+`\",`), len(`x = \"`), len(`x = \"`)+40, false) {
		t.Errorf("an escaped quote and a comma after a piece: mayContinue says no")
	}
}

// TestMarkdownEscapes: keys whose underscores a conversion to Markdown
// (Turndown, markdownify) or LaTeX escaped as "\_", in the payload and
// the signature, are joined at each; a whole key followed by an escaped
// underscore and text is not made longer.
func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	var keys []string // keys with an underscore in the signature, and one in the payload too
	for i := 0; len(keys) < 3; i++ {
		k := key(map[string]any{"sub": fmt.Sprintf("agent_%d", i), "note": "???"})
		sig := k[strings.LastIndexByte(k, '.')+1:]
		if strings.Contains(sig, "_") && (len(keys) == 0 || strings.Contains(k[:len(k)-len(sig)], "_")) {
			keys = append(keys, k)
		}
	}
	esc := func(k string) string { return strings.ReplaceAll(k, "_", `\_`) }
	k, k2, k3 := keys[0], keys[1], keys[2]
	checkTokenCases(t, []tokenCase{
		{"an assignment", `LOFTY\_API\_KEY = ` + esc(k), []string{k}},
		{"a table's cell", `| prod | ` + esc(k2) + ` | rotated monthly |`, []string{k2}},
		{"two on a line", esc(k) + " and " + esc(k3), []string{k, k3}},
		{"in emphasis", `*` + esc(k3) + `*`, []string{k3}},
		{"a whole key, then an escaped word", esc(k) + `\_old`, []string{k}},
	})
}

// TestInvisibleGaps: keys with what a page or a terminal puts inside a
// word without showing it (zero-width spaces, soft hyphens, <wbr>, their
// entities and JSON escapes; grep --color's escapes around the match) are
// joined across it; a whole key followed by one and a word is not made
// longer.
func TestInvisibleGaps(t *testing.T) {
	t.Parallel()
	k, k2 := planted, key(map[string]any{"sub": "other"})
	at := func(k string, gap string, cuts ...int) string {
		var b strings.Builder
		last := 0
		for _, c := range cuts {
			b.WriteString(k[last:c] + gap)
			last = c
		}
		return b.String() + k[last:]
	}
	checkTokenCases(t, []tokenCase{
		{"a zero-width space", "LOFTY_API_KEY=" + at(k, "\u200b", 60), []string{k}},
		{"soft hyphens every 20 bytes", "key: " + at(k, "\u00ad", 20, 40, 60, 80, 100, 120, 140, 160), []string{k}},
		{"a word joiner and a BOM", at(k, "\u2060\ufeff", 30), []string{k}},
		{"html's &shy;", "<td>" + at(k, "&shy;", 25, 90) + "</td>", []string{k}},
		{"html's <wbr>", "<code>" + at(k, "<wbr>", 21, 100) + "</code>", []string{k}},
		{"an entity", "<p>" + at(k, "&#8203;", 50) + "</p>", []string{k}},
		{"json's escape", `{"text": "` + at(k, `\u200b`, 70) + `"}`, []string{k}},
		{"grep --color's match", "app.env:LOFTY_API_KEY=\x1b[01;31m\x1b[K" + k[:3] + "\x1b[m\x1b[K" + k[3:], []string{k}},
		{"a key in colour", "\x1b[32m" + k + "\x1b[0m accepted", []string{k}},
		{"a whole key, an invisible, a word", k + "\u200bnext", []string{k}},
		{"two keys, a zero-width space between", k + "\u200b " + k2, []string{k, k2}},
	})
}
