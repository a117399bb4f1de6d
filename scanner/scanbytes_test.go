package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// scanBoth scans data with ScanBytes and, on a fresh run, with Scan over a
// reader (the general way: sniffing, reader layers, chunks), and returns
// each run's findings, warnings and counts.
func scanBoth(t *testing.T, path string, data []byte) (held, streamed scanOutcome) {
	t.Helper()
	for i, out := range []*scanOutcome{&held, &streamed} {
		c := &Collector{}
		run := New(testOptions()).Start(c)
		w := run.NewWorker()
		var err error
		if i == 0 {
			err = w.ScanBytes(context.Background(), path, data)
		} else {
			err = w.Scan(context.Background(), path, bytes.NewReader(data))
		}
		if err != nil {
			t.Fatalf("%s: scan %d: %v", path, i, err)
		}
		st := run.Stats()
		*out = scanOutcome{c.Findings, c.Warnings, st.Files, st.Bytes}
	}
	return held, streamed
}

type scanOutcome struct {
	Findings []finding.Finding
	Warnings []finding.Warning
	Files    int64
	Bytes    int64
}

// TestScanBytesHeldMatchesStream checks that content ScanBytes searches in
// place, without the reader layers, gives what the general way gives: the
// same findings in the same order with the same lines, columns and
// encodings, the same warnings and counts, at sizes on both sides of the
// worker's buffer, and for content that is an archive after all.
func TestScanBytesHeldMatchesStream(t *testing.T) {
	t.Parallel()
	line := "LOFTY_API_KEY=" + keyActive + "\n"
	forms := map[string][]byte{
		"plain":   []byte("# settings\n" + line + "other=1\n"),
		"bom":     append([]byte("\xef\xbb\xbf"), line...),
		"base64":  []byte("secret: " + base64.StdEncoding.EncodeToString([]byte(line)) + "\n"),
		"hex":     []byte("blob=" + hex.EncodeToString([]byte(line)) + "\n"),
		"utf16":   encodeUTF16("x=1\r\n"+line, false, true),
		"json":    []byte(`{"lofty":{"api_key":"` + keyExpired + `"},"n":1}`),
		"generic": []byte("token: " + jwtGeneric + "\nLOFTY=" + keyForever + "\n"),
		"empty":   nil,
	}
	forms["gzip"] = gzipBytes(t, "", []byte(line))

	pad := func(n int, tail []byte) []byte {
		b := bytes.Repeat([]byte("abcdefghij klmnopqrs\n"), n/21+1)[:n]
		return append(b, tail...)
	}
	for name, data := range forms {
		cases := map[string][]byte{name: data}
		if name != "gzip" && name != "utf16" && name != "empty" {
			// Around the buffer's size: held below it, streamed in chunks
			// from it, with the key near the end or across a chunk's edge.
			for _, n := range []int{bufSize - len(data) - 1, bufSize - len(data), bufSize - len(data) + 1, chunkSize - 40} {
				cases[fmt.Sprintf("%s after %d bytes", name, n)] = pad(n, data)
			}
		}
		for label, c := range cases {
			held, streamed := scanBoth(t, label, c)
			if !reflect.DeepEqual(held, streamed) {
				t.Errorf("%s (%d bytes): ScanBytes gave\n%+v\nthe general way gave\n%+v", label, len(c), held, streamed)
			}
			if name != "empty" && name != "generic" && len(held.Findings) == 0 {
				t.Errorf("%s: no finding", label)
			}
		}
	}
}

// TestScanBytesPlainInPlace checks that a small plain blob is searched
// where it lies: the general way allocates a sniffing buffer and reader
// layers for each one, and copies it into the worker's buffer. What is
// left (2 allocations) is the search's own, which a file read whole into
// the buffer makes too.
func TestScanBytesPlainInPlace(t *testing.T) {
	w := New(testOptions()).Start(&Collector{}).NewWorker()
	data := bytes.Repeat([]byte("package main // nothing here\n"), 100)
	ctx := context.Background()
	held := testing.AllocsPerRun(100, func() { w.ScanBytes(ctx, "main.go", data) })
	general := testing.AllocsPerRun(100, func() { w.Scan(ctx, "main.go", bytes.NewReader(data)) })
	t.Logf("allocations: ScanBytes %.0f, Scan %.0f", held, general)
	if held > 2 || general-held < 4 {
		t.Errorf("ScanBytes of a small plain blob: %.0f allocations (Scan over a reader: %.0f), want at most 2", held, general)
	}
}
