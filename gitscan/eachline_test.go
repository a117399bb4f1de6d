package gitscan

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestEachLine: the reader of reflogs and shallow files gives each line's
// start, up to maxReflogLine bytes, whatever the lines' lengths, and the
// error that stopped it.
func TestEachLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*maxReflogLine+5)
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a\nb\n", []string{"a\n", "b\n"}},
		{"a\r\nlast", []string{"a\r\n", "last"}},
		{"\n\nc", []string{"\n", "\n", "c"}},
		{long + "\nafter\n", []string{long[:maxReflogLine], "after\n"}},
		{long, []string{long[:maxReflogLine]}},
	} {
		var got []string
		if err := eachLine(strings.NewReader(tc.in), func(b []byte) { got = append(got, string(b)) }); err != nil {
			t.Errorf("%.20q: %v", tc.in, err)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%.20q: %d lines %.40q, want %d %.40q", tc.in, len(got), got, len(tc.want), tc.want)
		}
	}
	boom := errors.New("boom")
	var n int
	err := eachLine(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), func([]byte) { n++ })
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("a read error: %v after %d lines, want boom after 2", err, n)
	}
}
