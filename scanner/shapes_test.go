package scanner

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestLeakShapes: keys as people paste them into the files they commit,
// each found once at the line and column of its first character (of its
// encoded text, when encoded). A red-team round built each shape by hand;
// this keeps them found.
func TestLeakShapes(t *testing.T) {
	t.Parallel()
	k := keyActive
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// plain is a file holding k as it is, or in pieces from first on:
	// found where its text starts.
	plainFrom := func(name, content, first string) decodeCase {
		line, col := refLineCol([]byte(content), strings.Index(content, first))
		return decodeCase{name, []byte(content), []wantFinding{{Line: line, Column: col, Token: k}}}
	}
	plain := func(name, content string) decodeCase { return plainFrom(name, content, k) }
	// wrapped is a file whose lines from the first line line0 on (column
	// col0) hold base64 of text wrapped at width with eol: k is found at
	// the quantum its encoding starts in.
	wrapped := func(name, before, text string, width int, eol, after string) decodeCase {
		b64 := base64.StdEncoding.EncodeToString([]byte(text))
		content := before + wrapLines(b64, width, eol) + after
		line0, col0 := refLineCol([]byte(content), len(before))
		e := b64Column(0, strings.Index(text, k))
		return decodeCase{name, []byte(content), []wantFinding{{Line: line0 + e/width, Column: col0 + e%width, Encoding: "base64", Token: k}}}
	}
	notebook := mustJSON(map[string]any{"nbformat": 4, "cells": []any{map[string]any{
		"cell_type": "code",
		"source":    []string{"import lofty\n", "client = lofty.Client(\"" + k + "\")\n"},
		"outputs":   []any{map[string]any{"output_type": "display_data", "data": map[string]any{"image/png": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x89PNG\x00\xff", 500)))}}},
	}}})
	// A literal on two lines of a cell: Python joins the pieces.
	splitCell := func(src ...string) string {
		return mustJSON(map[string]any{"nbformat": 4, "cells": []any{map[string]any{"cell_type": "code", "source": src}}})
	}
	splitCellIndented := func(src ...string) string {
		b, err := json.MarshalIndent(map[string]any{"cells": []any{map[string]any{"cell_type": "code", "source": src}}}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sourceMap := mustJSON(map[string]any{"version": 3, "sources": []string{"src/lofty.ts"}, "mappings": "AAAA",
		"sourcesContent": []string{"export const client = new Lofty(\"" + k + "\");\n"}})
	har := mustJSON(map[string]any{"log": map[string]any{"entries": []any{map[string]any{"request": map[string]any{
		"url": "https://api.lofty.com/v1.0/me", "headers": []any{map[string]string{"name": "Authorization", "value": "token " + k}}}}}}})
	inner := mustJSON(map[string]string{"token": k})
	tests := []decodeCase{
		plain(".env exported, quoted, CRLF, comment", "# Lofty\r\nexport LOFTY_API_KEY=\""+k+"\" # prod\r\n"),
		plain("YAML flow mapping", "lofty: {user: bot, key: "+k+", region: us}\n"),
		plain("JSON in JSON", mustJSON(map[string]string{"body": inner})+"\n"),
		plain("JSON log line after an escaped line break", `{"msg":"config:\n`+k+`\n"}`+"\n"),
		plain("Jupyter notebook", notebook),
		plain("source map", sourceMap),
		plain("HAR", har),
		plain("curl", "curl -sS -H 'Authorization: token "+k+"' https://api.lofty.com/v1.0/me\n"),
		plain("Terraform tfvars", "lofty_api_key = \""+k+"\"\n"),
		plain("Kubernetes stringData", "kind: Secret\nstringData:\n  LOFTY_API_KEY: "+k+"\n"),
		plain("HTML attribute with entities", "<div data-cfg=\"{&quot;key&quot;:&quot;"+k+"&quot;}\"></div>\n"),
		plain("query string, percent-encoded JSON", "https://x.example/cb?state="+url.QueryEscape(inner)+"\n"),
		plain("URL user info", "https://bot:"+k+"@crm.example/x\n"),
		plain("CSV", "id,name,key\n1,\"bot\",\""+k+"\"\n"),
		plain("SQL dump", "INSERT INTO `creds` VALUES (1,'"+k+"',NULL);\n"),
		plain("CI log with colours", "\x1b[32mtoken:\x1b[0m "+k+"\x1b[0m\n"),
		plain("process environment", "HOME=/root\x00LOFTY_API_KEY="+k+"\x00"),
		plainFrom("Java .properties continued on an indented line", "lofty.api.key="+k[:100]+"\\\n    "+k[100:]+"\n", k[:100]),
		plainFrom("Python list joined over lines", "KEY = ''.join([\n    '"+k[:90]+"',\n    '"+k[90:]+"',\n])\n", k[:90]),
		plainFrom("Rust concat!", "const KEY: &str = concat!(\""+k[:90]+"\", \""+k[90:]+"\");\n", k[:90]),
		plainFrom("MySQL CONCAT", "UPDATE creds SET k = CONCAT('"+k[:90]+"', '"+k[90:]+"');\n", k[:90]),
		plainFrom("PowerShell backtick continuation", "$key = \""+k[:90]+"\" + `\r\n       \""+k[90:]+"\"\r\n", k[:90]),
		plainFrom("quoted-printable mail body", "Content-Transfer-Encoding: quoted-printable\r\n\r\nKey: "+k[:71]+"=\r\n"+k[71:147]+"=\r\n"+k[147:]+"\r\n", k[:71]),
		plainFrom("quoted-printable HTML part", "Content-Transfer-Encoding: quoted-printable\n\n<a href=3D\"https://x.example/?t=3D"+k[:40]+"=\n"+k[40:115]+"=\n"+k[115:]+"\">x</a>\n", k[:40]),
		plainFrom("Jupyter notebook, literal on two lines", splitCell("import lofty\n", "KEY = (\""+k[:90]+"\"\n", "       \""+k[90:]+"\")\n"), k[:90]),
		plainFrom("Jupyter notebook, indented, single quotes", splitCellIndented("client = lofty.Client(\n", "    '"+k[:60]+"'  # part one\n", "    '"+k[60:]+"'\n", ")\n"), k[:60]),
		plainFrom("Jupyter notebook, + on one line", splitCell("KEY = \""+k[:100]+"\" + \""+k[100:]+"\"\n"), k[:100]),
		plain("path of a cached key", "GET /cache/"+k+".json HTTP/1.1\n"),
		plain("file name", "$ ls keys/\n"+k+".txt  old/\n"),
		plain("URL with a query", "https://crm.example/keys/"+k+".json?v=2\n"),
		plain("key glued to the next one", "KEYS="+k+keyForever+"\n"),
		wrapped("inline source map", "var a=1;\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,", sourceMap, 1<<20, "\n", ""),
		wrapped("mail body in base64", "Subject: key\r\nContent-Transfer-Encoding: base64\r\n\r\n", "Hi,\r\nyour key: "+k+"\r\n", 76, "\r\n", ""),
		wrapped("certutil -encode", "-----BEGIN CERTIFICATE-----\r\n", "key="+k, 64, "\r\n", "-----END CERTIFICATE-----\r\n"),
	}
	// The same shapes around a JWT without the Lofty scope and without a
	// Lofty name: not reported.
	for _, silent := range []struct{ name, content string }{
		{"Supabase anon key in .env", "NEXT_PUBLIC_SUPABASE_ANON_KEY=\"" + jwtGeneric + "\"\r\n"},
		{"OAuth token in a HAR", strings.NewReplacer(k, jwtGeneric, "token ", "Bearer ", "api.lofty.com", "api.example.com").Replace(har)},
		{"JWT in .properties continued on an indented line", "auth.token=" + jwtGeneric[:40] + "\\\n    " + jwtGeneric[40:] + "\n"},
		{"placeholder", "LOFTY_API_KEY=eyJhbGciOiJIUzI1NiJ9...\n"},
		{"JWT on two lines of a notebook cell", splitCell("TOKEN = (\""+jwtGeneric[:60]+"\"\n", "    \""+jwtGeneric[60:]+"\")\n")},
		{"JWT in a cache path", "GET /cache/" + jwtGeneric + ".json\n"},
		{"JWE in a Lofty config", "lofty_payload: " + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)) + "." +
			strings.Split(k, ".")[1] + "." + strings.Split(k, ".")[2] + ".eA.dA\n"},
		{"dotted name like a header", "lofty: eyJhbGciOiJIUzI1NiJ9.e30.c2ln.json\n"},
		{"JWT pieces joined in a list", "KEY = ''.join([\n    '" + jwtGeneric[:90] + "',\n    '" + jwtGeneric[90:] + "',\n])\n"},
		{"JWT in a quoted-printable body", "Token: " + jwtGeneric[:71] + "=\r\n" + jwtGeneric[71:] + "\r\n"},
	} {
		tests = append(tests, decodeCase{silent.name, []byte(silent.content), nil})
	}
	// A key glued to the next: both found, each at its own column with its
	// own fingerprint.
	for i := range tests {
		if tests[i].name == "key glued to the next one" {
			tests[i].want = append(tests[i].want, wantFinding{Line: 1, Column: 6 + len(k), Token: keyForever})
		}
	}
	runDecodeCases(t, tests)
}
